package bot

import (
	"context"
	"log/slog"
	"testing"

	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/leadtriage/leadtriage/triage"
)

// restart is the fixture's bot after a crash: a new Bot over the same store
// and fake Slack, with nothing of the old one's memory.
func (f *dispatchFixture) restart(t *testing.T) *Bot {
	t.Helper()
	b := New(f.bot.cfg, f.slack.Client(), f.bot.svc, f.db, slog.New(f.logs))
	// Background work (a command's card link follow-up) ends with the test.
	b.rootCtx = t.Context()
	t.Cleanup(func() {
		if err := b.Drain(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return b
}

func (f *dispatchFixture) inbox(t *testing.T) []triage.InboxEntry {
	t.Helper()
	es, err := f.db.Inbox(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// countEvents counts the lead's audit events of kind.
func countEvents(l triage.Lead, kind string) int {
	n := 0
	for _, e := range l.Events {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

// crashRequests are a thread reply, a click and a command as the HTTP
// handlers write them to the inbox before the ack (payloads: slackfake's
// builders, which follow the shapes Slack documents).
func (f *dispatchFixture) crashRequests(t *testing.T) (reply, click, command []byte, responseURL string) {
	t.Helper()
	responseURL = f.slack.NewResponseURL()
	reply = slackfake.EventCallbackJSON("Ev0CRASH", slackfake.MessageEvent(dispatchChannel, "UHUMAN", "budget: yes", "1700000001.000200", cardTS))
	click = []byte(slackfake.BlockActionForm("UVOTER", dispatchChannel, cardTS, actionVoteQualify, f.lead.ID.String()).Encode())
	command = []byte(slackfake.SlashCommandForm("UASKER", dispatchChannel, "/qualify", "add newco.example", responseURL, "1700000002.1.trigger").Encode())
	return reply, click, command, responseURL
}

func (f *dispatchFixture) admitAll(t *testing.T, reply, click, command []byte) {
	t.Helper()
	ctx := t.Context()
	for _, e := range []struct {
		kind, mark string
		body       []byte
	}{
		{inboxEvent, "Ev0CRASH", reply},
		{inboxInteractionForm, interactionMark(click), click},
		{inboxCommandForm, commandMark("1700000002.1.trigger", command), command},
	} {
		if _, dup, err := f.bot.inbox.admit(ctx, e.kind, e.mark, e.body); err != nil || dup {
			t.Fatalf("writing %s to the inbox: dup=%v, %v", e.kind, dup, err)
		}
	}
}

// TestInbox_CrashBeforeProcessing_ReplaysOnce: requests written to the
// inbox (and so acknowledged) but never processed, because the process died
// right after the ack, are applied exactly once after the restart; a second
// start replays nothing, and a Slack retry of the event is a repeat.
func TestInbox_CrashBeforeProcessing_ReplaysOnce(t *testing.T) {
	t.Parallel()
	f := newDispatchFixture(t, false)
	f.postCard(t)
	reply, click, command, responseURL := f.crashRequests(t)
	f.admitAll(t, reply, click, command)

	for start, want := range []int{3, 0} {
		b := f.restart(t)
		n, err := b.ReplayInbox(t.Context())
		if err != nil || n != want {
			t.Fatalf("start %d: ReplayInbox = %d, %v; want %d", start+1, n, err, want)
		}
	}
	l, err := f.db.Lead(t.Context(), f.lead.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Votes["UVOTER"]; got != triage.ChoiceQualify {
		t.Errorf("vote after replay = %q; want qualify", got)
	}
	if n := countEvents(l, triage.EventVoted); n != 1 {
		t.Errorf("%d vote events; want exactly 1", n)
	}
	if a := l.Answers["budget"]; a.Value != triage.AnswerYes || a.By != "UHUMAN" {
		t.Errorf("budget answer after replay = %+v; want yes by UHUMAN", a)
	}
	if n := countEvents(l, triage.EventAnswered); n != 1 {
		t.Errorf("%d answer events; want exactly 1", n)
	}
	added, err := f.db.LeadsByDomain(t.Context(), "newco.example")
	if err != nil || len(added) != 1 {
		t.Errorf("leads for newco.example after replay: %d, %v; want 1", len(added), err)
	}
	// Nobody waits for the command's ack any more: its reply goes to the
	// response_url, once.
	if posts := f.slack.ResponsePosts(responseURL); len(posts) != 1 {
		t.Errorf("%d posts to the command's response_url; want 1", len(posts))
	}
	if es := f.inbox(t); len(es) != 0 {
		t.Errorf("inbox after replay holds %d entries", len(es))
	}
	// Slack retries the event after the crash: the mark makes it a repeat.
	if _, dup, err := f.bot.inbox.admit(t.Context(), inboxEvent, "Ev0CRASH", reply); err != nil || !dup {
		t.Errorf("Slack's retry of Ev0CRASH: dup=%v, %v; want a repeat", dup, err)
	}
}

// TestInbox_CrashAfterEffect_NotReplayed: once the effect is committed the
// entry is gone with it, so a crash before the handler returns replays
// nothing.
func TestInbox_CrashAfterEffect_NotReplayed(t *testing.T) {
	t.Parallel()
	f := newDispatchFixture(t, false)
	f.postCard(t)
	_, click, _, _ := f.crashRequests(t)
	key, _, err := f.bot.inbox.admit(t.Context(), inboxInteractionForm, interactionMark(click), click)
	if err != nil {
		t.Fatal(err)
	}
	handle, err := f.bot.entryHandler(triage.InboxEntry{Kind: inboxInteractionForm, Body: click})
	if err != nil {
		t.Fatal(err)
	}
	handle(triage.WithInboxKey(t.Context(), key)) // the effect, then "the crash": no finishEntry
	if es := f.inbox(t); len(es) != 0 {
		t.Fatalf("the vote's transaction left its entry: %+v", es)
	}
	if n, err := f.restart(t).ReplayInbox(t.Context()); err != nil || n != 0 {
		t.Fatalf("ReplayInbox = %d, %v; want nothing to replay", n, err)
	}
	l, _ := f.db.Lead(t.Context(), f.lead.ID)
	if n := countEvents(l, triage.EventVoted); n != 1 {
		t.Errorf("%d vote events; want exactly 1", n)
	}
}

// TestInbox_ReplayDropsWhatItCannotDecode: an entry that cannot be decoded
// would fail at every start; it is logged and removed.
func TestInbox_ReplayDropsWhatItCannotDecode(t *testing.T) {
	t.Parallel()
	f := newDispatchFixture(t, false)
	for _, e := range []struct{ kind, body string }{
		{inboxEvent, "{not json"},
		{inboxInteractionForm, "payload=%7Bnot+json"},
		{"slack_unknown", "{}"},
	} {
		if _, _, err := f.bot.inbox.admit(t.Context(), e.kind, "", []byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := f.restart(t).ReplayInbox(t.Context()); err != nil || n != 3 {
		t.Fatalf("ReplayInbox = %d, %v; want 3", n, err)
	}
	if es := f.inbox(t); len(es) != 0 {
		t.Errorf("undecodable entries left in the inbox: %d", len(es))
	}
	warned := 0
	for _, r := range f.logs.records() {
		if r == "WARN slack request in the inbox not understood, dropped" {
			warned++
		}
	}
	if warned != 3 {
		t.Errorf("%d warnings about dropped entries; want 3; logs %q", warned, f.logs.records())
	}
}

// TestInbox_ReplaySocketKinds: Socket Mode stores the envelope's payload
// (JSON, not a form); those entries replay the same way.
func TestInbox_ReplaySocketKinds(t *testing.T) {
	t.Parallel()
	f := newDispatchFixture(t, false)
	f.postCard(t)
	click := slackfake.BlockActionJSON("USOCKET", dispatchChannel, cardTS, actionVoteQualify, f.lead.ID.String())
	responseURL := f.slack.NewResponseURL()
	command := slackfake.SlashCommandJSON("UASKER", dispatchChannel, "/qualify", "add socketco.example", responseURL, "1700000003.1.trigger")
	for _, e := range []struct {
		kind, mark string
		body       []byte
	}{
		{inboxInteraction, interactionMark(click), click},
		{inboxCommand, commandMark("1700000003.1.trigger", command), command},
	} {
		if _, _, err := f.bot.inbox.admit(t.Context(), e.kind, e.mark, e.body); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := f.restart(t).ReplayInbox(t.Context()); err != nil || n != 2 {
		t.Fatalf("ReplayInbox = %d, %v; want 2", n, err)
	}
	l, _ := f.db.Lead(t.Context(), f.lead.ID)
	if l.Votes["USOCKET"] != triage.ChoiceQualify {
		t.Errorf("socket click not applied: votes %v", l.Votes)
	}
	if added, err := f.db.LeadsByDomain(t.Context(), "socketco.example"); err != nil || len(added) != 1 {
		t.Errorf("socket command not applied: %d leads, %v", len(added), err)
	}
	if posts := f.slack.ResponsePosts(responseURL); len(posts) != 1 {
		t.Errorf("%d posts to the command's response_url; want 1", len(posts))
	}
}
