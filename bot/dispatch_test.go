package bot

// White-box: dispatch is tested without any transport, by handing parsed
// Slack payloads straight to the unexported handlers.

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/leadtriage/leadtriage/storage/storagetest"
	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

var dispatchNow = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

const dispatchChannel = "CTRIAGE"

// failingStore fails UpdateLead with an error the domain does not know.
type failingStore struct{ fullStore }

func (failingStore) UpdateLead(context.Context, triage.LeadID, func(*triage.Lead) ([]triage.OutboxItem, error)) (triage.Lead, error) {
	return triage.Lead{}, errors.New("disk on fire")
}

// recordingHandler keeps every log record's level and message, and every
// attribute value logged (to show what never reaches the log).
type recordingHandler struct {
	mu    sync.Mutex
	recs  []string
	attrs []string
}

func (h *recordingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, a := range as {
		h.attrs = append(h.attrs, a.Value.String())
	}
	return h
}
func (h *recordingHandler) WithGroup(string) slog.Handler { return h }
func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r.Level.String()+" "+r.Message)
	r.Attrs(func(a slog.Attr) bool {
		h.attrs = append(h.attrs, a.Value.String())
		return true
	})
	return nil
}

func (h *recordingHandler) records() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.recs...)
}

func (h *recordingHandler) attrValues() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.attrs...)
}

type dispatchFixture struct {
	bot   *Bot
	db    fullStore
	lead  triage.Lead
	logs  *recordingHandler
	slack *slackfake.Server
}

// dispatchCriteria are the fixture team's criteria: one of each kind the
// checklist has buttons or a select for, and one answered in the thread.
var dispatchCriteria = []triage.Criterion{
	{ID: "budget", Question: "Do they have a budget?", Kind: triage.KindYesNo, Must: true, Weight: 2},
	{ID: "size", Question: "How big is the opportunity?", Kind: triage.KindScale, Weight: 1},
	{ID: "plan", Question: "Which plan fits?", Kind: triage.KindChoice, Options: []string{"Enterprise", "Team", "Starter"}, Weight: 1},
	{ID: "seats", Question: "How many seats?", Kind: triage.KindNumber},
}

// dispatchPolicy is the fixture team's policy: the team lead ULEAD decides.
func dispatchPolicy() triage.Policy {
	return triage.Policy{
		Quorum: 3, Blind: true, Auto: true, TeamLead: "ULEAD",
		Criteria: dispatchCriteria,
		Reasons:  []string{"No budget", "Not our market"},
		Partners: []triage.Partner{{Name: "Beta Partners", Fits: "small web shops", Contact: "intro@beta.example"}},
	}
}

var dispatchReactions = map[string]triage.Choice{"+1": triage.ChoiceQualify, "-1": triage.ChoiceDisqualify, "thinking_face": triage.ChoiceUnsure}

func newDispatchFixture(t *testing.T, failing bool) *dispatchFixture {
	t.Helper()
	db := storagetest.MustOpen(t)
	var store fullStore = db
	if failing {
		store = failingStore{db}
	}
	policy := dispatchPolicy()
	svc := &triage.Service{Store: store, Policy: policy, Channel: dispatchChannel, Now: func() time.Time { return dispatchNow }}
	logs := &recordingHandler{}
	fake := slackfake.New(t)
	cfg := Config{Channel: dispatchChannel, Policy: policy, Now: func() time.Time { return dispatchNow }, Reactions: dispatchReactions}
	b := New(cfg, fake.Client(), svc, db, slog.New(logs))
	lead, _, err := svc.Submit(t.Context(), triage.LeadInput{Company: "Acme Widgets", Email: "jan.jansen+CANARY@voorbeeld.nl"}, triage.Submission{Via: "webhook"})
	if err != nil {
		t.Fatalf("submitting the test lead: %v", err)
	}
	return &dispatchFixture{bot: b, db: db, lead: lead, logs: logs, slack: fake}
}

