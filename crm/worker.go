package crm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/leadtriage/leadtriage/triage"
)

// Defaults of Config's durations.
const (
	DefaultTimeout     = 10 * time.Second
	DefaultBackoffBase = 5 * time.Second
	DefaultBackoffMax  = time.Hour
	DefaultGiveUp      = 24 * time.Hour
	// idlePoll is how often an idle worker looks again without a wake-up:
	// only a safety net, since every enqueue wakes it.
	idlePoll = time.Minute
	// batch is how many due items one store read returns.
	batch = 100
)

// Config is the worker's set-up; Store and Render are required.
type Config struct {
	Store    Store
	Webhooks []Webhook
	// Secrets key the signatures (ParseSecrets); required with Webhooks.
	Secrets [][]byte
	// Render is the lead as the API shows it (the body's data); main
	// injects intake's, as crm does not import intake.
	Render func(triage.Lead) any
	Client *http.Client     // nil: a client that follows no redirects
	Now    func() time.Time // injected clock; time.Now when nil
	Log    *slog.Logger
	// Metrics registers the worker's series; nil: unregistered.
	Metrics prometheus.Registerer

	Timeout     time.Duration // per call; DefaultTimeout when 0
	BackoffBase time.Duration // first retry's wait, doubling; DefaultBackoffBase when 0
	BackoffMax  time.Duration // the cap of a wait; DefaultBackoffMax when 0
	GiveUp      time.Duration // after the event, a delivery is dead; DefaultGiveUp when 0
}

// Worker drains the crm lane of the outbox: it expands each domain event into
// one delivery per receiver that hears it, and delivers those, signed, at
// least once.
type Worker struct {
	cfg     Config
	wake    chan struct{}
	metrics *metrics
}

