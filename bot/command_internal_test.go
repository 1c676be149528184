package bot

// White-box: the /qualify parser and handlers are unexported; their tests
// run against a real bbolt store and the fake Slack, without any transport.

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/leadtriage/leadtriage/storage/storagetest"
	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
)

func TestParseCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
		want command
	}{
		{"Empty", "", command{kind: cmdModal}},
		{"Blank", "  \t ", command{kind: cmdModal}},
		{"Help", "help", command{kind: cmdHelp}},
		{"HelpUpper", " HELP ", command{kind: cmdHelp}},
		{"HelpWithWords", "help me", command{kind: cmdHelp}},
		{"List", "list", command{kind: cmdList, filter: listPending}},
		{"ListUpperSpaces", "  LIST   Mine ", command{kind: cmdList, filter: listMine}},
		{"ListPending", "list pending", command{kind: cmdList, filter: listPending}},
		{"ListAll", "list all", command{kind: cmdList, filter: listAll}},
		{"ListMineExtra", "list mine extra", command{kind: cmdHelp, arg: "list mine extra", suggestion: "list mine"}},
		{"ListFilterTypo", "list pendng", command{kind: cmdHelp, arg: "list pendng", suggestion: "list pending"}},
		{"ListBogus", "list bogus", command{kind: cmdHelp, arg: "list bogus", suggestion: "list"}},
		{"Digest", "Digest", command{kind: cmdDigest}},
		{"DigestExtra", "digest now", command{kind: cmdHelp, arg: "digest now", suggestion: "digest"}},
		{"Show", "L-42", command{kind: cmdShow, lead: 42, arg: "L-42"}},
		{"ShowLower", "l-7", command{kind: cmdShow, lead: 7, arg: "l-7"}},
		{"ShowZero", "L-0", command{kind: cmdShow, arg: "L-0"}},
		{"ShowOverflow", "L-99999999999999999999999", command{kind: cmdShow, arg: "L-99999999999999999999999"}},
		{"BareNumber", "42", command{kind: cmdHelp, arg: "42", suggestion: "L-42", addHint: true}},
		{"History", "L-42 history", command{kind: cmdHistory, lead: 42, arg: "L-42"}},
		{"HistoryUpper", "l-42   HISTORY", command{kind: cmdHistory, lead: 42, arg: "l-42"}},
		{"HistoryTypo", "L-42 histroy", command{kind: cmdHelp, arg: "L-42 histroy", suggestion: "L-42 history"}},
		{"HistoryExtra", "L-42 history extra", command{kind: cmdHelp, arg: "L-42 history extra", suggestion: "L-42 history"}},
		{"LeadWithJunk", "L-42 delete", command{kind: cmdHelp, arg: "L-42 delete", suggestion: "L-42"}},
		{"HistoryAlone", "history", command{kind: cmdHelp, arg: "history", suggestion: "L-42 history", addHint: true}},
		{"TypoList", "lsit", command{kind: cmdHelp, arg: "lsit", suggestion: "list", addHint: true}},
		{"TypoHelp", "hepl", command{kind: cmdHelp, arg: "hepl", suggestion: "help", addHint: true}},
		{"TypoDigest", "Digets", command{kind: cmdHelp, arg: "Digets", suggestion: "digest", addHint: true}},
		{"TypoHistory", "histry", command{kind: cmdHelp, arg: "histry", suggestion: "L-42 history", addHint: true}},
		{"TypoListWithFilter", "lst mine", command{kind: cmdHelp, arg: "lst mine", suggestion: "list mine", addHint: true}},
		{"AddExplicit", "add  Help   Scout ", command{kind: cmdAdd, arg: "Help Scout"}},
		{"AddExplicitKeyword", "ADD list", command{kind: cmdAdd, arg: "list"}},
		{"AddAlone", "add", command{kind: cmdModal}},
		{"Email", "jan@voorbeeld.nl", command{kind: cmdAdd, arg: "jan@voorbeeld.nl"}},
		{"EmailSlackForm", "<mailto:jan@voorbeeld.nl|jan@voorbeeld.nl>", command{kind: cmdAdd, arg: "<mailto:jan@voorbeeld.nl|jan@voorbeeld.nl>"}},
		{"Domain", "example.com", command{kind: cmdAdd, arg: "example.com"}},
		{"DomainNearKeyword", "list.io", command{kind: cmdAdd, arg: "list.io"}},
		{"URL", "https://example.com/about", command{kind: cmdAdd, arg: "https://example.com/about"}},
		{"URLSlackForm", "<https://example.com|example.com>", command{kind: cmdAdd, arg: "<https://example.com|example.com>"}},
		{"Company", "  Acme   Widgets BV ", command{kind: cmdAdd, arg: "Acme Widgets BV"}},
		{"CompanyOneWord", "Philips", command{kind: cmdAdd, arg: "Philips"}},
		{"CompanyVersion", "Acme 2.0", command{kind: cmdAdd, arg: "Acme 2.0"}},
		{"TwoWordsNotTypo", "lsit bogus", command{kind: cmdAdd, arg: "lsit bogus"}},
		// The Dutch command words, in any language.
		{"DutchHelp", "hulp", command{kind: cmdHelp}},
		{"DutchList", "Lijst", command{kind: cmdList, filter: listPending}},
		{"DutchListMine", "lijst mijn", command{kind: cmdList, filter: listMine}},
		{"DutchListOpen", "lijst open", command{kind: cmdList, filter: listPending}},
		{"DutchListAll", "lijst ALLES", command{kind: cmdList, filter: listAll}},
		{"MixedListMine", "list mijn", command{kind: cmdList, filter: listMine}},
		{"DutchDigest", "overzicht", command{kind: cmdDigest}},
		{"DutchHistory", "L-42 geschiedenis", command{kind: cmdHistory, lead: 42, arg: "L-42"}},
		{"DutchAdd", "toevoegen Bakkerij Jansen", command{kind: cmdAdd, arg: "Bakkerij Jansen"}},
		{"DutchAddAlone", "toevoegen", command{kind: cmdModal}},
		{"OpenIsACompany", "open", command{kind: cmdAdd, arg: "open"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := parseCommand(tt.text)
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(command{})); diff != "" {
				t.Errorf("parseCommand(%q) mismatch (-want +got):\n%s", tt.text, diff)
			}
		})
	}
}

