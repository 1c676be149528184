package bot_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/leadtriage/leadtriage/bot"
	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/leadtriage/leadtriage/storage"
	"github.com/leadtriage/leadtriage/storage/storagetest"
	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
)

const (
	secretOld = "old-signing-secret-0123456789abcdef"
	secretNew = "new-signing-secret-fedcba9876543210"
	channel   = "CTRIAGE"
)

// now is the fixed clock of every harness: the bot judges the signature
// window with it, so tests sign with times relative to it.
var now = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

// gatedStore holds UpdateLead until gate is closed, to show that the ack
// does not wait for the store.
type gatedStore struct {
	triage.Store
	gate    chan struct{}
	entered chan struct{} // one send per UpdateLead that reached the gate
}

func (s *gatedStore) UpdateLead(ctx context.Context, id triage.LeadID, fn func(*triage.Lead) ([]triage.OutboxItem, error)) (triage.Lead, error) {
	select {
	case s.entered <- struct{}{}:
	default:
	}
	select {
	case <-s.gate:
	case <-ctx.Done():
		return triage.Lead{}, ctx.Err()
	}
	return s.Store.UpdateLead(ctx, id, fn)
}

// logCounter is a slog.Handler that counts records by message: today the
// only visible trace of events the bot receives but does not act on yet.
type logCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *logCounter) Enabled(context.Context, slog.Level) bool { return true }
func (c *logCounter) WithAttrs([]slog.Attr) slog.Handler       { return c }
func (c *logCounter) WithGroup(string) slog.Handler            { return c }
func (c *logCounter) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[r.Message]++
	return nil
}

func (c *logCounter) count(msg string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[msg]
}

type harness struct {
	logs  *logCounter
	slack *slackfake.Server
	db    *storage.DB
	svc   *triage.Service
	bot   *bot.Bot
	h     http.Handler
	lead  triage.Lead
}

type harnessOpt func(*bot.Config, *triage.Service)

// newHarness wires a bot over a real bbolt file and the fake Slack, with one
// pending lead. Its in-flight work is drained before the database closes.
func newHarness(t testing.TB, opts ...harnessOpt) *harness {
	t.Helper()
	return newHarnessOn(t, storagetest.MustOpen(t), opts...)
}

// newHarnessOn is newHarness over a database the test opened itself (e.g.
// with an injected write fault).
func newHarnessOn(t testing.TB, db *storage.DB, opts ...harnessOpt) *harness {
	t.Helper()
	fake := slackfake.New(t)
	policy := triage.Policy{Quorum: 50, Blind: true, Auto: true}
	svc := &triage.Service{Store: db, Policy: policy, Channel: channel, Now: func() time.Time { return now }}
	cfg := bot.Config{
		Channel:        channel,
		Policy:         policy,
		SigningSecrets: []string{secretOld, secretNew},
		AppToken:       slackfake.AppToken,
		Now:            func() time.Time { return now },
	}
	for _, o := range opts {
		o(&cfg, svc)
	}
	logs := &logCounter{}
	b := bot.New(cfg, fake.Client(), svc, db, slog.New(logs))
	svc.Wake = b.Wake
	t.Cleanup(func() { // runs before the database closes
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := b.Drain(ctx); err != nil {
			t.Errorf("draining the bot: %v", err)
		}
	})
	lead, created, err := svc.Submit(context.Background(), triage.LeadInput{Company: "Acme Widgets", Website: "acme.example"}, triage.Submission{Via: "webhook"})
	if err != nil || !created {
		t.Fatalf("submitting the test lead: created=%v err=%v", created, err)
	}
	return &harness{logs: logs, slack: fake, db: db, svc: svc, bot: b, h: b.HTTPHandler(), lead: lead}
}

// markSeen reports whether the inbox has seen mark (a Slack event id):
// admitting it once more is then a repeat. (If not, the probe itself is
// admitted: call it last.)
func markSeen(t testing.TB, db *storage.DB, mark string) bool {
	t.Helper()
	_, dup, err := db.AdmitInbox(context.Background(), triage.InboxEntry{Kind: "probe", Mark: mark, Body: []byte("{}"), At: now})
	if err != nil {
		t.Fatalf("probing inbox mark %s: %v", mark, err)
	}
	return dup
}

func (h *harness) drain(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := h.bot.Drain(ctx); err != nil {
		t.Fatalf("draining: %v", err)
	}
}

// outbox returns every live outbox item.
func (h *harness) outbox(t testing.TB) []triage.OutboxItem {
	t.Helper()
	items, err := h.db.DueOutbox(context.Background(), now.Add(24*time.Hour), 1000)
	if err != nil {
		t.Fatalf("reading the outbox: %v", err)
	}
	return bot.Worded(items)
}

func (h *harness) stored(t testing.TB) triage.Lead {
	t.Helper()
	l, err := h.db.Lead(context.Background(), h.lead.ID)
	if err != nil {
		t.Fatalf("reading the lead: %v", err)
	}
	return l
}