// told returns the texts queued as ephemeral messages to user, with their
// channel.
func (f *dispatchFixture) told(t *testing.T, user string) []string {
	t.Helper()
	items, err := f.db.DueOutbox(t.Context(), dispatchNow.Add(time.Hour), 1000)
	if err != nil {
		t.Fatal(err)
	}
	items = worded(items, f.bot.cfg.Location, f.bot.cfg.Policy.Criteria)
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
	closed := errorWords{english}.text(triage.ErrLeadClosed)
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
			wantTold: []string{"CTRIAGE: " + errorWords{english}.text(triage.ErrNotFound)},
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
			wantTold: []string{"COTHER: " + errorWords{english}.text(triage.ErrNotFound)},
		},
		{
			name: "ChannelFallback",
			ic: func(l triage.Lead) slack.InteractionCallback {
				ic := click("UCLICK", "CFALLBACK", "lead.vote.qualify", "L-999")
				ic.Container = slack.Container{}
				return ic
			},
			wantTold: []string{"CFALLBACK: " + errorWords{english}.text(triage.ErrNotFound)},
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
			name:     "DecideByNonDecider",
			ic:       func(l triage.Lead) slack.InteractionCallback { return click("UCLICK", "CTRIAGE", "lead.decide", "L-1") },
			wantTold: []string{"CTRIAGE: Only <@ULEAD> can decide leads."},
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
		{"OtherInner", slackevents.EventsAPIEvent{Type: slackevents.CallbackEvent, InnerEvent: slackevents.EventsAPIInnerEvent{Type: "channel_created", Data: &slackevents.ChannelCreatedEvent{}}}, []string{"DEBUG slack event ignored"}},
		{"AppHomeMessagesTab", slackevents.EventsAPIEvent{Type: slackevents.CallbackEvent, InnerEvent: slackevents.EventsAPIInnerEvent{Type: "app_home_opened", Data: &slackevents.AppHomeOpenedEvent{User: "UHUMAN", Tab: "messages"}}}, []string{"DEBUG app home event ignored"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newDispatchFixture(t, false)
			f.bot.auth.setOwnUserID("UBOT")
			f.bot.handleEvent(t.Context(), tt.ev)
			if diff := cmp.Diff(tt.want, f.logs.records()); diff != "" {
				t.Errorf("log records (-want +got):\n%s", diff)
			}
		})
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

// postCard completes the fixture lead's post_card and post_checklist
// items as the outbox worker would, so that later card and checklist
// updates are items of their own rather than folded into the posts.
func (f *dispatchFixture) postCard(t *testing.T) {
	t.Helper()
	items, err := f.db.DueOutbox(t.Context(), dispatchNow.Add(time.Hour), 1000)
	if err != nil {
		t.Fatal(err)
	}
	posted := false
	for _, it := range items {
		if it.Lead != f.lead.ID {
			continue
		}
		var fn func(l *triage.Lead) error
		switch it.Kind {
		case triage.OutboxPostCard:
			posted = true
			fn = func(l *triage.Lead) error {
				l.Slack.Channel, l.Slack.TS = dispatchChannel, cardTS
				return nil
			}
		case triage.OutboxPostChecklist:
			fn = func(l *triage.Lead) error {
				l.Slack.ChecklistTS = "1700000000.000101"
				return nil
			}
		default:
			continue
		}
		if err := f.db.CompleteOutbox(t.Context(), it.ID, it.Seq, fn); err != nil {
			t.Fatal(err)
		}
	}
	if !posted {
		t.Fatal("no post_card item for the fixture lead")
	}
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
		want := []string{"CTRIAGE: " + errorWords{english}.text(triage.ErrNotFound)}
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

const cardTS = "1700000000.000100" // where postCard puts the fixture's card

// items returns every live outbox item.
func (f *dispatchFixture) items(t *testing.T) []triage.OutboxItem {
	t.Helper()
	items, err := f.db.DueOutbox(t.Context(), dispatchNow.Add(time.Hour), 1000)
	if err != nil {
		t.Fatal(err)
	}
	return worded(items, f.bot.cfg.Location, f.bot.cfg.Policy.Criteria)
}

func (f *dispatchFixture) stored(t *testing.T) triage.Lead {
	t.Helper()
	l, err := f.db.Lead(t.Context(), f.lead.ID)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// kinds counts the fixture lead's live outbox items by kind.
func (f *dispatchFixture) kinds(t *testing.T) map[triage.OutboxKind]int {
	t.Helper()
	n := map[triage.OutboxKind]int{}
	for _, it := range f.items(t) {
		if it.Lead == f.lead.ID {
			n[it.Kind]++
		}
	}
	return n
}

// selectAnswer is a checklist select choice, as Slack sends it.
func selectAnswer(user, value string) slack.InteractionCallback {
	ic := click(user, dispatchChannel, "lead.answer.choice", "")
	ic.ActionCallback.BlockActions[0].Type = "static_select"
	ic.ActionCallback.BlockActions[0].SelectedOption = slack.OptionBlockObject{Value: value}
	return ic
}

func mustNormalise(t *testing.T, id, raw string) string {
	t.Helper()
	for _, c := range dispatchCriteria {
		if c.ID == id {
			v, err := triage.NormaliseAnswer(c, raw)
			if err != nil {
				t.Fatalf("NormaliseAnswer(%s, %q) = %v", id, raw, err)
			}
			return v
		}
	}
	t.Fatalf("no criterion %q", id)
	return ""
}

func TestBot_HandleInteraction_Answer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		ic        slack.InteractionCallback
		criterion string
		raw       string // the answer expected, before normalisation; "" = none
		wantTold  string // prefix of the one ephemeral to UCLICK; "" = none
	}{
		{name: "Yes", ic: click("UCLICK", dispatchChannel, "lead.answer.yes", "L-1 budget"), criterion: "budget", raw: "yes"},
		{name: "No", ic: click("UCLICK", dispatchChannel, "lead.answer.no", "L-1 budget"), criterion: "budget", raw: "no"},
		{name: "DontKnow", ic: click("UCLICK", dispatchChannel, "lead.answer.unknown", "L-1 budget"), criterion: "budget", raw: "unknown"},
		{name: "Scale", ic: click("UCLICK", dispatchChannel, "lead.answer.4", "L-1 size"), criterion: "size", raw: "4"},
		{name: "Choice", ic: selectAnswer("UCLICK", "L-1 plan 1"), criterion: "plan", raw: "Team"},
		{name: "UnknownCriterion", ic: click("UCLICK", dispatchChannel, "lead.answer.yes", "L-1 colour"),
			wantTold: "CTRIAGE: " + errorWords{english}.text(triage.ErrUnknownCriteria)},
		{name: "KindMismatch", ic: click("UCLICK", dispatchChannel, "lead.answer.yes", "L-1 size"), wantTold: "CTRIAGE: size: accepted:"},
		{name: "ChoiceOutOfRange", ic: selectAnswer("UCLICK", "L-1 plan 3"), wantTold: "CTRIAGE: plan: accepted:"},
		{name: "ChoiceOnYesNo", ic: selectAnswer("UCLICK", "L-1 budget 0"), wantTold: "CTRIAGE: budget: accepted:"},
		{name: "MalformedValue", ic: click("UCLICK", dispatchChannel, "lead.answer.yes", "L-1"), wantTold: "CTRIAGE: That checklist is out of date"},
		{name: "UnknownLead", ic: click("UCLICK", dispatchChannel, "lead.answer.yes", "L-9 budget"), wantTold: "CTRIAGE: " + errorWords{english}.text(triage.ErrNotFound)},
		{name: "UnknownButton", ic: click("UCLICK", dispatchChannel, "lead.answer.maybe", "L-1 budget")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newDispatchFixture(t, false)
			f.postCard(t)
			f.bot.handleInteraction(t.Context(), tt.ic)

			told := f.told(t, "UCLICK")
			switch {
			case tt.wantTold == "" && len(told) != 0:
				t.Errorf("told %q, want nothing", told)
			case tt.wantTold != "" && (len(told) != 1 || !strings.HasPrefix(told[0], tt.wantTold)):
				t.Errorf("told %q, want one message starting %q", told, tt.wantTold)
			}
			l := f.stored(t)
			k := f.kinds(t)
			if tt.raw == "" {
				if len(l.Answers) != 0 || len(l.AnswersBy) != 0 {
					t.Errorf("answers stored: %v", l.AnswersBy)
				}
				if k[triage.OutboxUpdateChecklist] != 0 || k[triage.OutboxUpdateCard] != 0 {
					t.Errorf("updates queued without an answer; outbox kinds %v", k)
				}
				return
			}
			want := mustNormalise(t, tt.criterion, tt.raw)
			if got := l.AnswersBy[tt.criterion]["UCLICK"].Value; got != want {
				t.Errorf("answer by UCLICK on %s = %q, want %q", tt.criterion, got, want)
			}
			if got := l.Answers[tt.criterion].Value; got != want {
				t.Errorf("value of %s = %q, want %q", tt.criterion, got, want)
			}
			if k[triage.OutboxUpdateChecklist] != 1 || k[triage.OutboxUpdateCard] != 1 {
				t.Errorf("outbox kinds %v after the answer, want one checklist and one card update", k)
			}
		})
	}
}