func TestEditDistance(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"list", "list", 0}, {"lsit", "list", 1}, {"histroy", "history", 1}, {"lst", "list", 1},
		{"digets", "digest", 1}, {"bogus", "list", 5}, {"", "help", 4}, {"héllo", "hello", 1},
	} {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestHelpText(t *testing.T) {
	t.Parallel()
	text := commandWords{english}.helpText("/qualify", nil, nil)
	for _, want := range []string{
		"`/qualify help`", "`/qualify`", "`/qualify <e-mail, domain, URL or company>`", "`/qualify add <text>`",
		"`/qualify list`", "`/qualify list mine`", "`/qualify list all`", "`/qualify L-42`", "`/qualify L-42 history`",
		"*Qualify this message*", "*Home* tab", "`/qualify digest`",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("help text lacks %q:\n%s", want, text)
		}
	}
	if got := (commandWords{english}).helpText("/leads", nil, nil); !strings.Contains(got, "`/leads list`") || strings.Contains(got, "/qualify") {
		t.Errorf("help for a renamed command still says /qualify:\n%s", got)
	}
}

// The help lists the team's criteria and voting reactions: config text,
// escaped like any other.
func TestHelpText_CriteriaAndReactions(t *testing.T) {
	t.Parallel()
	cs := []triage.Criterion{
		{ID: "budget", Question: "Budget <!channel> & approved?", Kind: triage.KindYesNo},
		{ID: "size", Question: "How big?", Kind: triage.KindScale},
	}
	reactions := map[string]triage.Choice{
		"+1": triage.ChoiceQualify, "white_check_mark": triage.ChoiceQualify,
		"-1": triage.ChoiceDisqualify, "<!here>": triage.ChoiceUnsure,
	}
	text := commandWords{english}.helpText("/qualify", cs, reactions)
	for _, want := range []string{
		"`budget: yes`", "• `budget`: Budget &lt;!channel&gt; &amp; approved?", "• `size`: How big?",
		"Reactions on the card vote too: :+1: :white_check_mark: qualify, :-1: disqualify.",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("help text lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "<!") {
		t.Errorf("help text carries an unescaped control sequence:\n%s", text)
	}
	if strings.Contains((commandWords{english}).helpText("/qualify", nil, nil), "Reactions") {
		t.Error("help mentions reactions with none configured")
	}
}

func TestHelpText_ManyCriteria(t *testing.T) {
	t.Parallel()
	var cs []triage.Criterion
	for i := range maxHelpCriteria + 5 {
		cs = append(cs, triage.Criterion{ID: fmt.Sprintf("c%d", i), Question: "Q?", Kind: triage.KindText})
	}
	text := commandWords{english}.helpText("/qualify", cs, nil)
	if !strings.Contains(text, "… and 5 more") || strings.Contains(text, fmt.Sprintf("`c%d`", maxHelpCriteria)) {
		t.Errorf("help for %d criteria:\n%s", len(cs), text)
	}
}

// hookStore wraps the real store: CreateLead waits for gate (when set) and
// reports each stored lead on created.
type hookStore struct {
	fullStore
	gate    chan struct{} // nil = no wait
	created chan triage.Lead
}

func (s *hookStore) CreateLead(ctx context.Context, l triage.Lead, idem triage.Idempotency, out []triage.OutboxItem) (triage.Lead, bool, error) {
	if s.gate != nil {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return triage.Lead{}, false, ctx.Err()
		}
	}
	stored, created, err := s.fullStore.CreateLead(ctx, l, idem, out)
	if err == nil {
		select {
		case s.created <- stored:
		default:
		}
	}
	return stored, created, err
}