// serve runs req through the handler and returns the recorded response.
func (h *harness) serve(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.h.ServeHTTP(rec, req)
	return rec
}

// signedAt builds a request to path signed with secret at the given time.
func signedAt(path, secret, contentType string, body []byte, at time.Time) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "http://bot.example"+path, strings.NewReader(string(body)))
	req.Header.Set("Content-Type", contentType)
	for k, v := range slackfake.Sign(secret, body, at) {
		req.Header[k] = v
	}
	return req
}

const formType = "application/x-www-form-urlencoded"

func clickBody(user, actionID string, lead triage.LeadID) []byte {
	return []byte(slackfake.BlockActionForm(user, channel, "1700000000.000100", actionID, lead.String()).Encode())
}

var hex64 = regexp.MustCompile(`[0-9a-fA-F]{64}`)

func TestBot_HTTPHandler_Signature(t *testing.T) {
	t.Parallel()
	type req struct {
		ts, sig string // headers; "-" leaves the header out
		body    []byte // nil = the signed body
	}
	sign := func(secret string, at time.Time, body []byte) (string, string) {
		h := slackfake.Sign(secret, body, at)
		return h.Get("X-Slack-Request-Timestamp"), h.Get("X-Slack-Signature")
	}
	tests := []struct {
		name string
		make func(body []byte) req
		want int
	}{
		{"Valid", func(b []byte) req { ts, s := sign(secretOld, now, b); return req{ts: ts, sig: s} }, 200},
		{"RotatedSecret", func(b []byte) req { ts, s := sign(secretNew, now, b); return req{ts: ts, sig: s} }, 200},
		{"Past299s", func(b []byte) req { ts, s := sign(secretOld, now.Add(-299*time.Second), b); return req{ts: ts, sig: s} }, 200},
		{"Future299s", func(b []byte) req { ts, s := sign(secretOld, now.Add(299*time.Second), b); return req{ts: ts, sig: s} }, 200},
		{"Past301s", func(b []byte) req { ts, s := sign(secretOld, now.Add(-301*time.Second), b); return req{ts: ts, sig: s} }, 401},
		{"Future301s", func(b []byte) req { ts, s := sign(secretOld, now.Add(301*time.Second), b); return req{ts: ts, sig: s} }, 401},
		{"NoHeaders", func(b []byte) req { return req{ts: "-", sig: "-"} }, 401},
		{"NoTimestamp", func(b []byte) req { _, s := sign(secretOld, now, b); return req{ts: "-", sig: s} }, 401},
		{"NoSignature", func(b []byte) req { ts, _ := sign(secretOld, now, b); return req{ts: ts, sig: "-"} }, 401},
		{"WrongSecret", func(b []byte) req { ts, s := sign("not-the-secret", now, b); return req{ts: ts, sig: s} }, 401},
		{"BadSignature", func(b []byte) req {
			ts, _ := sign(secretOld, now, b)
			return req{ts: ts, sig: "v0=" + strings.Repeat("ab", 32)}
		}, 401},
		{"TamperedByte", func(b []byte) req {
			ts, s := sign(secretOld, now, b)
			t := []byte(string(b))
			t[len(t)/2] ^= 0x01
			return req{ts: ts, sig: s, body: t}
		}, 401},
		{"TimestampNotSigned", func(b []byte) req {
			_, s := sign(secretOld, now, b)
			return req{ts: strconv.FormatInt(now.Unix()+1, 10), sig: s}
		}, 401},
		{"V1Prefix", func(b []byte) req {
			ts, s := sign(secretOld, now, b)
			return req{ts: ts, sig: "v1=" + strings.TrimPrefix(s, "v0=")}
		}, 401},
		{"NoPrefix", func(b []byte) req {
			ts, s := sign(secretOld, now, b)
			return req{ts: ts, sig: strings.TrimPrefix(s, "v0=")}
		}, 401},
		{"NonHex", func(b []byte) req {
			ts, s := sign(secretOld, now, b)
			return req{ts: ts, sig: s[:len(s)-2] + "zz"}
		}, 401},
		{"Upper", func(b []byte) req { ts, s := sign(secretOld, now, b); return req{ts: ts, sig: "V0=" + s[3:]} }, 401},
		{"ShortSignature31Bytes", func(b []byte) req { ts, s := sign(secretOld, now, b); return req{ts: ts, sig: s[:len(s)-2]} }, 401},
		{"LongSignature33Bytes", func(b []byte) req { ts, s := sign(secretOld, now, b); return req{ts: ts, sig: s + "00"} }, 401},
		{"TimestampNotNumber", func(b []byte) req { _, s := sign(secretOld, now, b); return req{ts: "yesterday", sig: s} }, 401},
		{"TimestampWithSign", func(b []byte) req {
			// A "+" changes the signed base string, so even a correctly
			// computed signature over it is refused as malformed.
			ts := "+" + strconv.FormatInt(now.Unix(), 10)
			mac := slackfake.Sign(secretOld, b, now).Get("X-Slack-Signature")
			return req{ts: ts, sig: mac}
		}, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			body := clickBody("UVOTER", "lead.vote.qualify", h.lead.ID)
			r := tt.make(body)
			if r.body == nil {
				r.body = body
			}
			httpReq := httptest.NewRequest(http.MethodPost, "http://bot.example/slack/interactions", strings.NewReader(string(r.body)))
			httpReq.Header.Set("Content-Type", formType)
			if r.ts != "-" {
				httpReq.Header.Set("X-Slack-Request-Timestamp", r.ts)
			}
			if r.sig != "-" {
				httpReq.Header.Set("X-Slack-Signature", r.sig)
			}
			outboxBefore := len(h.outbox(t))
			rec := h.serve(httpReq)
			h.drain(t)
			if rec.Code != tt.want {
				t.Fatalf("status = %d, want %d (body %q)", rec.Code, tt.want, rec.Body.String())
			}
			lead := h.stored(t)
			if tt.want == http.StatusOK {
				if got := lead.Votes["UVOTER"]; got != triage.ChoiceQualify {
					t.Errorf("vote after an accepted click = %q, want qualify", got)
				}
				return
			}
			if hex64.MatchString(rec.Body.String()) {
				t.Errorf("401 body leaks a signature: %q", rec.Body.String())
			}
			if strings.TrimSpace(rec.Body.String()) != "unauthorized" {
				t.Errorf("401 body = %q, want the generic %q", rec.Body.String(), "unauthorized")
			}
			if len(lead.Votes) != 0 {
				t.Errorf("a refused click changed the votes: %v", lead.Votes)
			}
			if n := len(h.outbox(t)); n != outboxBefore {
				t.Errorf("a refused click queued outbox items: %d before, %d after", outboxBefore, n)
			}
		})
	}
}

