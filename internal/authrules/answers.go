package authrules

import (
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
)

// ---
// The answers of pin.go's check queries, kept until the next committed write.
//
// A check asks the database one question about the caller and one record
// ("is this student enrolled in course X, and is X published"): the answer
// can only change when something is written. So it is kept, per app, under a
// key that holds everything the question reads besides the database — the
// listed collection, the rule part as text (with the caller's values
// Specialize put in it), the pinned ids and the caller — and is valid only
// while no write has committed since it was asked:
//
//   - every model this process writes (any table of data.db, the
//     collections' rules too) bumps the local generation in an after-success hook, which
//     PocketBase runs after the commit and before the write's response;
//   - commits by other processes (a CLI command next to the server) are
//     seen by the response cache's data_version watcher (internal/cache
//     external.go), whose generation is the second half. Without it (the
//     response cache turned off) nothing is kept.
//
// The generation is read before the check query runs, and an answer is used
// only under the generation it was stored with: a write acknowledged before
// a request started has bumped it, so that request never reads an answer
// from before the write — the response cache's guarantee, for the same
// reason. A part that reads the request beyond its caller (@request.query,
// headers, body…) is never kept.

// answers is one app's store.
type answers struct {
	local    atomic.Uint64
	external atomic.Pointer[func() uint64]

	mu  sync.Mutex
	gen [2]uint64
	m   map[string]bool
}

// answerLimit bounds the store: when full it starts again empty.
const answerLimit = 20_000

const answersKey = "lecternAuthrulesAnswers"

// answersOf returns app's store (created on first use).
func answersOf(app core.App) *answers {
	return app.Store().GetOrSet(answersKey, func() any {
		return &answers{m: map[string]bool{}}
	}).(*answers)
}

// UseExternalGeneration gives app's check answers the generation of a
// watcher of other processes' commits (the response cache's): from then on
// answers are kept until the next write, here or there.
func UseExternalGeneration(app core.App, gen func() uint64) {
	if gen != nil {
		answersOf(app).external.Store(&gen)
	}
}

// bind bumps the local generation on every committed write of app, first
// among the after-success hooks.
func (s *answers) bind(app core.App) {
	bump := &hook.Handler[*core.ModelEvent]{
		Func: func(e *core.ModelEvent) error {
			// (request logs live in the auxiliary database, where no rule
			// reads; they are saved every few seconds while requests come)
			if e.Model.TableName() != core.LogsTableName {
				s.local.Add(1)
			}
			return e.Next()
		},
		Priority: -1 << 30,
	}
	app.OnModelAfterCreateSuccess().Bind(bump)
	app.OnModelAfterUpdateSuccess().Bind(bump)
	app.OnModelAfterDeleteSuccess().Bind(bump)
}

// generation is the current one, and false when answers are not kept.
func (s *answers) generation() ([2]uint64, bool) {
	if s == nil {
		return [2]uint64{}, false
	}
	ext := s.external.Load()
	if ext == nil {
		return [2]uint64{}, false
	}
	return [2]uint64{s.local.Load(), (*ext)()}, true
}

func (s *answers) get(gen [2]uint64, key string) (bool, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen != gen {
		return false, false
	}
	v, ok := s.m[key]
	return v, ok
}

func (s *answers) put(gen [2]uint64, key string, v bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen != gen {
		if gen[0] < s.gen[0] || gen[1] < s.gen[1] {
			return // asked before a write the store has already seen
		}
		s.gen = gen
		clear(s.m)
	}
	if len(s.m) >= answerLimit {
		clear(s.m)
	}
	s.m[key] = v
}

// answerKey holds every input of a check besides the database. ok is false
// for a part that reads the request beyond its caller.
func answerKey(col *core.Collection, info *core.RequestInfo, pins []pin, part string, idents []string) (string, bool) {
	for _, lit := range idents {
		if strings.HasPrefix(lit, "@request.") && !strings.HasPrefix(lit, "@request.auth.") {
			return "", false
		}
	}
	var b strings.Builder
	q, _ := json.Marshal(part)
	b.WriteString(col.Id)
	b.Write(q)
	for _, p := range pins {
		q, _ := json.Marshal([]string{p.field, p.value})
		b.Write(q)
	}
	q, _ = json.Marshal([]string{info.Auth.Collection().Id, info.Auth.Id})
	b.Write(q)
	if keyMutation {
		// the mutation test's broken key: the caller left out
		return b.String()[:b.Len()-len(q)], true
	}
	return b.String(), true
}

// keyMutation is set only by the mutation test (SetAnswerKeyMutation).
var keyMutation bool
