package feeds

import (
	"encoding/xml"
	"html"
	"io"
	"time"
)

// Namespaces used by the RSS feed.
const (
	nsContent = "http://purl.org/rss/1.0/modules/content/"
	nsDC      = "http://purl.org/dc/elements/1.1/"
	nsAtom    = "http://www.w3.org/2005/Atom"
)

// encoding/xml writes a prefixed name ("content:encoded") literally, so the
// prefixes are declared by hand on the root element.
type rssDoc struct {
	XMLName   xml.Name   `xml:"rss"`
	Version   string     `xml:"version,attr"`
	NSContent string     `xml:"xmlns:content,attr"`
	NSDC      string     `xml:"xmlns:dc,attr"`
	NSAtom    string     `xml:"xmlns:atom,attr"`
	Channel   rssChannel `xml:"channel"`
}

type rssChannel struct {
	Title         string    `xml:"title"`
	Link          string    `xml:"link"`
	Description   string    `xml:"description"`
	AtomLink      rssSelf   `xml:"atom:link"`
	LastBuildDate string    `xml:"lastBuildDate,omitempty"`
	Generator     string    `xml:"generator"`
	Items         []rssItem `xml:"item"`
}

type rssSelf struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr"`
}

type rssItem struct {
	Title       string   `xml:"title"`
	Link        string   `xml:"link"`
	GUID        rssGUID  `xml:"guid"`
	PubDate     string   `xml:"pubDate"`
	Creator     string   `xml:"dc:creator,omitempty"` // RSS <author> must be an email
	Description string   `xml:"description"`
	Content     string   `xml:"content:encoded"`
	Categories  []string `xml:"category"`
}

type rssGUID struct {
	IsPermaLink string `xml:"isPermaLink,attr"`
	Value       string `xml:",chardata"`
}

func rssDate(t time.Time) string { return t.UTC().Format(time.RFC1123Z) }

// writeRSS writes ch as an RSS 2.0 document with content:encoded bodies.
func writeRSS(w io.Writer, ch channel) error {
	doc := rssDoc{
		Version: "2.0", NSContent: nsContent, NSDC: nsDC, NSAtom: nsAtom,
		Channel: rssChannel{
			Title:       ch.Title,
			Link:        ch.Home,
			Description: ch.Description,
			AtomLink:    rssSelf{Href: ch.Self, Rel: "self", Type: "application/rss+xml"},
			Generator:   "Lectern",
			Items:       make([]rssItem, 0, len(ch.Items)),
		},
	}
	if !ch.Updated.IsZero() {
		doc.Channel.LastBuildDate = rssDate(ch.Updated)
	}
	for _, it := range ch.Items {
		ri := rssItem{
			Title:   it.Title,
			Link:    it.URL,
			GUID:    rssGUID{IsPermaLink: "false", Value: it.ID},
			PubDate: rssDate(it.Published),
			Creator: it.Author,
			// description is HTML to RSS readers: escape the plain excerpt so
			// it reads as the text it is.
			Description: html.EscapeString(it.Summary),
			Content:     it.ContentHTML,
		}
		for _, c := range it.Categories {
			ri.Categories = append(ri.Categories, c.Name)
		}
		doc.Channel.Items = append(doc.Channel.Items, ri)
	}
	return writeXML(w, doc)
}

// writeXML writes the XML declaration and v, indented. encoding/xml escapes
// text and attributes and replaces characters XML cannot hold with U+FFFD,
// so hostile titles cannot break the document.
func writeXML(w io.Writer, v any) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
