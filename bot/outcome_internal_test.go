package bot

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"

	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/leadtriage/leadtriage/triage"
)

func TestParseValue(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"12000", 12000}, {"12.000", 12000}, {"12,000", 12000}, {"€ 12.000", 12000}, {"€12.000", 12000},
		{"12.000 EUR", 12000}, {"$12,000", 12000}, {"12k", 12000}, {"12K", 12000}, {"1,5k", 1500}, {"1.5k", 1500},
		{"2m", 2000000}, {"1.234.567", 1234567}, {"12.000,50", 12001}, {"12,000.49", 12000}, {"0", 0}, {"950", 950},
	} {
		got, err := parseValue(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("parseValue(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ in, key string }{
		{"12,50", "outcome.value.ambiguous"},     // 12.50 or 1250?
		{"1.5", "outcome.value.ambiguous"},       // 1.5 or 15?
		{"1,234k", "outcome.value.ambiguous"},    // 1234k or 1.234k?
		{"1.2.3", "outcome.value.ambiguous"},     // not a grouping
		{"12.000.00", "outcome.value.ambiguous"}, // a group of two
		{"1,000.000", "outcome.value.ambiguous"}, // decimals of three
		{"12,000,50.1", "outcome.value.ambiguous"},
		{"12abc", "outcome.value.not_number"},
		{"€", "outcome.value.not_number"},
		{"-5", "outcome.value.negative"},
		{"2000000m", "outcome.value.too_big"},
	} {
		_, err := parseValue(tc.in)
		ve, ok := err.(*valueError)
		if !ok || ve.key != tc.key || ve.text != tc.in {
			t.Errorf("parseValue(%q) error = %v; want %s naming the text", tc.in, err, tc.key)
		}
	}
}

func TestParseCommand_Outcome(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		text  string
		want  triage.OutcomeKind
		value int64
		note  string
	}{
		{"L-42 won", triage.OutcomeWon, 0, ""},
		{"L-42 won 12k signed for a year", triage.OutcomeWon, 12000, "signed for a year"},
		{"l-42 WON € 12.000 via Jan", triage.OutcomeWon, 12000, "via Jan"},
		{"L-42 lost 12.000 EUR too pricey", triage.OutcomeLost, 12000, "too pricey"},
		{"L-42 no-deal never answered", triage.OutcomeNoDeal, 0, "never answered"},
		{"L-42 no_deal", triage.OutcomeNoDeal, 0, ""},
		{"L-42 gewonnen 1,5k", triage.OutcomeWon, 1500, ""},
		{"L-42 verloren", triage.OutcomeLost, 0, ""},
		{"L-42 geen-deal", triage.OutcomeNoDeal, 0, ""},
	} {
		c := parseCommand(tc.text)
		if c.kind != cmdOutcome || c.lead != 42 || c.outcome != tc.want || c.value != tc.value || c.note != tc.note || c.valueErr != nil {
			t.Errorf("parseCommand(%q) = %+v", tc.text, c)
		}
	}
	c := parseCommand("L-42 won 12,50 maybe")
	if c.kind != cmdOutcome || c.valueErr == nil || c.valueText != "12,50" {
		t.Errorf("ambiguous value: %+v", c)
	}
	if c := parseCommand("L-42 history"); c.kind != cmdHistory {
		t.Errorf("history broke: %+v", c)
	}
}

