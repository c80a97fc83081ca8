package mail

import (
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"slices"
	"strconv"
	texttemplate "text/template"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"
)

// FirstIssueWindow is how far back the very first issue looks for posts;
// every later issue starts where the previous one ended.
var FirstIssueWindow = 7 * 24 * time.Hour

// MaxIssuePosts caps one issue (the newest first): a digest is read, not archived.
const MaxIssuePosts = 500

// IssuePlan is what an issue holds, computed before anything is written.
type IssuePlan struct {
	Number       int
	Since, Until types.DateTime
	Posts        []*core.Record
	// Recipients are the active subscribers with at least one post for their
	// topics, and PerTopic counts them per topic name ("" = every topic).
	Recipients []*core.Record
	PerTopic   map[string]int
}

// PlanIssue computes the next issue as of now: the posts published since the
// previous issue's end (FirstIssueWindow before now for the first one) and
// its recipients. It writes nothing (the --dry-run of `newsletter send`).
func PlanIssue(app core.App, now time.Time) (*IssuePlan, error) {
	until, err := types.ParseDateTime(now.UTC())
	if err != nil {
		return nil, err
	}
	p := &IssuePlan{Number: 1, Until: until, PerTopic: map[string]int{}}
	p.Since, _ = types.ParseDateTime(now.UTC().Add(-FirstIssueWindow))
	var last struct {
		Number int    `db:"number"`
		Until  string `db:"until"`
	}
	err = app.DB().NewQuery("SELECT number, until FROM newsletterIssues ORDER BY number DESC LIMIT 1").One(&last)
	if err == nil {
		p.Number = last.Number + 1
		if p.Since, err = types.ParseDateTime(last.Until); err != nil {
			return nil, fmt.Errorf("issue %d until %q: %w", last.Number, last.Until, err)
		}
	}
	p.Posts, err = app.FindRecordsByFilter("posts",
		"status = 'published' && publishedAt > {:since} && publishedAt <= {:until}",
		"-publishedAt,id", MaxIssuePosts, 0, dbx.Params{"since": p.Since.String(), "until": p.Until.String()})
	if err != nil {
		return nil, fmt.Errorf("issue posts: %w", err)
	}
	if len(p.Posts) == 0 {
		return p, nil
	}
	subs, err := app.FindRecordsByFilter("subscribers", "status = 'active'", "created,id", 0, 0)
	if err != nil {
		return nil, fmt.Errorf("issue subscribers: %w", err)
	}
	names := topicNames(app)
	for _, s := range subs {
		if len(postsFor(s, p.Posts)) == 0 {
			continue
		}
		p.Recipients = append(p.Recipients, s)
		topics := s.GetStringSlice("topics")
		if len(topics) == 0 {
			p.PerTopic[""]++
		}
		for _, t := range topics {
			p.PerTopic[names[t]]++
		}
	}
	return p, nil
}

// CreateIssue writes the next issue and one pending ledger row per recipient
// in one transaction, and returns it; nil when there is nothing new to send
// (no post since the previous issue, or nobody to send it to).
func CreateIssue(app core.App, now time.Time) (*core.Record, error) {
	var issue *core.Record
	err := app.RunInTransaction(func(tx core.App) error {
		// planned inside the transaction: two runs at once (the schedule and
		// `newsletter send`) serialize here, and the second finds no new post
		p, err := PlanIssue(tx, now)
		if err != nil || len(p.Recipients) == 0 {
			return err
		}
		ic, err := tx.FindCachedCollectionByNameOrId("newsletterIssues")
		if err != nil {
			return err
		}
		issue = core.NewRecord(ic)
		issue.Set("number", p.Number)
		issue.Set("subject", fmt.Sprintf("%s #%d: %d new post%s", tx.Settings().Meta.AppName, p.Number, len(p.Posts), plural(len(p.Posts))))
		issue.Set("since", p.Since)
		issue.Set("until", p.Until)
		ids := make([]string, len(p.Posts))
		for i, post := range p.Posts {
			ids[i] = post.Id
		}
		issue.Set("posts", ids)
		issue.Set("status", "pending")
		issue.Set("nextAttemptAt", types.NowDateTime())
		issue.Set("recipients", len(p.Recipients))
		if err := tx.Save(issue); err != nil {
			return fmt.Errorf("save issue: %w", err)
		}
		dc, err := tx.FindCachedCollectionByNameOrId("newsletterDeliveries")
		if err != nil {
			return err
		}
		for _, s := range p.Recipients {
			d := core.NewRecord(dc)
			d.Set("issue", issue.Id)
			d.Set("subscriber", s.Id)
			d.Set("status", "pending")
			d.Set("messageId", messageID(tx, issue.Id, s.Id))
			if err := tx.Save(d); err != nil {
				return fmt.Errorf("save delivery for %s: %w", s.Id, err)
			}
		}
		// the worker looks at it once this transaction commits
		if q := queueOf(tx); q != nil {
			q.Wake(tx)
		}
		return nil
	})
	return issue, err
}

