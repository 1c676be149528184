package bot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/bot"
	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/leadtriage/leadtriage/storage"
	"github.com/leadtriage/leadtriage/storage/storagetest"
	"github.com/leadtriage/leadtriage/triage"
)

// restarted is a new bot over the harness's store, as after a crash.
func (h *harness) restarted(t *testing.T) *bot.Bot {
	t.Helper()
	policy := h.svc.Policy
	b := bot.New(bot.Config{
		Channel: channel, Policy: policy, SigningSecrets: []string{secretOld},
		Now: func() time.Time { return now }, Reactions: map[string]triage.Choice{"+1": triage.ChoiceQualify},
	}, h.slack.Client(), h.svc, h.db, slog.New(h.logs))
	t.Cleanup(func() { _ = b.Drain(context.Background()) })
	return b
}

func serveWith(hh http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	hh.ServeHTTP(rec, req)
	return rec
}

func answers(l triage.Lead) int {
	n := 0
	for _, e := range l.Events {
		if e.Kind == triage.EventAnswered {
			n++
		}
	}
	return n
}

// TestBot_Inbox_SlackRetryAfterInboxWrite: the bot wrote a thread reply to
// its inbox and acknowledged it, then died before acting on it. Slack's
// retries of that event (same event_id) are acknowledged and not applied;
// the restart applies the reply once.
func TestBot_Inbox_SlackRetryAfterInboxWrite(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withDeliberation)
	h.postCard(t)
	body := slackfake.EventCallbackJSON("Ev0RETRY", slackfake.MessageEvent(channel, "UHUMAN", "budget: yes", "1700000001.000200", cardTS))
	// What the events handler writes before its 200; the crash comes next.
	if _, dup, err := h.db.AdmitInbox(t.Context(), triage.InboxEntry{Kind: "slack_event", Mark: "Ev0RETRY", Body: body, At: now}); err != nil || dup {
		t.Fatalf("AdmitInbox: dup=%v, %v", dup, err)
	}
	retry := func(hh http.Handler, n int) {
		t.Helper()
		req := signedAt("/slack/events", secretOld, "application/json", body, now)
		req.Header.Set("X-Slack-Retry-Num", strconv.Itoa(n))
		req.Header.Set("X-Slack-Retry-Reason", "http_timeout")
		rec := serveWith(hh, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("retry %d: status %d", n, rec.Code)
		}
	}
	retry(h.h, 1)
	h.drain(t)
	if got := answers(h.stored(t)); got != 0 {
		t.Fatalf("a retry of an event already in the inbox was applied (%d answers)", got)
	}
	b := h.restarted(t)
	if n, err := b.ReplayInbox(t.Context()); err != nil || n != 1 {
		t.Fatalf("ReplayInbox = %d, %v; want 1", n, err)
	}
	retry(b.HTTPHandler(), 2)
	if err := b.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	l := h.stored(t)
	if got := answers(l); got != 1 || l.Answers["budget"].Value != triage.AnswerYes {
		t.Errorf("after the restart and another retry: %d answer events, budget %+v; want exactly 1, yes", got, l.Answers["budget"])
	}
}

// TestBot_Inbox_ReplayedClick: the same signed click sent twice within the
// signature window (a replay by whoever captured it) is acknowledged twice
// and applied once.
func TestBot_Inbox_ReplayedClick(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body := clickBody("UVOTER", "lead.vote.qualify", h.lead.ID)
	for i := range 2 {
		if rec := h.serve(signedAt("/slack/interactions", secretOld, formType, body, now)); rec.Code != http.StatusOK {
			t.Fatalf("click %d: status %d", i, rec.Code)
		}
		h.drain(t)
	}
	voted := 0
	for _, e := range h.stored(t).Events {
		if e.Kind == triage.EventVoted {
			voted++
		}
	}
	if voted != 1 {
		t.Errorf("%d vote events for one click sent twice; want 1", voted)
	}
}

// unwritableInbox fails every inbox write, as a full disk does.
type unwritableInbox struct{ bot.Store }

func (unwritableInbox) AdmitInbox(context.Context, triage.InboxEntry) (string, bool, error) {
	return "", false, fmt.Errorf("admitting to the inbox: %w", triage.ErrStoreFull)
}

// TestBot_Inbox_Unwritable: a request that cannot be made durable is not
// acknowledged as done: events and clicks get a 503 (Slack retries events),
// a command tells the user at once that nothing was done; nothing runs.
func TestBot_Inbox_Unwritable(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := bot.New(bot.Config{Channel: channel, Policy: h.svc.Policy, SigningSecrets: []string{secretOld}, Now: func() time.Time { return now }},
		h.slack.Client(), h.svc, unwritableInbox{h.db}, slog.New(h.logs))
	hh := b.HTTPHandler()
	event := slackfake.EventCallbackJSON("Ev0FULL", slackfake.MessageEvent(channel, "UHUMAN", "hi", "1700000001.000200", ""))
	for _, tt := range []struct {
		path, ctype string
		body        []byte
	}{
		{"/slack/events", "application/json", event},
		{"/slack/interactions", formType, clickBody("UVOTER", "lead.vote.qualify", h.lead.ID)},
	} {
		rec := serveWith(hh, signedAt(tt.path, secretOld, tt.ctype, tt.body, now))
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
			t.Errorf("%s with an unwritable inbox: %d (Retry-After %q); want 503 with Retry-After", tt.path, rec.Code, rec.Header().Get("Retry-After"))
		}
	}
	cmd := []byte(slackfake.SlashCommandForm("UASKER", channel, "/qualify", "add full.example", h.slack.NewResponseURL(), h.slack.NewTriggerID()).Encode())
	rec := serveWith(hh, signedAt("/slack/commands", secretOld, formType, cmd, now))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "nothing was done") {
		t.Errorf("command with an unwritable inbox: %d %s; want 200 saying nothing was done", rec.Code, rec.Body.String())
	}
	if err := b.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	if l := h.stored(t); len(l.Votes) != 0 {
		t.Errorf("votes after a refused click: %v", l.Votes)
	}
	if leads, _ := h.db.LeadsByDomain(t.Context(), "full.example"); len(leads) != 0 {
		t.Errorf("a refused command added %d leads", len(leads))
	}
}