// TestBot_HTTPHandler_SlackVector checks the verifier against the example
// in Slack's documentation, with the bot's clock at the example's time.
func TestBot_HTTPHandler_SlackVector(t *testing.T) {
	t.Parallel()
	const (
		secret = "8f742231b10e8888abcd99yyyzzz85a5"
		ts     = "1531420618"
		// Slack's documented body. (A variant with the token
		// xyzz0WbapA4vBCDEbOTBwEjHd6Je0DGk2BFz7xLBVKK circulates; it does not
		// give this signature and is checked below as a tampered body.)
		body = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
		sig  = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
	)
	at := time.Unix(1531420618, 0)
	h := newHarness(t, func(c *bot.Config, _ *triage.Service) {
		c.SigningSecrets = []string{secret}
		c.Now = func() time.Time { return at }
	})
	post := func(body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "http://bot.example/slack/commands", strings.NewReader(body))
		req.Header.Set("Content-Type", formType)
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", sig)
		return h.serve(req)
	}
	if rec := post(body); rec.Code != http.StatusOK {
		t.Fatalf("Slack's documented example: status %d, want 200 (body %q)", rec.Code, rec.Body.String())
	}
	if rec := post(strings.Replace(body, "xyzz0WbapA4vBCDEFasx0q6G", "xyzz0WbapA4vBCDEbOTBwEjHd6Je0DGk2BFz7xLBVKK", 1)); rec.Code != http.StatusUnauthorized {
		t.Errorf("other token: status %d, want 401", rec.Code)
	}
	// The clock matters too: the same request a day later is a replay.
	h2 := newHarness(t, func(c *bot.Config, _ *triage.Service) {
		c.SigningSecrets = []string{secret}
		c.Now = func() time.Time { return at.Add(24 * time.Hour) }
	})
	req := httptest.NewRequest(http.MethodPost, "http://bot.example/slack/commands", strings.NewReader(body))
	req.Header.Set("Content-Type", formType)
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", sig)
	if rec := h2.serve(req); rec.Code != http.StatusUnauthorized {
		t.Errorf("a day later: status %d, want 401", rec.Code)
	}
	// The same form, re-encoded (%2F written as /): equal as a form, not as
	// bytes; the signature covers the bytes.
	if rec := post(strings.ReplaceAll(body, "%2F", "/")); rec.Code != http.StatusUnauthorized {
		t.Errorf("re-encoded body: status %d, want 401", rec.Code)
	}
	// Sanity: the vector really is what Slack's algorithm gives.
	if got := slackfake.Sign(secret, []byte(body), at).Get("X-Slack-Signature"); got != sig {
		t.Errorf("slackfake.Sign of the vector = %s, want %s", got, sig)
	}
}

func TestBot_HTTPHandler_URLVerification(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body := slackfake.URLVerificationJSON("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")

	rec := h.serve(signedAt("/slack/events", secretOld, "application/json", body, now))
	if rec.Code != http.StatusOK || rec.Body.String() != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Errorf("signed challenge: %d %q, want 200 and the challenge", rec.Code, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("challenge content type = %q, want text/plain", ct)
	}

	unsigned := httptest.NewRequest(http.MethodPost, "http://bot.example/slack/events", strings.NewReader(string(body)))
	unsigned.Header.Set("Content-Type", "application/json")
	rec = h.serve(unsigned)
	if rec.Code != http.StatusUnauthorized || strings.Contains(rec.Body.String(), "3eZbrw") {
		t.Errorf("unsigned challenge: %d %q, want 401 without the challenge", rec.Code, rec.Body.String())
	}
}

