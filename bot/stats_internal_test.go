package bot

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
)

// sampleReport is a report with every figure set: percentages where the
// count reaches triage.MinForPercent, "k of n" below it, and a criterion
// of each signal.
func sampleReport(from, to time.Time) triage.DecisionReport {
	return triage.DecisionReport{
		From: from, To: to, Decided: 160,
		Qualified: 80, WithOutcome: 70, Won: 40, Lost: 20, NoDeal: 10, WinRate: triage.Fraction{K: 40, N: 60},
		Declined: 80, CameBack: triage.Fraction{K: 8, N: 80},
		Returns: 9, ReturnsQualified: triage.Fraction{K: 5, N: 9}, ReturnsWon: triage.Fraction{K: 3, N: 9},
		Criteria: []triage.CriterionStats{
			{ID: "budget", Kind: triage.KindYesNo, Yes: triage.Fraction{K: 30, N: 35}, No: triage.Fraction{K: 10, N: 25}, Signal: triage.SignalPredicts},
			{ID: "fit", Kind: triage.KindScale, Yes: triage.Fraction{K: 20, N: 30}, No: triage.Fraction{K: 20, N: 30}, Signal: triage.SignalNoise},
			{ID: "size", Kind: triage.KindChoice, Yes: triage.Fraction{K: 3, N: 3}, No: triage.Fraction{K: 0, N: 2}, Signal: triage.SignalTooFew},
		},
		Herding: triage.Fraction{K: 118, N: 145}, Dissent: triage.Fraction{K: 6, N: 17},
		MedianDecision: 80*time.Hour + 30*time.Minute, P90Decision: 144 * time.Hour,
	}
}

func TestRenderHomeStats(t *testing.T) { testRenderHomeStats(t, english) }

// The same section in Dutch (ui.language = "nl").
func TestRenderHomeStatsNL(t *testing.T) { testRenderHomeStats(t, newWords(LangDutch)) }

func testRenderHomeStats(t *testing.T, w words) {
	t.Parallel()
	from := dispatchNow.AddDate(0, 0, -90)
	few := triage.DecisionReport{From: from, To: dispatchNow, Decided: 3, Qualified: 2, WithOutcome: 2, Won: 2,
		WinRate: triage.Fraction{K: 2, N: 2}, Declined: 1, CameBack: triage.Fraction{N: 1}, Herding: triage.Fraction{K: 2, N: 3},
		Criteria:       []triage.CriterionStats{{ID: "budget", Kind: triage.KindYesNo, Yes: triage.Fraction{K: 2, N: 2}, Signal: triage.SignalTooFew}},
		MedianDecision: 3 * time.Hour, P90Decision: 50 * time.Hour}
	for _, tt := range []struct {
		name   string
		report triage.DecisionReport
		period statsPeriod
	}{
		{"Full", sampleReport(from, dispatchNow), period90d},
		{"Few", few, period12m},
		{"Nothing", triage.DecisionReport{To: dispatchNow}, periodAll},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			view := slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: homeWords{w}.reportBlocks(tt.report, tt.period)}}
			raw, err := json.Marshal(view)
			if err != nil {
				t.Fatal(err)
			}
			if p := slackfake.ValidateView(raw); len(p) > 0 {
				t.Errorf("view invalid: %v", p)
			}
			checkNoInjection(t, raw)
			assertGolden(t, raw)
		})
	}
}

// Below triage.MinForPercent a figure is "k of n", never a percentage.
func TestFractionText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		w    words
		f    triage.Fraction
		want string
	}{
		{english, triage.Fraction{}, "no data"},
		{english, triage.Fraction{K: 2, N: 3}, "2 of 3"},
		{english, triage.Fraction{K: 9, N: 9}, "9 of 9"},
		{english, triage.Fraction{K: 2, N: 10}, "20% (2 of 10)"},
		{newWords(LangDutch), triage.Fraction{K: 2, N: 3}, "2 van 3"},
		{newWords(LangDutch), triage.Fraction{K: 40, N: 60}, "67% (40 van 60)"},
	} {
		if got := tc.w.fraction(tc.f); got != tc.want {
			t.Errorf("%s fraction(%d of %d) = %q, want %q", tc.w.lang, tc.f.K, tc.f.N, got, tc.want)
		}
	}
}