// outcomeCardLeads are the cards of issue 15: asked, answered, and a lead
// that came back.
func outcomeCardLeads() map[string]triage.Lead {
	decidedAt := received.Add(2 * time.Hour)
	qualified := func() triage.Lead {
		l := freshLead()
		l.Status, l.Owner = triage.StatusQualified, "UBOB"
		l.Decision = &triage.Decision{Outcome: triage.StatusQualified, Reason: "good fit", By: "ULEAD", At: decidedAt}
		return l
	}
	asked := qualified()
	asked.Reminder.OutcomeAsked = decidedAt.Add(720 * time.Hour)
	won := qualified()
	won.Reminder.OutcomeAsked = asked.Reminder.OutcomeAsked
	won.Outcome = &triage.Outcome{Kind: triage.OutcomeWon, Value: 12000, Note: "Signed <!channel> & renewed", By: "UBOB", At: decidedAt.Add(800 * time.Hour)}
	back := freshLead()
	back.Returning = &triage.PriorDecision{Lead: 7, Outcome: triage.StatusDisqualified, Reason: "Budget <too> small", At: received.Add(-90 * 24 * time.Hour)}
	return map[string]triage.Lead{"OutcomeAsked": asked, "OutcomeWon": won, "Returning": back}
}

func TestRenderOutcomeCard(t *testing.T)   { testRenderOutcomeCard(t, english) }
func TestRenderOutcomeCardNL(t *testing.T) { testRenderOutcomeCard(t, newWords(LangDutch)) }

func testRenderOutcomeCard(t *testing.T, w words) {
	t.Parallel()
	for name, l := range outcomeCardLeads() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			text, blocks := cardWords{w}.card(l, cardPol, cardNow)
			raw := blocksJSON(t, blocks)
			if problems := slackfake.ValidateBlocks(raw, slackfake.MaxMessageBlocks); len(problems) > 0 {
				t.Errorf("blocks invalid: %v", problems)
			}
			if strings.Contains(string(raw), "<!channel>") {
				t.Error("the outcome note reached mrkdwn unescaped")
			}
			assertGolden(t, cardJSON(t, text, blocks))
		})
	}
}

func TestOutcomeButtons(t *testing.T) {
	t.Parallel()
	leads := outcomeCardLeads()
	_, blocks := cardWords{english}.card(leads["OutcomeAsked"], cardPol, cardNow)
	want := []string{"lead.decide=L-3", "lead.outcome.won=L-3", "lead.outcome.lost=L-3", "lead.outcome.no_deal=L-3"}
	if diff := cmp.Diff(want, actionIDs(blocks)); diff != "" {
		t.Errorf("asked card's buttons (-want +got):\n%s", diff)
	}
	_, blocks = cardWords{english}.card(leads["OutcomeWon"], cardPol, cardNow)
	if diff := cmp.Diff([]string{"lead.decide=L-3"}, actionIDs(blocks)); diff != "" {
		t.Errorf("answered card's buttons (-want +got):\n%s", diff)
	}
}