func TestBot_HTTPHandler_SSLCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		path string
		body string
		want int
	}{
		{"Command", "/slack/commands", "ssl_check=1&token=x", 200},
		{"SmuggledPayload", "/slack/interactions", "ssl_check=1&payload=" + url.QueryEscape(string(slackfake.BlockActionJSON("UEVIL", channel, "1.2", "lead.vote.disqualify", "L-1"))), 200},
		{"Zero", "/slack/commands", "ssl_check=0&token=x", 401},
		{"True", "/slack/commands", "ssl_check=true&token=x", 401},
		{"Empty", "/slack/commands", "ssl_check=&token=x", 401},
		{"ZeroWithPayload", "/slack/interactions", "ssl_check=0&payload=" + url.QueryEscape(string(slackfake.BlockActionJSON("UEVIL", channel, "1.2", "lead.vote.disqualify", "L-1"))), 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			req := httptest.NewRequest(http.MethodPost, "http://bot.example"+tt.path, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", formType)
			rec := h.serve(req)
			h.drain(t)
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d", rec.Code, tt.want)
			}
			if tt.want == 200 && rec.Body.String() != "ok" {
				t.Errorf("body %q, want ok", rec.Body.String())
			}
			if v := h.stored(t).Votes; len(v) != 0 {
				t.Errorf("an ssl_check request changed the votes: %v", v)
			}
		})
	}
}

func TestBot_HTTPHandler_Limits(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	t.Run("TooLarge", func(t *testing.T) {
		body := []byte("payload=" + strings.Repeat("a", 1<<20))
		rec := h.serve(signedAt("/slack/interactions", secretOld, formType, body, now))
		if rec.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("1 MiB + 8 bytes, signed: status %d, want 413", rec.Code)
		}
		// Unsigned too: the cap comes before the HMAC.
		req := httptest.NewRequest(http.MethodPost, "http://bot.example/slack/events", io.LimitReader(zeros{}, 2<<20))
		if rec := h.serve(req); rec.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("2 MiB unsigned: status %d, want 413", rec.Code)
		}
	})
	t.Run("JustFits", func(t *testing.T) {
		// A body of exactly 1 MiB gets as far as the signature check.
		req := httptest.NewRequest(http.MethodPost, "http://bot.example/slack/events", io.LimitReader(zeros{}, 1<<20))
		if rec := h.serve(req); rec.Code != http.StatusUnauthorized {
			t.Errorf("1 MiB unsigned: status %d, want 401", rec.Code)
		}
	})
	t.Run("MethodNotAllowed", func(t *testing.T) {
		for _, path := range []string{"/slack/events", "/slack/interactions", "/slack/commands"} {
			rec := h.serve(httptest.NewRequest(http.MethodGet, "http://bot.example"+path, nil))
			if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != http.MethodPost {
				t.Errorf("GET %s: status %d, Allow %q; want 405, POST", path, rec.Code, rec.Header().Get("Allow"))
			}
		}
	})
	t.Run("UnknownPath", func(t *testing.T) {
		rec := h.serve(signedAt("/slack/other", secretOld, formType, []byte("a=b"), now))
		if rec.Code != http.StatusNotFound {
			t.Errorf("status %d, want 404", rec.Code)
		}
	})
	t.Run("WrongContentType", func(t *testing.T) {
		rec := h.serve(signedAt("/slack/interactions", secretOld, "application/json", clickBody("U1", "lead.claim", h.lead.ID), now))
		if rec.Code != http.StatusUnsupportedMediaType {
			t.Errorf("status %d, want 415", rec.Code)
		}
		rec = h.serve(signedAt("/slack/events", secretOld, formType, slackfake.URLVerificationJSON("x"), now))
		if rec.Code != http.StatusUnsupportedMediaType {
			t.Errorf("events as a form: status %d, want 415", rec.Code)
		}
	})
	t.Run("Malformed", func(t *testing.T) {
		for name, c := range map[string]struct {
			path, ct, body string
			want           int
		}{
			"InteractionNoPayload": {"/slack/interactions", formType, "a=b", 400},
			// Decoded after the ack (see serveInteractions): 200, a
			// warning, no effect.
			"InteractionBadJSON": {"/slack/interactions", formType, "payload=%7Bnot+json", 200},
			"InteractionBadForm": {"/slack/interactions", formType, "payload=%zz", 200},
			"InteractionOnlyKey": {"/slack/interactions", formType, "xpayload=1&payload", 400},
			"EventNotJSON":       {"/slack/events", "application/json", "{not json", 400},
			"EventEmptyObject":   {"/slack/events", "application/json", `{}`, 400},
			// Outer types Slack adds later are acknowledged and ignored.
			"EventUnknownOuterType": {"/slack/events", "application/json", `{"type":"something_else"}`, 200},
			// An event Slack would retry three times to no avail is
			// acknowledged and logged instead.
			"EventUnknownInner": {"/slack/events", "application/json", string(slackfake.EventCallbackJSON("EvBAD", map[string]any{"type": "no_such_event"})), 200},
			"EventWithoutID":    {"/slack/events", "application/json", `{"type":"event_callback","event":{"type":"message","channel":"C1","user":"U1","text":"x","ts":"1.2"}}`, 200},
		} {
			rec := h.serve(signedAt(c.path, secretOld, c.ct, []byte(c.body), now))
			if rec.Code != c.want {
				t.Errorf("%s: status %d, want %d", name, rec.Code, c.want)
			}
		}
		h.drain(t)
		if v := h.stored(t).Votes; len(v) != 0 {
			t.Errorf("malformed requests changed the votes: %v", v)
		}
		if n := h.logs.count("slack interaction not understood, dropped"); n != 2 {
			t.Errorf("%d warnings about the bad interaction payloads, want 2", n)
		}
	})
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestBot_HTTPHandler_EventDedupe(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body := slackfake.EventCallbackJSON("Ev0DEDUPE", slackfake.MessageEvent(channel, "UHUMAN", "budget: yes", "1700000001.000200", "1700000000.000100"))
	var wg sync.WaitGroup
	codes := make([]int, 4)
	for i := range 4 {
		wg.Go(func() {
			req := signedAt("/slack/events", secretOld, "application/json", body, now)
			if i > 0 {
				req.Header.Set("X-Slack-Retry-Num", strconv.Itoa(i))
				req.Header.Set("X-Slack-Retry-Reason", "http_timeout")
			}
			codes[i] = h.serve(req).Code
		})
	}
	wg.Wait()
	h.drain(t)
	if diff := cmp.Diff([]int{200, 200, 200, 200}, codes); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	// Exactly one of the four recorded the id: a fifth delivery is a repeat.
	if !markSeen(t, h.db, "Ev0DEDUPE") {
		t.Error("the event id was not recorded by any of the four deliveries")
	}
	if n := h.logs.count("message event ignored"); n != 1 {
		t.Errorf("the message event was handled %d times, want once", n)
	}
	// A refused (unsigned) event records nothing.
	unsigned := httptest.NewRequest(http.MethodPost, "http://bot.example/slack/events",
		strings.NewReader(string(slackfake.EventCallbackJSON("Ev0FORGED", slackfake.MessageEvent(channel, "U1", "x", "1.1", "")))))
	unsigned.Header.Set("Content-Type", "application/json")
	if rec := h.serve(unsigned); rec.Code != http.StatusUnauthorized {
		t.Fatalf("unsigned event: status %d, want 401", rec.Code)
	}
	h.drain(t)
	if markSeen(t, h.db, "Ev0FORGED") {
		t.Error("a forged event's id was recorded")
	}
}

