package bot_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/leadtriage/leadtriage/bot"
	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/leadtriage/leadtriage/triage"
)

// blockedHarness is an obHarness whose bot also has metrics and a signing
// secret, so that the test sees the gauge and sends Slack's events.
type blockedHarness struct {
	*obHarness
	reg    *prometheus.Registry
	events int
	logs   lockedBuffer
}

// lockedBuffer collects the bot's logs from its goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newBlockedHarness(t *testing.T) *blockedHarness {
	t.Helper()
	h := &blockedHarness{obHarness: newOBHarness(t, obBlindPolicy)}
	h.fake.AddUser("ULEAD", "lead")
	h.restart()
	return h
}

// restart builds a new bot over the same file and fake Slack: nothing in
// memory survives, as after a process restart.
func (h *blockedHarness) restart() {
	h.reg = prometheus.NewRegistry()
	h.svc = &triage.Service{Store: h.db, Policy: h.pol, Channel: obChannel, Now: h.clock.Now}
	h.bot = bot.New(bot.Config{Channel: obChannel, Policy: h.pol, Now: h.clock.Now, Metrics: h.reg, SigningSecrets: []string{secretOld}},
		h.fake.Client(), h.svc, h.db, slog.New(slog.NewTextHandler(&h.logs, nil)))
	h.svc.Wake = h.bot.Wake
	// What RunOutbox does first at a start.
	h.bot.RetryBlocked(context.Background(), "start", nil)
}

