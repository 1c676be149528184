package crm_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/leadtriage/leadtriage/crm"
	"github.com/leadtriage/leadtriage/triage"
	"github.com/leadtriage/leadtriage/triage/triagetest"
)

// secret is a Standard Webhooks secret; receiverKey is what a receiver
// configured with it keys the HMAC with.
const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

var receiverKey, _ = base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))

// delivery is one request a receiver saw.
type delivery struct {
	ID, Timestamp string
	Body          crm.Envelope
	Lead          map[string]any
}

// receiver is a loopback webhook receiver that answers with script, one
// answer per request (the last repeats), and verifies every signature the way
// the Standard Webhooks spec tells receivers to.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	script []func(http.ResponseWriter, *http.Request)
	got    []delivery
}

func ok(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }
func status(code int, retryAfter string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		http.Error(w, "nope", code)
	}
}

// hang answers only when the caller gives up (its timeout).
func hang(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }

func newReceiver(t *testing.T, script ...func(http.ResponseWriter, *http.Request)) *receiver {
	r := &receiver{t: t, script: script}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		r.t.Error(err)
		return
	}
	id, ts := req.Header.Get("webhook-id"), req.Header.Get("webhook-timestamp")
	if !verify(req.Header.Get("webhook-signature"), id, ts, body) {
		r.t.Errorf("delivery %s: signature %q does not verify", id, req.Header.Get("webhook-signature"))
	}
	if ct := req.Header.Get("Content-Type"); ct != "application/json" {
		r.t.Errorf("Content-Type = %q", ct)
	}
	d := delivery{ID: id, Timestamp: ts}
	var raw struct {
		crm.Envelope
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		r.t.Errorf("body %s: %v", body, err)
	}
	d.Body, d.Lead = raw.Envelope, raw.Data
	r.mu.Lock()
	r.got = append(r.got, d)
	answer := r.script[min(len(r.got), len(r.script))-1]
	r.mu.Unlock()
	answer(w, req)
}

// verify is the receiver's side of the scheme: any of the space-separated
// v1 signatures must be the HMAC of "id.timestamp.body".
func verify(header, id, ts string, body []byte) bool {
	mac := hmac.New(sha256.New, receiverKey)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, sig := range strings.Fields(header) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return true
		}
	}
	return false
}

func (r *receiver) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.got...)
}

// setup is a service that records events for hooks, and the worker that
// delivers them, on one in-memory store and clock.
type setup struct {
	svc    *triage.Service
	store  *triagetest.Store
	clock  *triagetest.Clock
	worker *crm.Worker
}

func render(l triage.Lead) any {
	return map[string]any{"id": l.ID.String(), "status": string(l.Status), "company": l.Company}
}

