package bot_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/leadtriage/leadtriage/bot"
	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/leadtriage/leadtriage/storage"
	"github.com/leadtriage/leadtriage/storage/storagetest"
	"github.com/leadtriage/leadtriage/triage"
	"github.com/leadtriage/leadtriage/triage/triagetest"
)

const obChannel = "CTRIAGE"

var obT0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// obHarness is a bot wired to a real store and the fake Slack.
type obHarness struct {
	t     *testing.T
	fake  *slackfake.Server
	db    *storage.DB
	svc   *triage.Service
	bot   *bot.Bot
	clock *triagetest.Clock
	pol   triage.Policy
}

func newOBHarness(t *testing.T, pol triage.Policy) *obHarness {
	t.Helper()
	h := &obHarness{t: t, fake: slackfake.New(t), db: storagetest.MustOpen(t), clock: triagetest.NewClock(obT0), pol: pol}
	h.wire()
	return h
}

// wire builds the service and the bot over h.db, as a (re)start does.
func (h *obHarness) wire() {
	h.svc = &triage.Service{Store: h.db, Policy: h.pol, Channel: obChannel, Now: h.clock.Now}
	h.bot = bot.New(bot.Config{Channel: obChannel, Policy: h.pol, Now: h.clock.Now}, h.fake.Client(), h.svc, h.db, nil)
	h.svc.Wake = h.bot.Wake
}

func (h *obHarness) submit(company string) triage.Lead {
	h.t.Helper()
	l, _, err := h.svc.Submit(context.Background(), triage.LeadInput{
		Company: company, Email: "jan.jansen+CANARY@voorbeeld.nl", Message: "hello <!channel>",
	}, triage.Submission{Via: "webhook"})
	if err != nil {
		h.t.Fatalf("submitting lead: %v", err)
	}
	return l
}

func (h *obHarness) vote(id triage.LeadID, user string, c triage.Choice) {
	h.t.Helper()
	if _, err := h.svc.Vote(context.Background(), id, user, c); err != nil {
		h.t.Fatalf("voting: %v", err)
	}
}

// deliver runs one pass at the current fake time.
func (h *obHarness) deliver() time.Time {
	h.t.Helper()
	next, err := h.bot.DeliverDue(context.Background(), h.clock.Now())
	if err != nil {
		h.t.Fatalf("DeliverDue: %v", err)
	}
	return next
}

// drain delivers until the outbox is empty, moving the triagetest.Clock to each next
// due time, and fails after limit passes.
func (h *obHarness) drain(limit int) {
	h.t.Helper()
	for range limit {
		next := h.deliver()
		if next.IsZero() {
			return
		}
		if next.After(h.clock.Now()) {
			h.clock.Set(next)
		}
	}
	items, _ := h.db.DueOutbox(context.Background(), time.Unix(1<<40, 0), 0)
	h.t.Fatalf("outbox not empty after %d passes: %+v now %v", limit, items, h.clock.Now())
}

func (h *obHarness) lead(id triage.LeadID) triage.Lead {
	h.t.Helper()
	l, err := h.db.Lead(context.Background(), id)
	if err != nil {
		h.t.Fatalf("loading %s: %v", id, err)
	}
	return l
}

func (h *obHarness) okCalls(method string) []slackfake.Call {
	var out []slackfake.Call
	for _, c := range h.fake.Calls(method) {
		if c.OK() {
			out = append(out, c)
		}
	}
	return out
}

func (h *obHarness) due() []triage.OutboxItem {
	h.t.Helper()
	items, err := h.db.DueOutbox(context.Background(), time.Unix(1<<40, 0), 0)
	if err != nil {
		h.t.Fatalf("listing outbox: %v", err)
	}
	return items
}

func (h *obHarness) deadLetters() []triage.OutboxItem {
	h.t.Helper()
	items, err := h.db.DeadLetters(context.Background())
	if err != nil {
		h.t.Fatalf("listing dead letters: %v", err)
	}
	return items
}

var obBlindPolicy = triage.Policy{Quorum: 5, Blind: true, Auto: true, TeamLead: "ULEAD"}

func TestBot_DeliverDue_PostCard(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, obBlindPolicy)
	l := h.submit("Acme <!here>")

	if next := h.deliver(); !next.IsZero() {
		t.Errorf("next = %v after delivering everything, want zero", next)
	}
	posts := h.okCalls("chat.postMessage")
	if len(posts) != 1 {
		t.Fatalf("chat.postMessage calls = %d, want 1", len(posts))
	}
	p := posts[0].Params
	if got := p.Get("channel"); got != obChannel {
		t.Errorf("posted to %q, want %q", got, obChannel)
	}
	if got := p.Get("text"); !strings.Contains(got, "Acme &lt;!here&gt;") {
		t.Errorf("fallback text %q is not escaped", got)
	}
	if p.Get("unfurl_links") != "false" || p.Get("unfurl_media") != "false" {
		t.Errorf("unfurling not disabled: unfurl_links=%q unfurl_media=%q", p.Get("unfurl_links"), p.Get("unfurl_media"))
	}
	var md struct {
		EventType    string            `json:"event_type"`
		EventPayload map[string]string `json:"event_payload"`
	}
	if err := json.Unmarshal([]byte(p.Get("metadata")), &md); err != nil {
		t.Fatalf("decoding metadata %q: %v", p.Get("metadata"), err)
	}
	if diff := cmp.Diff("leadtriage_lead", md.EventType); diff != "" {
		t.Errorf("metadata event type (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"lead_id": l.ID.String()}, md.EventPayload); diff != "" {
		t.Errorf("metadata payload (-want +got):\n%s", diff)
	}
	if problems := slackfake.ValidateBlocks(json.RawMessage(p.Get("blocks")), slackfake.MaxMessageBlocks); len(problems) > 0 {
		t.Errorf("posted blocks invalid: %v", problems)
	}

	msgs := h.fake.Messages(obChannel)
	if len(msgs) != 1 {
		t.Fatalf("messages in channel = %d, want 1", len(msgs))
	}
	got := h.lead(l.ID)
	if diff := cmp.Diff(triage.SlackRef{Channel: obChannel, TS: msgs[0].TS}, got.Slack); diff != "" {
		t.Errorf("lead's card ref (-want +got):\n%s", diff)
	}
	if last := got.Events[len(got.Events)-1]; last.Kind != triage.EventCardPosted {
		t.Errorf("last event = %q, want %q", last.Kind, triage.EventCardPosted)
	}
	byMsg, err := h.db.LeadByMessage(context.Background(), obChannel, msgs[0].TS)
	if err != nil || byMsg.ID != l.ID {
		t.Errorf("LeadByMessage = %v, %v; want %s", byMsg.ID, err, l.ID)
	}

	// Nothing is sent twice.
	h.clock.Advance(time.Hour)
	h.deliver()
	if n := len(h.fake.Calls("chat.postMessage")); n != 1 {
		t.Errorf("chat.postMessage calls after a second pass = %d, want 1", n)
	}
}

