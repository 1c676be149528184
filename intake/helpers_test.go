package intake_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/leadtriage/leadtriage/intake"
	"github.com/leadtriage/leadtriage/storage/storagetest"
	"github.com/leadtriage/leadtriage/triage"
	"github.com/leadtriage/leadtriage/triage/triagetest"
)

const (
	secret    = "intake-secret-CANARY-0123456789"
	secret2   = "intake-secret-rotated-9876543210"
	apiToken  = "api-token-CANARY-abcdef"
	canaryPII = "jan.jansen+CANARY@voorbeeld.nl"
)

var epoch = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// testStore is the store as these tests set it up and inspect it: the
// domain's, the server's, and the outbox as the bot's worker moves it.
type testStore interface {
	triage.Store
	intake.Store
	DueOutbox(ctx context.Context, now time.Time, limit int) ([]triage.OutboxItem, error)
	DeadLetter(ctx context.Context, id uint64, reason string) error
	BlockOutbox(ctx context.Context, id uint64, cause, on string, next time.Time) error
}

// env is one server over one store, with a clock and captured logs.
type env struct {
	srv     *intake.Server
	h       http.Handler
	svc     *triage.Service
	store   testStore
	fake    *triagetest.Store // set by newFakeEnv, for injecting failures
	close   func()            // closes the store under the server
	clock   *triagetest.Clock
	reg     *prometheus.Registry
	logs    *syncBuffer
	slacked atomic.Int32
}

type option func(*intake.Config)

// newEnv runs a server over a real bbolt store in t.TempDir().
func newEnv(t *testing.T, opts ...option) *env {
	t.Helper()
	db := storagetest.MustOpen(t)
	return start(t, &env{store: db, close: func() { _ = db.Close() }}, opts...)
}

// newFakeEnv runs a server over the in-memory triagetest.Store, whose hooks
// inject failures.
func newFakeEnv(t *testing.T, opts ...option) *env {
	t.Helper()
	fake := &triagetest.Store{}
	return start(t, &env{store: fake, fake: fake}, opts...)
}

func start(t *testing.T, e *env, opts ...option) *env {
	t.Helper()
	if e.clock == nil {
		e.clock = triagetest.NewClock(epoch)
	}
	e.reg = prometheus.NewRegistry()
	e.logs = &syncBuffer{}
	e.svc = &triage.Service{Store: e.store, Channel: "CTRIAGE", Now: e.clock.Now}
	cfg := intake.Config{
		IntakeSecrets: []string{secret},
		APIToken:      apiToken,
		Metrics:       e.reg,
		Now:           e.clock.Now,
		Store:         e.store,
		Slack: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			e.slacked.Add(1)
			_, _ = io.WriteString(w, "slack:"+r.URL.Path)
		}),
	}
	if l, ok := e.store.(intake.SignatureLedger); ok {
		cfg.Signatures = l // the real bbolt ledger, as main wires it
	}
	for _, o := range opts {
		o(&cfg)
	}
	log := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	e.srv = intake.New(cfg, e.svc, log)
	e.h = e.srv.Handler()
	return e
}

// leads returns every stored lead.
func (e *env) leads(t *testing.T) []triage.Lead {
	t.Helper()
	ls, err := e.svc.Leads(context.Background(), "")
	if err != nil {
		t.Fatalf("listing leads: %v", err)
	}
	return ls
}

// outbox returns every outbox item, due or not.
func (e *env) outbox(t *testing.T) []triage.OutboxItem {
	t.Helper()
	out, err := e.store.DueOutbox(context.Background(), epoch.Add(1000*time.Hour), 0)
	if err != nil {
		t.Fatalf("listing the outbox: %v", err)
	}
	return out
}

type request struct {
	method, path string
	body         string
	contentType  string
	remote       string
	header       map[string]string
	bodyReader   io.Reader // instead of body, to stream without Content-Length
}

func (e *env) do(t *testing.T, rq request) *httptest.ResponseRecorder {
	t.Helper()
	if rq.method == "" {
		rq.method = http.MethodPost
	}
	if rq.path == "" {
		rq.path = "/leads"
	}
	var body io.Reader = strings.NewReader(rq.body)
	if rq.bodyReader != nil {
		body = rq.bodyReader
	}
	r := httptest.NewRequest(rq.method, rq.path, body)
	if rq.contentType != "" {
		r.Header.Set("Content-Type", rq.contentType)
	}
	if rq.remote != "" {
		r.RemoteAddr = rq.remote
	}
	for k, v := range rq.header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

// postJSON posts body as JSON with the intake secret as bearer token.
func (e *env) postJSON(t *testing.T, body string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	h := map[string]string{"Authorization": "Bearer " + secret}
	for k, v := range header {
		h[k] = v
	}
	return e.do(t, request{body: body, contentType: "application/json", header: h})
}

type errorResponse struct {
	Error string  `json:"error"`
	Field *string `json:"field"`
}

type submitResponse struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

func decode[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q, want JSON; body %q", ct, w.Body.String())
	}
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("decoding %q: %v", w.Body.String(), err)
	}
	return v
}

// syncBuffer is a bytes buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func httpRequest(t *testing.T, method, path string, header map[string]string) *http.Request {
	t.Helper()
	r := httptest.NewRequest(method, path, nil)
	for k, v := range header {
		r.Header.Set(k, v)
	}
	return r
}

func serve(e *env, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

func ioNopCloser(s string) io.ReadCloser { return io.NopCloser(strings.NewReader(s)) }