// event delivers a signed Events API callback as Slack sends it and waits
// until the bot has handled it. The inner events are shaped as Slack's
// reference examples: member_joined_channel (user, channel, channel_type,
// team, inviter) at docs.slack.dev/reference/events/member_joined_channel,
// channel_unarchive (channel, user) at .../events/channel_unarchive,
// app_uninstalled (type only) at .../events/app_uninstalled, and
// tokens_revoked ({"tokens":{"oauth":[…],"bot":[…]}}, user ids) at
// .../events/tokens_revoked, as in java-slack-sdk's
// typescript-types/events-api/EventsTokensRevokedPayload.d.ts.
func (h *blockedHarness) event(inner map[string]any) {
	h.t.Helper()
	h.events++
	body := slackfake.EventCallbackJSON(fmt.Sprintf("EvBlocked%d", h.events), inner)
	rec := httptest.NewRecorder()
	h.bot.HTTPHandler().ServeHTTP(rec, signedAt("/slack/events", secretOld, "application/json", body, h.clock.Now()))
	if rec.Code != http.StatusOK {
		h.t.Fatalf("event %v: status %d %s", inner["type"], rec.Code, rec.Body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.bot.Drain(ctx); err != nil {
		h.t.Fatalf("draining: %v", err)
	}
}

// run makes a pass every step of fake time for d.
func (h *blockedHarness) run(d, step time.Duration) {
	h.t.Helper()
	for end := h.clock.Now().Add(d); h.clock.Now().Before(end); h.clock.Advance(step) {
		h.deliver()
	}
}

// gauge reads leadtriage_outbox_blocked{cause}.
func (h *blockedHarness) gauge(cause string) float64 {
	h.t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		h.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "leadtriage_outbox_blocked" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "cause" && lp.GetValue() == cause {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	h.t.Fatalf("no leadtriage_outbox_blocked{cause=%q}", cause)
	return 0
}

// cardsInOrder returns the companies on the channel's top-level cards, in
// the order Slack got them.
func (h *blockedHarness) cardsInOrder() []string {
	var out []string
	for _, m := range h.fake.Messages(obChannel) {
		if m.ThreadTS != "" && m.ThreadTS != m.TS {
			continue
		}
		for _, c := range []string{"Alpha", "Bravo", "Charlie"} {
			if strings.Contains(string(m.Blocks), c) {
				out = append(out, c)
			}
		}
	}
	return out
}

// dmsToLead counts the direct messages Slack took for the team lead.
func (h *blockedHarness) dmsToLead() int {
	n := 0
	for _, c := range h.okCalls("chat.postMessage") {
		if c.Params.Get("channel") == "ULEAD" {
			n++
		}
	}
	return n
}

// TestBot_Blocked_EveryFixableCause: for each cause a person can fix, leads
// arriving while Slack refuses are kept and parked, not dead-lettered; the
// bot asks Slack at most a few times a minute, says why in /healthz's words
// and the gauge, tells the team lead once (where the token still works);
// once the cause is gone, every card goes out exactly once, in order,
// without a restart, and with one.
func TestBot_Blocked_EveryFixableCause(t *testing.T) {
	t.Parallel()
	type cause struct {
		code    string
		block   func(f *slackfake.Server)
		unblock func(h *blockedHarness) // removes the cause, and sends the event Slack sends, if any
		told    int                     // DMs to the team lead
	}
	refuse := func(r slackfake.Refusal) (func(*slackfake.Server), func(*blockedHarness)) {
		return func(f *slackfake.Server) { f.Refuse(r) }, func(h *blockedHarness) { h.fake.Lift(r) }
	}
	var causes []cause
	causes = append(causes,
		cause{code: "not_in_channel", told: 1,
			block: func(f *slackfake.Server) { f.RemoveBot(obChannel) },
			unblock: func(h *blockedHarness) {
				h.fake.InviteBot(obChannel)
				h.event(slackfake.MemberJoinedChannelEvent(slackfake.BotUserID, obChannel, "UALICE"))
			}},
		cause{code: "is_archived", told: 1,
			block: func(f *slackfake.Server) { f.Archive(obChannel) },
			unblock: func(h *blockedHarness) {
				h.fake.Unarchive(obChannel)
				h.event(slackfake.ChannelUnarchiveEvent(obChannel, "UALICE"))
			}},
	)
	for _, c := range []struct {
		code, method, channel string
		event                 bool
	}{
		// A private channel the app was never invited to looks like no channel at all.
		{"channel_not_found", "*", obChannel, true},
		{"restricted_action", "chat.postMessage", obChannel, false},
		{"missing_scope", "chat.postMessage", obChannel, false},
		{"invalid_auth", "*", "", false},
		{"account_inactive", "*", "", false},
		{"token_revoked", "*", "", false},
	} {
		block, lift := refuse(slackfake.Refusal{Method: c.method, Channel: c.channel, Error: c.code})
		told := 1
		if c.channel == "" {
			told = 0 // the token does not work: no DM either
		}
		unblock := lift
		if c.event {
			unblock = func(h *blockedHarness) {
				lift(h)
				h.event(slackfake.MemberJoinedChannelEvent(slackfake.BotUserID, obChannel, "UALICE"))
			}
		}
		causes = append(causes, cause{code: c.code, block: block, unblock: unblock, told: told})
	}

	for _, c := range causes {
		for _, restart := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/restart=%v", c.code, restart), func(t *testing.T) {
				t.Parallel()
				h := newBlockedHarness(t)
				c.block(h.fake)
				for _, company := range []string{"Alpha", "Bravo", "Charlie"} {
					h.submit(company)
					h.clock.Advance(10 * time.Second)
					h.deliver()
				}
				// Half an hour of passes every 10 s: the bot must not loop.
				calls := len(h.fake.Calls())
				h.run(30*time.Minute, 10*time.Second)
				n := len(h.fake.Calls()) - calls
				t.Logf("%d calls to Slack in 30 minutes while blocked", n)
				if n > 2*(30/5+1)+c.told {
					t.Errorf("%d calls to Slack in 30 minutes while blocked, want a few per 5 minutes:\n%v", n, methods(h.fake.Calls()[calls:]))
				}
				blocked, err := h.db.BlockedOutbox(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if len(blocked) != 3 {
					t.Errorf("blocked items = %+v, want the three card posts", blocked)
				}
				for _, it := range blocked {
					if it.Kind != triage.OutboxPostCard || it.Blocked != c.code {
						t.Errorf("blocked item %+v, want a post_card blocked on %s", it, c.code)
					}
				}
				if dead := h.deadLetters(); len(dead) != 0 {
					t.Errorf("dead letters = %+v, want none: a person can fix %s", dead, c.code)
				}
				leads, err := h.db.Leads(context.Background(), triage.LeadFilter{})
				if err != nil || len(leads) != 3 {
					t.Errorf("leads = %d, %v; want all three kept", len(leads), err)
				}
				problems := h.bot.HealthProblems(context.Background())
				if len(problems) != 1 || !strings.Contains(problems[0], c.code) || !strings.Contains(problems[0], "fix: ") {
					t.Errorf("health problems = %q, want one naming %s and its fix", problems, c.code)
				}
				if g := h.gauge(c.code); g != 3 {
					t.Errorf("leadtriage_outbox_blocked{cause=%q} = %v, want 3", c.code, g)
				}
				if n := h.dmsToLead(); n != c.told {
					t.Errorf("DMs to the team lead = %d, want %d", n, c.told)
				}
				if logs := h.logs.String(); !strings.Contains(logs, "cause="+c.code) || !strings.Contains(logs, "fix=") {
					t.Errorf("no log line naming the cause and the fix:\n%s", logs)
				}

				if restart {
					h.restart()
					h.deliver()
					if n := len(h.cardsInOrder()); n != 0 {
						t.Fatalf("%d cards posted after a restart with the cause still there", n)
					}
				}
				c.unblock(h)
				// Without an event the next try comes within 5 minutes.
				h.run(6*time.Minute, 10*time.Second)
				if got := h.cardsInOrder(); strings.Join(got, ",") != "Alpha,Bravo,Charlie" {
					t.Errorf("cards = %v, want Alpha, Bravo, Charlie, each once", got)
				}
				if problems := h.bot.HealthProblems(context.Background()); len(problems) != 0 {
					t.Errorf("health problems after the fix = %q", problems)
				}
				if g := h.gauge(c.code); g != 0 {
					t.Errorf("gauge after the fix = %v, want 0", g)
				}
				if n := h.dmsToLead(); n != c.told {
					t.Errorf("DMs to the team lead = %d, want still %d", n, c.told)
				}
			})
		}
	}
}

func methods(calls []slackfake.Call) []string {
	var out []string
	for _, c := range calls {
		out = append(out, c.Method+" "+c.Params.Get("channel")+" "+c.Error)
	}
	return out
}

// TestBot_Blocked_AppUninstalled: after app_uninstalled (or tokens_revoked
// for the bot's token) the outbox stops calling Slack at once and keeps
// everything; auth.test is tried every 5 minutes, and when it passes again
// (a working token) everything goes out in order.
func TestBot_Blocked_AppUninstalled(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		event map[string]any
		cause string
	}{
		{"app_uninstalled", slackfake.AppUninstalledEvent(), "app_uninstalled"},
		{"tokens_revoked", slackfake.TokensRevokedEvent(slackfake.BotUserID), "tokens_revoked"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newBlockedHarness(t)
			if err := h.bot.Start(t.Context()); err != nil { // learns its own user id
				t.Fatal(err)
			}
			revoked := slackfake.Refusal{Method: "*", Error: "token_revoked"}
			h.fake.Refuse(revoked)
			h.event(tt.event)
			calls := len(h.fake.Calls())
			for _, company := range []string{"Alpha", "Bravo", "Charlie"} {
				h.submit(company)
				h.deliver()
			}
			if n := len(h.fake.Calls()) - calls; n != 0 {
				t.Errorf("%d calls to Slack right after %s, want none", n, tt.name)
			}
			h.run(20*time.Minute, 10*time.Second)
			got := h.fake.Calls()[calls:]
			for _, c := range got {
				if c.Method != "auth.test" {
					t.Errorf("call %s while the app is uninstalled, want only auth.test", c.Method)
				}
			}
			if len(got) > 5 {
				t.Errorf("%d auth.test calls in 20 minutes, want one per 5 minutes", len(got))
			}
			problems := h.bot.HealthProblems(context.Background())
			if len(problems) == 0 || !strings.Contains(strings.Join(problems, "\n"), tt.cause) {
				t.Errorf("health problems = %q, want %s", problems, tt.cause)
			}
			if h.dmsToLead() != 0 {
				t.Error("a DM with a token that does not work")
			}
			if logs := h.logs.String(); !strings.Contains(logs, "level=ERROR") || !strings.Contains(logs, "stops calling slack") {
				t.Errorf("no loud log line about %s:\n%s", tt.name, logs)
			}
			h.fake.Lift(revoked)
			h.run(6*time.Minute, 10*time.Second)
			if got := h.cardsInOrder(); strings.Join(got, ",") != "Alpha,Bravo,Charlie" {
				t.Errorf("cards = %v, want Alpha, Bravo, Charlie", got)
			}
			if problems := h.bot.HealthProblems(context.Background()); len(problems) != 0 {
				t.Errorf("health problems after the fix = %q", problems)
			}
		})
	}
	t.Run("other tokens revoked", func(t *testing.T) {
		t.Parallel()
		h := newBlockedHarness(t)
		if err := h.bot.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		h.event(slackfake.TokensRevokedEvent("USOMEONE"))
		h.submit("Alpha")
		h.deliver()
		if got := h.cardsInOrder(); len(got) != 1 {
			t.Errorf("cards = %v: a user's revoked token stopped the bot", got)
		}
	})
}