// leadsGate blocks Leads until gate closes.
type leadsGate struct {
	fullStore
	gate chan struct{}
}

func (s *leadsGate) Leads(ctx context.Context, f triage.LeadFilter) ([]triage.Lead, error) {
	select {
	case <-s.gate:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return s.fullStore.Leads(ctx, f)
}

const (
	cmdChannel = "CTRIAGE"
	cmdUser    = "UASKER"
	teamURL    = "https://acme.slack.com/"
)

var cmdNow = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

type cmdFixture struct {
	bot   *Bot
	svc   *triage.Service
	store fullStore
	slack *slackfake.Server
	hooks *hookStore
}

// newCmdFixture wires a bot over a real bbolt file (behind wrap, when
// given) and the fake Slack, with a known team URL. Its in-flight work is
// drained before the database closes.
func newCmdFixture(t *testing.T, wrap func(fullStore) fullStore) *cmdFixture {
	t.Helper()
	db := storagetest.MustOpen(t)
	hooks := &hookStore{fullStore: db, created: make(chan triage.Lead, 16)}
	var store fullStore = hooks
	if wrap != nil {
		store = wrap(hooks)
	}
	policy := triage.Policy{Quorum: 2, Blind: true, Auto: false, TeamLead: "ULEAD", Criteria: []triage.Criterion{
		{ID: "budget", Question: "Budget?", Kind: triage.KindYesNo, Must: true, Weight: 1},
	}}
	svc := &triage.Service{Store: store, Policy: policy, Channel: cmdChannel, Now: func() time.Time { return cmdNow }}
	fake := slackfake.New(t)
	cfg := Config{Channel: cmdChannel, Policy: policy, Now: func() time.Time { return cmdNow }}
	b := New(cfg, fake.Client(), svc, store, slog.New(slog.DiscardHandler))
	b.links.setWorkspaceURL(teamURL)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := b.Drain(ctx); err != nil {
			t.Errorf("draining the bot: %v", err)
		}
	})
	return &cmdFixture{bot: b, svc: svc, store: store, slack: fake, hooks: hooks}
}

func (f *cmdFixture) exec(t *testing.T, user, text string, rs *responder) *slashReply {
	t.Helper()
	if rs == nil {
		rs = &responder{issued: time.Now()}
	}
	cmd := slack.SlashCommand{Command: "/qualify", Text: text, UserID: user, ChannelID: cmdChannel}
	return f.bot.commands.exec(t.Context(), f.bot.log, cmd, parseCommand(text), rs)
}

// submit adds a lead as the webhook would, created at cmdNow minus ago.
func (f *cmdFixture) submit(t *testing.T, company string, ago time.Duration) triage.Lead {
	t.Helper()
	f.svc.Now = func() time.Time { return cmdNow.Add(-ago) }
	defer func() { f.svc.Now = func() time.Time { return cmdNow } }()
	l, _, err := f.svc.Submit(t.Context(), triage.LeadInput{Company: company}, triage.Submission{Via: "webhook"})
	if err != nil {
		t.Fatalf("submitting %q: %v", company, err)
	}
	<-f.hooks.created
	return l
}

// deliver posts every due card, as the outbox worker would.
func (f *cmdFixture) deliver(t *testing.T) {
	t.Helper()
	if _, err := f.bot.DeliverDue(t.Context(), cmdNow); err != nil {
		t.Fatalf("delivering the outbox: %v", err)
	}
}

func (f *cmdFixture) lead(t *testing.T, id triage.LeadID) triage.Lead {
	t.Helper()
	l, err := f.store.Lead(t.Context(), id)
	if err != nil {
		t.Fatalf("reading %s: %v", id, err)
	}
	return l
}

// replyText is everything a reply shows: its text and its blocks' text.
func replyText(t *testing.T, r *slashReply) string {
	t.Helper()
	if r == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString(r.Text)
	for _, bl := range r.Blocks {
		raw, err := json.Marshal(bl)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatal(err)
		}
		collectText(v, &b)
	}
	return b.String()
}

func collectText(v any, b *strings.Builder) {
	switch x := v.(type) {
	case map[string]any:
		if s, ok := x["text"].(string); ok {
			b.WriteString("\n" + s)
		}
		for k, c := range x {
			if k != "text" {
				collectText(c, b)
			} else if _, ok := c.(string); !ok {
				collectText(c, b)
			}
		}
	case []any:
		for _, c := range x {
			collectText(c, b)
		}
	}
}