// TestBot_Inbox_UnwritableSocket: in Socket Mode an event that cannot be
// made durable is not acknowledged, so Slack delivers it again; a command
// is acknowledged with the news that nothing was done.
func TestBot_Inbox_UnwritableSocket(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := bot.New(bot.Config{Channel: channel, Policy: h.svc.Policy, AppToken: slackfake.AppToken, Now: func() time.Time { return now }},
		h.slack.Client(), h.svc, unwritableInbox{h.db}, slog.New(h.logs))
	hs := *h
	hs.bot = b
	stop := runSocket(t, &hs)
	event := h.slack.SendEnvelope(t, slackfake.Envelope{Type: "events_api",
		Payload: json.RawMessage(slackfake.EventCallbackJSON("Ev0FULLSOCKET", slackfake.MessageEvent(channel, "UHUMAN", "hi", "1700000001.000200", "")))})
	cmd := h.slack.SendEnvelope(t, slackfake.Envelope{
		Type:                   "slash_commands",
		Payload:                json.RawMessage(slackfake.SlashCommandJSON("UASKER", channel, "/qualify", "add full.example", slackfake.PlaceholderResponseURL, slackfake.PlaceholderTriggerID)),
		AcceptsResponsePayload: true,
	})
	ack := h.slack.WaitAck(t, cmd, 5*time.Second)
	if !strings.Contains(string(ack.Payload), "nothing was done") {
		t.Errorf("command ack = %s; want the news that nothing was done", ack.Payload)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if err := b.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, a := range h.slack.Acks() {
		if a.EnvelopeID == event {
			t.Error("an event that could not be written was acknowledged")
		}
	}
	if leads, _ := h.db.LeadsByDomain(t.Context(), "full.example"); len(leads) != 0 {
		t.Errorf("a refused command added %d leads", len(leads))
	}
}

// diskFull is a write fault that lets a given number of writes through and
// then fails every write with ENOSPC until it is told the disk has room.
type diskFull struct {
	mu     sync.Mutex
	passes int  // writes still let through before the disk is full
	full   bool // failing
}

func (d *diskFull) fault() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.passes > 0 {
		d.passes--
		d.full = d.passes == 0
		return nil
	}
	if d.full {
		return syscall.ENOSPC
	}
	return nil
}

func (d *diskFull) after(writes int) { d.mu.Lock(); d.passes = writes; d.mu.Unlock() }
func (d *diskFull) room()            { d.mu.Lock(); d.passes, d.full = 0, false; d.mu.Unlock() }

// TestBot_Inbox_DiskFullAfterAck: the disk fills between a click's inbox
// write and its vote's. The click was acknowledged, so it must still count:
// its entry stays in the inbox (the error reply does not take it) and it is
// applied once the disk has room again, without a restart, exactly once.
func TestBot_Inbox_DiskFullAfterAck(t *testing.T) {
	t.Parallel()
	disk := &diskFull{}
	h := newHarnessOn(t, storagetest.MustOpenWith(t, storage.WithWriteFault(disk.fault)))
	disk.after(1) // the inbox write; then the disk is full
	body := clickBody("UVOTER", "lead.vote.qualify", h.lead.ID)
	if rec := h.serve(signedAt("/slack/interactions", secretOld, formType, body, now)); rec.Code != http.StatusOK {
		t.Fatalf("click: status %d, want 200 (the inbox took it)", rec.Code)
	}
	waitFor(t, "the vote to fail on the full disk", func() bool {
		return h.logs.count("the database could not store a slack request's effect; it stays in the inbox and is tried again") == 1
	})
	if l := h.stored(t); len(l.Votes) != 0 {
		t.Fatalf("votes on a full disk: %v", l.Votes)
	}
	if entries, err := h.db.Inbox(t.Context()); err != nil || len(entries) != 1 {
		t.Fatalf("inbox on a full disk = %d entries (%v), want the click kept", len(entries), err)
	}
	disk.room()
	waitFor(t, "the kept click to count", func() bool { return h.stored(t).Votes["UVOTER"] == triage.ChoiceQualify })
	h.drain(t)
	if entries, err := h.db.Inbox(t.Context()); err != nil || len(entries) != 0 {
		t.Errorf("inbox after the retry = %d entries (%v), want none", len(entries), err)
	}
	voted := 0
	for _, e := range h.stored(t).Events {
		if e.Kind == triage.EventVoted {
			voted++
		}
	}
	if voted != 1 {
		t.Errorf("%d vote events, want 1", voted)
	}
}