func TestBot_DeliverDue_UpdateCard(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, obBlindPolicy)
	l := h.submit("Acme")
	h.drain(10)
	h.vote(l.ID, "UALICE", triage.ChoiceQualify)
	h.drain(10)

	updates := h.okCalls("chat.update")
	if len(updates) != 1 {
		t.Fatalf("chat.update calls = %d, want 1", len(updates))
	}
	card := h.lead(l.ID).Slack
	if got := updates[0].Params.Get("ts"); got != card.TS {
		t.Errorf("updated ts %q, want the card's %q", got, card.TS)
	}
	m, _ := h.fake.Message(obChannel, card.TS)
	if !strings.Contains(string(m.Blocks), "1 of 5 votes") {
		t.Errorf("updated card does not show the vote: %s", m.Blocks)
	}
	eph := h.fake.Ephemerals()
	if len(eph) != 1 || eph[0].User != "UALICE" || eph[0].Channel != obChannel {
		t.Errorf("ephemerals = %+v, want one to UALICE in %s", eph, obChannel)
	}
}

func TestBot_DeliverDue_CoalescesUpdates(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, obBlindPolicy)
	l := h.submit("Acme")
	h.drain(10)
	for _, u := range []string{"UALICE", "UBOB", "UCAROL"} {
		h.vote(l.ID, u, triage.ChoiceQualify)
	}
	h.drain(20)

	if n := len(h.okCalls("chat.update")); n != 1 {
		t.Errorf("chat.update calls = %d, want 1 for three votes", n)
	}
	m, _ := h.fake.Message(obChannel, h.lead(l.ID).Slack.TS)
	if !strings.Contains(string(m.Blocks), "3 of 5 votes") {
		t.Errorf("card does not show the final state: %s", m.Blocks)
	}
	if n := len(h.fake.Ephemerals()); n != 3 {
		t.Errorf("ephemerals = %d, want 3 (one per voter)", n)
	}
}

func TestBot_DeliverDue_ThreadReply(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, triage.Policy{Quorum: 1, Auto: true})
	l := h.submit("Acme")
	h.drain(10)
	h.vote(l.ID, "UALICE", triage.ChoiceQualify)
	h.drain(10)

	card := h.lead(l.ID).Slack
	var replies []slackfake.Message
	for _, m := range h.fake.Messages(obChannel) {
		if m.ThreadTS == card.TS && m.TS != card.TS {
			replies = append(replies, m)
		}
	}
	if len(replies) != 1 {
		t.Fatalf("thread replies = %d, want 1: %+v", len(replies), h.fake.Messages(obChannel))
	}
	if !strings.Contains(replies[0].Text, "qualified by the team's vote") {
		t.Errorf("thread reply text = %q", replies[0].Text)
	}
	m, _ := h.fake.Message(obChannel, card.TS)
	if strings.Contains(string(m.Blocks), "lead.vote.qualify") {
		t.Error("decided card still has vote buttons")
	}
}

func TestBot_DeliverDue_Ephemeral(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, obBlindPolicy)
	if err := h.svc.Tell(context.Background(), "CELSEWHERE", "UALICE", "Nope."); err != nil {
		t.Fatal(err)
	}
	h.drain(5)
	want := []slackfake.Ephemeral{{Channel: "CELSEWHERE", User: "UALICE", Text: "Nope."}}
	if diff := cmp.Diff(want, h.fake.Ephemerals()); diff != "" {
		t.Errorf("ephemerals (-want +got):\n%s", diff)
	}
	if n := len(h.due()); n != 0 {
		t.Errorf("outbox holds %d items after delivery, want 0", n)
	}
}

func TestBot_DeliverDue_RateLimited(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		retryAfter string
		wait       time.Duration
	}{
		{"RetryAfter", "3", 3 * time.Second},
		{"NoHeader", "", 60 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newOBHarness(t, obBlindPolicy)
			h.fake.Fail("chat.postMessage", slackfake.Fault{Status: 429, RetryAfter: tc.retryAfter})
			h.submit("Acme")

			next := h.deliver()
			if want := obT0.Add(tc.wait); !next.Equal(want) {
				t.Errorf("next = %v, want %v", next, want)
			}
			h.clock.Set(obT0.Add(tc.wait - 100*time.Millisecond))
			h.deliver()
			if n := len(h.fake.Calls("chat.postMessage")); n != 1 {
				t.Fatalf("chat.postMessage calls before Retry-After passed = %d, want 1", n)
			}
			h.clock.Set(obT0.Add(tc.wait))
			h.deliver()
			if n := len(h.okCalls("chat.postMessage")); n != 1 {
				t.Errorf("successful posts after Retry-After = %d, want 1", n)
			}
			if n := len(h.fake.Messages(obChannel)); n != 1 {
				t.Errorf("messages = %d, want 1", n)
			}
		})
	}
}