// A criterion id is config text: escaped, never a mention.
func TestRenderHomeStats_EscapesCriterion(t *testing.T) {
	t.Parallel()
	r := sampleReport(dispatchNow.AddDate(0, 0, -30), dispatchNow)
	r.Criteria[0].ID = "<!channel> & <@U123ABC>"
	raw := cardJSON(t, "", homeWords{english}.reportBlocks(r, period30d))
	checkNoInjection(t, raw)
	if !strings.Contains(string(unescapeHTML(raw)), "&lt;!channel&gt; &amp; &lt;@U123ABC&gt;") {
		t.Errorf("criterion id not escaped: %s", raw)
	}
}

func TestRenderDigestPartMonth(t *testing.T) { testRenderDigestPartMonth(t, english) }

// The same digest in Dutch (ui.language = "nl").
func TestRenderDigestPartMonthNL(t *testing.T) { testRenderDigestPartMonth(t, newWords(LangDutch)) }

func testRenderDigestPartMonth(t *testing.T, w words) {
	t.Parallel()
	ams, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		t.Fatal(err)
	}
	dec := time.Date(2026, 12, 1, 0, 0, 0, 0, ams)
	month := sampleReport(dec.AddDate(0, -1, 0), dec)
	part := triage.DigestPart{Key: "digest|2026-12-01T09:00 Europe/Amsterdam", Part: 1, Parts: 1,
		Day: time.Date(2026, 12, 1, 9, 0, 0, 0, ams), Empty: true, Week: sampleWeek(), Month: &month}
	text, blocks := digestWords{w}.part(part, testPermalink, ams, digestNow)
	raw := cardJSON(t, text, blocks)
	checkNoInjection(t, raw)
	if p := slackfake.ValidateBlocks(blocksJSON(t, blocks), slackfake.MaxMessageBlocks); len(p) > 0 {
		t.Errorf("blocks invalid: %v", p)
	}
	assertGolden(t, raw)
}

// The Home with the stats section stays a valid view within 100 blocks for
// the biggest lists and many criteria with hostile ids.
func TestBot_HomeView_WithStats_Limits(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	b := &homeTab{cfg: &Config{Command: "/qualify"}, svc: &triage.Service{Channel: dispatchChannel}, links: &links{}}
	report := sampleReport(dispatchNow.AddDate(0, -1, 0), dispatchNow)
	for i := range 60 {
		report.Criteria = append(report.Criteria, triage.CriterionStats{ID: nastyText(r, 200), Kind: triage.KindScale,
			Yes: triage.Fraction{K: i, N: 100 + i}, No: triage.Fraction{K: 1, N: 3}, Signal: triage.SignalTooFew})
	}
	for _, w := range []words{english, newWords(LangDutch)} {
		h := triage.Home{AwaitingVote: nastyLeads(r, 200, dispatchNow), Owned: nastyLeads(r, 200, dispatchNow), Pending: nastyLeads(r, 600, dispatchNow)}
		b.words = w
		view := b.view(h, dispatchNow)
		stats := homeWords{w}.reportBlocks(report, periodAll)
		view.Blocks.BlockSet = append(view.Blocks.BlockSet, stats...)
		raw, err := json.Marshal(view)
		if err != nil {
			t.Fatal(err)
		}
		if p := slackfake.ValidateView(raw); len(p) > 0 {
			t.Fatalf("%s: %v", w.lang, p)
		}
		if n := len(view.Blocks.BlockSet); n > 100 {
			t.Fatalf("%s: %d blocks", w.lang, n)
		}
		// The lists' escaping is TestBot_HomeView_Limits's.
		checkNoInjection(t, cardJSON(t, "", stats))
	}
}