func TestOutcomeNotices(t *testing.T) {
	t.Parallel()
	o := &triage.Outcome{Kind: triage.OutcomeWon, Value: 12000, By: "UBOB"}
	for _, tc := range []struct {
		w    words
		n    triage.Notice
		want string
	}{
		{english, triage.Notice{Kind: triage.NoticeOutcome, Lead: 42, User: "UBOB", Outcome: o}, "<@UBOB> recorded what became of *L-42*: *Won*, value 12,000."},
		{english, triage.Notice{Kind: triage.NoticeOutcome, Lead: 42, User: "api", Outcome: o, Corrected: true}, "the API corrected what became of *L-42*: *Won*, value 12,000."},
		{english, triage.Notice{Kind: triage.NoticeOutcomeRecorded, Lead: 42, User: "UBOB", Outcome: o}, "Recorded for *L-42*: *Won*, value 12,000. Thanks!"},
		{english, triage.Notice{Kind: triage.NoticeOutcomeRecorded, Lead: 42, User: "UBOB", Outcome: o, Repeat: true}, "*L-42* was already recorded as *Won*, value 12,000."},
		{newWords(LangDutch), triage.Notice{Kind: triage.NoticeOutcome, Lead: 42, User: "UBOB", Outcome: o}, "<@UBOB> heeft vastgelegd wat er van *L-42* werd: *Gewonnen*, waarde 12.000."},
	} {
		if got, _ := (noticeWords{tc.w}).notice(tc.n, nil, nil); got != tc.want {
			t.Errorf("notice %+v = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestRenderDigestOutcomes(t *testing.T)   { testRenderDigestOutcomes(t, english) }
func TestRenderDigestOutcomesNL(t *testing.T) { testRenderDigestOutcomes(t, newWords(LangDutch)) }

// The digest's "What became of these?" part: two leads and the count of
// the rest.
func testRenderDigestOutcomes(t *testing.T, w words) {
	t.Parallel()
	ams, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		t.Fatal(err)
	}
	won := digestLead(5, "Omega <!here> BV", 40*24*time.Hour)
	won.Status, won.DecidedAt = triage.StatusQualified, digestNow.Add(-35*24*time.Hour)
	ref := digestLead(6, "Sigma", 50*24*time.Hour)
	ref.Status, ref.DecidedAt = triage.StatusReferred, digestNow.Add(-45*24*time.Hour)
	p := triage.DigestPart{Part: 1, Parts: 1, Day: time.Date(2026, 11, 30, 9, 0, 0, 0, ams),
		Outcomes: []triage.DigestLead{ref, won}, OutcomesMore: 3}
	text, blocks := digestWords{w}.part(p, testPermalink, ams, digestNow)
	raw := cardJSON(t, text, blocks)
	checkNoInjection(t, raw)
	if p := slackfake.ValidateBlocks(blocksJSON(t, blocks), slackfake.MaxMessageBlocks); len(p) > 0 {
		t.Errorf("blocks invalid: %v", p)
	}
	assertGolden(t, raw)
}

// With the bot's permalink, a returning lead's card links the earlier card.
func TestReturningLinksEarlierCard(t *testing.T) {
	t.Parallel()
	l := outcomeCardLeads()["Returning"]
	l.Returning.Channel, l.Returning.TS = "CTRIAGE", "1764400000.000007"
	w := english
	w.permalink = testPermalink
	_, blocks := cardWords{w}.card(l, cardPol, cardNow)
	if got := string(unescapeHTML(blocksJSON(t, blocks))); !strings.Contains(got, "Came back: *L-7* was disqualified") ||
		!strings.Contains(got, "|See the card>") || !strings.Contains(got, testPermalink("CTRIAGE", "1764400000.000007")) {
		t.Errorf("returning card without the link: %s", got)
	}
}

// Erasing a lead named in the digest's "What became of these?" part takes
// its line out of the posted part, as for the other sections.
func TestWithoutDigestLead_Outcomes(t *testing.T) {
	t.Parallel()
	a := digestLead(5, "Omega BV", 40*24*time.Hour)
	a.Status, a.DecidedAt = triage.StatusQualified, digestNow.Add(-35*24*time.Hour)
	b := digestLead(6, "Sigma", 50*24*time.Hour)
	b.Status, b.DecidedAt = triage.StatusReferred, digestNow.Add(-45*24*time.Hour)
	part := triage.DigestPart{Key: "digest|k", Part: 1, Parts: 1, Day: digestNow,
		Pending: []triage.DigestLead{digestLead(3, "Acme", 52*time.Hour)}, Outcomes: []triage.DigestLead{b, a}}
	_, posted := digestWords{english}.part(part, testPermalink, time.UTC, digestNow)
	var fromSlack slack.Blocks
	if err := json.Unmarshal(blocksJSON(t, posted), &fromSlack); err != nil {
		t.Fatal(err)
	}
	got, changed := withoutDigestLead(fromSlack.BlockSet, 5)
	want := part
	want.Outcomes = []triage.DigestLead{b}
	_, wantBlocks := digestWords{english}.part(want, testPermalink, time.UTC, digestNow)
	if g, w := string(blocksJSON(t, got)), string(blocksJSON(t, wantBlocks)); !changed || g != w {
		t.Errorf("without L-5 (changed %v):\n got %s\nwant %s", changed, g, w)
	}
}