// obAttemptTimes drives the outbox until it is empty and returns the fake
// times at which a pass made any Web API call.
func obAttemptTimes(t *testing.T, h *obHarness, limit int, during func(now time.Time)) []time.Time {
	t.Helper()
	var at []time.Time
	for range limit {
		before := len(h.fake.Calls())
		now := h.clock.Now()
		if during != nil {
			during(now)
		}
		next := h.deliver()
		if len(h.fake.Calls()) > before {
			at = append(at, now)
		}
		if next.IsZero() {
			return at
		}
		if next.After(now) {
			h.clock.Set(next)
		}
	}
	t.Fatalf("outbox not empty after %d passes", limit)
	return nil
}

func TestBot_DeliverDue_Backoff(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, obBlindPolicy)
	h.fake.Fail("chat.postMessage", slackfake.Fault{Status: 503, Times: 4})
	h.submit("Acme")

	at := obAttemptTimes(t, h, 20, nil)
	var gaps []time.Duration
	for i := 1; i < len(at); i++ {
		gaps = append(gaps, at[i].Sub(at[i-1]))
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}
	if diff := cmp.Diff(want, gaps); diff != "" {
		t.Errorf("gaps between attempts (-want +got):\n%s", diff)
	}
	if n := len(h.fake.Messages(obChannel)); n != 1 {
		t.Errorf("messages = %d, want 1", n)
	}
}

func TestBot_DeliverDue_Outage(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, obBlindPolicy)
	ids := []triage.LeadID{h.submit("Acme").ID, h.submit("Globex").ID}
	h.fake.SetDown(true)
	end := obT0.Add(2 * time.Hour)
	at := obAttemptTimes(t, h, 500, func(now time.Time) {
		if !now.Before(end) {
			h.fake.SetDown(false)
		}
	})

	for i := 1; i < len(at); i++ {
		if gap := at[i].Sub(at[i-1]); gap > 5*time.Minute {
			t.Errorf("gap between attempts %v at %v, want at most the 5 min cap", gap, at[i-1])
		}
	}
	if last := at[len(at)-1]; last.Before(end) || last.After(end.Add(5*time.Minute)) {
		t.Errorf("delivered at %v, want within the cap after the outage ends at %v", last, end)
	}
	if n := len(h.fake.Messages(obChannel)); n != len(ids) {
		t.Errorf("cards posted = %d, want exactly %d", n, len(ids))
	}
	for _, id := range ids {
		if h.lead(id).Slack.TS == "" {
			t.Errorf("%s has no card ts after recovery", id)
		}
	}
}

func TestBot_DeliverDue_Permanent(t *testing.T) {
	t.Parallel()
	// Causes a person can fix park the item instead (blocked_test.go).
	for _, code := range []string{
		"invalid_blocks", "invalid_arguments",
		"msg_too_long", "msg_blocks_too_long", "message_not_found", "cant_update_message",
		"user_not_in_channel",
	} {
		t.Run(code, func(t *testing.T) {
			t.Parallel()
			h := newOBHarness(t, obBlindPolicy)
			h.fake.Fail("chat.postMessage", slackfake.Fault{Error: code, Times: 5})
			l := h.submit("Acme")
			if next := h.deliver(); !next.IsZero() {
				t.Errorf("next = %v, want zero (nothing left to retry)", next)
			}
			h.clock.Advance(24 * time.Hour)
			h.deliver()
			if n := len(h.fake.Calls("chat.postMessage")); n != 1 {
				t.Errorf("chat.postMessage calls = %d, want 1 (no retries)", n)
			}
			dead := h.deadLetters()
			if len(dead) != 1 || dead[0].Kind != triage.OutboxPostCard || !strings.Contains(dead[0].LastError, code) {
				t.Errorf("dead letters = %+v, want the post_card with %q", dead, code)
			}
			if got := h.lead(l.ID); got.ID != l.ID {
				t.Errorf("lead lost after a permanent error")
			}
		})
	}
}

func TestBot_DeliverDue_RetryableErrorCode(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, obBlindPolicy)
	h.fake.Fail("chat.postMessage", slackfake.Fault{Error: "internal_error"})
	h.submit("Acme")
	if next := h.deliver(); !next.Equal(obT0.Add(time.Second)) {
		t.Errorf("next = %v, want a 1 s backoff", next)
	}
	h.drain(5)
	if n := len(h.fake.Messages(obChannel)); n != 1 {
		t.Errorf("messages = %d, want 1", n)
	}
}

func TestBot_DeliverDue_UpdateWithoutCard(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, obBlindPolicy)
	h.fake.Fail("chat.postMessage", slackfake.Fault{Error: "invalid_blocks"})
	l := h.submit("Acme")
	h.drain(5)
	h.vote(l.ID, "UALICE", triage.ChoiceQualify)
	h.drain(5)

	var kinds []triage.OutboxKind
	for _, it := range h.deadLetters() {
		kinds = append(kinds, it.Kind)
	}
	want := []triage.OutboxKind{triage.OutboxPostCard, triage.OutboxUpdateCard}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("dead letters (-want +got):\n%s", diff)
	}
	if n := len(h.fake.Calls("chat.update")); n != 0 {
		t.Errorf("chat.update calls = %d, want 0", n)
	}
}

func TestBot_DeliverDue_WaitsForCard(t *testing.T) {
	t.Parallel()
	// The card post is rate limited; the thread reply and card update that
	// follow must wait for it, not be dead-lettered.
	h := newOBHarness(t, triage.Policy{Quorum: 1, Auto: true})
	h.fake.Fail("chat.postMessage", slackfake.Fault{Status: 429, RetryAfter: "5"})
	l := h.submit("Acme")
	h.deliver()
	h.vote(l.ID, "UALICE", triage.ChoiceQualify)
	h.drain(20)

	if dead := h.deadLetters(); len(dead) != 0 {
		t.Errorf("dead letters = %+v, want none", dead)
	}
	card := h.lead(l.ID).Slack
	msgs := h.fake.Messages(obChannel)
	if len(msgs) != 2 || msgs[0].TS != card.TS || msgs[1].ThreadTS != card.TS {
		t.Errorf("messages = %+v, want the card then a reply in its thread", msgs)
	}
}