func newSetup(t *testing.T, hooks ...crm.Webhook) *setup {
	t.Helper()
	s := &setup{store: &triagetest.Store{}, clock: triagetest.NewClock(t0)}
	events := map[string]bool{}
	for _, e := range triage.EventTypes {
		events[e] = true
	}
	s.svc = &triage.Service{Store: s.store, Policy: triage.Policy{Quorum: 3, TeamLead: "UTL"}, Channel: "C1", Now: s.clock.Now, Events: events}
	keys, err := crm.ParseSecrets(secret)
	if err != nil {
		t.Fatal(err)
	}
	s.worker, err = crm.New(crm.Config{
		Store: s.store, Webhooks: hooks, Secrets: keys, Render: render, Now: s.clock.Now,
		Timeout: 200 * time.Millisecond, BackoffBase: 10 * time.Second, BackoffMax: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *setup) submit(t *testing.T, company string) triage.Lead {
	t.Helper()
	l, _, err := s.svc.Submit(context.Background(), triage.LeadInput{Company: company, Email: "info@" + company + ".example"}, triage.Submission{Via: "webhook"})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func (s *setup) drain(t *testing.T) {
	t.Helper()
	if _, err := s.worker.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// next is when the one pending crm item is due.
func (s *setup) next(t *testing.T) time.Time {
	t.Helper()
	at, ok, err := s.store.NextCRM(context.Background())
	if err != nil || !ok {
		t.Fatalf("NextCRM = %v, %v; want a pending item", ok, err)
	}
	return at
}

func TestWorker_RetriesUntilTheReceiverAccepts(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, status(500, ""), status(429, "300"), hang, ok)
	s := newSetup(t, crm.Webhook{URL: rcv.srv.URL + "/hook"})
	l := s.submit(t, "acme")

	s.drain(t) // 500: the first wait is the base
	if want := t0.Add(10 * time.Second); !s.next(t).Equal(want) {
		t.Errorf("after a 500 the retry is at %v, want %v", s.next(t), want)
	}
	s.clock.Set(s.next(t))
	s.drain(t) // 429 with Retry-After 300 s: longer than the backoff (20 s), so honoured
	if want := s.clock.Now().Add(300 * time.Second); !s.next(t).Equal(want) {
		t.Errorf("after a 429 the retry is at %v, want %v (Retry-After)", s.next(t), want)
	}
	s.clock.Set(s.next(t))
	s.drain(t) // times out: the backoff doubles again (40 s)
	if want := s.clock.Now().Add(40 * time.Second); !s.next(t).Equal(want) {
		t.Errorf("after a timeout the retry is at %v, want %v", s.next(t), want)
	}
	s.clock.Set(s.next(t))
	s.drain(t) // accepted
	if _, pending, _ := s.store.NextCRM(context.Background()); pending {
		t.Error("an item is still pending after the receiver accepted")
	}

	got := rcv.deliveries()
	if len(got) != 4 {
		t.Fatalf("the receiver saw %d requests, want 4", len(got))
	}
	for i, d := range got {
		if d.ID != got[0].ID {
			t.Errorf("attempt %d has webhook-id %q, want the first attempt's %q", i, d.ID, got[0].ID)
		}
		if d.Body.Type != "lead.created" || d.Body.Timestamp != t0.Format(time.RFC3339) || d.Lead["id"] != l.ID.String() || d.Lead["company"] != "acme" {
			t.Errorf("attempt %d body = %+v %v, want lead.created of %s at %s", i, d.Body, d.Lead, l.ID, t0.Format(time.RFC3339))
		}
	}
	if last := got[3].Timestamp; last != strconv.FormatInt(s.clock.Now().Unix(), 10) {
		t.Errorf("the last attempt's webhook-timestamp = %s, want the attempt's time %d", last, s.clock.Now().Unix())
	}
}

func TestWorker_OneDeliveryPerReceiver(t *testing.T) {
	t.Parallel()
	good, bad := newReceiver(t, ok), newReceiver(t, status(503, ""), status(503, ""), ok)
	decidedOnly := newReceiver(t, ok)
	s := newSetup(t,
		crm.Webhook{URL: good.srv.URL},
		crm.Webhook{URL: bad.srv.URL},
		crm.Webhook{URL: decidedOnly.srv.URL, Events: []string{triage.EventTypeDecided}},
	)
	l := s.submit(t, "acme")
	if _, err := s.svc.DecideByHand(context.Background(), l.ID, "UTL", triage.DecisionInput{Outcome: triage.StatusQualified, Owner: "U7"}); err != nil {
		t.Fatal(err)
	}
	s.drain(t)
	s.clock.Advance(time.Hour)
	s.drain(t)

	types := func(r *receiver) []string {
		var out []string
		for _, d := range r.deliveries() {
			out = append(out, d.Body.Type+" "+d.Lead["status"].(string))
		}
		return out
	}
	if got := strings.Join(types(good), ", "); got != "lead.created pending, lead.decided qualified" {
		t.Errorf("the healthy receiver got %s; want each event once, though another receiver failed", got)
	}
	if got := strings.Join(types(bad), ", "); got != "lead.created pending, lead.decided qualified, lead.created pending, lead.decided qualified" {
		t.Errorf("the failing receiver got %s; want each event twice (503, then accepted)", got)
	}
	if got := strings.Join(types(decidedOnly), ", "); got != "lead.decided qualified" {
		t.Errorf("the lead.decided receiver got %s", got)
	}
	if good.deliveries()[0].ID == bad.deliveries()[0].ID {
		t.Error("two receivers' deliveries share a webhook-id")
	}
}

func TestWorker_ClientErrorIsDeadAtOnce(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, status(400, ""))
	s := newSetup(t, crm.Webhook{URL: rcv.srv.URL})
	l := s.submit(t, "acme")
	s.drain(t)
	s.clock.Advance(48 * time.Hour)
	s.drain(t)
	if n := len(rcv.deliveries()); n != 1 {
		t.Errorf("a 400 was tried %d times, want once", n)
	}
	dead, err := s.store.DeadLetters(context.Background())
	if err != nil || len(dead) != 1 {
		t.Fatalf("dead letters = %d, %v; want 1", len(dead), err)
	}
	if d := dead[0]; d.Kind != triage.OutboxWebhook || d.Lead != l.ID || d.Channel != rcv.srv.URL || !strings.Contains(d.LastError, "HTTP 400") {
		t.Errorf("dead letter = %+v, want the webhook delivery of %s to %s with HTTP 400", d, l.ID, rcv.srv.URL)
	}
}

func TestWorker_GivesUpAfter24Hours(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, status(502, "")) // never recovers
	s := newSetup(t, crm.Webhook{URL: rcv.srv.URL})
	s.submit(t, "acme")
	deadline := t0.Add(crm.DefaultGiveUp)
	for range 200 {
		s.drain(t)
		at, pending, _ := s.store.NextCRM(context.Background())
		if !pending {
			break
		}
		if at.After(deadline) {
			t.Fatalf("a retry is scheduled at %v, after the 24 h deadline %v", at, deadline)
		}
		s.clock.Set(at)
	}
	if !s.clock.Now().Equal(deadline) {
		t.Errorf("the last attempt was at %v, want at the deadline %v", s.clock.Now(), deadline)
	}
	dead, err := s.store.DeadLetters(context.Background())
	if err != nil || len(dead) != 1 || !strings.Contains(dead[0].LastError, "gave up after 24h0m0s") {
		t.Fatalf("dead letters = %+v, %v; want the delivery, given up", dead, err)
	}
	// Backoff capped at an hour: about 24 + log2(360) attempts, not hundreds.
	if n := len(rcv.deliveries()); n < 20 || n > 40 {
		t.Errorf("%d attempts in 24 h, want a capped backoff's 20-40", n)
	}
}

// A person who sends a given-up delivery again from the dead letters
// (POST /api/deadletters/{id}/retry) gets retries for another 24 h, not one
// try that gives up at once because the event is old.
func TestWorker_RequeuedDeadLetterGetsAFreshWindow(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, status(502, "")) // down for good, then (below) a second 502 run
	s := newSetup(t, crm.Webhook{URL: rcv.srv.URL})
	s.submit(t, "acme")
	ctx := context.Background()
	for range 200 {
		s.drain(t)
		at, pending, _ := s.store.NextCRM(ctx)
		if !pending {
			break
		}
		s.clock.Set(at)
	}
	dead, err := s.store.DeadLetters(ctx)
	if err != nil || len(dead) != 1 {
		t.Fatalf("dead letters = %d, %v; want the given-up delivery", len(dead), err)
	}
	s.clock.Advance(72 * time.Hour)
	if _, err := s.store.RequeueDeadLetter(ctx, dead[0].ID, s.clock.Now()); err != nil {
		t.Fatal(err)
	}
	before := len(rcv.deliveries())
	s.drain(t)
	if at, pending, _ := s.store.NextCRM(ctx); !pending || !at.After(s.clock.Now()) {
		t.Fatalf("after one failed try of the requeued delivery: next = %v, pending %v; want a retry later", at, pending)
	}
	if n := len(rcv.deliveries()) - before; n != 1 {
		t.Errorf("the requeued delivery was tried %d times at once, want 1", n)
	}
}

