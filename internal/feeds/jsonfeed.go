package feeds

import (
	"encoding/json"
	"io"
	"time"
)

// jsonFeedVersion identifies JSON Feed 1.1.
const jsonFeedVersion = "https://jsonfeed.org/version/1.1"

type jsonFeed struct {
	Version     string         `json:"version"`
	Title       string         `json:"title"`
	HomePageURL string         `json:"home_page_url"`
	FeedURL     string         `json:"feed_url"`
	Description string         `json:"description,omitempty"`
	Authors     []jsonAuthor   `json:"authors,omitempty"`
	Items       []jsonFeedItem `json:"items"`
}

type jsonAuthor struct {
	Name string `json:"name"`
}

type jsonFeedItem struct {
	ID            string       `json:"id"`
	URL           string       `json:"url"`
	Title         string       `json:"title"`
	ContentHTML   string       `json:"content_html"`
	Summary       string       `json:"summary,omitempty"`
	DatePublished string       `json:"date_published"`
	DateModified  string       `json:"date_modified"`
	Authors       []jsonAuthor `json:"authors,omitempty"`
	Tags          []string     `json:"tags,omitempty"`
}

// writeJSONFeed writes ch as a JSON Feed 1.1 document.
func writeJSONFeed(w io.Writer, ch channel) error {
	feed := jsonFeed{
		Version:     jsonFeedVersion,
		Title:       ch.Title,
		HomePageURL: ch.Home,
		FeedURL:     ch.Self,
		Description: ch.Description,
		Items:       make([]jsonFeedItem, 0, len(ch.Items)),
	}
	for _, it := range ch.Items {
		ji := jsonFeedItem{
			ID:            it.ID,
			URL:           it.URL,
			Title:         it.Title,
			ContentHTML:   it.ContentHTML,
			Summary:       it.Summary,
			DatePublished: it.Published.UTC().Format(time.RFC3339),
			DateModified:  latest(it.Updated, it.Published).UTC().Format(time.RFC3339),
		}
		if it.Author != "" {
			ji.Authors = []jsonAuthor{{Name: it.Author}}
		}
		for _, c := range it.Categories {
			ji.Tags = append(ji.Tags, c.Name)
		}
		feed.Items = append(feed.Items, ji)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(feed)
}