func TestBot_DeliverDue_LeadGone(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, obBlindPolicy)
	if err := h.db.Enqueue(context.Background(), triage.OutboxItem{Kind: triage.OutboxUpdateCard, Lead: 999, Channel: obChannel, CreatedAt: obT0}); err != nil {
		t.Fatal(err)
	}
	h.drain(3)
	dead := h.deadLetters()
	if len(dead) != 1 || dead[0].Lead != 999 {
		t.Errorf("dead letters = %+v, want the item of the missing lead", dead)
	}
	if n := len(h.fake.Calls()); n != 0 {
		t.Errorf("Slack calls = %d, want 0", n)
	}
}

func TestBot_DeliverDue_Pacing(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, obBlindPolicy)
	for i := range 20 {
		h.submit(fmt.Sprintf("Lead %d", i))
	}
	if err := h.svc.Tell(context.Background(), "COTHER", "UALICE", "hi"); err != nil {
		t.Fatal(err)
	}

	var postTimes []time.Time
	otherAt := time.Time{}
	for range 100 {
		before := len(h.okCalls("chat.postMessage"))
		beforeEph := len(h.fake.Ephemerals())
		now := h.clock.Now()
		next := h.deliver()
		for range len(h.okCalls("chat.postMessage")) - before {
			postTimes = append(postTimes, now)
		}
		if len(h.fake.Ephemerals()) > beforeEph {
			otherAt = now
		}
		if next.IsZero() {
			break
		}
		if next.After(now) {
			h.clock.Set(next)
		}
	}
	if len(postTimes) != 20 {
		t.Fatalf("posts = %d, want 20", len(postTimes))
	}
	for i := 3; i < len(postTimes); i++ {
		if gap := postTimes[i].Sub(postTimes[i-1]); gap < time.Second {
			t.Errorf("post %d came %v after the previous one, want at least 1 s after the burst", i, gap)
		}
	}
	if want := obT0.Add(17 * time.Second); postTimes[19].After(want) {
		t.Errorf("last post at %v, want by %v (1 per second after a burst of 3)", postTimes[19], want)
	}
	if !otherAt.Equal(obT0) {
		t.Errorf("message to another channel sent at %v, want at once (%v): pacing is per channel", otherAt, obT0)
	}
}

func TestBot_DeliverDue_RestartKeepsAttempts(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, obBlindPolicy)
	h.fake.Fail("chat.postMessage", slackfake.Fault{Status: 500, Times: 3})
	h.submit("Acme")
	h.clock.Set(h.deliver()) // attempt 1 fails: +1 s
	next := h.deliver()      // attempt 2 fails: +2 s
	if want := obT0.Add(3 * time.Second); !next.Equal(want) {
		t.Fatalf("next = %v, want %v", next, want)
	}

	// Restart: a new store handle and a new bot, as after kill -9.
	h.db = storagetest.MustReopen(t, h.db)
	h.wire()
	items := h.due()
	if len(items) != 1 || items[0].Attempts != 2 || !items[0].NextAt.Equal(next) {
		t.Fatalf("outbox after restart = %+v, want one item with 2 attempts due at %v", items, next)
	}
	h.clock.Set(next)
	if got, want := h.deliver(), next.Add(4*time.Second); !got.Equal(want) {
		t.Errorf("backoff after restart: next = %v, want %v (the count continues)", got, want)
	}
	h.clock.Set(next.Add(4 * time.Second))
	h.deliver()
	if n := len(h.fake.Messages(obChannel)); n != 1 {
		t.Errorf("messages = %d, want 1", n)
	}
}

func TestBot_DeliverDue_AmbiguousFailure(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, obBlindPolicy)
	h.fake.Fail("chat.postMessage", slackfake.Fault{DropAfter: true})
	l := h.submit("Acme")
	h.drain(10)

	msgs := h.fake.Messages(obChannel)
	if len(msgs) != 1 {
		t.Fatalf("cards in channel = %d, want exactly 1 after an ambiguous failure", len(msgs))
	}
	if got := h.lead(l.ID).Slack; got.TS != msgs[0].TS {
		t.Errorf("lead's card ts = %q, want the adopted %q", got.TS, msgs[0].TS)
	}
	// The audit trail says how the card was found, as data the history words.
	var posted []triage.Event
	for _, e := range h.lead(l.ID).Events {
		if e.Kind == triage.EventCardPosted {
			posted = append(posted, e)
		}
	}
	if len(posted) != 1 || posted[0].Args[triage.EvFound] != triage.FoundInHistory {
		t.Errorf("card_posted events = %+v, want one found in history", posted)
	}
	if n := len(h.fake.Calls("conversations.history")); n != 1 {
		t.Errorf("conversations.history calls = %d, want 1", n)
	}

	// The adopted card is a card like any other: votes update it.
	h.vote(l.ID, "UALICE", triage.ChoiceQualify)
	h.drain(10)
	if n := len(h.okCalls("chat.update")); n != 1 {
		t.Errorf("chat.update calls = %d, want 1", n)
	}
}

func TestBot_DeliverDue_AmbiguousFailureNotPosted(t *testing.T) {
	t.Parallel()
	// Dropped before Slack applied it: the history check finds nothing and
	// the card is posted once.
	h := newOBHarness(t, obBlindPolicy)
	h.fake.Fail("chat.postMessage", slackfake.Fault{Drop: true})
	h.submit("Acme")
	h.drain(10)
	if n := len(h.fake.Messages(obChannel)); n != 1 {
		t.Errorf("cards = %d, want 1", n)
	}
	if n := len(h.okCalls("conversations.history")); n != 1 {
		t.Errorf("conversations.history calls = %d, want 1", n)
	}
}