func TestBot_HTTPHandler_Click(t *testing.T) {
	t.Parallel()
	t.Run("AckBeforeWork", func(t *testing.T) {
		t.Parallel()
		gate := &gatedStore{gate: make(chan struct{}), entered: make(chan struct{}, 1)}
		h := newHarness(t, func(_ *bot.Config, svc *triage.Service) {
			gate.Store = svc.Store
			svc.Store = gate
		})
		rec := h.serve(signedAt("/slack/interactions", secretOld, formType, clickBody("UVOTER", "lead.vote.disqualify", h.lead.ID), now))
		// The response is complete while the vote is still held at the
		// store's door.
		if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
			t.Fatalf("click: %d %q, want an empty 200", rec.Code, rec.Body.String())
		}
		select {
		case <-gate.entered:
		case <-time.After(10 * time.Second):
			t.Fatal("the vote never reached the store")
		}
		if v := h.stored(t).Votes; len(v) != 0 {
			t.Fatalf("vote stored before the gate opened: %v", v)
		}
		close(gate.gate)
		h.drain(t)
		if got := h.stored(t).Votes["UVOTER"]; got != triage.ChoiceDisqualify {
			t.Errorf("vote = %q, want disqualify", got)
		}
		// The voter's confirmation is queued for the outbox worker.
		var confirmed bool
		for _, it := range h.outbox(t) {
			if it.Kind == triage.OutboxEphemeral && it.User == "UVOTER" && strings.Contains(it.Text, "disqualify") {
				confirmed = true
			}
		}
		if !confirmed {
			t.Errorf("no ephemeral confirmation queued; outbox: %+v", h.outbox(t))
		}
	})
	t.Run("DecidedLead", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, func(c *bot.Config, svc *triage.Service) {
			svc.Policy.Quorum = 1
			c.Policy.Quorum = 1
		})
		for _, user := range []string{"UFIRST", "ULATE"} {
			rec := h.serve(signedAt("/slack/interactions", secretOld, formType, clickBody(user, "lead.vote.qualify", h.lead.ID), now))
			if rec.Code != http.StatusOK {
				t.Fatalf("click by %s: status %d", user, rec.Code)
			}
			h.drain(t)
		}
		if l := h.stored(t); l.Status != triage.StatusQualified || len(l.Votes) != 1 {
			t.Fatalf("lead after two votes with quorum 1: status %s, votes %v", l.Status, l.Votes)
		}
		var told []string
		for _, it := range h.outbox(t) {
			if it.Kind == triage.OutboxEphemeral && it.User == "ULATE" {
				told = append(told, it.Text)
				if it.Channel != channel {
					t.Errorf("reply to the late voter in %q, want %q", it.Channel, channel)
				}
			}
		}
		if diff := cmp.Diff([]string{"This lead has already been decided; votes no longer change it."}, told); diff != "" {
			t.Errorf("replies to the late voter (-want +got):\n%s", diff)
		}
	})
}

