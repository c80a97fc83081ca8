// Package search is Lectern's full-text search: an SQLite FTS5 index over
// posts (title, excerpt, body text), courses (title, summary, description
// text) and lessons (title), kept in the same transaction as every write, and
//
//	GET /api/search?q=…[&type=posts|courses|lessons][&page=1][&perPage=20]
//	               [&mode=online|onsite|hybrid][&level=beginner|intermediate|advanced][&minRating=0..5]
//	               [&fields=type,id,snippet|*|record.*|…][&expand=author]
//
// which answers
//
//	{"page":1, "perPage":20, "totalItems":3, "totalPages":1,
//	 "items":[{"type":"posts", "id":"…", "score":4.2, "snippet":"… <mark>Kubernetes</mark> …", "record":{"title":…, "slug":…, …}}],
//	 "facets":{"type":{"posts":2,"courses":1,"lessons":0}, "mode":{…}, "level":{…},
//	           "minRating":{"1":…,"2":…,"3":…,"4":…,"4.5":…}},
//	 "correctedQuery":"kubernetes"}
//
// From the JS SDK: pb.send("/api/search", {query: {q: "go"}}).
//
//   - Ranking: bm25 with a title worth 10 body words and an excerpt or
//     summary worth 4; English stemming ("running" finds "run"). Without
//     type, the three collections are merged by score, ties by record id.
//   - Only what the caller may list: each collection's LIST rule is applied
//     with PocketBase's own resolver to the records joined to the matches, so
//     drafts, scheduled posts and lessons of courses the caller is not
//     enrolled in never appear, in items, totals or facets. record is the
//     record as the list API returns it (expand, hidden fields, emails),
//     slim by default (what a results page shows, no body: fields.go) and
//     picked by fields, PocketBase's picker applied to each hit.
//   - Facets count with every filter but their own; mode, level and minRating
//     describe courses (and imply type=courses; posts and lessons have none).
//   - Typos: when nothing matches as typed, words of 5–7 letters may be 1
//     edit off a word of the public index, longer ones 2 (a transposition
//     is one edit), nearest as spelled in public records first, then most
//     frequent (corrections.go); correctedQuery is set only when the corrected search
//     finds records the caller may view, and is spelled from those records.
//   - Hidden records move nothing: the index is split into what a guest may
//     list (ftsTable) and the rest (hiddenTable, searched for signed-in
//     callers only); ranking statistics and the typo vocabulary come from
//     the public one, hidden matches are scored in Go with its statistics
//     (bm25.go), and every count and bound is over the caller's own matches
//     (visibility.go). An answer is the same whether or not records the
//     caller may not view exist.
//   - Bounded work for frequent words. Counts (and the course groups behind
//     the facets) stop at CountCap (10,000) per collection: the totals and
//     facets are then lower bounds ("10,000+"). Ranking is exact up to
//     RankLimit (2,000) listable matches of a collection; past it bm25 ranks only
//     candidates — the 1,000 newest matches the caller may list and up to
//     1,000 older ones with a searched word in the title — and the caller's
//     other matches follow, newest first. The answer says which: approximate
//     when a count stopped at the cap, approximateRanking when the ranking
//     was bounded. Why:
//     bm25 reads every scored match's row sizes and positions, and for a
//     word in nearly every one of 100,000 posts that took longer than
//     PocketBase's own unindexed list filter (bench/search). The candidates
//     depend only on the query and the caller, never on the page, so the
//     order is total (ties by id) and paging stable; rule-awareness is the
//     same on both paths (every query joins the list rule).
//   - q is plain words: FTS5 syntax in it is punctuation or plain words.
//     Invalid input (perPage above 100 included) is a 400 naming the parameter.
//
// The index is contentless (it stores no copy of the text); see
// migrations/1795641000_search_index.go for the tables, and `lectern reindex`
// (NewReindexCommand) to rebuild it.
package search

import (
	"fmt"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/spf13/cobra"

	"lectern/internal/cli"
)

// Route is the search endpoint's path.
const Route = "/api/search"

// Register binds the index hooks and the search route to app. At serve time
// it also builds the index for records that predate it.
func Register(app core.App) {
	registerIndexHooks(app)
	h := &handler{vocab: &vocabCache{}}
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		if err := ensureIndex(se.App); err != nil {
			// The site still serves; searches miss what is not indexed
			// until `lectern reindex`.
			se.App.Logger().Error("search: build index", "error", err)
		}
		se.Router.GET(Route, h.serve)
		if se.Server != nil {
			// Read the vocabulary now rather than on the first typo.
			go func() {
				if _, err := h.vocab.get(se.App); err != nil {
					se.App.Logger().Warn("search: load vocabulary", "error", err)
				}
			}()
		}
		return se.Next()
	})
}

// NewReindexCommand returns the `reindex` command, which rebuilds the search
// index from the records.
func NewReindexCommand(app core.App) *cobra.Command {
	return &cobra.Command{
		Use:   "reindex",
		Short: "Rebuilds the full-text search index from all posts, courses and lessons",
		Long: `Rebuilds the full-text search index behind /api/search from all posts,
courses and lessons, in one transaction: searches keep answering from the old
index until the new one commits. The hooks keep the index current on every
write, so this is only needed after records were changed behind the app's
back (raw SQL, a restored partial backup) or to compact the index.`,
		Example: `  lectern reindex
  lectern reindex --dir /var/lib/lectern/pb_data`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			restore, err := cli.Prepare(app) // dev mode would print every row's INSERT
			if err != nil {
				return err
			}
			start := time.Now()
			stats, err := Rebuild(app)
			restore()
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Reindexed %s in %s.\n", stats, time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
}