// checkLimits fails t when the reply would not fit a Slack message.
func checkLimits(t *testing.T, r *slashReply) {
	t.Helper()
	raw, err := json.Marshal(r.Blocks)
	if err != nil {
		t.Fatal(err)
	}
	if p := slackfake.ValidateBlocks(raw, slackfake.MaxMessageBlocks); len(p) > 0 {
		t.Errorf("reply blocks invalid: %v", p)
	}
	if n := slackfake.BlocksTextLen(raw); n > slackfake.MaxMessageBlocksText {
		t.Errorf("reply blocks carry %d characters, more than %d", n, slackfake.MaxMessageBlocksText)
	}
}

func cardURL(l triage.Lead) string {
	return teamURL + "archives/" + l.Slack.Channel + "/p" + strings.ReplaceAll(l.Slack.TS, ".", "")
}

func TestBot_CommandAdd(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, text string
		want       func(l triage.Lead) bool
		label      string
	}{
		{"Email", "jan@acme.example", func(l triage.Lead) bool { return l.Email == "jan@acme.example" && l.Company == "" }, "acme.example"},
		{"Domain", "acme.example", func(l triage.Lead) bool { return l.Website != "" && l.Domain == "acme.example" }, "acme.example"},
		{"URL", "<https://www.acme.example/about|www.acme.example/about>", func(l triage.Lead) bool { return l.Domain == "acme.example" }, "acme.example"},
		{"Company", "Acme & <Sons>", func(l triage.Lead) bool { return l.Company == "Acme & <Sons>" }, "Acme &amp; &lt;Sons&gt;"},
		{"Explicit", "add list", func(l triage.Lead) bool { return l.Company == "list" }, "list"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newCmdFixture(t, nil)
			done := make(chan *slashReply, 1)
			go func() { done <- f.exec(t, cmdUser, tt.text, nil) }()
			stored := <-f.hooks.created
			f.deliver(t) // the card is up while the command waits for it
			r := <-done
			l := f.lead(t, stored.ID)
			if !tt.want(l) {
				t.Errorf("stored lead %+v does not match %q", l, tt.text)
			}
			if l.Source != "slack" || l.CreatedBy != cmdUser {
				t.Errorf("source %q, created by %q; want slack, %s", l.Source, l.CreatedBy, cmdUser)
			}
			want := fmt.Sprintf("Added *%s* (%s) to the triage channel. <%s|See the card>", l.ID, tt.label, cardURL(l))
			if r == nil || r.Text != want || r.ResponseType != "ephemeral" {
				t.Errorf("reply = %+v, want text %q", r, want)
			}
		})
	}
}

func TestBot_CommandAdd_Repeat(t *testing.T) {
	t.Parallel()
	f := newCmdFixture(t, nil)
	first := f.submit(t, "Acme", 0)
	f.deliver(t)
	// The same input again within the idempotency window: the first lead.
	l, _, err := f.svc.AddFromSlack(t.Context(), cmdUser, triage.LeadInput{Company: "Globex"})
	if err != nil {
		t.Fatal(err)
	}
	<-f.hooks.created
	f.deliver(t)
	r := f.exec(t, cmdUser, "Globex", nil)
	l = f.lead(t, l.ID)
	want := fmt.Sprintf("That is *%s* (Globex), already in triage. <%s|See the card>", l.ID, cardURL(l))
	if r.Text != want {
		t.Errorf("reply = %q, want %q", r.Text, want)
	}
	if all, _ := f.store.Leads(t.Context(), triage.LeadFilter{}); len(all) != 2 || all[0].ID != first.ID {
		t.Errorf("%d leads stored, want 2", len(all))
	}
}

func TestBot_CommandAdd_Invalid(t *testing.T) {
	t.Parallel()
	f := newCmdFixture(t, nil)
	r := f.exec(t, cmdUser, "<!channel>@x", nil)
	if !strings.HasPrefix(r.Text, "Could not add that: email: ") || strings.Contains(r.Text, "<!") {
		t.Errorf("reply = %q, want the escaped e-mail problem", r.Text)
	}
	if all, _ := f.store.Leads(t.Context(), triage.LeadFilter{}); len(all) != 0 {
		t.Errorf("%d leads stored after invalid input", len(all))
	}
}

