package bot

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

const (
	// maxSlackBody caps a request body before any HMAC or parsing: Slack's
	// payloads are far smaller, and an unauthenticated sender must not make
	// us buffer more.
	maxSlackBody = 1 << 20
	// signatureWindow is how far a request's timestamp may lie from our
	// clock, in either direction, before it counts as a replay.
	signatureWindow = 5 * time.Minute
)

// errBadSignature is every signature failure. The reason is deliberately not
// told to the sender.
var errBadSignature = errors.New("slack request signature not valid")

// verifySignature checks Slack's v0 request signature: the hex HMAC-SHA256,
// under any of secrets, of "v0:" + timestamp + ":" + the raw body, with a
// timestamp within signatureWindow of now in either direction. slack-go's
// SecretsVerifier judges the window with the real clock, which a test cannot
// move, hence this small twin of it.
func verifySignature(h http.Header, body []byte, secrets []string, now time.Time) error {
	ts := h.Get("X-Slack-Request-Timestamp")
	sig := h.Get("X-Slack-Signature")
	if ts == "" || sig == "" || len(ts) > 18 {
		return errBadSignature
	}
	for _, c := range ts {
		if c < '0' || c > '9' {
			return errBadSignature
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errBadSignature
	}
	if d := now.Sub(time.Unix(sec, 0)); d > signatureWindow || d < -signatureWindow {
		return errBadSignature
	}
	hexSig, ok := strings.CutPrefix(sig, "v0=")
	if !ok {
		return errBadSignature
	}
	want, err := hex.DecodeString(hexSig)
	if err != nil || len(want) != sha256.Size {
		return errBadSignature
	}
	for _, secret := range secrets {
		if secret == "" {
			continue
		}
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte("v0:" + ts + ":"))
		mac.Write(body)
		if hmac.Equal(mac.Sum(nil), want) {
			return nil
		}
	}
	return errBadSignature
}

// HTTPHandler serves Slack's HTTP mode: POST /slack/events,
// /slack/interactions and /slack/commands. Every request is signature-checked
// on its raw body, acknowledged at once, and any work runs afterwards in a
// goroutine that Drain waits for.
func (b *Bot) HTTPHandler() http.Handler {
	return b.http.handler()
}

// httpTransport serves Slack's HTTP mode: it checks each request's
// signature, writes the request to the inbox, acknowledges it and hands it
// to the handlers.
type httpTransport struct {
	receiver
	cfg *Config // the bot's: the signing secrets and the clock
	// inflight is the bot's handlers in flight: a view submission, answered
	// in the response, counts as one while it works.
	inflight *sync.WaitGroup
}

func (t *httpTransport) handler() http.Handler {
	if len(t.cfg.SigningSecrets) == 0 {
		t.log.Error("no slack signing secret configured: every slack request will be refused")
	}
	mux := http.NewServeMux()
	mux.Handle("/slack/events", t.endpoint("event", false, t.serveEvents))
	mux.Handle("/slack/interactions", t.endpoint("interaction", true, t.serveInteractions))
	mux.Handle("/slack/commands", t.endpoint("command", true, t.serveCommands))
	return mux
}

// endpoint does what every Slack endpoint needs before its own
// parsing: POST only, a capped body, Slack's ssl_check (form endpoints), and
// the signature. serve gets the verified raw body and returns the result
// label for the metrics.
func (t *httpTransport) endpoint(kind string, form bool, serve func(w http.ResponseWriter, r *http.Request, body []byte) string) http.Handler {
	ok := t.metrics.inbound.WithLabelValues(kind, "ok") // the hot path, resolved once
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		result := t.screen(w, r, form, serve)
		if result == "ok" {
			ok.Inc()
			return
		}
		t.inbound(kind, result)
	})
}

// screen turns away what is not a signed Slack POST of a sane size, of
// the endpoint's content type, answers Slack's ssl_check, and hands the rest
// to serve; it returns the result label for the metrics. (inbox.admit is
// what then makes a screened request durable.)
func (t *httpTransport) screen(w http.ResponseWriter, r *http.Request, form bool, serve func(w http.ResponseWriter, r *http.Request, body []byte) string) string {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return "method_not_allowed"
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSlackBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return "too_large"
		}
		http.Error(w, "could not read the request body", http.StatusBadRequest)
		return "bad_request"
	}
	// Slack checks a slash command's certificate with an unsigned
	// ssl_check=1. It is answered before the signature check and nothing
	// else in that body is ever looked at, so it cannot smuggle a payload.
	if form && isForm(r) && hasFormKey(body, "ssl_check") {
		if v, err := url.ParseQuery(string(body)); err == nil && v.Get("ssl_check") == "1" {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = io.WriteString(w, "ok")
			return "ssl_check"
		}
	}
	if err := verifySignature(r.Header, body, t.cfg.SigningSecrets, t.cfg.now()); err != nil {
		// No detail: a forger learns nothing from the answer.
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		t.log.Debug("slack request refused: bad signature", "path", r.URL.Path)
		return "unauthorized"
	}
	if form && !isForm(r) || !form && !hasMediaType(r, "application/json") {
		http.Error(w, "unsupported content type", http.StatusUnsupportedMediaType)
		return "unsupported_media_type"
	}
	return serve(w, r, body)
}

