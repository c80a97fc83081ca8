package main

import (
	"fmt"
	"log"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/pocketbase/pocketbase/core"
)

const (
	benchAuthors  = 20
	seedBatch     = 1000
	bodyWords     = 150
	authorPrefix  = "ubenchauthor"
	benchPassword = "bench-password-123"
)

// vocabulary is a deterministic set of pseudo-words, none containing a
// planted word.
var vocabulary = func() []string {
	syl := strings.Fields("ka lo mi ne ru ta ve so pi do ga fe bi zu ho ny el ar om ix un ed")
	rng := rand.New(rand.NewPCG(7, 7))
	seen := map[string]bool{}
	var out []string
	for len(out) < 3000 {
		n := 2 + rng.IntN(3)
		var b strings.Builder
		for range n {
			b.WriteString(syl[rng.IntN(len(syl))])
		}
		w := b.String()
		if seen[w] || planted(w) {
			continue
		}
		seen[w] = true
		out = append(out, w)
	}
	return out
}()

func planted(w string) bool {
	for _, p := range []string{wordRare, wordTenth, wordPairA, wordPairB, wordCommon} {
		if strings.Contains(w, p) || strings.Contains(p, w) {
			return true
		}
	}
	return false
}

func words(rng *rand.Rand, n int) []string {
	w := make([]string, n)
	for i := range w {
		// Zipf-like: a few words are everywhere, most are rare.
		w[i] = vocabulary[int(float64(len(vocabulary))*rng.Float64()*rng.Float64())]
	}
	return w
}

func title(rng *rand.Rand) string {
	w := words(rng, 5)
	w[0] = strings.ToUpper(w[0][:1]) + w[0][1:]
	return strings.Join(w, " ")
}

// body returns ~150 words in three paragraphs with the planted words at
// their rates; post i of the seed gets the rare word when i%20000 == 7.
func body(rng *rand.Rand, i int) string {
	w := words(rng, bodyWords)
	put := func(word string) { w[rng.IntN(len(w))] = word }
	if rng.Float64() < 0.99 {
		put(wordCommon)
	}
	if rng.Float64() < 0.10 {
		put(wordTenth)
	}
	if rng.Float64() < 0.03 {
		put(wordPairA)
	}
	if rng.Float64() < 0.03 {
		put(wordPairB)
	}
	if i%20000 == 7 {
		put(wordRare)
	}
	third := len(w) / 3
	return "<p>" + strings.Join(w[:third], " ") + ".</p><p>" + strings.Join(w[third:2*third], " ") +
		".</p><p>" + strings.Join(w[2*third:], " ") + ".</p>"
}

// ensureSeeded writes the authors and posts through the app (every hook,
// the search index included) in transactions of seedBatch posts.
func ensureSeeded(app core.App, posts int) error {
	var have int
	if err := app.DB().Select("COUNT(*)").From("posts").Row(&have); err != nil {
		return err
	}
	if have >= posts {
		return nil
	}
	if have > 0 {
		return fmt.Errorf("data dir holds %d posts, fewer than %d: rerun with -fresh", have, posts)
	}
	// In-process requests all come from one address: no rate limits here.
	s := app.Settings()
	s.RateLimits.Enabled = false
	if err := app.Save(s); err != nil {
		return err
	}
	users, err := app.FindCollectionByNameOrId("users")
	if err != nil {
		return err
	}
	for i := range benchAuthors {
		u := core.NewRecord(users)
		u.Id = fmt.Sprintf("%s%03d", authorPrefix, i)
		u.Load(map[string]any{"email": fmt.Sprintf("author%d@bench.test", i), "name": fmt.Sprintf("Author %d", i), "role": "author", "verified": true})
		u.SetPassword(benchPassword)
		if err := app.Save(u); err != nil {
			return err
		}
	}
	col, err := app.FindCollectionByNameOrId("posts")
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, 1))
	start := time.Now()
	for from := 0; from < posts; from += seedBatch {
		err := app.RunInTransaction(func(tx core.App) error {
			for i := from; i < min(from+seedBatch, posts); i++ {
				p := core.NewRecord(col)
				status := "published"
				if rng.Float64() < 0.10 {
					status = "draft"
				}
				p.Load(map[string]any{
					"title":  title(rng),
					"body":   body(rng, i),
					"author": fmt.Sprintf("%s%03d", authorPrefix, i%benchAuthors),
					"status": status,
				})
				if err := tx.Save(p); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if done := min(from+seedBatch, posts); done%10000 == 0 {
			el := time.Since(start)
			log.Printf("seeded %d/%d posts (%s, %.0f/s)", done, posts, el.Round(time.Second), float64(done)/el.Seconds())
		}
	}
	return nil
}

func authorToken(app core.App) (string, error) {
	u, err := app.FindRecordById("users", authorPrefix+"000")
	if err != nil {
		return "", err
	}
	return u.NewAuthToken()
}

func deletePosts(app core.App, ids []string) error {
	return app.RunInTransaction(func(tx core.App) error {
		for _, id := range ids {
			p, err := tx.FindRecordById("posts", id)
			if err != nil {
				return err
			}
			if err := tx.Delete(p); err != nil {
				return err
			}
		}
		return nil
	})
}