// event parses an Events API callback the way the transports do.
func event(t *testing.T, id string, inner any) slackevents.EventsAPIEvent {
	t.Helper()
	ev, err := slackevents.ParseEvent(json.RawMessage(slackfake.EventCallbackJSON(id, inner)), slackevents.OptionNoVerifyToken())
	if err != nil {
		t.Fatalf("parsing event: %v", err)
	}
	return ev
}

// edited is a message_changed event: user's reply ts in the thread threadTS
// now reads text.
func edited(channel, user, text, ts, threadTS string) map[string]any {
	msg := map[string]any{"type": "message", "user": user, "text": text, "ts": ts,
		"edited": map[string]any{"user": user, "ts": "1700000009.000000"}}
	if threadTS != "" {
		msg["thread_ts"] = threadTS
	}
	return map[string]any{
		"type": "message", "subtype": "message_changed", "hidden": true, "channel": channel,
		"ts": "1700000009.000001", "event_ts": "1700000009.000001", "channel_type": "channel",
		"message":          msg,
		"previous_message": map[string]any{"type": "message", "user": user, "text": "budget: yes", "ts": ts, "thread_ts": threadTS},
	}
}

func TestBot_HandleEvent_ThreadReply(t *testing.T) {
	t.Parallel()
	botReply := slackfake.MessageEvent(dispatchChannel, "", "budget: no", "1700000002.000300", cardTS)
	delete(botReply, "user")
	botReply["subtype"], botReply["bot_id"] = "bot_message", "BOTHER"
	broadcast := slackfake.MessageEvent(dispatchChannel, "UHUMAN", "budget: no", "1700000002.000300", cardTS)
	broadcast["subtype"] = "thread_broadcast"
	deleted := map[string]any{"type": "message", "subtype": "message_deleted", "channel": dispatchChannel, "ts": "1700000009.000001",
		"deleted_ts": "1700000001.000200", "hidden": true, "previous_message": map[string]any{"type": "message", "user": "UHUMAN", "text": "budget: yes", "ts": "1700000001.000200", "thread_ts": cardTS}}
	tests := []struct {
		name string
		ev   any    // the second event, after UHUMAN's reply "budget: yes"
		want string // UHUMAN's budget answer afterwards, raw; "" = unchanged yes
		who  string // who answered, if not UHUMAN
	}{
		{name: "Reply"},
		{name: "Edit", ev: edited(dispatchChannel, "UHUMAN", "budget: no", "1700000001.000200", cardTS), want: "no"},
		{name: "EditOutsideThread", ev: edited(dispatchChannel, "UHUMAN", "budget: no", "1700000001.000200", "")},
		{name: "EditByBot", ev: edited(dispatchChannel, "UBOT", "budget: no", "1700000001.000200", cardTS)},
		{name: "Broadcast", ev: broadcast, want: "no"},
		{name: "OwnMessage", ev: slackfake.MessageEvent(dispatchChannel, "UBOT", "budget: no", "1700000002.000300", cardTS)},
		{name: "OtherBot", ev: botReply},
		{name: "TopLevel", ev: slackfake.MessageEvent(dispatchChannel, "UHUMAN", "budget: no", "1700000002.000300", "")},
		{name: "OtherThread", ev: slackfake.MessageEvent(dispatchChannel, "UHUMAN", "budget: no", "1700000002.000300", "1700000000.000999")},
		{name: "OtherChannel", ev: slackfake.MessageEvent("COTHER", "UHUMAN", "budget: no", "1700000002.000300", cardTS)},
		{name: "Deleted", ev: deleted},
		{name: "SecondPerson", ev: slackfake.MessageEvent(dispatchChannel, "UOTHER", "budget: no", "1700000002.000300", cardTS), who: "UOTHER", want: "no"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newDispatchFixture(t, false)
			f.bot.auth.setOwnUserID("UBOT")
			f.postCard(t)
			f.bot.handleEvent(t.Context(), event(t, "Ev1", slackfake.MessageEvent(dispatchChannel, "UHUMAN", "budget: yes", "1700000001.000200", cardTS)))
			yes := mustNormalise(t, "budget", "yes")
			if got := f.stored(t).AnswersBy["budget"]["UHUMAN"].Value; got != yes {
				t.Fatalf("after the reply, UHUMAN's budget answer = %q, want %q", got, yes)
			}
			if tt.ev == nil {
				return
			}
			f.bot.handleEvent(t.Context(), event(t, "Ev2", tt.ev))
			l := f.stored(t)
			who, want := "UHUMAN", yes
			if tt.who != "" {
				who = tt.who
			}
			if tt.want != "" {
				want = mustNormalise(t, "budget", tt.want)
			}
			if got := l.AnswersBy["budget"][who].Value; got != want {
				t.Errorf("%s's budget answer = %q, want %q", who, got, want)
			}
			if tt.who != "" {
				if got := l.AnswersBy["budget"]["UHUMAN"].Value; got != yes {
					t.Errorf("UHUMAN's answer changed to %q by another person's", got)
				}
			}
			if l.Answers["budget"].Value != want {
				t.Errorf("budget value = %q, want the latest answer %q", l.Answers["budget"].Value, want)
			}
			if told := f.told(t, "UHUMAN"); len(told) != 0 {
				t.Errorf("told %q, want nothing", told)
			}
			for _, v := range append(f.logs.records(), f.logs.attrValues()...) {
				if strings.Contains(v, "budget: ") {
					t.Errorf("the log carries the message text: %q", v)
				}
			}
		})
	}
}