func TestBot_DeliverDue_ContextCanceled(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, obBlindPolicy)
	h.submit("Acme")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.bot.DeliverDue(ctx, obT0); !errors.Is(err, context.Canceled) {
		t.Errorf("DeliverDue with a cancelled context = %v, want context.Canceled", err)
	}
	if n := len(h.fake.Calls()); n != 0 {
		t.Errorf("Slack calls = %d, want 0", n)
	}
}

var obCriteriaPolicy = triage.Policy{Quorum: 3, Blind: true, Auto: true, TeamLead: "ULEAD", Criteria: []triage.Criterion{
	{ID: "need", Question: "Is there a real need?", Kind: triage.KindYesNo, Must: true, Weight: 2},
	{ID: "timing", Question: "Buying soon?", Kind: triage.KindScale, Weight: 1},
	{ID: "seats", Question: "How many seats?", Kind: triage.KindNumber},
}}

// thread returns the replies in the thread of the card at ts.
func (h *obHarness) thread(ts string) []slackfake.Message {
	var out []slackfake.Message
	for _, m := range h.fake.Messages(obChannel) {
		if m.ThreadTS == ts && m.TS != ts {
			out = append(out, m)
		}
	}
	return out
}

// submitCardOnly submits a lead whose only outbox item is its card, as if
// criteria had been configured later: tests then queue checklist items by
// hand.
func (h *obHarness) submitCardOnly(company string) triage.Lead {
	h.t.Helper()
	h.svc.Policy.Criteria = nil
	defer func() { h.svc.Policy.Criteria = h.pol.Criteria }()
	return h.submit(company)
}

func (h *obHarness) enqueue(items ...triage.OutboxItem) {
	h.t.Helper()
	if err := h.db.Enqueue(context.Background(), items...); err != nil {
		h.t.Fatalf("queueing: %v", err)
	}
}

func TestBot_DeliverDue_PostChecklist(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, obCriteriaPolicy)
	l := h.submit("Acme")
	h.drain(10)

	ref := h.lead(l.ID).Slack
	msgs := h.fake.Messages(obChannel)
	if len(msgs) != 2 || msgs[0].TS != ref.TS {
		t.Fatalf("messages = %+v, want the card then the checklist", msgs)
	}
	cl := msgs[1]
	if cl.ThreadTS != ref.TS {
		t.Errorf("checklist thread_ts = %q, want the card's %q", cl.ThreadTS, ref.TS)
	}
	if ref.ChecklistTS != cl.TS {
		t.Errorf("lead's ChecklistTS = %q, want the checklist's %q", ref.ChecklistTS, cl.TS)
	}
	if problems := slackfake.ValidateBlocks(cl.Blocks, slackfake.MaxMessageBlocks); len(problems) > 0 {
		t.Errorf("checklist blocks invalid: %v", problems)
	}
	for _, want := range []string{`"block_id":"crit.need"`, `"action_id":"lead.answer.yes"`, `"value":"` + l.ID.String() + ` need"`, `"block_id":"crit.seats"`} {
		if !strings.Contains(string(cl.Blocks), want) {
			t.Errorf("checklist lacks %s: %s", want, cl.Blocks)
		}
	}
	if !strings.Contains(string(cl.Metadata), "leadtriage_checklist") {
		t.Errorf("checklist metadata = %s, want it tagged", cl.Metadata)
	}
	if n := len(h.due()); n != 0 {
		t.Errorf("outbox holds %d items, want 0", n)
	}

	// Nothing is posted twice.
	h.clock.Advance(time.Hour)
	h.drain(3)
	if n := len(h.fake.Calls("chat.postMessage")); n != 2 {
		t.Errorf("chat.postMessage calls = %d, want 2", n)
	}
}

func TestBot_DeliverDue_UpdateChecklist(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, obCriteriaPolicy)
	l := h.submit("Acme")
	h.drain(10)
	if _, err := h.svc.Answer(context.Background(), l.ID, "UALICE", []triage.ParsedAnswer{{Criterion: "need", Value: triage.AnswerNo}}); err != nil {
		t.Fatal(err)
	}
	h.drain(10)

	ref := h.lead(l.ID).Slack
	var edits int
	for _, c := range h.okCalls("chat.update") {
		if c.Params.Get("ts") == ref.ChecklistTS {
			edits++
		}
	}
	if edits == 0 {
		t.Fatalf("no chat.update of the checklist %s: %+v", ref.ChecklistTS, h.fake.Calls("chat.update"))
	}
	cl, _ := h.fake.Message(obChannel, ref.ChecklistTS)
	if !strings.Contains(string(cl.Blocks), `*Answer:* No — \u003c@UALICE\u003e`) {
		t.Errorf("checklist does not show the answer: %s", cl.Blocks)
	}
	card, _ := h.fake.Message(obChannel, ref.TS)
	if !strings.Contains(string(card.Blocks), "must-haves: `need` answered *no*") {
		t.Errorf("card does not show the must-have answered no: %s", card.Blocks)
	}
	if n := len(h.fake.Messages(obChannel)); n != 2 {
		t.Errorf("messages = %d, want the card and the checklist only", n)
	}
}

func TestBot_DeliverDue_ChecklistWaitsForCard(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, obCriteriaPolicy)
	h.fake.Fail("chat.postMessage", slackfake.Fault{Status: 429, RetryAfter: "5"})
	l := h.submit("Acme")
	h.deliver()
	if n := len(h.fake.Calls("chat.postMessage")); n != 1 {
		t.Errorf("chat.postMessage calls in the first pass = %d, want 1 (the checklist waits for the card)", n)
	}
	h.drain(20)

	if dead := h.deadLetters(); len(dead) != 0 {
		t.Errorf("dead letters = %+v, want none", dead)
	}
	ref := h.lead(l.ID).Slack
	msgs := h.fake.Messages(obChannel)
	if len(msgs) != 2 || msgs[0].TS != ref.TS || msgs[1].ThreadTS != ref.TS || msgs[1].TS != ref.ChecklistTS {
		t.Errorf("messages = %+v, want the card then the checklist in its thread (ref %+v)", msgs, ref)
	}
}

