package mail_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/pocketbase/pocketbase/tools/mailer"
	"github.com/stretchr/testify/require"

	"lectern/internal/mail"
	"lectern/internal/testkit"
)

var fixture *testkit.Fixture

func TestMain(m *testing.M) { testkit.Main(m, &fixture) }

const site = "https://lectern.example"

// newApp clones the fixture with the mail package bound and PocketBase's
// mailer pointed at mp (nil: SMTP left disabled, as on a fresh install).
func newApp(t testing.TB, mp *testkit.Mailpit) *tests.TestApp {
	t.Helper()
	app := fixture.NewApp(t)
	mail.Register(app)
	s := app.Settings()
	s.Meta.AppURL = site + "/"
	s.Meta.SenderAddress = "hello@lectern.example"
	if mp != nil {
		s.SMTP.Enabled = true
		s.SMTP.Host = mp.SMTPHost
		s.SMTP.Port = mp.SMTPPort
		// the test app swaps every mailer for an in-memory one (at priority
		// -99999); this runs after it and sends through the real SMTP server
		app.OnMailerSend().Bind(&hook.Handler[*core.MailerEvent]{
			Func: func(e *core.MailerEvent) error {
				e.Mailer = &mailer.SMTPClient{Host: mp.SMTPHost, Port: mp.SMTPPort}
				return e.Next()
			},
			Priority: -99998,
		})
	}
	require.NoError(t, app.Save(s))
	return app
}

// client sends requests to app's full handler (routes, middlewares, rate limits).
type client struct {
	t testing.TB
	h http.Handler
}

func newClient(t testing.TB, app core.App) *client {
	t.Helper()
	h, err := testkit.Handler(app)
	require.NoError(t, err)
	return &client{t: t, h: h}
}

type answer struct {
	Status int
	Body   string
}

func (c *client) do(method, target, contentType, body string, headers map[string]string) answer {
	c.t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Result().Body)
	return answer{rec.Code, string(b)}
}

func (c *client) json(method, target, body string, headers map[string]string) answer {
	c.t.Helper()
	return c.do(method, target, "application/json", body, headers)
}

var linkToken = regexp.MustCompile(`token=([A-Za-z0-9_.%-]+)`)

// tokenIn returns the token of the first link starting with prefix in s.
func tokenIn(t testing.TB, s, prefix string) string {
	t.Helper()
	i := strings.Index(s, prefix)
	require.GreaterOrEqual(t, i, 0, "no link %q in:\n%s", prefix, s)
	m := linkToken.FindStringSubmatch(s[i:])
	require.NotNil(t, m, "no token after %q", prefix)
	tok, err := url.QueryUnescape(m[1])
	require.NoError(t, err)
	return tok
}