// A reply that names a criterion but does not parse gets one hint in the
// thread; chatter gets nothing.
func TestBot_HandleEvent_ThreadReplyHint(t *testing.T) {
	t.Parallel()
	f := newDispatchFixture(t, false)
	f.postCard(t)
	hints := func() int {
		n := 0
		for _, it := range f.items(t) {
			if it.Kind == triage.OutboxThreadReply && strings.Contains(it.Text, "Accepted") {
				n++
			}
		}
		return n
	}
	f.bot.handleEvent(t.Context(), event(t, "Ev1", slackfake.MessageEvent(dispatchChannel, "UHUMAN", "nice company, let's call them", "1700000001.000200", cardTS)))
	if n := hints(); n != 0 {
		t.Errorf("%d hints after chatter, want none", n)
	}
	f.bot.handleEvent(t.Context(), event(t, "Ev2", slackfake.MessageEvent(dispatchChannel, "UHUMAN", "size: enormous", "1700000001.000300", cardTS)))
	if n := hints(); n != 1 {
		t.Errorf("%d hints after an unreadable answer, want 1", n)
	}
}

func TestBot_HandleEvent_Reaction(t *testing.T) {
	t.Parallel()
	react := func(added bool, user, name, ts string) map[string]any {
		return slackfake.ReactionEvent(added, user, name, dispatchChannel, ts, "UBOT")
	}
	onFile := react(true, "UHUMAN", "+1", cardTS)
	onFile["item"] = map[string]any{"type": "file", "file": map[string]any{"id": "F1"}}
	tests := []struct {
		name   string
		events []any
		want   triage.Choice // UHUMAN's vote afterwards
		told   []string      // prefixes of UHUMAN's ephemerals
	}{
		{name: "Added", events: []any{react(true, "UHUMAN", "+1", cardTS)}, want: triage.ChoiceQualify,
			told: []string{"CTRIAGE: Your vote on *L-1*: *qualify*"}},
		{name: "Unsure", events: []any{react(true, "UHUMAN", "thinking_face", cardTS)}, want: triage.ChoiceUnsure,
			told: []string{"CTRIAGE: Your vote on *L-1*: *unsure*"}},
		{name: "SkinTone", events: []any{react(true, "UHUMAN", "-1::skin-tone-4", cardTS)}, want: triage.ChoiceDisqualify,
			told: []string{"CTRIAGE: Your vote on *L-1*: *disqualify*"}},
		{name: "Removed", events: []any{react(true, "UHUMAN", "+1", cardTS), react(false, "UHUMAN", "+1", cardTS)},
			told: []string{"CTRIAGE: Your vote on *L-1*: *qualify*"}},
		{name: "RemovedOtherReaction", events: []any{react(true, "UHUMAN", "+1", cardTS), react(false, "UHUMAN", "-1", cardTS)},
			want: triage.ChoiceQualify, told: []string{"CTRIAGE: Your vote on *L-1*: *qualify*"}},
		{name: "Changed", events: []any{react(true, "UHUMAN", "+1", cardTS), react(true, "UHUMAN", "-1", cardTS), react(false, "UHUMAN", "+1", cardTS)},
			want: triage.ChoiceDisqualify, told: []string{"CTRIAGE: Your vote on *L-1*: *qualify*", "CTRIAGE: Your vote on *L-1*: *disqualify*"}},
		{name: "NotACard", events: []any{react(true, "UHUMAN", "+1", "1700000000.000999")}},
		{name: "NotAVote", events: []any{react(true, "UHUMAN", "tada", cardTS)}},
		{name: "Own", events: []any{react(true, "UBOT", "+1", cardTS)}},
		{name: "NotAMessage", events: []any{onFile}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newDispatchFixture(t, false)
			f.bot.auth.setOwnUserID("UBOT")
			f.postCard(t)
			for i, ev := range tt.events {
				f.bot.handleEvent(t.Context(), event(t, "Ev"+strconv.Itoa(i), ev))
			}
			l := f.stored(t)
			if got := l.Votes["UHUMAN"]; got != tt.want {
				t.Errorf("vote = %q, want %q", got, tt.want)
			}
			if _, ok := l.Votes["UBOT"]; ok {
				t.Error("the bot's own reaction voted")
			}
			told := f.told(t, "UHUMAN")
			if len(told) != len(tt.told) {
				t.Fatalf("told %q, want %d messages like %q", told, len(tt.told), tt.told)
			}
			for i, want := range tt.told {
				if !strings.HasPrefix(told[i], want) {
					t.Errorf("told[%d] = %q, want it to start with %q", i, told[i], want)
				}
			}
		})
	}
	t.Run("RemovedOnDecidedLead", func(t *testing.T) {
		t.Parallel()
		f := newDispatchFixture(t, false)
		f.postCard(t)
		for _, u := range []string{"U1", "U2", "UHUMAN"} {
			f.bot.handleEvent(t.Context(), event(t, "Ev"+u, react(true, u, "-1", cardTS)))
		}
		if l := f.stored(t); l.Status != triage.StatusDisqualified {
			t.Fatalf("status after three -1 = %s, want disqualified", l.Status)
		}
		f.bot.handleEvent(t.Context(), event(t, "EvRemove", react(false, "UHUMAN", "-1", cardTS)))
		told := f.told(t, "UHUMAN")
		if len(told) == 0 || told[len(told)-1] != "CTRIAGE: "+(errorWords{english}).text(triage.ErrLeadClosed) {
			t.Errorf("told %q, want the closed-lead message last", told)
		}
		if got := f.stored(t).Votes["UHUMAN"]; got != triage.ChoiceDisqualify {
			t.Errorf("vote on a decided lead withdrawn: %q", got)
		}
	})
	t.Run("NoReactionsConfigured", func(t *testing.T) {
		t.Parallel()
		f := newDispatchFixture(t, false)
		f.bot.cfg.Reactions = nil
		f.postCard(t)
		f.bot.handleEvent(t.Context(), event(t, "Ev1", react(true, "UHUMAN", "+1", cardTS)))
		if v := f.stored(t).Votes; len(v) != 0 {
			t.Errorf("votes %v without configured reactions", v)
		}
	})
}