func TestBot_DeliverDue_UpdateChecklistWaitsForPost(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, obCriteriaPolicy)
	l := h.submitCardOnly("Acme")
	h.drain(10)

	h.fake.Fail("chat.postMessage", slackfake.Fault{Status: 429, RetryAfter: "5"})
	h.enqueue(
		triage.OutboxItem{Kind: triage.OutboxPostChecklist, Lead: l.ID, Channel: obChannel, CreatedAt: obT0},
		triage.OutboxItem{Kind: triage.OutboxUpdateChecklist, Lead: l.ID, Channel: obChannel, CreatedAt: obT0},
	)
	h.deliver()
	if n := len(h.fake.Calls("chat.update")); n != 0 {
		t.Errorf("chat.update calls while the checklist post waits = %d, want 0", n)
	}
	h.drain(20)

	if dead := h.deadLetters(); len(dead) != 0 {
		t.Errorf("dead letters = %+v, want none", dead)
	}
	ref := h.lead(l.ID).Slack
	if got := h.thread(ref.TS); len(got) != 1 || got[0].TS != ref.ChecklistTS {
		t.Errorf("thread = %+v, want exactly the checklist (ref %+v)", got, ref)
	}
}

func TestBot_DeliverDue_UpdateChecklistNeverPosted(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, obCriteriaPolicy)
	l := h.submitCardOnly("Acme")
	h.drain(10)
	h.enqueue(triage.OutboxItem{Kind: triage.OutboxUpdateChecklist, Lead: l.ID, Channel: obChannel, CreatedAt: obT0})
	h.drain(5)

	dead := h.deadLetters()
	if len(dead) != 1 || dead[0].Kind != triage.OutboxUpdateChecklist || !strings.Contains(dead[0].LastError, "checklist was never posted") {
		t.Errorf("dead letters = %+v, want the update_checklist, never posted", dead)
	}
	if n := len(h.fake.Calls("chat.update")); n != 0 {
		t.Errorf("chat.update calls = %d, want 0", n)
	}
}

func TestBot_DeliverDue_ChecklistAmbiguousFailure(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, obCriteriaPolicy)
	l := h.submitCardOnly("Acme")
	h.drain(10)

	// Slack posts the checklist but the answer is lost: the retry must find
	// it instead of posting a second one.
	h.fake.Fail("chat.postMessage", slackfake.Fault{DropAfter: true})
	h.enqueue(triage.OutboxItem{Kind: triage.OutboxPostChecklist, Lead: l.ID, Channel: obChannel, CreatedAt: obT0})
	h.drain(10)

	ref := h.lead(l.ID).Slack
	got := h.thread(ref.TS)
	if len(got) != 1 {
		t.Fatalf("checklists in the thread = %d, want exactly 1", len(got))
	}
	if ref.ChecklistTS != got[0].TS {
		t.Errorf("ChecklistTS = %q, want the adopted %q", ref.ChecklistTS, got[0].TS)
	}
	if n := len(h.okCalls("conversations.replies")); n != 1 {
		t.Errorf("conversations.replies calls = %d, want 1", n)
	}
}

func TestBot_DeliverDue_Draft(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, obBlindPolicy)
	l := h.submit("Acme")
	h.drain(10)
	h.enqueue(triage.OutboxItem{Kind: triage.OutboxThreadReply, Lead: l.ID, Channel: obChannel, CreatedAt: obT0,
		Text:  "A decline to send them, if you like:",
		Plain: "Dear <!channel> & <@U123>,\n\nno ```thanks```.\n" + strings.Repeat("x", 5000)})
	h.drain(10)

	replies := h.thread(h.lead(l.ID).Slack.TS)
	if len(replies) != 1 {
		t.Fatalf("thread replies = %d, want 1", len(replies))
	}
	r := replies[0]
	if r.Text != "A decline to send them, if you like:" {
		t.Errorf("fallback text = %q", r.Text)
	}
	if problems := slackfake.ValidateBlocks(r.Blocks, slackfake.MaxMessageBlocks); len(problems) > 0 {
		t.Errorf("reply blocks invalid: %v", problems)
	}
	var blocks []struct {
		Text struct{ Text string } `json:"text"`
	}
	if err := json.Unmarshal(r.Blocks, &blocks); err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, b := range blocks {
		all = append(all, b.Text.Text)
	}
	joined := strings.Join(all, "\n")
	if !strings.Contains(joined, "```\nDear &lt;!channel&gt; &amp; &lt;@U123&gt;,\n\nno '''thanks'''.\n") {
		t.Errorf("draft not escaped inside a code block:\n%s", joined)
	}
	if strings.Contains(joined, "<!channel>") || strings.Contains(joined, "<@U123>") {
		t.Errorf("draft reaches Slack unescaped:\n%s", joined)
	}
	if !strings.HasSuffix(joined, "…\n```") {
		t.Errorf("long draft not cut to fit, or fence missing: …%s", joined[max(0, len(joined)-40):])
	}
}