// TestBot_HTTPHandler_AckIndependentOfSlack: with every Slack call delayed
// 5 s and the store held shut, 20 concurrent clicks are all answered before
// any of their work completes.
func TestBot_HTTPHandler_AckIndependentOfSlack(t *testing.T) {
	t.Parallel()
	gate := &gatedStore{gate: make(chan struct{}), entered: make(chan struct{}, 20)}
	h := newHarness(t, func(_ *bot.Config, svc *triage.Service) {
		gate.Store = svc.Store
		svc.Store = gate
	})
	h.slack.Fail("*", slackfake.Fault{Delay: 5 * time.Second, Times: 1000})
	const n = 20
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			user := "U" + strconv.Itoa(100+i)
			codes[i] = h.serve(signedAt("/slack/interactions", secretOld, formType, clickBody(user, "lead.vote.unsure", h.lead.ID), now)).Code
		})
	}
	wg.Wait()
	// Every response is in, and not one vote has been stored yet.
	if v := h.stored(t).Votes; len(v) != 0 {
		t.Fatalf("votes stored before all acks were written: %v", v)
	}
	for i, c := range codes {
		if c != http.StatusOK {
			t.Errorf("click %d: status %d", i, c)
		}
	}
	close(gate.gate)
	h.drain(t)
	if v := h.stored(t).Votes; len(v) != n {
		t.Errorf("%d votes stored after the work ran, want %d", len(v), n)
	}
}

// TestVerifyOnly keeps the benchmark's baseline handler honest.
func TestVerifyOnly(t *testing.T) {
	t.Parallel()
	body := clickBody("U1", "lead.claim", 1)
	rec := httptest.NewRecorder()
	verifyOnly([]string{secretOld}).ServeHTTP(rec, signedAt("/slack/interactions", secretOld, formType, body, time.Now()))
	if rec.Code != http.StatusOK {
		t.Errorf("signed: %d", rec.Code)
	}
	rec = httptest.NewRecorder()
	verifyOnly([]string{secretOld}).ServeHTTP(rec, signedAt("/slack/interactions", secretNew, formType, body, time.Now()))
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("wrong secret: %d", rec.Code)
	}
}

// withDeliberation gives the harness a team lead who decides, criteria,
// reasons, a partner and voting reactions.
func withDeliberation(c *bot.Config, svc *triage.Service) {
	p := svc.Policy
	p.TeamLead = "ULEAD"
	p.Criteria = []triage.Criterion{
		{ID: "budget", Question: "Do they have a budget?", Kind: triage.KindYesNo, Must: true, Weight: 2},
		{ID: "size", Question: "How big is the opportunity?", Kind: triage.KindScale, Weight: 1},
	}
	p.Reasons = []string{"No budget", "Not our market"}
	p.Partners = []triage.Partner{{Name: "Beta Partners", Fits: "small web shops", Contact: "intro@beta.example"}}
	svc.Policy, c.Policy = p, p
	c.Reactions = map[string]triage.Choice{"+1": triage.ChoiceQualify, "-1": triage.ChoiceDisqualify}
}

const cardTS = "1700000000.000100"