// decideClick is a click on Decide with a live trigger_id from the fake.
func (f *dispatchFixture) decideClick(user string) slack.InteractionCallback {
	ic := click(user, dispatchChannel, actionDecide, f.lead.ID.String())
	ic.TriggerID = f.slack.NewTriggerIDFor(user)
	return ic
}

// viewBlocks decodes a view's blocks: block ids, and the outcome options.
func viewBlocks(t *testing.T, raw json.RawMessage) (ids, outcomes []string, view map[string]any) {
	t.Helper()
	var v struct {
		Blocks []struct {
			BlockID string `json:"block_id"`
			Type    string `json:"type"`
			Element struct {
				Options []struct {
					Value string `json:"value"`
				} `json:"options"`
			} `json:"element"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &view); err != nil {
		t.Fatal(err)
	}
	for _, b := range v.Blocks {
		if b.Type != "input" {
			continue
		}
		ids = append(ids, b.BlockID)
		if b.BlockID == "outcome" {
			for _, o := range b.Element.Options {
				outcomes = append(outcomes, o.Value)
			}
		}
	}
	return ids, outcomes, view
}

func TestBot_HandleInteraction_Decide(t *testing.T) {
	t.Parallel()
	t.Run("NonDecider", func(t *testing.T) {
		t.Parallel()
		f := newDispatchFixture(t, false)
		f.bot.handleInteraction(t.Context(), f.decideClick("UCLICK"))
		if diff := cmp.Diff([]string{"CTRIAGE: Only <@ULEAD> can decide leads."}, f.told(t, "UCLICK")); diff != "" {
			t.Errorf("told (-want +got):\n%s", diff)
		}
		if calls := f.slack.Calls(); len(calls) != 0 {
			t.Errorf("slack calls for a non-decider: %s", calls[0].Method)
		}
	})
	for _, tt := range []struct {
		name     string
		decided  bool
		outcomes []string
	}{
		{"Pending", false, []string{"qualified", "disqualified", "referred"}},
		{"Decided", true, []string{"reopen", "qualified", "disqualified", "referred"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newDispatchFixture(t, false)
			if tt.decided {
				for _, u := range []string{"U1", "U2", "U3"} {
					f.bot.handleInteraction(t.Context(), click(u, dispatchChannel, actionVoteQualify, "L-1"))
				}
			}
			f.bot.handleInteraction(t.Context(), f.decideClick("ULEAD"))
			calls := f.slack.Calls()
			if len(calls) != 1 || calls[0].Method != "views.open" || !calls[0].OK() {
				t.Fatalf("slack calls %+v, want one successful views.open", calls)
			}
			views := f.slack.Views()
			if len(views) != 1 || views[0].UserID != "ULEAD" {
				t.Fatalf("views %+v, want one opened for ULEAD", views)
			}
			ids, outcomes, view := viewBlocks(t, views[0].JSON)
			if diff := cmp.Diff([]string{"outcome", "owner", "reason", "partner", "note"}, ids); diff != "" {
				t.Errorf("input block ids (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.outcomes, outcomes); diff != "" {
				t.Errorf("outcomes (-want +got):\n%s", diff)
			}
			if view["callback_id"] != "lead.decide" || view["private_metadata"] != "L-1" {
				t.Errorf("callback_id %v, private_metadata %v", view["callback_id"], view["private_metadata"])
			}
			if told := f.told(t, "ULEAD"); len(told) != 0 {
				t.Errorf("told %q, want nothing", told)
			}
		})
	}
	t.Run("ExpiredTrigger", func(t *testing.T) {
		t.Parallel()
		f := newDispatchFixture(t, false)
		ic := f.decideClick("ULEAD")
		later := time.Now().Add(slackfake.TriggerTTL + time.Second)
		f.slack.SetNow(func() time.Time { return later })
		f.bot.handleInteraction(t.Context(), ic)
		if diff := cmp.Diff([]string{"CTRIAGE: That took too long — click Decide again."}, f.told(t, "ULEAD")); diff != "" {
			t.Errorf("told (-want +got):\n%s", diff)
		}
		if len(f.slack.Views()) != 0 {
			t.Error("a view opened with an expired trigger")
		}
	})
	t.Run("UnknownLead", func(t *testing.T) {
		t.Parallel()
		f := newDispatchFixture(t, false)
		ic := f.decideClick("ULEAD")
		ic.ActionCallback.BlockActions[0].Value = "L-99"
		f.bot.handleInteraction(t.Context(), ic)
		if diff := cmp.Diff([]string{"CTRIAGE: " + (errorWords{english}).text(triage.ErrNotFound)}, f.told(t, "ULEAD")); diff != "" {
			t.Errorf("told (-want +got):\n%s", diff)
		}
		if calls := f.slack.Calls(); len(calls) != 0 {
			t.Errorf("slack called for an unknown lead: %s", calls[0].Method)
		}
	})
}

// TestChecklistContract clicks every answer element the checklist renders
// and checks that the dispatcher records it: the two sides of the shared
// action-id and value contract, tested together.
func TestChecklistContract(t *testing.T) {
	t.Parallel()
	f := newDispatchFixture(t, false)
	_, blocks := renderChecklist(f.lead, dispatchPolicy())
	raw, err := json.Marshal(blocks)
	if err != nil {
		t.Fatal(err)
	}
	var bs []struct {
		Elements []struct {
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
			Options  []struct {
				Value string `json:"value"`
			} `json:"options"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(raw, &bs); err != nil {
		t.Fatal(err)
	}
	var clicks []slack.InteractionCallback
	for _, b := range bs {
		for _, e := range b.Elements {
			if !strings.HasPrefix(e.ActionID, "lead.answer.") {
				continue
			}
			if len(e.Options) > 0 {
				for _, o := range e.Options {
					clicks = append(clicks, selectAnswer("UCLICK", o.Value))
				}
				continue
			}
			clicks = append(clicks, click("UCLICK", dispatchChannel, e.ActionID, e.Value))
		}
	}
	// yes/no/unknown, 1–5, and three plan options.
	if len(clicks) != 3+5+3 {
		t.Fatalf("%d answer elements in the checklist, want 11:\n%s", len(clicks), raw)
	}
	for _, ic := range clicks {
		a := ic.ActionCallback.BlockActions[0]
		before := f.stored(t).Events
		f.bot.handleInteraction(t.Context(), ic)
		if told := f.told(t, "UCLICK"); len(told) != 0 {
			t.Fatalf("%s %q%q refused: %q", a.ActionID, a.Value, a.SelectedOption.Value, told)
		}
		after := f.stored(t).Events
		if len(after) == len(before) || after[len(after)-1].Kind != triage.EventAnswered {
			t.Errorf("%s %q%q recorded no answer", a.ActionID, a.Value, a.SelectedOption.Value)
		}
	}
}