// A card that is not up within cardWait: the reply says so, and its link
// follows through the response_url once the card is posted.
func TestBot_CommandAdd_CardLate(t *testing.T) {
	t.Parallel()
	f := newCmdFixture(t, nil)
	url := f.slack.NewResponseURL()
	rs := &responder{url: url, issued: time.Now()}
	r := f.exec(t, cmdUser, "Initech", rs)
	if !strings.Contains(r.Text, "Added *L-1* (Initech)") || !strings.Contains(r.Text, "on its way; I will send you its link here") {
		t.Fatalf("reply = %q", r.Text)
	}
	if r.after == nil {
		t.Fatal("no follow-up planned")
	}
	<-f.hooks.created
	r.after()
	f.deliver(t)
	f.slack.WaitUntil(t, 10*time.Second, "the follow-up post", func() bool { return len(f.slack.ResponsePosts(url)) == 1 })
	var post struct {
		Text         string `json:"text"`
		ResponseType string `json:"response_type"`
	}
	if err := json.Unmarshal(f.slack.ResponsePosts(url)[0], &post); err != nil {
		t.Fatal(err)
	}
	l := f.lead(t, 1)
	if want := fmt.Sprintf("The card of *L-1* is up: <%s|See the card>", cardURL(l)); post.Text != want || post.ResponseType != "ephemeral" {
		t.Errorf("follow-up = %+v, want %q", post, want)
	}
}