func isForm(r *http.Request) bool { return hasMediaType(r, "application/x-www-form-urlencoded") }

// hasMediaType compares the media type of the request's Content-Type,
// ignoring parameters. (mime.ParseMediaType would also validate the
// parameters, which nothing here reads, at a cost the ack budget notices.)
func hasMediaType(r *http.Request, want string) bool {
	ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	return strings.EqualFold(strings.TrimSpace(ct), want)
}

// serveEvents answers the Events API. A body that is not an event at all is
// a 400. An event_callback whose inner event slack-go cannot parse (an event
// type it does not know, a field of an unexpected shape) is acknowledged and
// logged instead: a 4xx would only make Slack deliver it again, three times,
// and it would fail the same way each time.
func (t *httpTransport) serveEvents(w http.ResponseWriter, r *http.Request, body []byte) string {
	ev, err := slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken())
	if err != nil {
		var outer struct {
			Type    string `json:"type"`
			EventID string `json:"event_id"`
		}
		if json.Unmarshal(body, &outer) == nil && outer.Type == slackevents.CallbackEvent {
			t.log.Warn("slack event not understood, acknowledged and dropped", "event_id", outer.EventID, "error", err)
			w.WriteHeader(http.StatusOK)
			return "unparsed"
		}
		http.Error(w, "malformed event", http.StatusBadRequest)
		return "bad_request"
	}
	switch ev.Type {
	case "":
		http.Error(w, "malformed event", http.StatusBadRequest)
		return "bad_request"
	case slackevents.URLVerification:
		v, ok := ev.Data.(*slackevents.EventsAPIURLVerificationEvent)
		if !ok {
			http.Error(w, "malformed event", http.StatusBadRequest)
			return "bad_request"
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, v.Challenge)
		return "url_verification"
	case slackevents.AppRateLimited:
		t.h.handleEvent(r.Context(), ev) // only logs
		w.WriteHeader(http.StatusOK)
		return "rate_limited"
	case slackevents.CallbackEvent:
		cb, ok := ev.Data.(*slackevents.EventsAPICallbackEvent)
		if !ok || cb.EventID == "" {
			// Without an id it cannot be deduplicated; as above, a 4xx
			// would only bring it back.
			t.log.Warn("slack event without an event id dropped", "type", ev.InnerEvent.Type)
			w.WriteHeader(http.StatusOK)
			return "unparsed"
		}
		if n := r.Header.Get("X-Slack-Retry-Num"); n != "" {
			t.log.Debug("slack event retry", "event_id", cb.EventID, "retry", n, "reason", r.Header.Get("X-Slack-Retry-Reason"))
		}
		// Durable before the ack, deduplicated in the same commit; a
		// failed write gets a 503, and Slack retries.
		key, dup, err := t.inbox.admit(r.Context(), inboxEvent, cb.EventID, body)
		if err != nil {
			return refuseUnrecorded(w)
		}
		w.WriteHeader(http.StatusOK)
		if dup {
			return "duplicate"
		}
		t.spawn("event", func(ctx context.Context) {
			t.inbox.run(ctx, key, func(ctx context.Context) { t.h.handleEvent(ctx, ev) })
		})
		return "ok"
	default:
		t.log.Debug("slack event ignored", "type", ev.Type)
		w.WriteHeader(http.StatusOK)
		return "ignored"
	}
}