func TestBot_DeliverDue_DeclineDraftEndToEnd(t *testing.T) {
	t.Parallel()
	pol := obBlindPolicy
	pol.Reasons = []string{"Too small <for us>"}
	h := newOBHarness(t, pol)
	l := h.submit("<!channel> Corp")
	h.drain(10)
	if _, err := h.svc.DecideByHand(context.Background(), l.ID, "ULEAD", triage.DecisionInput{Outcome: triage.StatusDisqualified, Reason: "Too small <for us>"}); err != nil {
		t.Fatal(err)
	}
	h.drain(10)

	replies := h.thread(h.lead(l.ID).Slack.TS)
	if len(replies) < 2 {
		t.Fatalf("thread replies = %d, want the outcome and a draft", len(replies))
	}
	var drafts int
	for _, r := range replies {
		if strings.Contains(r.Text, "<!channel>") || strings.Contains(string(r.Blocks), "<!channel>") || strings.Contains(string(r.Blocks), `\u003c!channel`) {
			t.Errorf("reply carries a live mention: text %q blocks %s", r.Text, r.Blocks)
		}
		if strings.Contains(string(r.Blocks), "```") {
			drafts++
		}
	}
	if drafts != 1 {
		t.Errorf("replies with a code-block draft = %d, want 1", drafts)
	}
}

