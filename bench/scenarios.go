package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"
)

// readScenario is a guest GET scenario: a rotation of URLs.
type readScenario struct {
	name, what string
	urls       []string
}

func query(path string, kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return path + "?" + v.Encode()
}

// readScenarios are S1–S6 over the fixture. Each rotates over several URLs
// (pages, posts) the way a spike of visitors spreads over a site's pages.
func readScenarios(f *fixture, small bool) []readScenario {
	pages, nposts := 10, 100
	if small {
		pages, nposts = 3, 20
	}
	nposts = min(nposts, len(f.Posts))
	posts := "/api/collections/posts/records"
	var s1, s2, s3, s4, s5, s6 []string
	for p := 1; p <= pages; p++ {
		page := strconv.Itoa(p)
		list := []string{"filter", `status = "published"`, "sort", "-publishedAt", "perPage", "20", "page", page}
		s1 = append(s1, query(posts, list...))
		s2 = append(s2, query(posts, append(list, "skipTotal", "1")...))
		s3 = append(s3, query(posts, append(list, "skipTotal", "1", "expand", "author")...))
		if p <= 5 {
			s6 = append(s6, query("/api/collections/courses/records", "sort", "-ratingAvg", "perPage", "20", "page", page))
		}
	}
	for _, id := range f.Posts[:nposts] {
		s4 = append(s4, posts+"/"+id)
		s5 = append(s5, query("/api/collections/comments/records",
			"filter", fmt.Sprintf(`post = "%s"`, id), "sort", "created", "perPage", "50", "skipTotal", "1"))
	}
	return []readScenario{
		{"S1", "post list, 20 per page, with total", s1},
		{"S2", "post list, skipTotal", s2},
		{"S3", "post list, skipTotal, expand=author", s3},
		{"S4", "post view", s4},
		{"S5", "comments of a post (50, skipTotal)", s5},
		{"S6", "course list (guest, the course list rule)", s6},
	}
}

func (rs readScenario) cell(conc, count int, capDur time.Duration) cell {
	return cell{
		scenario: rs.name,
		conc:     conc,
		count:    count,
		warm:     len(rs.urls),
		cap:      capDur,
		next: func(i int) (request, bool) {
			return request{method: "GET", path: rs.urls[i%len(rs.urls)]}, true
		},
	}
}

// writer hands out the write requests of one server's lifetime: each review
// uses a (user, course) pair of its own, across all the cells on that server.
type writer struct {
	f     *fixture
	pairs atomic.Int64
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// commentCell is W1: signed-in users commenting on published posts. author
// is sent for bare PocketBase, which has no hook to set it; Lectern ignores
// it and uses the signed-in user.
func (w *writer) commentCell(conc, count int, capDur time.Duration) cell {
	nposts := min(50, len(w.f.Posts))
	return cell{
		scenario: "W1", conc: conc, count: count, warm: 10, cap: capDur,
		next: func(i int) (request, bool) {
			u := w.f.Users[i%len(w.f.Users)]
			body := mustJSON(map[string]any{
				"post": w.f.Posts[i%nposts], "author": u.ID, "status": "visible",
				"body": fmt.Sprintf("Benchmark comment %d: thanks for the clear explanation.", i),
			})
			return request{method: "POST", path: "/api/collections/comments/records", body: body, token: u.Token}, true
		},
	}
}

// reviewCell is W2: enrolled students reviewing courses, one review per pair.
func (w *writer) reviewCell(conc, count int, capDur time.Duration) cell {
	return cell{
		scenario: "W2", conc: conc, count: count, warm: 5, cap: capDur,
		next: func(int) (request, bool) {
			i := int(w.pairs.Add(1)) - 1
			if i >= len(w.f.Pairs) {
				return request{}, false
			}
			p := w.f.Pairs[i]
			u := w.f.Users[p[0]]
			body := mustJSON(map[string]any{
				"course": w.f.Courses[p[1]], "user": u.ID, "rating": 1 + i%5,
				"body": "Benchmark review: well paced, good exercises.",
			})
			return request{method: "POST", path: "/api/collections/reviews/records", body: body, token: u.Token}, true
		},
	}
}

// loginCell is L1: password sign-ins of the bench users.
func loginCell(f *fixture, conc, count int, capDur time.Duration) cell {
	return cell{
		scenario: "L1", conc: conc, count: count, warm: 2, cap: capDur,
		next: func(i int) (request, bool) {
			u := f.Users[i%len(f.Users)]
			body := mustJSON(map[string]string{"identity": u.Email, "password": benchPassword})
			return request{method: "POST", path: "/api/collections/users/auth-with-password", body: body}, true
		},
	}
}