// postCard records the lead's card at (channel, cardTS), as the outbox
// worker does once chat.postMessage succeeded.
func (h *harness) postCard(t testing.TB) {
	t.Helper()
	for _, it := range h.outbox(t) {
		if it.Kind == triage.OutboxPostCard && it.Lead == h.lead.ID {
			err := h.db.CompleteOutbox(context.Background(), it.ID, it.Seq, func(l *triage.Lead) error {
				l.Slack.Channel, l.Slack.TS = channel, cardTS
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatal("no post_card item")
}

// told returns the ephemerals queued for user.
func (h *harness) told(t testing.TB, user string) []string {
	t.Helper()
	var out []string
	for _, it := range h.outbox(t) {
		if it.Kind == triage.OutboxEphemeral && it.User == user {
			out = append(out, it.Text)
		}
	}
	return out
}

type submissionResponse struct {
	ResponseAction string            `json:"response_action"`
	Errors         map[string]string `json:"errors"`
}

func decideValues(outcome, reason string) map[string]map[string]slack.BlockAction {
	v := map[string]map[string]slack.BlockAction{
		"outcome": {"outcome": {Type: "radio_buttons", SelectedOption: slack.OptionBlockObject{Value: outcome}}},
		"note":    {"note": {Type: "plain_text_input", Value: "Lovely people, wrong fit."}},
	}
	if reason != "" {
		v["reason"] = map[string]slack.BlockAction{"reason": {Type: "static_select", SelectedOption: slack.OptionBlockObject{Value: reason}}}
	}
	return v
}

func TestBot_HTTPHandler_ViewSubmission(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withDeliberation)
	h.postCard(t)
	submit := func(t *testing.T, user string, values map[string]map[string]slack.BlockAction) submissionResponse {
		t.Helper()
		body := []byte(slackfake.ViewSubmissionForm(user, "lead.decide", h.lead.ID.String(), values).Encode())
		rec := h.serve(signedAt("/slack/interactions", secretNew, formType, body, now))
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("content type %q, want application/json", ct)
		}
		var got submissionResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatalf("body %q: %v", rec.Body.String(), err)
		}
		return got
	}

	// The answer is in the response itself: nothing is left to drain.
	got := submit(t, "ULEAD", decideValues("disqualified", ""))
	if got.ResponseAction != "errors" || got.Errors["reason"] == "" || len(got.Errors) != 1 {
		t.Errorf("without a reason: %+v, want an error under reason", got)
	}
	got = submit(t, "UOTHER", decideValues("disqualified", "No budget"))
	if got.ResponseAction != "errors" || !strings.Contains(got.Errors["outcome"], "Only the team lead") {
		t.Errorf("by a non-decider: %+v, want an error under outcome", got)
	}
	if l := h.stored(t); l.Status != triage.StatusPending || l.Decision != nil {
		t.Fatalf("refused submissions changed the lead: %s %+v", l.Status, l.Decision)
	}

	if got := submit(t, "ULEAD", decideValues("disqualified", "No budget")); got.ResponseAction != "clear" || len(got.Errors) != 0 {
		t.Errorf("valid: %+v, want clear", got)
	}
	l := h.stored(t)
	if l.Status != triage.StatusDisqualified || l.Decision == nil || l.Decision.By != "ULEAD" || l.Decision.Reason != "No budget" || l.Decision.Note != "Lovely people, wrong fit." {
		t.Errorf("lead after the decision: %s %+v", l.Status, l.Decision)
	}
	var outcome, draft int
	for _, it := range h.outbox(t) {
		if it.Kind == triage.OutboxThreadReply && it.Lead == h.lead.ID {
			if it.Plain != "" {
				draft++
			} else if strings.Contains(it.Text, "decided") {
				outcome++
			}
		}
	}
	if outcome != 1 || draft != 1 {
		t.Errorf("thread items: %d outcome, %d decline draft; want one each", outcome, draft)
	}

	// Deciding again is refused under the outcome, without a change.
	if got := submit(t, "ULEAD", decideValues("disqualified", "Not our market")); got.ResponseAction != "errors" || !strings.Contains(got.Errors["outcome"], "already decided") {
		t.Errorf("second decision: %+v", got)
	}
	if r := h.stored(t).Decision.Reason; r != "No budget" {
		t.Errorf("reason changed to %q by a refused submission", r)
	}
}

func TestBot_HTTPHandler_ViewSubmissionMalformed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withDeliberation)
	body := []byte(url.Values{"payload": {`{"type":"view_submission","view":[`}}.Encode())
	if rec := h.serve(signedAt("/slack/interactions", secretOld, formType, body, now)); rec.Code != http.StatusBadRequest {
		t.Errorf("status %d, want 400", rec.Code)
	}
	// A click whose text merely mentions the word is still a click.
	click := slackfake.BlockActionForm("UVOTER", channel, cardTS, "lead.vote.qualify", h.lead.ID.String())
	var ic map[string]any
	if err := json.Unmarshal([]byte(click.Get("payload")), &ic); err != nil {
		t.Fatal(err)
	}
	ic["message"].(map[string]any)["text"] = "view_submission"
	raw, _ := json.Marshal(ic)
	body = []byte(url.Values{"payload": {string(raw)}}.Encode())
	rec := h.serve(signedAt("/slack/interactions", secretOld, formType, body, now))
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Fatalf("click: %d %q, want an empty 200", rec.Code, rec.Body.String())
	}
	h.drain(t)
	if got := h.stored(t).Votes["UVOTER"]; got != triage.ChoiceQualify {
		t.Errorf("vote = %q, want qualify", got)
	}
}

