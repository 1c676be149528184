// Package intake is leadtriage's HTTP server: the lead webhook (POST /leads),
// the read API (/api/leads), the health check, Prometheus metrics, and the
// mount point for the bot's Slack HTTP handlers (/slack/).
//
// It depends on triage only; the bot's handlers arrive as an http.Handler so
// that intake never imports bot.
package intake

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/time/rate"

	"github.com/leadtriage/leadtriage/triage"
)

// Limits and timeouts of the HTTP server.
const (
	// MaxBody is the largest lead body accepted, in bytes.
	MaxBody = 64 << 10

	// storeRetryAfter is what a client is told to wait when the store failed.
	storeRetryAfter = "5"

	// requestTimeout bounds the store work of one request.
	requestTimeout = 10 * time.Second
)

// Intake rate limits, per client address (see clientIP).
const (
	// DefaultIntakeRate is the sustained rate of authenticated leads: a form
	// tool catching up on a backlog, or a script importing a few hundred
	// leads, is not turned away. Bursts of 4× this.
	DefaultIntakeRate rate.Limit = 50

	// FailureEvery and FailureBurst limit unauthenticated and failed
	// attempts (a wrong secret or signature, a replay, an oversized body
	// without the secret): FailureBurst tries, then one more every
	// FailureEvery. That is ten guesses a minute, which makes guessing a
	// secret of 16 random characters hopeless. A client out of tries is
	// refused even with the right secret, or the limit would not limit
	// guessing; another client behind the same address shares its fate.
	FailureEvery = 6 * time.Second
	FailureBurst = 10
)

// Config configures a Server. Secrets come from the environment (see DESIGN.md).
type Config struct {
	// IntakeSecrets authenticate POST /leads, as a bearer token or as the
	// HMAC key of X-Leadtriage-Signature. Several may be set while one is
	// rotated out. None (or only empty ones) = the webhook answers 503.
	IntakeSecrets []string
	// APIToken opens the read API; "" turns the API off (404).
	APIToken string
	// Slack serves /slack/events, /slack/interactions and /slack/commands
	// (the bot's HTTP mode); nil = 404.
	Slack http.Handler
	// Metrics is served at /metrics, and intake registers its own collectors
	// on it; nil = 404.
	Metrics *prometheus.Registry
	// Now is the clock of the rate limits and the signature window;
	// time.Now when nil.
	Now func() time.Time
	// IntakeRate limits authenticated POST /leads per client address
	// (bursts of IntakeBurst, default 4× the rate); zero = DefaultIntakeRate,
	// rate.Inf = no limit.
	IntakeRate  rate.Limit
	IntakeBurst int
	// FailureEvery and FailureBurst shape the far tighter per-client limit on
	// unauthenticated and failed attempts; zero = the defaults of the same
	// name.
	FailureEvery time.Duration
	FailureBurst int
	// AcceptLegacySignature accepts "X-Leadtriage-Signature: sha256=<hex
	// HMAC of the body>", which has no timestamp and can be replayed.
	AcceptLegacySignature bool
	// Signatures remembers accepted signatures until they expire, so that
	// a signed request cannot be replayed; nil = in memory only (forgotten
	// on restart). main wires the database.
	Signatures SignatureLedger
	// Health reports problems that make /healthz answer 503 although the
	// store is fine (blocked Slack deliveries); nil = none.
	Health []HealthReporter
	// Store answers /healthz's ping and the dead-letter API. Required;
	// main wires the database.
	Store Store
	// AuditSalt salts the hash of an erased address in the audit log; main
	// keeps one per database.
	AuditSalt []byte
	// AfterForget runs after leads were forgotten: main wires the online
	// compaction that removes the erased bytes from the file; nil = none.
	AfterForget func(context.Context) error
}

// Server is leadtriage's HTTP server. Create it with New.
type Server struct {
	cfg       Config
	svc       *triage.Service
	log       *slog.Logger
	secrets   [][]byte // raw, for HMAC
	digests   [][32]byte
	apiToken  *[32]byte   // nil = API off
	clients   *ipLimiter  // authenticated requests
	strangers *tryLimiter // unauthenticated and failed attempts
	ledger    SignatureLedger
	requests  *prometheus.CounterVec
	mux       *http.ServeMux
}

// Intake results, the label values of leadtriage_intake_requests_total.
const (
	resultCreated        = "created"
	resultRepeat         = "repeat"
	resultUnauthorized   = "unauthorized"
	resultTooLarge       = "too_large"
	resultUnsupported    = "unsupported_media_type"
	resultInvalid        = "invalid"
	resultIdempotency    = "idempotency_conflict"
	resultRateLimited    = "rate_limited"
	resultReplayed       = "replayed"
	resultStoreError     = "store_error"
	resultNotConfigured  = "not_configured"
	resultBadRequestBody = "bad_body"
)

var allResults = []string{
	resultCreated, resultRepeat, resultUnauthorized, resultTooLarge, resultUnsupported,
	resultInvalid, resultIdempotency, resultRateLimited, resultReplayed, resultStoreError,
	resultNotConfigured, resultBadRequestBody,
}