// A receiver that takes its time delays only its own deliveries: the
// others are sent meanwhile (one goroutine per destination).
func TestWorker_ASlowReceiverDelaysOnlyItself(t *testing.T) {
	t.Parallel()
	release, slowStarted := make(chan struct{}), make(chan struct{})
	slow := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		close(slowStarted)
		select {
		case <-release:
		case <-r.Context().Done():
		}
		w.WriteHeader(http.StatusNoContent)
	})
	// The fast receiver answers once the slow one is busy, and says whether
	// it was: one after the other, they would never be busy together.
	arrived := make(chan bool, 1)
	fast := newReceiver(t, func(w http.ResponseWriter, _ *http.Request) {
		together := false
		select {
		case <-slowStarted:
			together = true
		case <-time.After(10 * time.Second): // a bound on failure
		}
		w.WriteHeader(http.StatusNoContent)
		arrived <- together
	})
	s := newSetup(t, crm.Webhook{URL: slow.srv.URL}, crm.Webhook{URL: fast.srv.URL})
	keys, err := crm.ParseSecrets(secret)
	if err != nil {
		t.Fatal(err)
	}
	// A per-call timeout far longer than the test waits: a worker that
	// delivered one destination after the other would send nothing to the
	// fast receiver until the slow one is released.
	worker, err := crm.New(crm.Config{
		Store: s.store, Webhooks: []crm.Webhook{{URL: slow.srv.URL}, {URL: fast.srv.URL}}, Secrets: keys, Render: render,
		Now: s.clock.Now, Timeout: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	s.submit(t, "acme")
	done := make(chan error, 1)
	go func() { _, err := worker.Drain(context.Background()); done <- err }()
	select {
	case together := <-arrived:
		if !together {
			t.Error("the fast receiver was answered while the slow one was not being called: deliveries ran one after the other")
		}
	case <-time.After(20 * time.Second): // a bound on failure, not a timing assert
		t.Error("the fast receiver got nothing while the slow one was still answering")
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(slow.deliveries()) != 1 || len(fast.deliveries()) != 1 {
		t.Errorf("deliveries: slow %d, fast %d; want one each", len(slow.deliveries()), len(fast.deliveries()))
	}
}

// After the webhooks are taken out of the configuration, what they left in
// the outbox is settled, not kept for good: a pending delivery becomes a
// dead letter (a person can see and resend it), an event nobody hears any
// more expands to nothing.
func TestWorker_SettlesWhatRemovedReceiversLeft(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, status(503, ""))
	s := newSetup(t, crm.Webhook{URL: rcv.srv.URL})
	s.submit(t, "acme")
	s.drain(t) // the delivery failed once and waits
	s.submit(t, "globex")
	// Restarted without [[webhooks]]: the worker runs with no receiver.
	bare, err := crm.New(crm.Config{Store: s.store, Render: render, Now: s.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	s.clock.Advance(time.Hour)
	if _, err := bare.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if at, pending, _ := s.store.NextCRM(context.Background()); pending {
		t.Errorf("a crm item is still pending (due %v): want none", at)
	}
	dead, err := s.store.DeadLetters(context.Background())
	if err != nil || len(dead) != 1 || dead[0].Kind != triage.OutboxWebhook || !strings.Contains(dead[0].LastError, "no crm sender") {
		t.Errorf("dead letters = %+v, %v; want the waiting delivery, with why", dead, err)
	}
	if n := len(rcv.deliveries()); n != 1 {
		t.Errorf("the removed receiver got %d requests, want only the first", n)
	}
}

func TestWorker_ErasedBeforeDeliveryIsNotSent(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, status(500, ""), ok)
	s := newSetup(t, crm.Webhook{URL: rcv.srv.URL})
	l := s.submit(t, "acme")
	s.drain(t) // fails once; the delivery is pending
	if _, _, err := s.svc.Forget(context.Background(), triage.ForgetRequest{ID: l.ID.String()}, "admin", []byte("salt")); err != nil {
		t.Fatal(err)
	}
	s.clock.Advance(time.Hour)
	s.drain(t)
	if n := len(rcv.deliveries()); n != 1 {
		t.Errorf("the receiver saw %d requests, want only the one before the erasure", n)
	}
}

// TestWorker_RunWakesAndStops is not parallel: goleak looks at every
// goroutine.
func TestWorker_RunWakesAndStops(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t, goleak.IgnoreCurrent()) })
	got := make(chan string, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("webhook-id")
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	s := newSetup(t, crm.Webhook{URL: srv.URL})
	s.svc.Wake = s.worker.Wake
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.worker.Run(ctx) }()
	s.submit(t, "acme") // wakes the worker: no poll interval to wait out
	select {
	case id := <-got:
		if !strings.HasPrefix(id, "msg_") {
			t.Errorf("webhook-id = %q", id)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the worker did not deliver after a wake-up")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v, want nil after shutdown", err)
	}
	srv.Client().CloseIdleConnections()
}

