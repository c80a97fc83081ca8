package feeds

import (
	"encoding/xml"
	"io"
	"time"
)

type atomFeed struct {
	XMLName   xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Title     atomText    `xml:"title"`
	Subtitle  atomText    `xml:"subtitle"`
	ID        string      `xml:"id"`
	Updated   string      `xml:"updated"`
	Links     []atomLink  `xml:"link"`
	Author    atomPerson  `xml:"author"`
	Generator string      `xml:"generator"`
	Entries   []atomEntry `xml:"entry"`
}

type atomText struct {
	Type  string `xml:"type,attr"`
	Value string `xml:",chardata"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomCategory struct {
	Term  string `xml:"term,attr"`
	Label string `xml:"label,attr,omitempty"`
}

type atomEntry struct {
	Title      atomText       `xml:"title"`
	Links      []atomLink     `xml:"link"`
	ID         string         `xml:"id"`
	Published  string         `xml:"published"`
	Updated    string         `xml:"updated"`
	Author     *atomPerson    `xml:"author,omitempty"`
	Summary    atomText       `xml:"summary"`
	Content    atomText       `xml:"content"`
	Categories []atomCategory `xml:"category"`
}

func atomDate(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// writeAtom writes ch as an Atom 1.0 feed. Entries without an author name
// fall back to the feed's author (the site), as Atom allows.
func writeAtom(w io.Writer, ch channel) error {
	id := ch.ID
	if id == "" {
		id = ch.Self
	}
	updated := ch.Updated
	for _, it := range ch.Items {
		updated = latest(updated, it.Updated)
	}
	if updated.IsZero() { // no posts yet; Atom requires a date
		updated = time.Unix(0, 0)
	}
	feed := atomFeed{
		Title:    atomText{Type: "text", Value: ch.Title},
		Subtitle: atomText{Type: "text", Value: ch.Description},
		ID:       id,
		Updated:  atomDate(updated),
		Links: []atomLink{
			{Rel: "self", Type: "application/atom+xml", Href: ch.Self},
			{Rel: "alternate", Type: "text/html", Href: ch.Home},
		},
		Author:    atomPerson{Name: ch.Publisher},
		Generator: "Lectern",
		Entries:   make([]atomEntry, 0, len(ch.Items)),
	}
	for _, it := range ch.Items {
		e := atomEntry{
			Title:     atomText{Type: "text", Value: it.Title},
			Links:     []atomLink{{Rel: "alternate", Type: "text/html", Href: it.URL}},
			ID:        it.ID,
			Published: atomDate(it.Published),
			Updated:   atomDate(latest(it.Updated, it.Published)),
			Summary:   atomText{Type: "text", Value: it.Summary},
			Content:   atomText{Type: "html", Value: it.ContentHTML},
		}
		if it.Author != "" {
			e.Author = &atomPerson{Name: it.Author}
		}
		for _, c := range it.Categories {
			e.Categories = append(e.Categories, atomCategory{Term: c.Slug, Label: c.Name})
		}
		feed.Entries = append(feed.Entries, e)
	}
	return writeXML(w, feed)
}
