package bot

// White-box: dispatch is tested without any transport, by handing parsed
// Slack payloads straight to the unexported handlers.

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/leadtriage/leadtriage/storage/storagetest"
	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

var dispatchNow = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

const dispatchChannel = "CTRIAGE"

// failingStore fails UpdateLead with an error the domain does not know.
type failingStore struct{ triage.Store }

func (failingStore) UpdateLead(context.Context, triage.LeadID, func(*triage.Lead) ([]triage.OutboxItem, error)) (triage.Lead, error) {
	return triage.Lead{}, errors.New("disk on fire")
}

// recordingHandler keeps every log record's level and message.
type recordingHandler struct {
	mu   sync.Mutex
	recs []string
}

func (h *recordingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *recordingHandler) WithGroup(string) slog.Handler            { return h }
func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r.Level.String()+" "+r.Message)
	return nil
}

func (h *recordingHandler) records() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.recs...)
}

type dispatchFixture struct {
	bot  *Bot
	db   triage.Store
	lead triage.Lead
	logs *recordingHandler
}

func newDispatchFixture(t *testing.T, failing bool) *dispatchFixture {
	t.Helper()
	db := storagetest.MustOpen(t)
	var store triage.Store = db
	if failing {
		store = failingStore{db}
	}
	policy := triage.Policy{Quorum: 3, Blind: true, Auto: true}
	svc := &triage.Service{Store: store, Policy: policy, Channel: dispatchChannel, Now: func() time.Time { return dispatchNow }}
	logs := &recordingHandler{}
	b := New(Config{Channel: dispatchChannel, Policy: policy, Now: func() time.Time { return dispatchNow }}, nil, svc, db, slog.New(logs))
	lead, _, err := svc.Submit(t.Context(), triage.LeadInput{Company: "Acme Widgets", Email: "jan.jansen+CANARY@voorbeeld.nl"}, triage.Submission{Via: "webhook"})
	if err != nil {
		t.Fatalf("submitting the test lead: %v", err)
	}
	return &dispatchFixture{bot: b, db: db, lead: lead, logs: logs}
}

