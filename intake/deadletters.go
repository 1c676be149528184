package intake

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/leadtriage/leadtriage/triage"
)

// outboxItemJSON is an outbox item as the admin API shows it: what it is,
// which lead it concerns, and why Slack (or a webhook receiver) refused it.
// It carries no message text and no lead snapshot: the API shows the lead
// itself under /api/leads.
type outboxItemJSON struct {
	ID   uint64  `json:"id"`
	Kind string  `json:"kind"`
	Lane string  `json:"lane"` // "slack" or "crm" (outgoing webhooks)
	Lead *string `json:"lead"`
	// Crm lane: the receiver's URL and the event type.
	URL       string `json:"url,omitempty"`
	Event     string `json:"event,omitempty"`
	Channel   string `json:"channel,omitempty"`
	User      string `json:"user,omitempty"`
	Error     string `json:"error"`
	Attempts  int    `json:"attempts"`
	CreatedAt string `json:"created_at"`
	// Blocked items only: the cause, what it concerns, and the next try.
	Cause     string  `json:"cause,omitempty"`
	BlockedOn string  `json:"blocked_on,omitempty"`
	NextTry   *string `json:"next_try,omitempty"`
}

func toOutboxItemJSON(it triage.OutboxItem) outboxItemJSON {
	out := outboxItemJSON{
		ID: it.ID, Kind: string(it.Kind), Channel: it.Channel, User: it.User,
		Error: it.LastError, Attempts: it.Attempts, CreatedAt: timestamp(it.CreatedAt),
		Cause: it.Blocked, BlockedOn: it.BlockedOn,
	}
	if out.Lane = it.Kind.Lane(); out.Lane == triage.LaneCRM {
		out.URL, out.Event, out.Channel = it.Channel, it.Text, ""
	}
	if it.Lead != 0 {
		id := it.Lead.String()
		out.Lead = &id
	}
	if it.Blocked != "" {
		out.NextTry = optionalTimestamp(it.NextAt)
	}
	return out
}

// deadLetterList is GET /api/deadletters: the items Slack refused for good,
// and, apart, those that wait on a cause a person can fix.
type deadLetterList struct {
	DeadLetters []outboxItemJSON `json:"deadletters"`
	Blocked     []outboxItemJSON `json:"blocked"`
}

// handleDeadLetters is GET /api/deadletters.
func (s *Server) handleDeadLetters(w http.ResponseWriter, r *http.Request) {
	if !s.apiAccess(w, r) {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	dead, err := s.cfg.Store.DeadLetters(ctx)
	if err != nil {
		s.apiStoreError(w, "listing dead letters", err)
		return
	}
	blocked, err := s.cfg.Store.BlockedOutbox(ctx)
	if err != nil {
		s.apiStoreError(w, "listing blocked outbox items", err)
		return
	}
	out := deadLetterList{DeadLetters: make([]outboxItemJSON, 0, len(dead)), Blocked: make([]outboxItemJSON, 0, len(blocked))}
	for _, it := range dead {
		out.DeadLetters = append(out.DeadLetters, toOutboxItemJSON(it))
	}
	for _, it := range blocked {
		out.Blocked = append(out.Blocked, toOutboxItemJSON(it))
	}
	writeJSON(w, http.StatusOK, out)
}

// handleRetryDeadLetter is POST /api/deadletters/{id}/retry: the dead
// letter goes back into the outbox, due at once.
func (s *Server) handleRetryDeadLetter(w http.ResponseWriter, r *http.Request) {
	if !s.adminAccess(w, r, http.MethodPost) {
		return
	}
	raw := r.PathValue("id")
	id, err := strconv.ParseUint(raw, 10, 64)
	if err != nil || id == 0 {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no dead letter %q", truncate(raw, 40)))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	it, err := s.cfg.Store.RequeueDeadLetter(ctx, id, s.cfg.Now())
	switch {
	case errors.Is(err, triage.ErrNotFound):
		writeError(w, http.StatusNotFound, fmt.Sprintf("no dead letter %d", id))
		return
	case err != nil:
		s.apiStoreError(w, "requeueing dead letter "+raw, err)
		return
	}
	if s.svc.Wake != nil {
		s.svc.Wake()
	}
	s.log.Info("dead letter queued again", "item", id, "kind", string(it.Kind))
	writeJSON(w, http.StatusOK, toOutboxItemJSON(it))
}

// adminAccess is apiAccess for the admin API's other methods: 404 when the
// API is off, 405 for other methods, 401 without the API token.
func (s *Server) adminAccess(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	if s.apiToken == nil {
		writeError(w, http.StatusNotFound, "not found")
		return false
	}
	if !allowMethods(w, r, methods...) {
		return false
	}
	token, _ := bearer(r.Header)
	d := sha256.Sum256([]byte(token))
	if subtle.ConstantTimeCompare(d[:], s.apiToken[:]) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="leadtriage"`)
		writeError(w, http.StatusUnauthorized, "unauthorized")
		return false
	}
	return true
}

// HealthReporter tells /healthz what keeps leadtriage from doing its work
// although the store is fine, e.g. Slack deliveries blocked on a cause a
// person must fix; each problem is a sentence that names its fix. The bot
// is one.
type HealthReporter interface {
	HealthProblems(ctx context.Context) []string
}

// healthProblems asks every reporter; a slow one does not hold the probe.
func (s *Server) healthProblems(ctx context.Context) []string {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var out []string
	for _, h := range s.cfg.Health {
		out = append(out, h.HealthProblems(ctx)...)
	}
	return out
}

// writeUnhealthy answers 503 with the problems, one a line.
func writeUnhealthy(w http.ResponseWriter, problems []string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusServiceUnavailable)
	for _, p := range problems {
		_, _ = fmt.Fprintln(w, p)
	}
}
