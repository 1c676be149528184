package crm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
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
	// Senders are further destinations of the events (the CRM hand-off),
	// besides the webhooks, which are built in.
	Senders []Sender

	Timeout     time.Duration // per call; DefaultTimeout when 0
	BackoffBase time.Duration // first retry's wait, doubling; DefaultBackoffBase when 0
	BackoffMax  time.Duration // the cap of a wait; DefaultBackoffMax when 0
	GiveUp      time.Duration // after the event, a delivery is dead; DefaultGiveUp when 0
}

// Sender is one destination of domain events. The worker asks every sender
// what an event becomes (Expand: zero or more crm-lane items of the sender's
// Kind, say one per receiver), stores those in place of the event in one
// transaction, and hands each to Send until it succeeds. Send's error
// decides what happens next, the same for every sender: a *StatusError
// that is not Retryable is a dead letter at once; any other error is
// retried with capped backoff (longer if the StatusError asks, Retry-After)
// until GiveUp after the event; Permanent(err) is a dead letter at once
// too. Send runs under the per-call timeout. Kinds of the crm lane other
// than the webhooks' are named "crm_…" (triage.OutboxKind.Lane).
type Sender interface {
	Kind() triage.OutboxKind
	Expand(event triage.OutboxItem) []triage.OutboxItem
	Send(ctx context.Context, it triage.OutboxItem) error
}

// Worker drains the crm lane of the outbox: it expands each domain event into
// one delivery per receiver that hears it, and delivers those at least once.
type Worker struct {
	cfg     Config
	senders map[triage.OutboxKind]Sender
	order   []Sender // expansion order: webhooks first, then cfg.Senders
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
	w := &Worker{cfg: cfg, senders: map[triage.OutboxKind]Sender{}, wake: make(chan struct{}, 1), metrics: newMetrics(cfg.Metrics)}
	senders := cfg.Senders
	if len(cfg.Webhooks) > 0 {
		senders = append([]Sender{&webhookSender{w: w}}, senders...)
	}
	for _, sd := range senders {
		k := sd.Kind()
		if k.Lane() != triage.LaneCRM || k == triage.OutboxEvent || w.senders[k] != nil {
			return nil, fmt.Errorf("crm sender of %q items: not a crm-lane delivery kind, or two senders of it", k)
		}
		w.senders[k] = sd
		w.order = append(w.order, sd)
	}
	return w, nil
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
			w.cfg.Log.Error("draining the crm outbox", "error", err)
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
// included, and returns how many items it handled. Events are expanded
// first; then each destination (a webhook URL, a CRM) gets its deliveries
// in order on a goroutine of its own, at most maxParallel at once, so a
// receiver that times out delays only its own deliveries.
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
		var (
			order []string
			byDst = map[string][]triage.OutboxItem{}
		)
		for _, it := range due {
			if it.Kind == triage.OutboxEvent {
				if err := ctx.Err(); err != nil {
					return n, err
				}
				if err := w.handle(ctx, it); err != nil {
					return n, err
				}
				n++
				continue
			}
			dst := string(it.Kind) + " " + it.Channel
			if byDst[dst] == nil {
				order = append(order, dst)
			}
			byDst[dst] = append(byDst[dst], it)
		}
		handled, err := w.deliverAll(ctx, order, byDst)
		n += handled
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// maxParallel bounds the destinations delivered to at once.
const maxParallel = 8

// deliverAll runs each destination's items in order, destinations in
// parallel; it returns how many items were handled and the first error
// (the store's, or ctx's), after every goroutine has stopped.
func (w *Worker) deliverAll(ctx context.Context, order []string, byDst map[string][]triage.OutboxItem) (int, error) {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		n     int
		first error
		slots = make(chan struct{}, maxParallel)
	)
	for _, dst := range order {
		wg.Add(1)
		go func(items []triage.OutboxItem) {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			for _, it := range items {
				err := ctx.Err()
				if err == nil {
					err = w.handle(ctx, it)
				}
				mu.Lock()
				if err != nil && first == nil {
					first = err
				}
				if err == nil {
					n++
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}(byDst[dst])
	}
	wg.Wait()
	return n, first
}

// handle settles one item; an error is the store's (the item stays due).
func (w *Worker) handle(ctx context.Context, it triage.OutboxItem) error {
	if it.Kind == triage.OutboxEvent {
		return w.expand(ctx, it)
	}
	if sd := w.senders[it.Kind]; sd != nil {
		return w.deliver(ctx, sd, it)
	}
	// A kind of a newer version, or one whose sender is no longer configured.
	return w.dead(ctx, it, fmt.Sprintf("no crm sender handles %q items", it.Kind))
}

// expand replaces an event with one delivery per receiver that hears it, in
// one transaction: from then on each receiver's delivery fails, waits and
// succeeds on its own, and no receiver hears the event twice because
// another failed.
func (w *Worker) expand(ctx context.Context, it triage.OutboxItem) error {
	var out []triage.OutboxItem
	for _, sd := range w.order {
		out = append(out, sd.Expand(it)...)
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

// deliver hands one item to its sender and settles it by the answer.
func (w *Worker) deliver(ctx context.Context, sd Sender, it triage.OutboxItem) error {
	now := w.now()
	timeout := w.cfg.Timeout
	if t, ok := sd.(interface{ Timeout() time.Duration }); ok && t.Timeout() > timeout {
		timeout = t.Timeout() // a sender whose item is several calls (the CRM hand-off)
	}
	callCtx, cancel := context.WithTimeout(ctx, timeout)
	err := sd.Send(callCtx, it)
	cancel()
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
	var (
		se   *StatusError
		perm *permanentError
	)
	if errors.As(err, &perm) || errors.As(err, &se) && !se.Retryable() {
		return w.dead(ctx, it, err.Error())
	}
	// A dead letter a person sent again gets a fresh window.
	deadline := later(it.CreatedAt, it.Requeued).Add(w.cfg.GiveUp)
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
	w.cfg.Log.Warn("crm delivery failed, will retry", "item", it.ID, "kind", string(it.Kind), "lead", it.Lead.String(), "to", destination(it), "error", err, "next", next)
	if err := w.cfg.Store.RetryOutbox(ctx, it.ID, next, err.Error()); err != nil && !errors.Is(err, triage.ErrNotFound) {
		return fmt.Errorf("rescheduling delivery %d: %w", it.ID, err)
	}
	return nil
}

// Permanent marks a Send error that no retry can mend (a body that cannot
// be rendered, a record the CRM refuses for good): the item becomes a dead
// letter at once.
func Permanent(err error) error { return &permanentError{err} }

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

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
	w.cfg.Log.Error("crm item dead-lettered", "item", it.ID, "kind", string(it.Kind), "lead", it.Lead.String(), "to", destination(it), "reason", reason)
	if err := w.cfg.Store.DeadLetter(ctx, it.ID, reason); err != nil && !errors.Is(err, triage.ErrNotFound) {
		return fmt.Errorf("dead-lettering crm item %d: %w", it.ID, err)
	}
	return nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// destination names where an item goes, for the log: a webhook's host (its
// URL may carry a secret), or the CRM's name.
func destination(it triage.OutboxItem) string {
	if it.Kind == triage.OutboxWebhook {
		return receiverHost(it.Channel)
	}
	return it.Channel
}