// blockTexts decodes posted blocks into their action ids with values and
// every text they show.
func blockTexts(t *testing.T, raw json.RawMessage) (actions map[string]string, text string) {
	t.Helper()
	var blocks []struct {
		Type string `json:"type"`
		Text *struct {
			Text string `json:"text"`
		} `json:"text"`
		Elements []struct {
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
			Text     any    `json:"text"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(raw, &blocks); err != nil {
		t.Fatalf("decoding blocks %s: %v", raw, err)
	}
	actions = map[string]string{}
	var all []string
	for _, b := range blocks {
		if b.Text != nil {
			all = append(all, b.Text.Text)
		}
		for _, e := range b.Elements {
			if e.ActionID != "" {
				actions[e.ActionID] = e.Value
			}
			switch x := e.Text.(type) {
			case string: // a context block's text object
				all = append(all, x)
			case map[string]any: // a button's label
				if s, ok := x["text"].(string); ok {
					all = append(all, s)
				}
			}
		}
	}
	return actions, strings.Join(all, "\n")
}

// A reminder swept before the card is up waits for the card, then lands in
// its thread with both Snooze buttons, naming who has not voted.
func TestBot_DeliverDue_Reminder(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, obBlindPolicy)
	l := h.submit("Acme <!channel>")
	h.clock.Advance(2 * time.Hour)
	f := triage.FollowUp{After: time.Hour, Team: []string{"UALICE", "UBOB"}}
	res, err := h.svc.SweepReminders(context.Background(), f, h.clock.Now())
	if err != nil || len(res.Reminded) != 1 {
		t.Fatalf("SweepReminders = %+v, %v; want one reminder", res, err)
	}
	h.drain(10)

	ts := h.lead(l.ID).Slack.TS
	replies := h.thread(ts)
	if len(replies) != 1 {
		t.Fatalf("thread replies = %d, want the reminder", len(replies))
	}
	r := replies[0]
	if problems := slackfake.ValidateBlocks(r.Blocks, slackfake.MaxMessageBlocks); len(problems) > 0 {
		t.Errorf("reminder blocks invalid: %v", problems)
	}
	actions, text := blockTexts(t, r.Blocks)
	want := map[string]string{"lead.snooze.day": l.ID.String(), "lead.snooze.week": l.ID.String()}
	if diff := cmp.Diff(want, actions); diff != "" {
		t.Errorf("reminder buttons (-want +got):\n%s", diff)
	}
	for _, s := range []string{"*" + l.ID.String() + "*", "<@UALICE>", "<@UBOB>", "Snooze 1 day", "Snooze 1 week"} {
		if !strings.Contains(text, s) {
			t.Errorf("reminder lacks %q:\n%s", s, text)
		}
	}
	if !strings.Contains(r.Text, l.ID.String()) {
		t.Errorf("fallback text = %q", r.Text)
	}
	if strings.Contains(string(r.Blocks), "<!channel>") || strings.Contains(r.Text, "<!channel>") {
		t.Errorf("reminder carries lead text unescaped: %s", r.Blocks)
	}
}

func TestBot_DeliverDue_ReminderWithoutCard(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, obBlindPolicy)
	l := h.submit("Acme")
	h.drain(10)
	// A lead whose card was never posted: its reminder can never be.
	if _, err := h.db.UpdateLead(context.Background(), l.ID, func(l *triage.Lead) ([]triage.OutboxItem, error) {
		l.Slack.TS = ""
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	h.enqueue(triage.OutboxItem{Kind: triage.OutboxReminder, Lead: l.ID, Channel: obChannel, Text: "*L-1* has waited.", CreatedAt: obT0})
	h.drain(5)
	dead := h.deadLetters()
	if len(dead) != 1 || dead[0].Kind != triage.OutboxReminder || !strings.Contains(dead[0].LastError, "card was never posted") {
		t.Errorf("dead letters = %+v, want the reminder, card never posted", dead)
	}
}

// The escalation reaches the team lead in a direct message ("D"+id in the
// fake) with a link to the card.
func TestBot_DeliverDue_Direct(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, obBlindPolicy)
	h.fake.AddUser("ULEAD", "lead")
	l := h.submit("Acme & Co")
	h.drain(10)
	h.clock.Advance(3 * time.Hour)
	f := triage.FollowUp{EscalateAfter: 2 * time.Hour, TeamLead: "ULEAD"}
	if res, err := h.svc.SweepReminders(context.Background(), f, h.clock.Now()); err != nil || len(res.Escalated) != 1 {
		t.Fatalf("SweepReminders = %+v, %v; want one escalation", res, err)
	}
	h.drain(10)

	dms := h.fake.Messages("DULEAD")
	if len(dms) != 1 {
		t.Fatalf("direct messages to ULEAD = %d, want 1", len(dms))
	}
	if problems := slackfake.ValidateBlocks(dms[0].Blocks, slackfake.MaxMessageBlocks); len(problems) > 0 {
		t.Errorf("direct message blocks invalid: %v", problems)
	}
	_, text := blockTexts(t, dms[0].Blocks)
	for _, s := range []string{"*" + l.ID.String() + "*", "Acme &amp; Co", "|Open the card>", obChannel} {
		if !strings.Contains(text, s) {
			t.Errorf("direct message lacks %q:\n%s", s, text)
		}
	}
	if n := len(h.thread(h.lead(l.ID).Slack.TS)); n != 0 {
		t.Errorf("thread replies = %d, want none (escalation only)", n)
	}
	if calls := h.okCalls("chat.postMessage"); calls[len(calls)-1].Params.Get("channel") != "ULEAD" {
		t.Errorf("escalation posted to %q, want the user id", calls[len(calls)-1].Params.Get("channel"))
	}
}

func TestBot_DeliverDue_DirectUnknownUser(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, obBlindPolicy)
	h.enqueue(
		triage.OutboxItem{Kind: triage.OutboxDirect, User: "not a user", Text: "hi", CreatedAt: obT0},
		triage.OutboxItem{Kind: triage.OutboxDirect, User: "UGONE", Text: "hi", CreatedAt: obT0},
	)
	h.drain(5)
	dead := h.deadLetters()
	if len(dead) != 2 {
		t.Fatalf("dead letters = %+v, want both", dead)
	}
	if !strings.Contains(dead[0].LastError, "valid user") || !strings.Contains(dead[1].LastError, "channel_not_found") {
		t.Errorf("dead letters = %+v", dead)
	}
}

const obDigestChannel = "CDIGEST"

// A digest run posts its parts to the digest channel, in order, each within
// Block Kit's limits, with the pending leads escaped and linked.
func TestBot_DeliverDue_Digest(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, obBlindPolicy)
	var first triage.Lead
	for i := range 18 {
		l := h.submit(fmt.Sprintf("Acme <!here> %d", i))
		if i == 0 {
			first = l
		}
		h.clock.Advance(time.Minute)
	}
	h.drain(40)
	h.clock.Advance(48 * time.Hour)
	o := triage.DigestOptions{Channel: obDigestChannel, MaxPerPart: 15}
	key := triage.DigestKey(h.clock.Now(), time.UTC)
	sent, err := h.svc.RunDigest(context.Background(), key, h.clock.Now(), h.clock.Now(), o)
	if err != nil || !sent {
		t.Fatalf("RunDigest = %v, %v", sent, err)
	}
	h.drain(10)

	msgs := h.fake.Messages(obDigestChannel)
	if len(msgs) != 2 {
		t.Fatalf("digest messages = %d, want 2 parts", len(msgs))
	}
	for i, m := range msgs {
		if problems := slackfake.ValidateBlocks(m.Blocks, slackfake.MaxMessageBlocks); len(problems) > 0 {
			t.Errorf("part %d blocks invalid: %v", i+1, problems)
		}
		if n := slackfake.BlocksTextLen(m.Blocks); n > slackfake.MaxMessageBlocksText {
			t.Errorf("part %d carries %d characters", i+1, n)
		}
		if want := fmt.Sprintf("(%d/2)", i+1); !strings.Contains(m.Text, want) {
			t.Errorf("part %d text = %q, want %q", i+1, m.Text, want)
		}
		if strings.Contains(string(m.Blocks), "<!here>") {
			t.Errorf("part %d carries lead text unescaped", i+1)
		}
	}
	_, text := blockTexts(t, msgs[0].Blocks)
	line := "*" + first.ID.String() + "* · Acme &lt;!here&gt; 0 · 2d · no votes · <https://slack.com/app_redirect?channel=" + obChannel + "|card>"
	if !strings.Contains(text, line) {
		t.Errorf("first part lacks the oldest lead's line %q:\n%s", line, text)
	}
	if _, last := blockTexts(t, msgs[1].Blocks); !strings.Contains(last, "This week: 18 leads") {
		t.Errorf("last part lacks the weekly line:\n%s", last)
	}
	if n := len(h.due()); n != 0 {
		t.Errorf("outbox items left = %d", n)
	}
}

// A part whose post may have reached Slack before the connection broke is
// found in the channel's history and not posted again.
func TestBot_DeliverDue_DigestAmbiguousFailure(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, obBlindPolicy)
	h.submit("Acme")
	h.drain(10)
	h.fake.Fail("chat.postMessage", slackfake.Fault{DropAfter: true})
	o := triage.DigestOptions{Channel: obDigestChannel}
	if sent, err := h.svc.RunDigest(context.Background(), "k1", h.clock.Now(), h.clock.Now(), o); err != nil || !sent {
		t.Fatalf("RunDigest = %v, %v", sent, err)
	}
	h.drain(10)
	if n := len(h.fake.Messages(obDigestChannel)); n != 1 {
		t.Errorf("digest messages = %d, want exactly 1 after an ambiguous failure", n)
	}
	if n := len(h.fake.Calls("conversations.history")); n != 1 {
		t.Errorf("conversations.history calls = %d, want 1", n)
	}
	if dead := h.deadLetters(); len(dead) != 0 {
		t.Errorf("dead letters = %+v", dead)
	}
}

func TestBot_DeliverDue_DigestInvalidPayload(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, obBlindPolicy)
	for _, payload := range []string{"", "not json", "null", `{"Part":0}`} {
		h.enqueue(triage.OutboxItem{Kind: triage.OutboxDigest, Channel: obDigestChannel, Payload: []byte(payload), CreatedAt: obT0})
	}
	h.drain(5)
	dead := h.deadLetters()
	if len(dead) != 4 {
		t.Fatalf("dead letters = %d, want 4", len(dead))
	}
	for _, d := range dead {
		if d.Kind != triage.OutboxDigest || !strings.Contains(d.LastError, "invalid digest payload") {
			t.Errorf("dead letter = %+v, want an invalid digest payload", d)
		}
	}
	if n := len(h.fake.Messages(obDigestChannel)); n != 0 {
		t.Errorf("digest messages = %d, want none", n)
	}
}