// messageID is the same for every attempt at one subscriber's copy of one
// issue, so a copy sent twice (in flight at a crash) shows as one message.
func messageID(app core.App, issueID, subscriberID string) string {
	return "<newsletter." + issueID + "." + subscriberID + "@" + mailDomain(app) + ">"
}

// postsFor filters posts by the subscriber's topics (none = every post).
func postsFor(sub *core.Record, posts []*core.Record) []*core.Record {
	want := sub.GetStringSlice("topics")
	if len(want) == 0 {
		return posts
	}
	var out []*core.Record
	for _, p := range posts {
		if slices.ContainsFunc(p.GetStringSlice("topics"), func(t string) bool { return slices.Contains(want, t) }) {
			out = append(out, p)
		}
	}
	return out
}

func topicNames(app core.App) map[string]string {
	names := map[string]string{}
	topics, _ := app.FindAllRecords("topics")
	for _, t := range topics {
		names[t.Id] = t.GetString("name")
	}
	return names
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// ---

type issueItem struct {
	Title, Excerpt, Link, Topics string
}

type issueData struct {
	AppName, Site, Intro, UnsubscribeURL string
	Number                               int
	Items                                []issueItem
}

var issueHTML = htmltemplate.Must(htmltemplate.New("issue").Parse(`
<p style="color:#57534e">{{.Intro}}</p>
{{range .Items}}
<div style="margin:0 0 20px">
<h2 style="font-size:18px;margin:0 0 4px"><a href="{{.Link}}" style="color:#1c1917">{{.Title}}</a></h2>
{{if .Topics}}<p style="font-size:12px;color:#78716c;margin:0 0 4px">{{.Topics}}</p>{{end}}
<p style="margin:0 0 4px">{{.Excerpt}}</p>
<p style="margin:0"><a href="{{.Link}}">Read it on {{$.AppName}} →</a></p>
</div>
{{end}}`))

var issueText = texttemplate.Must(texttemplate.New("issue").Parse(`
{{.AppName}} #{{.Number}}

{{.Intro}}
{{range .Items}}
{{.Title}}
{{if .Topics}}[{{.Topics}}]
{{end}}{{.Excerpt}}
{{.Link}}
{{end}}
-- 
You get this because you subscribed to the {{.AppName}} newsletter.
Unsubscribe: {{.UnsubscribeURL}}
`))

// renderIssue builds one subscriber's copy: subject, HTML and plain text. The
// visible unsubscribe link opens the site's page (which POSTs the token).
func renderIssue(app core.App, issue *core.Record, posts []*core.Record, token string) (subject, html, text string, err error) {
	site := siteURL(app)
	unsubscribeURL := site + UnsubscribePage + "?token=" + url.QueryEscape(token)
	appName := app.Settings().Meta.AppName
	names := topicNames(app)
	d := issueData{AppName: appName, Site: site, UnsubscribeURL: unsubscribeURL, Number: issue.GetInt("number")}
	for _, p := range posts {
		var ts string
		for _, t := range p.GetStringSlice("topics") {
			if n := names[t]; n != "" {
				if ts != "" {
					ts += " · "
				}
				ts += n
			}
		}
		d.Items = append(d.Items, issueItem{
			Title:   p.GetString("title"),
			Excerpt: p.GetString("excerpt"),
			Link:    site + "/posts/" + p.GetString("slug"),
			Topics:  ts,
		})
	}
	d.Intro = strconv.Itoa(len(posts)) + " new post" + plural(len(posts)) + " since the last issue."
	subject = appName + " #" + strconv.Itoa(d.Number) + ": " + posts[0].GetString("title")
	if len(posts) > 1 {
		subject += fmt.Sprintf(" and %d more", len(posts)-1)
	}
	html, err = renderHTML(issueHTML, d, layout{Subject: subject, Site: site, AppName: appName,
		Footer: footerHTML("You get this because you subscribed to the "+appName+" newsletter.", unsubscribeURL)})
	if err != nil {
		return "", "", "", err
	}
	text, err = renderText(issueText, d)
	return subject, html, text, err
}