// serveInteractions answers button clicks and other interactions: the raw
// body goes to the inbox, then an empty 200, then the work.
//
// Even the payload is decoded after the ack: unescaping the form and
// decoding the JSON cost several times the signature check, and DESIGN.md
// holds the ack to 1.5 times a bare verifying handler plus the inbox's
// fsync. The price is that a signed body whose payload is not a valid form
// value or JSON gets a 200 and a warning instead of a 400; only Slack holds
// the secret, and it does not retry interactions. The de-duplication mark is
// the body's hash, which needs no decoding either.
//
// A view_submission is the exception: its answer (validation errors, or
// closing the dialog) is the response body, so it is decoded and handled
// before the response. A plain substring test picks it out without decoding
// (the type name needs no escaping in a form); a click that merely mentions
// the word is decoded early and then handled as usual.
func (t *httpTransport) serveInteractions(w http.ResponseWriter, r *http.Request, body []byte) string {
	if !hasFormKey(body, "payload") {
		http.Error(w, "missing payload", http.StatusBadRequest)
		return "bad_request"
	}
	if bytes.Contains(body, viewSubmissionMark) {
		ic, err := parseInteraction(body)
		if err != nil {
			// Unlike a click, a refused submission shows the user an
			// error instead of silently closing the dialog.
			t.log.WarnContext(r.Context(), "slack interaction not understood", "error", err)
			http.Error(w, "malformed payload", http.StatusBadRequest)
			return "bad_request"
		}
		key, dup, err := t.inbox.admit(r.Context(), inboxInteractionForm, interactionMark(body), body)
		if err != nil {
			return refuseUnrecorded(w)
		}
		if dup {
			w.WriteHeader(http.StatusOK)
			return "duplicate"
		}
		if ic.Type == slack.InteractionTypeViewSubmission {
			return t.serveViewSubmission(w, r, key, ic)
		}
		w.WriteHeader(http.StatusOK)
		t.spawn("interaction", func(ctx context.Context) {
			t.inbox.run(ctx, key, func(ctx context.Context) { t.h.handleInteraction(ctx, ic) })
		})
		return "ok"
	}
	key, dup, err := t.inbox.admit(r.Context(), inboxInteractionForm, interactionMark(body), body)
	if err != nil {
		return refuseUnrecorded(w)
	}
	w.WriteHeader(http.StatusOK)
	if dup {
		return "duplicate"
	}
	t.spawn("interaction", func(ctx context.Context) {
		ic, err := parseInteraction(body)
		if err != nil {
			t.log.WarnContext(ctx, "slack interaction not understood, dropped", "error", err)
			t.inbox.finish(ctx, key)
			return
		}
		t.inbox.run(ctx, key, func(ctx context.Context) { t.h.handleInteraction(ctx, ic) })
	})
	return "ok"
}

// viewSubmissionMark is the interaction type that is answered in the
// response body.
var viewSubmissionMark = []byte(slack.InteractionTypeViewSubmission)

// serveViewSubmission answers a modal's submission in the response body:
// empty (close), or JSON such as {"response_action":"errors",...}. The
// handler counts as in flight for Drain while it works. key is its inbox
// entry, written before.
func (t *httpTransport) serveViewSubmission(w http.ResponseWriter, r *http.Request, key string, ic slack.InteractionCallback) string {
	t.inflight.Add(1)
	defer t.inflight.Done()
	// The request's context ends when Slack hangs up; the decision must not
	// be cut off halfway by that (it is one transaction, but the log and
	// the outbox wake-up follow it).
	ctx := context.WithoutCancel(r.Context())
	resp := t.h.handleViewSubmission(triage.WithInboxKey(ctx, key), ic)
	// Removing an entry that had no effect is cleanup: the answer does not
	// wait for its commit.
	t.spawn("view_submission", func(hctx context.Context) { t.inbox.finish(hctx, key) })
	if resp == nil {
		w.WriteHeader(http.StatusOK)
		return "ok"
	}
	out, err := json.Marshal(resp)
	if err != nil {
		t.log.Error("encoding a view submission response", "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return "error"
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out)
	return "ok"
}

// parseInteraction decodes the payload form field of a POST body. Only the
// body counts: the signature covers nothing else.
func parseInteraction(body []byte) (slack.InteractionCallback, error) {
	var ic slack.InteractionCallback
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return ic, fmt.Errorf("parsing the interaction form: %w", err)
	}
	payload := form.Get("payload")
	if payload == "" {
		return ic, errors.New("the interaction form has no payload")
	}
	if err := json.Unmarshal([]byte(payload), &ic); err != nil {
		return ic, fmt.Errorf("decoding the interaction payload: %w", err)
	}
	return ic, nil
}

// hasFormKey reports, without decoding, whether a form body has a field
// named key (a plain ASCII name, which needs no escaping).
func hasFormKey(body []byte, key string) bool {
	k := key + "="
	if bytes.HasPrefix(body, []byte(k)) {
		return true
	}
	return bytes.Contains(body, []byte("&"+k))
}

// serveCommands answers a slash command in the response body: its result
// when ready within runCommand's wait, else "Working on it…" (the result
// follows through the response_url), or nothing when the add-lead dialog
// opens.
//
// The command is written to the inbox first, marked by its trigger_id; if
// that fails the user is told at once that nothing was done.
func (t *httpTransport) serveCommands(w http.ResponseWriter, r *http.Request, body []byte) string {
	cmd, err := parseCommandForm(body)
	if err != nil {
		http.Error(w, "malformed form", http.StatusBadRequest)
		return "bad_request"
	}
	key, dup, err := t.inbox.admit(r.Context(), inboxCommandForm, commandMark(cmd.TriggerID, body), body)
	var reply *slashReply
	result := "ok"
	switch {
	case err != nil:
		reply, result = ephemeralReply(t.words.t("command.unrecorded")), "unavailable"
	case dup:
		w.WriteHeader(http.StatusOK)
		return "duplicate"
	default:
		reply = t.h.runCommand(triage.WithInboxKey(r.Context(), key), cmd)
	}
	if reply == nil {
		w.WriteHeader(http.StatusOK) // an empty ack: the add-lead dialog is opening
		return "ok"
	}
	out, err := json.Marshal(reply)
	if err != nil {
		t.log.Error("encoding a slash command reply", "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return "error"
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out)
	return result
}