// TestBot_Blocked_OtherChannelsGoOn: a channel the app is not in holds back
// only its own messages; the team lead's DM about it goes out.
func TestBot_Blocked_OtherChannelsGoOn(t *testing.T) {
	t.Parallel()
	h := newBlockedHarness(t)
	h.fake.RemoveBot(obChannel)
	h.submit("Alpha")
	h.deliver()
	h.enqueue(triage.OutboxItem{Kind: triage.OutboxDirect, User: "ULEAD", Text: "hello", CreatedAt: h.clock.Now()})
	h.run(10*time.Second, time.Second)
	if n := h.dmsToLead(); n != 2 {
		t.Errorf("DMs to the team lead = %d, want the notice and the other DM", n)
	}
	var notice string
	for _, c := range h.okCalls("chat.postMessage") {
		if c.Params.Get("channel") == "ULEAD" && strings.Contains(c.Params.Get("text"), "cannot post") {
			notice = c.Params.Get("text")
		}
	}
	if !strings.Contains(notice, "<#"+obChannel+">") || !strings.Contains(notice, "/invite @leadtriage") {
		t.Errorf("notice to the team lead = %q, want the channel and the fix", notice)
	}
}

// TestBot_RateLimitedUpdateDoesNotDelayNewCard: Slack limits each method on
// its own: a 429 on chat.update holds the card updates, not the next card.
func TestBot_RateLimitedUpdateDoesNotDelayNewCard(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, obBlindPolicy)
	first := h.submit("Alpha")
	h.drain(5)
	h.fake.Fail("chat.update", slackfake.Fault{Status: http.StatusTooManyRequests, RetryAfter: "30"})
	h.vote(first.ID, "UALICE", triage.ChoiceQualify)
	h.deliver() // the update earns the 429
	if n := len(h.fake.Calls("chat.update")); n != 1 {
		t.Fatalf("chat.update calls = %d, want the one that got the 429", n)
	}
	second := h.submit("Bravo")
	at := h.clock.Now()
	h.deliver()
	if h.lead(second.ID).Slack.TS == "" {
		t.Errorf("the new card waits behind chat.update's 429; calls:\n%v", methods(h.fake.Calls()))
	}
	if !h.clock.Now().Equal(at) {
		t.Fatal("the clock moved")
	}
	h.drain(10)
	updates := h.okCalls("chat.update")
	if len(updates) == 0 || updates[0].At.IsZero() {
		t.Fatal("the card update never went out")
	}
	if !h.clock.Now().After(at.Add(29 * time.Second)) {
		t.Errorf("the update went out at %v, before its Retry-After", h.clock.Now())
	}
}