// TestBot_HTTPHandler_Decide: a click on Decide by the team lead opens the
// dialog, and views.open is the first Web API call the click causes
// (RELIABILITY S10: the trigger_id lives 3 s).
func TestBot_HTTPHandler_Decide(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withDeliberation)
	h.postCard(t)
	body := []byte(h.slack.BlockActionForm("ULEAD", channel, cardTS, "lead.decide", h.lead.ID.String()).Encode())
	rec := h.serve(signedAt("/slack/interactions", secretOld, formType, body, now))
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Fatalf("click: %d %q, want an empty 200", rec.Code, rec.Body.String())
	}
	h.drain(t)
	calls := h.slack.Calls()
	if len(calls) == 0 || calls[0].Method != "views.open" || !calls[0].OK() {
		t.Fatalf("calls %+v, want views.open first, and ok", calls)
	}
	views := h.slack.Views()
	if len(views) != 1 {
		t.Fatalf("%d views, want 1", len(views))
	}
	var v struct {
		CallbackID      string `json:"callback_id"`
		PrivateMetadata string `json:"private_metadata"`
		Blocks          []struct {
			BlockID string `json:"block_id"`
			Type    string `json:"type"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(views[0].JSON, &v); err != nil {
		t.Fatal(err)
	}
	var inputs []string
	for _, b := range v.Blocks {
		if b.Type == "input" {
			inputs = append(inputs, b.BlockID)
		}
	}
	if v.CallbackID != "lead.decide" || v.PrivateMetadata != h.lead.ID.String() {
		t.Errorf("callback_id %q, private_metadata %q", v.CallbackID, v.PrivateMetadata)
	}
	if diff := cmp.Diff([]string{"outcome", "owner", "reason", "partner", "note"}, inputs); diff != "" {
		t.Errorf("input blocks (-want +got):\n%s", diff)
	}

	// Anyone else gets told who decides, and no dialog.
	body = []byte(h.slack.BlockActionForm("UOTHER", channel, cardTS, "lead.decide", h.lead.ID.String()).Encode())
	h.serve(signedAt("/slack/interactions", secretOld, formType, body, now))
	h.drain(t)
	if len(h.slack.Views()) != 1 {
		t.Error("a dialog opened for a non-decider")
	}
	if diff := cmp.Diff([]string{"Only <@ULEAD> can decide leads."}, h.told(t, "UOTHER")); diff != "" {
		t.Errorf("told (-want +got):\n%s", diff)
	}
}

// TestBot_HTTPHandler_Deliberation runs thread replies, an edit and
// reactions through the signed events endpoint, with a retried delivery.
func TestBot_HTTPHandler_Deliberation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withDeliberation)
	h.postCard(t)
	send := func(t *testing.T, id string, inner any, retry int) {
		t.Helper()
		req := signedAt("/slack/events", secretOld, "application/json", slackfake.EventCallbackJSON(id, inner), now)
		if retry > 0 {
			req.Header.Set("X-Slack-Retry-Num", strconv.Itoa(retry))
			req.Header.Set("X-Slack-Retry-Reason", "http_timeout")
		}
		if rec := h.serve(req); rec.Code != http.StatusOK {
			t.Fatalf("event %s: status %d", id, rec.Code)
		}
		h.drain(t)
	}
	send(t, "Ev1", slackfake.MessageEvent(channel, "UHUMAN", "Budget: yes\nsize: 4", "1700000001.000200", cardTS), 0)
	l := h.stored(t)
	if l.AnswersBy["budget"]["UHUMAN"].Value == "" || l.AnswersBy["size"]["UHUMAN"].Value == "" {
		t.Fatalf("answers after the reply: %v", l.AnswersBy)
	}
	yes := l.Answers["budget"].Value
	send(t, "Ev2", map[string]any{
		"type": "message", "subtype": "message_changed", "hidden": true, "channel": channel, "ts": "1700000002.000001",
		"message": map[string]any{"type": "message", "user": "UHUMAN", "text": "budget: no\nsize: 4", "ts": "1700000001.000200", "thread_ts": cardTS,
			"edited": map[string]any{"user": "UHUMAN", "ts": "1700000002.000000"}},
		"previous_message": map[string]any{"type": "message", "user": "UHUMAN", "text": "budget: yes\nsize: 4", "ts": "1700000001.000200", "thread_ts": cardTS},
	}, 0)
	if got := h.stored(t).Answers["budget"].Value; got == yes || got == "" {
		t.Errorf("budget after the edit = %q, want it changed from %q", got, yes)
	}

	reaction := slackfake.ReactionEvent(true, "UVOTER", "+1::skin-tone-2", channel, cardTS, slackfake.BotUserID)
	for retry := range 3 {
		send(t, "Ev3", reaction, retry)
	}
	if got := h.stored(t).Votes["UVOTER"]; got != triage.ChoiceQualify {
		t.Errorf("vote after the reaction = %q, want qualify", got)
	}
	if told := h.told(t, "UVOTER"); len(told) != 1 || strings.Contains(told[0], "already") {
		t.Errorf("told %q after a reaction delivered three times, want one confirmation", told)
	}
	send(t, "Ev4", slackfake.ReactionEvent(false, "UVOTER", "+1::skin-tone-2", channel, cardTS, slackfake.BotUserID), 0)
	if v, ok := h.stored(t).Votes["UVOTER"]; ok {
		t.Errorf("vote after removing the reaction = %q, want none", v)
	}
}