// fakeSender is a further destination (as the CRM hand-off is): it takes
// lead.decided only, fails its first Send with err, then succeeds.
type fakeSender struct {
	mu   sync.Mutex
	err  error
	sent []string
}

const kindFake triage.OutboxKind = "crm_fake"

func (f *fakeSender) Kind() triage.OutboxKind { return kindFake }
func (f *fakeSender) Expand(ev triage.OutboxItem) []triage.OutboxItem {
	if ev.Text != triage.EventTypeDecided {
		return nil
	}
	return []triage.OutboxItem{{Kind: kindFake, Lead: ev.Lead, Text: ev.Text, Snapshot: ev.Snapshot, CreatedAt: ev.CreatedAt}}
}
func (f *fakeSender) Send(_ context.Context, it triage.OutboxItem) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, it.Text+" "+string(it.Snapshot.Status))
	err := f.err
	f.err = nil
	return err
}

func TestWorker_FurtherSenders(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		first     error
		sends     int
		deadAfter bool
	}{
		{"retried after a transport error", io.ErrUnexpectedEOF, 2, false},
		{"retried after a 503", &crm.StatusError{Status: 503}, 2, false},
		{"dead after a permanent error", crm.Permanent(io.ErrUnexpectedEOF), 1, true},
		{"dead after a 422", &crm.StatusError{Status: 422}, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rcv := newReceiver(t, ok)
			fake := &fakeSender{err: tc.first}
			s := newSetup(t, crm.Webhook{URL: rcv.srv.URL})
			keys, _ := crm.ParseSecrets(secret)
			var err error
			s.worker, err = crm.New(crm.Config{Store: s.store, Webhooks: []crm.Webhook{{URL: rcv.srv.URL}}, Secrets: keys, Render: render, Now: s.clock.Now, Senders: []crm.Sender{fake}})
			if err != nil {
				t.Fatal(err)
			}
			l := s.submit(t, "acme")
			if _, err := s.svc.DecideByHand(context.Background(), l.ID, "UTL", triage.DecisionInput{Outcome: triage.StatusQualified, Owner: "U7"}); err != nil {
				t.Fatal(err)
			}
			s.drain(t)
			s.clock.Advance(time.Hour)
			s.drain(t)
			if len(fake.sent) != tc.sends || fake.sent[0] != "lead.decided qualified" {
				t.Errorf("the sender was handed %q, want lead.decided %d times", fake.sent, tc.sends)
			}
			if n := len(rcv.deliveries()); n != 2 {
				t.Errorf("the webhook got %d events, want 2 whatever the other sender did", n)
			}
			dead, _ := s.store.DeadLetters(context.Background())
			if (len(dead) == 1) != tc.deadAfter {
				t.Errorf("dead letters = %+v, want dead: %v", dead, tc.deadAfter)
			}
		})
	}
}