func TestBot_CommandList(t *testing.T) {
	t.Parallel()
	f := newCmdFixture(t, nil)
	old := f.submit(t, "Old <!here> Co", 72*time.Hour)
	f.deliver(t)
	mineOwned := f.submit(t, "Owned BV", 5*time.Hour)
	if _, err := f.svc.Claim(t.Context(), mineOwned.ID, cmdUser); err != nil {
		t.Fatal(err)
	}
	voted := f.submit(t, "Voted Inc", 2*time.Hour)
	for _, u := range []string{"U1"} {
		if _, err := f.svc.Vote(t.Context(), voted.ID, u, triage.ChoiceQualify); err != nil {
			t.Fatal(err)
		}
	}
	revealed := f.submit(t, "Revealed Ltd", time.Hour)
	for _, v := range []struct {
		u string
		c triage.Choice
	}{{"U1", triage.ChoiceQualify}, {"U2", triage.ChoiceUnsure}} {
		if _, err := f.svc.Vote(t.Context(), revealed.ID, v.u, v.c); err != nil {
			t.Fatal(err)
		}
	}
	f.svc.Now = func() time.Time { return cmdNow }
	decided, _, err := f.svc.AddFromSlack(t.Context(), cmdUser, triage.LeadInput{Company: "Mine Decided"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.DecideByHand(t.Context(), decided.ID, "ULEAD", triage.DecisionInput{Outcome: triage.StatusDisqualified, Reason: "No budget"}); err != nil {
		t.Fatal(err)
	}
	oldLead := f.lead(t, old.ID)

	t.Run("Pending", func(t *testing.T) {
		r := f.exec(t, cmdUser, "list", nil)
		checkLimits(t, r)
		text := replyText(t, r)
		wantLine := fmt.Sprintf("*%s* · Old &lt;!here&gt; Co · 3d old · 0 votes · pending · <%s|card>", old.ID, cardURL(oldLead))
		for _, want := range []string{
			"Pending leads, oldest first:* 4", wantLine,
			fmt.Sprintf("*%s* · Owned BV · 5h old · 0 votes · pending · card not posted yet", mineOwned.ID),
			fmt.Sprintf("*%s* · Voted Inc · 2h old · 1 vote · pending", voted.ID),
			fmt.Sprintf("*%s* · Revealed Ltd · 1h old · 2 votes (1 qualify, 1 unsure) · pending", revealed.ID),
		} {
			if !strings.Contains(text, want) {
				t.Errorf("list lacks %q:\n%s", want, text)
			}
		}
		if strings.Contains(text, "Mine Decided") {
			t.Errorf("pending list shows a decided lead:\n%s", text)
		}
		if strings.Index(text, "Old &lt;") > strings.Index(text, "Revealed Ltd") {
			t.Errorf("pending list not oldest first:\n%s", text)
		}
	})
	t.Run("Mine", func(t *testing.T) {
		text := replyText(t, f.exec(t, cmdUser, "list mine", nil))
		if !strings.Contains(text, "Owned BV") || !strings.Contains(text, "Mine Decided") || strings.Contains(text, "Voted Inc") {
			t.Errorf("list mine:\n%s", text)
		}
		if !strings.Contains(text, "· disqualified ·") || strings.Index(text, "Mine Decided") > strings.Index(text, "Owned BV") {
			t.Errorf("list mine not newest first or without status:\n%s", text)
		}
		if got := f.exec(t, "UNOBODY", "list mine", nil).Text; !strings.Contains(got, "You have no leads") {
			t.Errorf("list mine for a stranger = %q", got)
		}
	})
	t.Run("All", func(t *testing.T) {
		text := replyText(t, f.exec(t, cmdUser, "list all", nil))
		if !strings.Contains(text, "All leads, newest first:* 5") || strings.Index(text, "Mine Decided") > strings.Index(text, "Old &lt;") {
			t.Errorf("list all:\n%s", text)
		}
	})
}

func TestBot_CommandList_Empty(t *testing.T) {
	t.Parallel()
	f := newCmdFixture(t, nil)
	if got := f.exec(t, cmdUser, "list", nil); got.Text != "No lead is pending." || len(got.Blocks) != 0 {
		t.Errorf("empty list = %+v", got)
	}
}

// 150 leads with long names: the list stays within Block Kit's limits and
// says how many it left out.
func TestBot_CommandList_Paging(t *testing.T) {
	t.Parallel()
	f := newCmdFixture(t, nil)
	for i := range 150 {
		f.submit(t, fmt.Sprintf("Company %03d %s", i, strings.Repeat("&<x>", 40)), time.Duration(150-i)*time.Minute)
	}
	f.deliver(t)
	for _, text := range []string{"list", "list all", "list pending"} {
		r := f.exec(t, cmdUser, text, nil)
		checkLimits(t, r)
		got := replyText(t, r)
		shown := strings.Count(got, "Company ")
		if shown == 0 || shown > maxListLeads {
			t.Errorf("%s: %d leads shown", text, shown)
		}
		if want := fmt.Sprintf("… and %d more; narrow it with `/qualify list mine`.", 150-shown); !strings.Contains(got, want) {
			t.Errorf("%s: lacks %q (shown %d)", text, want, shown)
		}
		if strings.Contains(got, "<x>") {
			t.Errorf("%s: unescaped lead text", text)
		}
	}
}

func TestBot_CommandShow(t *testing.T) {
	t.Parallel()
	f := newCmdFixture(t, nil)
	l := f.submit(t, "Acme <@U0BAD>", time.Hour)
	f.deliver(t)
	if _, err := f.svc.Vote(t.Context(), l.ID, "UVOTER1", triage.ChoiceQualify); err != nil {
		t.Fatal(err)
	}

	blind := f.exec(t, cmdUser, l.ID.String(), nil)
	checkLimits(t, blind)
	text := replyText(t, blind)
	for _, want := range []string{"Acme &lt;@U0BAD&gt;", "1 of 2 votes — hidden until the quorum", "*Criteria:* 0 of 1 answered", "*Status:* pending",
		"<" + cardURL(f.lead(t, l.ID)) + "|Open the card>"} {
		if !strings.Contains(text, want) {
			t.Errorf("show (blind) lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "<@UVOTER1>") {
		t.Errorf("show reveals a blind vote:\n%s", text)
	}
	for _, bl := range blind.Blocks {
		if bl.BlockType() == slack.MBTAction {
			t.Errorf("show carries the card's buttons")
		}
	}

	if _, err := f.svc.Vote(t.Context(), l.ID, "UVOTER2", triage.ChoiceDisqualify); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.DecideByHand(t.Context(), l.ID, "ULEAD", triage.DecisionInput{Outcome: triage.StatusDisqualified, Reason: "No budget", Note: "Too small <!channel>"}); err != nil {
		t.Fatal(err)
	}
	text = replyText(t, f.exec(t, cmdUser, "l-"+fmt.Sprint(uint64(l.ID)), nil))
	for _, want := range []string{"<@UVOTER1>", "<@UVOTER2>", "*Status:* disqualified by <@ULEAD>", "*Reason:* No budget", "Too small &lt;!channel&gt;"} {
		if !strings.Contains(text, want) {
			t.Errorf("show (decided) lacks %q:\n%s", want, text)
		}
	}

	for _, id := range []string{"L-999", "L-0"} {
		if got := f.exec(t, cmdUser, id, nil); got.Text != "There is no *"+id+"*." {
			t.Errorf("/qualify %s = %q", id, got.Text)
		}
	}
	if got := f.exec(t, cmdUser, "L-999 history", nil); got.Text != "There is no *L-999*." {
		t.Errorf("/qualify L-999 history = %q", got.Text)
	}
}

func TestBot_CommandHistory(t *testing.T) {
	t.Parallel()
	f := newCmdFixture(t, nil)
	l := f.submit(t, "Acme", time.Hour)
	if _, err := f.svc.Vote(t.Context(), l.ID, "UVOTER1", triage.ChoiceQualify); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.UpdateLead(t.Context(), l.ID, func(l *triage.Lead) ([]triage.OutboxItem, error) {
		l.Events = append(l.Events, triage.Event{At: cmdNow, Kind: "noted", By: "<!channel>", Detail: "see <https://evil.example|bank>"})
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	r := f.exec(t, cmdUser, "L-1 history", nil)
	checkLimits(t, r)
	text := replyText(t, r)
	for _, want := range []string{
		"*Audit trail of L-1* (Acme), times in UTC",
		"2026-11-28 09:00 · webhook · created · via webhook",
		"2026-11-28 10:00 · <@UVOTER1> · voted · qualify",
		"2026-11-28 10:00 · &lt;!channel&gt; · noted · see &lt;https://evil.example|bank&gt;",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("history lacks %q:\n%s", want, text)
		}
	}
}

func TestBot_CommandHistory_Long(t *testing.T) {
	t.Parallel()
	f := newCmdFixture(t, nil)
	l := f.submit(t, "Acme", time.Hour)
	if _, err := f.store.UpdateLead(t.Context(), l.ID, func(l *triage.Lead) ([]triage.OutboxItem, error) {
		for i := range 500 {
			l.Events = append(l.Events, triage.Event{At: cmdNow, Kind: "noted", By: "UWRITER", Detail: fmt.Sprintf("note %03d %s", i, strings.Repeat("<&>", 100))})
		}
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	r := f.exec(t, cmdUser, "L-1 history", nil)
	checkLimits(t, r)
	text := replyText(t, r)
	shown := strings.Count(text, "· noted ·")
	if want := fmt.Sprintf("_… %d earlier events_", 501-shown); shown == 0 || !strings.Contains(text, want) {
		t.Errorf("history of 501 events shows %d, lacks %q", shown, want)
	}
	if !strings.Contains(text, "note 499") {
		t.Errorf("history lost the newest event")
	}
}

func TestBot_CommandDigestAndHelp(t *testing.T) {
	t.Parallel()
	f := newCmdFixture(t, nil)
	if got := replyText(t, f.exec(t, cmdUser, "digest", nil)); !strings.Contains(got, "Nothing pending. :tada:") || !strings.Contains(got, digestPreview) {
		t.Errorf("digest = %q", got)
	}
	for _, tt := range []struct{ text, want string }{
		{"lsit", "Did you mean `/qualify list`? To add a company with that name, use `/qualify add lsit`.\n\n*/qualify* helps"},
		{"list bogus", "Did you mean `/qualify list`?\n\n*/qualify* helps"},
		{"L-4 histroy", "Did you mean `/qualify L-4 history`?\n\n"},
		{"help", "*/qualify* helps"},
	} {
		got := f.exec(t, cmdUser, tt.text, nil).Text
		if !strings.HasPrefix(got, tt.want) {
			t.Errorf("/qualify %s = %q, want it to start with %q", tt.text, got, tt.want)
		}
		if !strings.Contains(got, "`/qualify L-42 history`") {
			t.Errorf("/qualify %s: no help after the suggestion", tt.text)
		}
	}
	if got := f.exec(t, cmdUser, "Lsit`<!here>", nil).Text; strings.Contains(got, "<!") {
		t.Errorf("suggestion quotes the text unescaped: %q", got)
	}
}

func TestBot_CommandAccessRefused(t *testing.T) {
	t.Parallel()
	f := newCmdFixture(t, nil)
	f.bot.cfg.Access = Access{Users: []string{"UFRIEND"}}
	r := f.exec(t, "USTRANGER", "Acme", nil)
	if !strings.Contains(r.Text, "You are not on the list") {
		t.Errorf("refused reply = %q", r.Text)
	}
	if all, _ := f.store.Leads(t.Context(), triage.LeadFilter{}); len(all) != 0 {
		t.Errorf("a refused user added %d leads", len(all))
	}
}

// Slack wants the ack within 3 s (SLACK-NOTES §2.6); the bot promises 1 s,
// so its own wait for a result must stay well inside that.
func TestCommandAckWait_InsideTheAckBudget(t *testing.T) {
	if commandAckWait >= time.Second {
		t.Fatalf("commandAckWait = %v, want < 1s", commandAckWait)
	}
}

// The ack waits for a slow command only briefly: it says "Working on it…",
// and the result follows in exactly one post to the response_url.
func TestBot_RunCommand_SlowResult(t *testing.T) {
	t.Parallel()
	t.Run("Add", func(t *testing.T) {
		t.Parallel()
		gate := make(chan struct{})
		f := newCmdFixture(t, nil)
		f.hooks.gate = gate
		url := f.slack.NewResponseURL()
		// The gate is shut until the ack is back: an ack that waited for
		// the result would never return. How long it waits at most is
		// commandAckWait, checked below rather than timed on a busy machine.
		ack := f.bot.runCommand(t.Context(), slack.SlashCommand{Command: "/qualify", Text: "acme.example", UserID: cmdUser, ChannelID: cmdChannel, ResponseURL: url})
		if ack == nil || ack.Text != workingText || ack.ResponseType != "ephemeral" {
			t.Fatalf("ack = %+v, want %q", ack, workingText)
		}
		close(gate)
		<-f.hooks.created
		f.deliver(t)
		f.slack.WaitUntil(t, 10*time.Second, "the result post", func() bool { return len(f.slack.ResponsePosts(url)) == 1 })
		f.bot.inflight.Wait()
		posts := f.slack.ResponsePosts(url)
		if len(posts) != 1 {
			t.Fatalf("%d posts, want 1", len(posts))
		}
		var post struct {
			Text         string `json:"text"`
			ResponseType string `json:"response_type"`
		}
		if err := json.Unmarshal(posts[0], &post); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(post.Text, "Added *L-1* (acme.example) to the triage channel. <"+teamURL) || post.ResponseType != "ephemeral" {
			t.Errorf("post = %+v", post)
		}
	})
	t.Run("List", func(t *testing.T) {
		t.Parallel()
		gate := make(chan struct{})
		f := newCmdFixture(t, func(s fullStore) fullStore { return &leadsGate{fullStore: s, gate: gate} })
		f.submit(t, "Acme", time.Hour)
		url := f.slack.NewResponseURL()
		ack := f.bot.runCommand(t.Context(), slack.SlashCommand{Command: "/qualify", Text: "list", UserID: cmdUser, ChannelID: cmdChannel, ResponseURL: url})
		if ack == nil || ack.Text != workingText {
			t.Fatalf("ack = %+v", ack)
		}
		close(gate)
		f.bot.inflight.Wait()
		posts := f.slack.ResponsePosts(url)
		if len(posts) != 1 || !strings.Contains(string(posts[0]), "Acme") || !strings.Contains(string(posts[0]), `"blocks"`) {
			t.Errorf("posts = %s", posts)
		}
	})
}

func TestBot_RunCommand_FastResultInAck(t *testing.T) {
	t.Parallel()
	f := newCmdFixture(t, nil)
	url := f.slack.NewResponseURL()
	ack := f.bot.runCommand(t.Context(), slack.SlashCommand{Command: "/qualify", Text: "help", UserID: cmdUser, ChannelID: cmdChannel, ResponseURL: url})
	if ack == nil || !strings.Contains(ack.Text, "`/qualify help`") {
		t.Errorf("ack = %+v, want the help", ack)
	}
	f.bot.inflight.Wait()
	if n := len(f.slack.ResponsePosts(url)); n != 0 {
		t.Errorf("%d posts to the response_url for a result in the ack", n)
	}
}

// With no text, the add-lead dialog opens (views.open the first Slack call)
// and the ack is empty.
func TestBot_RunCommand_Modal(t *testing.T) {
	t.Parallel()
	f := newCmdFixture(t, nil)
	trigger := f.slack.NewTriggerID()
	ack := f.bot.runCommand(t.Context(), slack.SlashCommand{Command: "/qualify", UserID: cmdUser, ChannelID: cmdChannel, TriggerID: trigger, ResponseURL: f.slack.NewResponseURL()})
	f.bot.inflight.Wait()
	if ack != nil {
		t.Errorf("ack = %+v, want none", ack)
	}
	calls := f.slack.Calls()
	if len(calls) == 0 || calls[0].Method != "views.open" {
		t.Fatalf("calls = %v, want views.open first", calls)
	}
	views := f.slack.Views()
	if len(views) != 1 || !strings.Contains(string(views[0].JSON), `"callback_id":"lead.add"`) {
		t.Errorf("views = %v", views)
	}

	// An expired trigger: the user is told.
	bad := f.bot.runCommand(t.Context(), slack.SlashCommand{Command: "/qualify", UserID: cmdUser, ChannelID: cmdChannel, TriggerID: "bogus"})
	f.bot.inflight.Wait()
	if bad == nil || !strings.Contains(bad.Text, "Could not open the form") {
		t.Errorf("ack for a bad trigger = %+v", bad)
	}
}

func TestResponder_AtMostFive(t *testing.T) {
	t.Parallel()
	f := newCmdFixture(t, nil)
	url := f.slack.NewResponseURL()
	rs := &responder{url: url, issued: time.Now()}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.bot.commands.respond(t.Context(), f.bot.log, rs, ephemeralReply(fmt.Sprintf("post %d", i)))
		}()
	}
	wg.Wait()
	if n := len(f.slack.ResponsePosts(url)); n != maxResponsePosts {
		t.Errorf("%d posts accepted, want %d", n, maxResponsePosts)
	}
	if rs.used != maxResponsePosts || rs.take() {
		t.Errorf("responder used %d and still gives posts", rs.used)
	}
	if (&responder{url: url, issued: time.Now().Add(-responseURLTTL)}).take() {
		t.Error("an expired response_url still takes posts")
	}
	if (&responder{url: "", issued: time.Now()}).usable() {
		t.Error("no response_url counts as usable")
	}
}

// A list line is mrkdwn: no column may start a "<…>" token by accident.
func TestAgeOld_NoBareAngleBrackets(t *testing.T) {
	t.Parallel()
	for _, d := range []time.Duration{0, 30 * time.Second, time.Minute, 5 * time.Hour, 72 * time.Hour} {
		if got := english.ageOld(d); strings.ContainsAny(got, "<>&") {
			t.Errorf("ageOld(%v) = %q", d, got)
		}
	}
	if got := english.ageOld(10 * time.Second); got != "just now" {
		t.Errorf("ageOld(10s) = %q, want just now", got)
	}
}
