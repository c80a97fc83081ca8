package main

import (
	"fmt"
	"strconv"
	"time"
)

// The signed-in read scenarios (A1–A5): the pages a signed-in student reads,
// each asked by three callers side by side on the same server in the same
// round — a guest kept out of the response cache (a Cookie header, as a
// browser with any cookie of the site sends), a bench student, and a
// superuser (who skips every rule). What a signed-in page costs is then the
// student's figures over the uncached guest's, round by round.

// callers of the signed-in read scenarios, in the order of the first round.
var authCallers = []string{"guest", "student", "superuser"}

// guestCookie is a cookie the site never reads: it only keeps the request
// out of Lectern's response cache.
const guestCookie = "theme=dark"

// authScenario is one page, as a function of the caller and the i-th
// request: the URL may depend on the student (their own enrollments).
type authScenario struct {
	name, what string
	n          int // distinct URLs (the warm-up asks each once)
	url        func(student, i int) string
}

func authScenarios(f *fixture, small bool) []authScenario {
	pages, nposts := 10, 100
	if small {
		pages, nposts = 3, 20
	}
	nposts = min(nposts, len(f.Posts))
	ncourses := len(f.Courses)
	return []authScenario{
		{"A1", "front page: published posts, 20 per page, with total", pages, func(_, i int) string {
			return query("/api/collections/posts/records", "filter", `(status="published")`, "sort", "-publishedAt",
				"perPage", "20", "page", strconv.Itoa(1+i%pages))
		}},
		{"A2", "a post's comments (50, skipTotal)", nposts, func(_, i int) string {
			return query("/api/collections/comments/records", "filter", fmt.Sprintf(`post = "%s"`, f.Posts[i%nposts]),
				"sort", "created", "perPage", "50", "skipTotal", "1")
		}},
		{"A3", "an enrolled course's lessons", ncourses, func(_, i int) string {
			return query("/api/collections/lessons/records", "filter", fmt.Sprintf(`course = "%s"`, f.Courses[i%ncourses]),
				"sort", "position", "perPage", "50")
		}},
		{"A4", "the student's own enrollments, with total", len(f.Users), func(student, _ int) string {
			return query("/api/collections/enrollments/records", "filter", fmt.Sprintf(`user = "%s"`, f.Users[student].ID),
				"sort", "-created", "perPage", "20")
		}},
		{"A5", "course list, 20 per page, with total", 5, func(_, i int) string {
			return query("/api/collections/courses/records", "sort", "-ratingAvg", "perPage", "20", "page", strconv.Itoa(1+i%5))
		}},
	}
}

// cell is one caller's cell of the scenario. Request i is sent as bench
// student i mod N (their token for the student caller; their URL for every
// caller where the URL names the student).
func (as authScenario) cell(f *fixture, caller string, conc int, capDur time.Duration) cell {
	return cell{
		scenario: as.name + " " + caller,
		conc:     conc,
		count:    1_000_000,
		warm:     max(as.n, len(f.Users)),
		cap:      capDur,
		next: func(i int) (request, bool) {
			s := i % len(f.Users)
			rq := request{method: "GET", path: as.url(s, i)}
			switch caller {
			case "guest":
				rq.cookie = guestCookie
			case "student":
				rq.token = f.Users[s].Token
			case "superuser":
				rq.token = f.Superuser
			}
			return rq, true
		},
	}
}

// authOrder rotates the callers by round so none always runs first.
func authOrder(round int) []string {
	out := make([]string, len(authCallers))
	for k := range authCallers {
		out[k] = authCallers[(k+round-1)%len(authCallers)]
	}
	return out
}