func TestNew_RefusesSendersOfOtherLanes(t *testing.T) {
	t.Parallel()
	for _, sd := range []crm.Sender{&slackKindSender{}, &fakeSender{}} {
		_, err := crm.New(crm.Config{Store: &triagetest.Store{}, Render: render, Senders: []crm.Sender{sd, &fakeSender{}}})
		if err == nil {
			t.Errorf("New accepted a sender of %q alongside another of crm_fake", sd.Kind())
		}
	}
	if _, err := crm.New(crm.Config{Store: &triagetest.Store{}, Render: render, Webhooks: []crm.Webhook{{URL: "https://a.example"}}}); err == nil || !strings.Contains(err.Error(), "LEADTRIAGE_WEBHOOK_SECRET") {
		t.Errorf("webhooks without a secret: %v, want an error naming LEADTRIAGE_WEBHOOK_SECRET", err)
	}
}

type slackKindSender struct{ fakeSender }

func (*slackKindSender) Kind() triage.OutboxKind { return triage.OutboxPostCard }

func TestWorker_RemovedReceiverIsNotSent(t *testing.T) {
	t.Parallel()
	gone, kept := newReceiver(t, status(500, "")), newReceiver(t, status(500, ""), ok)
	s := newSetup(t, crm.Webhook{URL: gone.srv.URL}, crm.Webhook{URL: kept.srv.URL})
	s.submit(t, "acme")
	s.drain(t) // both fail once
	// The operator removes one receiver and restarts.
	keys, _ := crm.ParseSecrets(secret)
	w, err := crm.New(crm.Config{Store: s.store, Webhooks: []crm.Webhook{{URL: kept.srv.URL}}, Secrets: keys, Render: render, Now: s.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	s.clock.Advance(time.Hour)
	if _, err := w.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, m := len(gone.deliveries()), len(kept.deliveries()); n != 1 || m != 2 {
		t.Errorf("the removed receiver got %d requests (want 1, before the removal), the kept one %d (want 2)", n, m)
	}
	dead, _ := s.store.DeadLetters(context.Background())
	if len(dead) != 1 || dead[0].Channel != gone.srv.URL || !strings.Contains(dead[0].LastError, "no longer in [[webhooks]]") {
		t.Errorf("dead letters = %+v, want the removed receiver's delivery", dead)
	}
}

// A receiver URL may carry its secret; a failed delivery's error, which is
// logged and kept on the item, names the host only.
func TestWorker_ErrorsNameTheHostNotTheURL(t *testing.T) {
	t.Parallel()
	const hook = "http://127.0.0.1:1/hooks/T0SECRET/B0SECRET?token=s3cret" // nothing listens on port 1
	s := newSetup(t, crm.Webhook{URL: hook})
	s.submit(t, "acme")
	s.drain(t)
	s.clock.Advance(24 * time.Hour)
	due, err := s.store.DueCRM(context.Background(), s.clock.Now(), 0)
	if err != nil || len(due) != 1 {
		t.Fatalf("due = %d, %v; want the failed delivery", len(due), err)
	}
	if e := due[0].LastError; e == "" || strings.Contains(e, "SECRET") || strings.Contains(e, "s3cret") || !strings.Contains(e, "http://127.0.0.1:1") {
		t.Errorf("LastError = %q, want the host without the path or query", e)
	}
}
