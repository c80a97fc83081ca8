package realtime_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/internal/testkit"
)

// TestSendsWaitForTheWritersResponse: the event of a comment created through
// the API is computed in the request but reaches the subscribers only once
// the request's hook chain has returned, its response written; a write made
// outside a request is sent at once.
func TestSendsWaitForTheWritersResponse(t *testing.T) {
	app := newApp(t)
	h, err := testkit.Handler(app)
	require.NoError(t, err)
	guest := subscriber(t, app, "guest", nil, "comments/*")

	var seenDuringRequest atomic.Int64
	seenDuringRequest.Store(-1)
	app.OnRecordCreateRequest("comments").BindFunc(func(e *core.RecordRequestEvent) error {
		if err := e.Next(); err != nil {
			return err
		}
		// the save, the broadcast and the response are done; the sends of
		// the event would have reached a reading client by now
		time.Sleep(150 * time.Millisecond)
		seenDuringRequest.Store(int64(len(guest.messages())))
		return nil
	})

	req := httptest.NewRequest(http.MethodPost, "/api/collections/comments/records",
		strings.NewReader(`{"post":"`+testkit.PostPublished+`","body":"Held until answered"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", fixture.Tokens[testkit.Student])
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())

	assert.Equal(t, int64(0), seenDuringRequest.Load(), "an event reached a subscriber before the writer's response")
	require.Eventually(t, func() bool { return len(guest.messages()) == 1 }, 5*time.Second, 5*time.Millisecond,
		"the event arrives once the request is done")

	// outside a request nothing holds it
	id := comment(t, app, map[string]any{"post": testkit.PostPublished, "author": testkit.UserStudent, "body": "Not held"})
	assert.Contains(t, receivedIDs(t, guest, id), id)
}