// told returns the texts queued as ephemeral messages to user, with their
// channel.
func (f *dispatchFixture) told(t *testing.T, user string) []string {
	t.Helper()
	items, err := f.db.DueOutbox(t.Context(), dispatchNow.Add(time.Hour), 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, it := range items {
		if it.Kind == triage.OutboxEphemeral && it.User == user {
			out = append(out, it.Channel+": "+it.Text)
		}
	}
	return out
}

func click(user, channel, actionID, value string) slack.InteractionCallback {
	ic := slack.InteractionCallback{Type: slack.InteractionTypeBlockActions}
	ic.User.ID = user
	ic.Container = slack.Container{Type: "message", ChannelID: channel, MessageTs: "1700000000.000100"}
	ic.Channel.ID = channel
	ic.ActionCallback.BlockActions = []*slack.BlockAction{{ActionID: actionID, Value: value}}
	return ic
}

func TestBot_HandleInteraction(t *testing.T) {
	t.Parallel()
	closed := triage.Message(triage.ErrLeadClosed)
	tests := []struct {
		name    string
		failing bool                                   // the store fails every lead update
		setup   func(t *testing.T, f *dispatchFixture) // before the click
		ic      func(lead triage.Lead) slack.InteractionCallback
		// wantTold are substrings of the ephemerals queued for UCLICK, in
		// order, each prefixed with its channel.
		wantTold  []string
		wantVote  triage.Choice
		wantOwner string
		wantError bool // an error-level log record
	}{
		{
			name: "Qualify",
			ic: func(l triage.Lead) slack.InteractionCallback {
				return click("UCLICK", "CTRIAGE", "lead.vote.qualify", l.ID.String())
			},
			wantTold: []string{"CTRIAGE: Your vote on *L-1*: *qualify*"},
			wantVote: triage.ChoiceQualify,
		},
		{
			name: "Disqualify",
			ic: func(l triage.Lead) slack.InteractionCallback {
				return click("UCLICK", "CTRIAGE", "lead.vote.disqualify", l.ID.String())
			},
			wantTold: []string{"CTRIAGE: Your vote on *L-1*: *disqualify*"},
			wantVote: triage.ChoiceDisqualify,
		},
		{
			name: "Unsure",
			ic: func(l triage.Lead) slack.InteractionCallback {
				return click("UCLICK", "CTRIAGE", "lead.vote.unsure", "l-1")
			},
			wantTold: []string{"CTRIAGE: Your vote on *L-1*: *unsure*"},
			wantVote: triage.ChoiceUnsure,
		},
		{
			name: "SameVoteAgain",
			setup: func(t *testing.T, f *dispatchFixture) {
				f.bot.handleInteraction(t.Context(), click("UCLICK", "CTRIAGE", "lead.vote.qualify", "L-1"))
			},
			ic: func(l triage.Lead) slack.InteractionCallback {
				return click("UCLICK", "CTRIAGE", "lead.vote.qualify", "L-1")
			},
			wantTold: []string{
				"CTRIAGE: Your vote on *L-1*: *qualify*",
				"CTRIAGE: You already voted *qualify* on *L-1*; nothing changed.",
			},
			wantVote: triage.ChoiceQualify,
		},
		{
			name:      "Claim",
			ic:        func(l triage.Lead) slack.InteractionCallback { return click("UCLICK", "CTRIAGE", "lead.claim", "L-1") },
			wantTold:  []string{"CTRIAGE: You own *L-1* now."},
			wantOwner: "UCLICK",
		},
		{
			name: "ClaimedByOther",
			setup: func(t *testing.T, f *dispatchFixture) {
				f.bot.handleInteraction(t.Context(), click("UOWNER", "CTRIAGE", "lead.claim", "L-1"))
			},
			ic:        func(l triage.Lead) slack.InteractionCallback { return click("UCLICK", "CTRIAGE", "lead.claim", "L-1") },
			wantTold:  []string{"CTRIAGE: L-1 is already claimed by <@UOWNER>."},
			wantOwner: "UOWNER",
		},
		{
			name: "DecidedLead",
			setup: func(t *testing.T, f *dispatchFixture) {
				for _, u := range []string{"U1", "U2", "U3"} {
					f.bot.handleInteraction(t.Context(), click(u, "CTRIAGE", "lead.vote.disqualify", "L-1"))
				}
			},
			ic: func(l triage.Lead) slack.InteractionCallback {
				return click("UCLICK", "CTRIAGE", "lead.vote.qualify", "L-1")
			},
			wantTold: []string{"CTRIAGE: " + closed},
		},
		{
			name: "UnknownLead",
			ic: func(l triage.Lead) slack.InteractionCallback {
				return click("UCLICK", "CTRIAGE", "lead.vote.qualify", "L-999")
			},
			wantTold: []string{"CTRIAGE: " + triage.Message(triage.ErrNotFound)},
		},
		{
			name: "BadValue",
			ic: func(l triage.Lead) slack.InteractionCallback {
				return click("UCLICK", "CTRIAGE", "lead.vote.qualify", "jan@example.com")
			},
			wantTold: []string{`CTRIAGE: id: "jan@example.com" is not a lead id`},
		},
		{
			name: "ChannelFromContainer",
			ic: func(l triage.Lead) slack.InteractionCallback {
				ic := click("UCLICK", "COTHER", "lead.vote.qualify", "L-999")
				ic.Channel.ID = "CIGNORED"
				return ic
			},
			wantTold: []string{"COTHER: " + triage.Message(triage.ErrNotFound)},
		},
		{
			name: "ChannelFallback",
			ic: func(l triage.Lead) slack.InteractionCallback {
				ic := click("UCLICK", "CFALLBACK", "lead.vote.qualify", "L-999")
				ic.Container = slack.Container{}
				return ic
			},
			wantTold: []string{"CFALLBACK: " + triage.Message(triage.ErrNotFound)},
		},
		{
			name:    "InternalError",
			failing: true,
			ic: func(l triage.Lead) slack.InteractionCallback {
				return click("UCLICK", "CTRIAGE", "lead.vote.qualify", "L-1")
			},
			wantTold:  []string{"CTRIAGE: Something went wrong, the team has been notified."},
			wantError: true,
		},
		{
			name: "UnknownAction",
			ic: func(l triage.Lead) slack.InteractionCallback {
				return click("UCLICK", "CTRIAGE", "lead.vote.maybe", "L-1")
			},
		},
		{
			name: "DecideArrivesLater",
			ic:   func(l triage.Lead) slack.InteractionCallback { return click("UCLICK", "CTRIAGE", "lead.decide", "L-1") },
		},
		{
			name: "NotBlockActions",
			ic: func(l triage.Lead) slack.InteractionCallback {
				ic := click("UCLICK", "CTRIAGE", "lead.vote.qualify", "L-1")
				ic.Type = slack.InteractionTypeViewSubmission
				return ic
			},
		},
		{
			name: "NilAction",
			ic: func(l triage.Lead) slack.InteractionCallback {
				ic := click("UCLICK", "CTRIAGE", "lead.vote.qualify", "L-1")
				ic.ActionCallback.BlockActions = []*slack.BlockAction{nil}
				return ic
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newDispatchFixture(t, tt.failing)
			if tt.setup != nil {
				tt.setup(t, f)
			}
			f.bot.handleInteraction(t.Context(), tt.ic(f.lead))

			told := f.told(t, "UCLICK")
			if len(told) != len(tt.wantTold) {
				t.Fatalf("told %q, want %d messages like %q", told, len(tt.wantTold), tt.wantTold)
			}
			for i, want := range tt.wantTold {
				if !strings.HasPrefix(told[i], want) {
					t.Errorf("told[%d] = %q, want it to start with %q", i, told[i], want)
				}
			}
			l, err := f.db.Lead(t.Context(), f.lead.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got := l.Votes["UCLICK"]; got != tt.wantVote {
				t.Errorf("vote = %q, want %q", got, tt.wantVote)
			}
			if l.Owner != tt.wantOwner {
				t.Errorf("owner = %q, want %q", l.Owner, tt.wantOwner)
			}
			var errs []string
			for _, r := range f.logs.records() {
				if strings.HasPrefix(r, "ERROR") {
					errs = append(errs, r)
				}
			}
			if got := len(errs) > 0; got != tt.wantError {
				t.Errorf("error logs %q, want any: %v", errs, tt.wantError)
			}
		})
	}
}

func TestBot_HandleEvent(t *testing.T) {
	t.Parallel()
	message := func(user string) slackevents.EventsAPIEvent {
		return slackevents.EventsAPIEvent{
			Type: slackevents.CallbackEvent,
			Data: &slackevents.EventsAPICallbackEvent{EventID: "Ev1"},
			InnerEvent: slackevents.EventsAPIInnerEvent{
				Type: string(slackevents.Message),
				Data: &slackevents.MessageEvent{Type: "message", User: user, Channel: dispatchChannel, Text: "budget: yes"},
			},
		}
	}
	reaction := func(user string) slackevents.EventsAPIEvent {
		return slackevents.EventsAPIEvent{
			Type: slackevents.CallbackEvent,
			InnerEvent: slackevents.EventsAPIInnerEvent{
				Type: string(slackevents.ReactionAdded),
				Data: &slackevents.ReactionAddedEvent{User: user, Reaction: "+1"},
			},
		}
	}
	tests := []struct {
		name string
		ev   slackevents.EventsAPIEvent
		want []string
	}{
		{"HumanMessage", message("UHUMAN"), []string{"DEBUG message event ignored"}},
		{"OwnMessage", message("UBOT"), nil},
		{"HumanReaction", reaction("UHUMAN"), []string{"DEBUG reaction event ignored"}},
		{"OwnReaction", reaction("UBOT"), nil},
		{"RateLimited", slackevents.EventsAPIEvent{Type: slackevents.AppRateLimited}, []string{"WARN slack is rate limiting the app's events"}},
		{"OtherInner", slackevents.EventsAPIEvent{Type: slackevents.CallbackEvent, InnerEvent: slackevents.EventsAPIInnerEvent{Type: "app_home_opened", Data: &slackevents.AppHomeOpenedEvent{}}}, []string{"DEBUG slack event ignored"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newDispatchFixture(t, false)
			f.bot.setOwnUserID("UBOT")
			f.bot.handleEvent(t.Context(), tt.ev)
			if diff := cmp.Diff(tt.want, f.logs.records()); diff != "" {
				t.Errorf("log records (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBot_HandleEventOnce(t *testing.T) {
	t.Parallel()
	f := newDispatchFixture(t, false)
	ev := slackevents.EventsAPIEvent{
		Type: slackevents.CallbackEvent,
		Data: &slackevents.EventsAPICallbackEvent{EventID: "Ev0ONCE"},
		InnerEvent: slackevents.EventsAPIInnerEvent{
			Type: string(slackevents.Message),
			Data: &slackevents.MessageEvent{Type: "message", User: "UHUMAN"},
		},
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { f.bot.handleEventOnce(t.Context(), ev) })
	}
	wg.Wait()
	var handled int
	for _, r := range f.logs.records() {
		if r == "DEBUG message event ignored" {
			handled++
		}
	}
	if handled != 1 {
		t.Errorf("event handled %d times, want once; logs %q", handled, f.logs.records())
	}
}

func TestBot_HandleCommand(t *testing.T) {
	t.Parallel()
	f := newDispatchFixture(t, false)
	for _, text := range []string{"", "help", "L-1", "jan.jansen+CANARY@voorbeeld.nl"} {
		got := f.bot.handleCommand(slack.SlashCommand{Command: "/qualify", Text: text, UserID: "U1", ChannelID: dispatchChannel})
		want := commandReply{ResponseType: "ephemeral", Text: helpText("/qualify")}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("/qualify %q (-want +got):\n%s", text, diff)
		}
	}
}

// TestBot_Spawn_RecoversPanics: a panicking handler is logged, does not
// take the process down, and still counts as done for Drain.
func TestBot_Spawn_RecoversPanics(t *testing.T) {
	t.Parallel()
	f := newDispatchFixture(t, false)
	f.bot.spawn("test", func(context.Context) { panic("boom") })
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := f.bot.Drain(ctx); err != nil {
		t.Fatalf("Drain = %v", err)
	}
	if diff := cmp.Diff([]string{"ERROR panic in slack handler"}, f.logs.records()); diff != "" {
		t.Errorf("log records (-want +got):\n%s", diff)
	}
}

// A button value that is not a lead id is quoted back to the clicker; what
// was sent must not turn into a mention or a link in that reply.
func TestBot_HandleInteraction_EscapesQuotedInput(t *testing.T) {
	t.Parallel()
	f := newDispatchFixture(t, false)
	f.bot.handleInteraction(t.Context(), click("UEVE", dispatchChannel, actionVoteQualify, "<!channel> <https://evil.example|bank>"))
	told := f.told(t, "UEVE")
	if len(told) != 1 {
		t.Fatalf("told %q, want one reply", told)
	}
	if strings.Contains(told[0], "<") || !strings.Contains(told[0], "&lt;!channel&gt;") {
		t.Errorf("reply %q quotes the input unescaped", told[0])
	}
}

// fixedResearcher answers every lead with the same findings and counts how
// it was asked.
type fixedResearcher struct {
	mu       sync.Mutex
	calls    int
	refresh  []bool
	findings triage.Findings
}

func (r *fixedResearcher) Research(_ context.Context, _ triage.Lead, refresh bool) (triage.Findings, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	r.refresh = append(r.refresh, refresh)
	return r.findings, nil
}

func (r *fixedResearcher) asked() []bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bool(nil), r.refresh...)
}

// postCard completes the fixture lead's post_card item as the outbox
// worker would, so that later card updates are items of their own rather
// than folded into the post.
func (f *dispatchFixture) postCard(t *testing.T) {
	t.Helper()
	items, err := f.db.DueOutbox(t.Context(), dispatchNow.Add(time.Hour), 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.Kind == triage.OutboxPostCard && it.Lead == f.lead.ID {
			err := f.db.CompleteOutbox(t.Context(), it.ID, it.Seq, func(l *triage.Lead) error {
				l.Slack = triage.SlackRef{Channel: dispatchChannel, TS: "1700000000.000100"}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatal("no post_card item for the fixture lead")
}

// cardUpdates counts the update_card items queued for lead id.
func (f *dispatchFixture) cardUpdates(t *testing.T, id triage.LeadID) int {
	t.Helper()
	items, err := f.db.DueOutbox(t.Context(), dispatchNow.Add(time.Hour), 1000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, it := range items {
		if it.Kind == triage.OutboxUpdateCard && it.Lead == id {
			n++
		}
	}
	return n
}

func TestBot_HandleInteraction_Research(t *testing.T) {
	t.Parallel()
	findings := triage.Findings{
		Facts:     triage.Facts{EmailDomain: "voorbeeld.nl", EmailDomainLive: true},
		Flags:     []triage.Flag{{Code: triage.FlagNoWebsite, Source: "website", Detail: "The lead gave no website."}},
		Providers: []triage.ProviderResult{{Name: "email", OK: true}},
	}

	t.Run("Rerun", func(t *testing.T) {
		t.Parallel()
		f := newDispatchFixture(t, false)
		f.postCard(t)
		res := &fixedResearcher{findings: findings}
		f.bot.svc.Researcher = res // before any research can start

		f.bot.handleInteraction(t.Context(), click("UCLICK", dispatchChannel, actionResearch, "L-1"))
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		if err := f.bot.svc.StopResearch(ctx); err != nil {
			t.Fatalf("StopResearch = %v", err)
		}

		want := []string{"CTRIAGE: Re-running research on *L-1*; the card updates when it is done."}
		if diff := cmp.Diff(want, f.told(t, "UCLICK")); diff != "" {
			t.Errorf("told (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]bool{true}, res.asked()); diff != "" {
			t.Errorf("research runs by refresh (-want +got):\n%s", diff)
		}
		l, err := f.db.Lead(t.Context(), f.lead.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !l.Research.At.Equal(dispatchNow) {
			t.Errorf("Research.At = %v, want %v", l.Research.At, dispatchNow)
		}
		if len(l.Research.Flags) != 1 || l.Research.Flags[0].Code != triage.FlagNoWebsite {
			t.Errorf("research flags = %+v, want the researcher's no_website", l.Research.Flags)
		}
		if n := f.cardUpdates(t, f.lead.ID); n != 1 {
			t.Errorf("%d update_card items queued, want 1", n)
		}
	})

	t.Run("SwitchedOff", func(t *testing.T) {
		t.Parallel()
		f := newDispatchFixture(t, false)
		f.postCard(t)
		f.bot.handleInteraction(t.Context(), click("UCLICK", dispatchChannel, actionResearch, "L-1"))
		want := []string{"CTRIAGE: Research is switched off (research.enabled = false)."}
		if diff := cmp.Diff(want, f.told(t, "UCLICK")); diff != "" {
			t.Errorf("told (-want +got):\n%s", diff)
		}
		l, err := f.db.Lead(t.Context(), f.lead.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !l.Research.At.IsZero() {
			t.Errorf("research recorded with research switched off: %+v", l.Research)
		}
		if n := f.cardUpdates(t, f.lead.ID); n != 0 {
			t.Errorf("%d update_card items queued, want none", n)
		}
	})

	t.Run("UnknownLead", func(t *testing.T) {
		t.Parallel()
		f := newDispatchFixture(t, false)
		res := &fixedResearcher{findings: findings}
		f.bot.svc.Researcher = res
		f.bot.handleInteraction(t.Context(), click("UCLICK", dispatchChannel, actionResearch, "L-999"))
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		if err := f.bot.svc.StopResearch(ctx); err != nil {
			t.Fatalf("StopResearch = %v", err)
		}
		want := []string{"CTRIAGE: " + triage.Message(triage.ErrNotFound)}
		if diff := cmp.Diff(want, f.told(t, "UCLICK")); diff != "" {
			t.Errorf("told (-want +got):\n%s", diff)
		}
		if got := res.asked(); len(got) != 0 {
			t.Errorf("researched an unknown lead: %v", got)
		}
	})

	t.Run("BadValue", func(t *testing.T) {
		t.Parallel()
		f := newDispatchFixture(t, false)
		f.bot.handleInteraction(t.Context(), click("UCLICK", dispatchChannel, actionResearch, "<!channel>"))
		told := f.told(t, "UCLICK")
		if len(told) != 1 || !strings.Contains(told[0], "is not a lead id") || strings.Contains(told[0], "<!") {
			t.Errorf("told %q, want one escaped 'not a lead id' reply", told)
		}
	})
}