// New checks cfg and returns a worker; Run starts it.
func New(cfg Config) (*Worker, error) {
	if cfg.Store == nil || cfg.Render == nil {
		return nil, errors.New("crm worker needs a store and a lead renderer")
	}
	if len(cfg.Webhooks) > 0 && len(cfg.Secrets) == 0 {
		return nil, errors.New("webhooks need LEADTRIAGE_WEBHOOK_SECRET")
	}
	if cfg.Client == nil {
		// A redirect is the receiver's misconfiguration: following a POST's
		// redirect turns it into a GET, so the 3xx is reported instead.
		cfg.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	cfg.Timeout = cmp0(cfg.Timeout, DefaultTimeout)
	cfg.BackoffBase = cmp0(cfg.BackoffBase, DefaultBackoffBase)
	cfg.BackoffMax = cmp0(cfg.BackoffMax, DefaultBackoffMax)
	cfg.GiveUp = cmp0(cfg.GiveUp, DefaultGiveUp)
	return &Worker{cfg: cfg, wake: make(chan struct{}, 1), metrics: newMetrics(cfg.Metrics)}, nil
}

func cmp0(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func (w *Worker) now() time.Time {
	if w.cfg.Now != nil {
		return w.cfg.Now()
	}
	return time.Now()
}

// Wake tells the worker that new items are waiting. It never blocks.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run drains the lane until ctx ends, sleeping until the next item is due
// or Wake is called. It returns nil when ctx ends.
func (w *Worker) Run(ctx context.Context) error {
	for {
		if _, err := w.Drain(ctx); err != nil && ctx.Err() == nil {
			w.cfg.Log.Error("draining the crm outbox", "err", err)
		}
		wait := idlePoll
		if at, ok, err := w.cfg.Store.NextCRM(ctx); err == nil && ok {
			// At least a moment: an item the store cannot settle must not spin.
			wait = min(wait, max(at.Sub(w.now()), 50*time.Millisecond))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-w.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// Drain handles every item due now, the deliveries its events expand into
// included, and returns how many items it handled.
func (w *Worker) Drain(ctx context.Context) (int, error) {
	n := 0
	for round := 0; round < 100; round++ {
		due, err := w.cfg.Store.DueCRM(ctx, w.now(), batch)
		if err != nil {
			return n, fmt.Errorf("listing due crm items: %w", err)
		}
		if len(due) == 0 {
			return n, nil
		}
		for _, it := range due {
			if err := ctx.Err(); err != nil {
				return n, err
			}
			if err := w.handle(ctx, it); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// handle settles one item; an error is the store's (the item stays due).
func (w *Worker) handle(ctx context.Context, it triage.OutboxItem) error {
	switch it.Kind {
	case triage.OutboxEvent:
		return w.expand(ctx, it)
	case triage.OutboxWebhook:
		return w.deliver(ctx, it)
	}
	// A kind of a newer version, or one whose sender is not configured.
	return w.dead(ctx, it, fmt.Sprintf("no crm worker handles %q items", it.Kind))
}

// expand replaces an event with one delivery per receiver that hears it, in
// one transaction: from then on each receiver's delivery fails, waits and
// succeeds on its own, and no receiver hears the event twice because
// another failed.
func (w *Worker) expand(ctx context.Context, it triage.OutboxItem) error {
	var out []triage.OutboxItem
	for _, h := range w.cfg.Webhooks {
		if h.Hears(it.Text) {
			out = append(out, triage.OutboxItem{
				Kind: triage.OutboxWebhook, Lead: it.Lead, Channel: h.URL, Text: it.Text,
				Snapshot: it.Snapshot, CreatedAt: it.CreatedAt,
			})
		}
	}
	err := w.cfg.Store.ExpandCRM(ctx, it.ID, out)
	if errors.Is(err, triage.ErrNotFound) {
		return nil // erased meanwhile
	}
	if err != nil {
		return fmt.Errorf("expanding event %d: %w", it.ID, err)
	}
	return nil
}

// Envelope is the body of every outgoing webhook.
type Envelope struct {
	Type      string `json:"type"`
	Timestamp string `json:"timestamp"` // RFC 3339, when the event happened
	Data      any    `json:"data"`      // the lead as the API shows it, as it was then
}

// WebhookID is the webhook-id of delivery item id: the same on every attempt,
// so receivers dedupe on it.
func WebhookID(id uint64) string {
	return "msg_lt" + strconv.FormatUint(id, 10)
}

// Body renders a delivery's body from its item: the same bytes on every
// attempt.
func (w *Worker) Body(it triage.OutboxItem) ([]byte, error) {
	if it.Snapshot == nil {
		return nil, errors.New("the event carries no lead")
	}
	l := *it.Snapshot
	l.ID = it.Lead // a lead.created snapshot was taken before the id existed
	return json.Marshal(Envelope{Type: it.Text, Timestamp: it.CreatedAt.UTC().Format(time.RFC3339), Data: w.cfg.Render(l)})
}

func (w *Worker) deliver(ctx context.Context, it triage.OutboxItem) error {
	body, err := w.Body(it)
	if err != nil {
		return w.dead(ctx, it, "rendering the body: "+err.Error())
	}
	now := w.now()
	err = w.post(ctx, it.Channel, WebhookID(it.ID), now, body)
	if err == nil {
		w.metrics.delivered.WithLabelValues(string(it.Kind), it.Text).Inc()
		if err := w.cfg.Store.CompleteOutbox(ctx, it.ID, it.Seq, nil); err != nil && !errors.Is(err, triage.ErrNotFound) {
			return fmt.Errorf("completing delivery %d: %w", it.ID, err)
		}
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err() // shutting down: the item stays due as it was
	}
	var se *StatusError
	if errors.As(err, &se) && !se.Retryable() {
		return w.dead(ctx, it, err.Error())
	}
	deadline := it.CreatedAt.Add(w.cfg.GiveUp)
	if !now.Before(deadline) {
		return w.dead(ctx, it, fmt.Sprintf("gave up after %s: %v", w.cfg.GiveUp, err))
	}
	wait := w.backoff(it.Attempts)
	if se != nil && se.RetryAfter > wait {
		wait = se.RetryAfter
	}
	// The last try falls on the deadline, not after it.
	next := now.Add(wait)
	if next.After(deadline) {
		next = deadline
	}
	w.metrics.failed.WithLabelValues(string(it.Kind), "retry").Inc()
	w.cfg.Log.Warn("webhook delivery failed, will retry", "item", it.ID, "lead", it.Lead.String(), "url", it.Channel, "err", err, "next", next)
	if err := w.cfg.Store.RetryOutbox(ctx, it.ID, next, err.Error()); err != nil && !errors.Is(err, triage.ErrNotFound) {
		return fmt.Errorf("rescheduling delivery %d: %w", it.ID, err)
	}
	return nil
}

// backoff is the wait after the attempts-th failure: doubling from
// BackoffBase, capped at BackoffMax, with no jitter (deliveries are already
// spread by their events' times, and tests stay exact).
func (w *Worker) backoff(attempts int) time.Duration {
	d := w.cfg.BackoffBase
	for range attempts {
		d *= 2
		if d >= w.cfg.BackoffMax {
			return w.cfg.BackoffMax
		}
	}
	return min(d, w.cfg.BackoffMax)
}

func (w *Worker) dead(ctx context.Context, it triage.OutboxItem, reason string) error {
	w.metrics.failed.WithLabelValues(string(it.Kind), "dead").Inc()
	w.cfg.Log.Error("crm item dead-lettered", "item", it.ID, "kind", string(it.Kind), "lead", it.Lead.String(), "url", it.Channel, "reason", reason)
	if err := w.cfg.Store.DeadLetter(ctx, it.ID, reason); err != nil && !errors.Is(err, triage.ErrNotFound) {
		return fmt.Errorf("dead-lettering crm item %d: %w", it.ID, err)
	}
	return nil
}

// post sends one signed attempt; a non-2xx answer is a *StatusError.
func (w *Worker) post(ctx context.Context, url, id string, at time.Time, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("building the request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "leadtriage-webhooks")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
	req.Header.Set("webhook-signature", Sign(w.cfg.Secrets, id, at, body))
	resp, err := w.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("posting: %w", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody+1))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	return statusError(resp, answer, w.now())
}