// New returns a server over svc. log may be nil.
func New(cfg Config, svc *triage.Service, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.IntakeRate <= 0 {
		cfg.IntakeRate = DefaultIntakeRate
	}
	if cfg.IntakeBurst <= 0 {
		cfg.IntakeBurst = 1 // rate.Inf ignores the burst
		if cfg.IntakeRate != rate.Inf {
			cfg.IntakeBurst = max(1, int(math.Ceil(4*float64(cfg.IntakeRate))))
		}
	}
	if cfg.FailureEvery <= 0 {
		cfg.FailureEvery = FailureEvery
	}
	if cfg.FailureBurst <= 0 {
		cfg.FailureBurst = FailureBurst
	}
	if cfg.Signatures == nil {
		cfg.Signatures = &memoryLedger{}
	}
	s := &Server{cfg: cfg, svc: svc, log: log}
	for _, sec := range cfg.IntakeSecrets {
		// An empty secret would make "Authorization: Bearer " a key to the door.
		if sec == "" {
			continue
		}
		s.secrets = append(s.secrets, []byte(sec))
		s.digests = append(s.digests, sha256.Sum256([]byte(sec)))
	}
	if cfg.APIToken != "" {
		d := sha256.Sum256([]byte(cfg.APIToken))
		s.apiToken = &d
	}
	s.clients = newIPLimiter(cfg.IntakeRate, cfg.IntakeBurst)
	s.strangers = newTryLimiter(cfg.FailureEvery, cfg.FailureBurst)
	s.ledger = cfg.Signatures
	s.requests = s.registerCounter()

	mux := http.NewServeMux()
	mux.HandleFunc("/leads", s.handleLeads)
	mux.HandleFunc("/api/leads", s.handleListLeads)
	mux.HandleFunc("/api/leads/{id}", s.handleGetLead)
	mux.HandleFunc("/api/leads/{id}/outcome", s.handleOutcome)
	mux.HandleFunc("/healthz", s.handleHealth)
	mux.HandleFunc("/api/deadletters", s.handleDeadLetters)
	mux.HandleFunc("/api/deadletters/{id}/retry", s.handleRetryDeadLetter)
	mux.HandleFunc("/api/import", s.handleImport)
	mux.HandleFunc("/api/export", s.handleExport)
	mux.HandleFunc("/api/subject", s.handleSubject)
	mux.HandleFunc("/api/forget", s.handleForget)
	mux.HandleFunc("/api/backup", s.handleBackup)
	if cfg.Metrics != nil {
		metrics := promhttp.HandlerFor(cfg.Metrics, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError)})
		mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
			if !allowMethods(w, r, http.MethodGet, http.MethodHead) {
				return
			}
			metrics.ServeHTTP(w, r)
		})
	}
	if cfg.Slack != nil {
		mux.Handle("/slack/", cfg.Slack)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not found")
	})
	s.mux = mux
	return s
}

// registerCounter registers leadtriage_intake_requests_total on cfg.Metrics,
// reusing the registered one when a second Server shares the registry.
func (s *Server) registerCounter() *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "leadtriage_intake_requests_total",
		Help: "POST /leads requests by result.",
	}, []string{"result"})
	if s.cfg.Metrics != nil {
		if err := s.cfg.Metrics.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				s.log.Error("registering intake metrics", "error", err)
			} else if prev, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
				c = prev
			}
		}
	}
	// Every result shows up as 0 from the start, so rate() works on the first increment.
	for _, r := range allResults {
		c.WithLabelValues(r)
	}
	return c
}

// Handler returns the server's routes.
func (s *Server) Handler() http.Handler {
	return s.recoverPanics(s.mux)
}

// HTTPServer returns an http.Server for Handler on addr, with timeouts that
// stop slow clients (slowloris) from holding connections.
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler { // net/http's way to abort a response: not ours to swallow
				panic(v)
			}
			s.log.Error("panic in http handler", "path", r.URL.Path, "panic", v)
			writeError(w, http.StatusInternalServerError, "internal error")
		}()
		next.ServeHTTP(w, r)
	})
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	var problems []string
	if err := s.cfg.Store.Ping(ctx); err != nil {
		s.log.Warn("health check failed", "error", err)
		// The reason is the store's own, which names the cause (a full
		// disk, a closed database) and never the file.
		problems = append(problems, "store unavailable: "+truncate(err.Error(), 200))
	}
	if problems = append(problems, s.healthProblems(ctx)...); len(problems) > 0 {
		writeUnhealthy(w, problems)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("ok"))
}

// allowMethods answers 405 with an Allow header unless r uses one of methods.
func allowMethods(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	allow := ""
	for i, m := range methods {
		if r.Method == m {
			return true
		}
		if i > 0 {
			allow += ", "
		}
		allow += m
	}
	w.Header().Set("Allow", allow)
	writeError(w, http.StatusMethodNotAllowed, "method not allowed")
	return false
}

type errorBody struct {
	Error string  `json:"error"`
	Field *string `json:"field,omitempty"`
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg})
}

func writeFieldError(w http.ResponseWriter, status int, msg, field string) {
	writeJSON(w, status, errorBody{Error: msg, Field: &field})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own types get here; failing to encode them is a bug.
		status = http.StatusInternalServerError
		b = []byte(`{"error":"internal error"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
