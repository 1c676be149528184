package triage_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/leadtriage/leadtriage/triage/triagetest"
)

var statsCriteria = []triage.Criterion{
	{ID: "budget", Kind: triage.KindYesNo},
	{ID: "fit", Kind: triage.KindScale},
	{ID: "size", Kind: triage.KindChoice, Options: []string{"large", "medium", "small"}},
	{ID: "notes", Kind: triage.KindText}, // no sides: left out of the report
}

// statsLead builds a lead decided as status at decidedAt after waiting wait,
// with the events evs (votes, dissent, reopen) and answers given as
// criterion id, value pairs.
func statsLead(id int, status triage.Status, decidedAt time.Time, wait time.Duration, evs []triage.Event, answers ...string) triage.Lead {
	l := triage.Lead{ID: triage.LeadID(id), Status: status, CreatedAt: decidedAt.Add(-wait), Events: evs}
	if status != triage.StatusPending {
		l.Decision = &triage.Decision{Outcome: status, At: decidedAt}
	}
	if len(answers) > 0 {
		l.Answers = map[string]triage.Answer{}
		for i := 0; i+1 < len(answers); i += 2 {
			l.Answers[answers[i]] = triage.Answer{Value: answers[i+1]}
		}
	}
	return l
}

func vote(user string, c triage.Choice) triage.Event {
	return triage.Event{Kind: triage.EventVoted, By: user, Detail: string(c)}
}

func outcome(k triage.OutcomeKind) *triage.Outcome { return &triage.Outcome{Kind: k} }

var (
	q, d, u = triage.ChoiceQualify, triage.ChoiceDisqualify, triage.ChoiceUnsure
	dissent = triage.Event{Kind: triage.EventDissent, By: triage.DecidedByPolicy}
)

// statsFixture is 207 leads: 200 decided (160 in [from, to), 33 outside,
// 7 returning leads decided after to) and 7 pending. The blocks and what
// each is for are in the comments; TestDecisionStats_Fixture adds the
// figures up by hand.
func statsFixture(from, to time.Time) []triage.Lead {
	var leads []triage.Lead
	id := 0
	n := 0 // index among the 160 leads decided in the period
	inPeriod := func(status triage.Status, evs []triage.Event, answers ...string) *triage.Lead {
		id++
		// Decided 6 h apart from from on (the first exactly at from: it
		// counts); waited n+1 hours, so the waits are 1 h … 160 h.
		l := statsLead(id, status, from.Add(time.Duration(n)*6*time.Hour), time.Duration(n+1)*time.Hour, evs, answers...)
		n++
		leads = append(leads, l)
		return &leads[len(leads)-1]
	}
	agree := func(c triage.Choice) []triage.Event { return []triage.Event{vote("U1", c), vote("U2", c)} }

	// A: 40 qualified, won. budget yes for A0–A29, no for A30–A39; fit 5 for
	// even i, 2 for odd; size large for A0–A2.
	// First votes: A0–A7 disqualify (herding miss); A10–A15 three
	// disqualify votes, the dissent prompt, then U1 changes to qualify and
	// U4 votes qualify (dissent changed the outcome; first vote a miss);
	// A16 disqualify, qualify, prompt (no majority: not counted; first vote
	// a miss); the rest agree.
	for i := range 40 {
		var evs []triage.Event
		switch {
		case i < 8:
			evs = []triage.Event{vote("U1", d), vote("U2", q), vote("U3", q)}
		case i >= 10 && i <= 15:
			evs = []triage.Event{vote("U1", d), vote("U2", d), vote("U3", d), dissent,
				{Kind: triage.EventVoted, By: "U1", Detail: "qualify (was disqualify)"}, vote("U4", q), vote("U5", q)}
		case i == 16:
			evs = []triage.Event{vote("U1", d), vote("U2", q), dissent, vote("U3", q)}
		default:
			evs = agree(q)
		}
		budget := "yes"
		if i >= 30 {
			budget = "no"
		}
		fit := "5"
		if i%2 == 1 {
			fit = "2"
		}
		answers := []string{"budget", budget, "fit", fit, "notes", "fine"}
		if i < 3 {
			answers = append(answers, "size", "large")
		}
		inPeriod(triage.StatusQualified, evs, answers...).Outcome = outcome(triage.OutcomeWon)
	}
	// B: 20 qualified, lost. budget yes for B0–B4, no for B5–B19; fit 4 for
	// even i, 1 for odd; size small for B0–B1. B0–B3 were reopened: the
	// first round's disqualify vote does not count, the last round agrees.
	for i := range 20 {
		evs := agree(q)
		if i < 4 {
			evs = append([]triage.Event{vote("U9", d), {Kind: triage.EventReopened, By: "U9"}}, evs...)
		}
		budget := "no"
		if i < 5 {
			budget = "yes"
		}
		fit := "4"
		if i%2 == 1 {
			fit = "1"
		}
		answers := []string{"budget", budget, "fit", fit}
		if i < 2 {
			answers = append(answers, "size", "small")
		}
		inPeriod(triage.StatusQualified, evs, answers...).Outcome = outcome(triage.OutcomeLost)
	}
	// C: 10 qualified, no deal; D: 10 qualified, no outcome yet, decided by
	// the team lead without votes. Both answered budget yes, which must not
	// count: only won or lost leads say anything about a criterion.
	for range 10 {
		inPeriod(triage.StatusQualified, agree(q), "budget", "yes").Outcome = outcome(triage.OutcomeNoDeal)
	}
	for range 10 {
		inPeriod(triage.StatusQualified, nil, "budget", "yes")
	}
	// E: 60 disqualified. E0–E11 first vote qualify (herding miss);
	// E20–E29 three disqualify votes and the dissent prompt, then stayed
	// disqualified (the prompt changed nothing). E0–E5 came back.
	var e, f []triage.LeadID
	for i := range 60 {
		evs := agree(d)
		switch {
		case i < 12:
			evs = []triage.Event{vote("U1", q), vote("U2", d), vote("U3", d)}
		case i >= 20 && i < 30:
			evs = []triage.Event{vote("U1", d), vote("U2", d), vote("U3", d), dissent}
		}
		e = append(e, inPeriod(triage.StatusDisqualified, evs).ID)
	}
	// F: 20 referred. F0–F4 first vote unsure (not counted for herding);
	// F10 U2's qualify withdrawn before the prompt (majority disqualify,
	// referred: no change). F0 came back once, F1 twice.
	for i := range 20 {
		evs := agree(d)
		switch {
		case i < 5:
			evs = []triage.Event{vote("U1", u), vote("U2", d)}
		case i == 10:
			evs = []triage.Event{vote("U1", d), vote("U2", q), {Kind: triage.EventUnvoted, By: "U2", Detail: "qualify"}, dissent}
		}
		f = append(f, inPeriod(triage.StatusReferred, evs).ID)
	}

	// G: 20 decided before from (one a nanosecond before), H: 13 decided at
	// or after to (one exactly at to). All won or disqualified with
	// mismatching first votes and prompts: any of them counted would
	// change every figure.
	outside := func(at time.Time, i int) {
		id++
		status, c := triage.StatusQualified, d
		if i%2 == 1 {
			status, c = triage.StatusDisqualified, q
		}
		l := statsLead(id, status, at, 1000*time.Hour, []triage.Event{vote("U1", c), vote("U2", d), dissent}, "budget", "no")
		if status == triage.StatusQualified {
			l.Outcome = outcome(triage.OutcomeWon)
		}
		leads = append(leads, l)
	}
	for i := range 20 {
		outside(from.Add(-time.Nanosecond-time.Duration(i)*24*time.Hour), i)
	}
	for i := range 13 {
		outside(to.Add(time.Duration(i)*24*time.Hour), i)
	}

	// R: 9 returning leads, created after to: R1–R6 link to E0–E5, R7 to
	// F0, R8 and R9 to F1. R1–R4 and R7 qualified (R1, R2, R7 won, R3
	// lost); R5 and R9 disqualified; R6 and R8 pending.
	type ret struct {
		to      triage.LeadID
		status  triage.Status
		outcome triage.OutcomeKind
	}
	for i, r := range []ret{
		{e[0], triage.StatusQualified, triage.OutcomeWon}, {e[1], triage.StatusQualified, triage.OutcomeWon},
		{e[2], triage.StatusQualified, triage.OutcomeLost}, {e[3], triage.StatusQualified, ""},
		{e[4], triage.StatusDisqualified, ""}, {e[5], triage.StatusPending, ""},
		{f[0], triage.StatusQualified, triage.OutcomeWon}, {f[1], triage.StatusPending, ""},
		{f[1], triage.StatusDisqualified, ""},
	} {
		id++
		l := statsLead(id, r.status, to.Add(time.Duration(i+1)*time.Hour), 30*time.Minute, nil)
		l.Returning = &triage.PriorDecision{Lead: r.to, Outcome: triage.StatusDisqualified}
		if r.outcome != "" {
			l.Outcome = outcome(r.outcome)
		}
		leads = append(leads, l)
	}
	// P: 5 leads still pending, created in the period: ignored.
	for i := range 5 {
		id++
		leads = append(leads, statsLead(id, triage.StatusPending, from.Add(time.Duration(i)*time.Hour), 0, []triage.Event{vote("U1", d)}))
	}
	return leads
}

func TestDecisionStats_Fixture(t *testing.T) {
	t.Parallel()
	from := now.AddDate(0, -2, 0)
	to := now
	leads := statsFixture(from, to)
	decidedN := 0
	for _, l := range leads {
		if l.Decision != nil {
			decidedN++
		}
	}
	if len(leads) != 207 || decidedN != 200 {
		t.Fatalf("fixture has %d leads, %d decided; want 207, 200", len(leads), decidedN)
	}

	got := triage.DecisionStats(leads, statsCriteria, from, to)
	want := triage.DecisionReport{
		From: from, To: to,
		// A 40 + B 20 + C 10 + D 10 + E 60 + F 20 = 160; G, H, R and P are outside or pending.
		Decided: 160,
		// qualified 80 = A+B+C+D; with an outcome 70 = A+B+C; won 40 = A,
		// lost 20 = B, no deal 10 = C; win rate won 40 of won+lost 60.
		Qualified: 80, WithOutcome: 70, Won: 40, Lost: 20, NoDeal: 10,
		WinRate: triage.Fraction{K: 40, N: 60},
		// declined 80 = E 60 + F 20; came back: E0–E5 and F0, F1 = 8 of 80;
		// returns 9 = R1–R9; qualified R1–R4, R7 = 5 of 9; won R1, R2, R7 = 3 of 9.
		Declined: 80, CameBack: triage.Fraction{K: 8, N: 80},
		Returns: 9, ReturnsQualified: triage.Fraction{K: 5, N: 9}, ReturnsWon: triage.Fraction{K: 3, N: 9},
		Criteria: []triage.CriterionStats{
			// budget yes: A0–A29 won (30) + B0–B4 lost (5) → 30 of 35;
			// no: A30–A39 won (10) + B5–B19 lost (15) → 10 of 25.
			// 30/35 − 10/25 = 85.7% − 40% = 45.7 points ≥ 20: predicts.
			{ID: "budget", Kind: triage.KindYesNo, Yes: triage.Fraction{K: 30, N: 35}, No: triage.Fraction{K: 10, N: 25}, Signal: triage.SignalPredicts},
			// fit ≥ 4: A even 20 won + B even 10 lost → 20 of 30;
			// fit ≤ 2: A odd 20 won + B odd 10 lost → 20 of 30. Same rate: noise.
			{ID: "fit", Kind: triage.KindScale, Yes: triage.Fraction{K: 20, N: 30}, No: triage.Fraction{K: 20, N: 30}, Signal: triage.SignalNoise},
			// size large (first option): A0–A2 → 3 of 3; other: B0–B1 small → 0 of 2. Too few to tell.
			{ID: "size", Kind: triage.KindChoice, Yes: triage.Fraction{K: 3, N: 3}, No: triage.Fraction{K: 0, N: 2}, Signal: triage.SignalTooFew},
		},
		// Herding: 160 − F0–F4 (first vote unsure, 5) − D (no votes, 10) =
		// 145 counted; misses A0–A7 (8) + A10–A16 (7) + E0–E11 (12) = 27;
		// 145 − 27 = 118 of 145. B0–B3's first-round disqualify does not count.
		Herding: triage.Fraction{K: 118, N: 145},
		// Dissent: prompts on A10–A15 (6, majority disqualify, qualified:
		// changed), E20–E29 (10, disqualified: unchanged), F10 (1,
		// referred: unchanged); A16 had no majority. 6 of 17.
		Dissent: triage.Fraction{K: 6, N: 17},
		// Waits 1 h … 160 h: median (80 h + 81 h) / 2 = 80.5 h; 90th
		// percentile rank ⌈0.9 × 160⌉ = 144 → 144 h.
		MedianDecision: 80*time.Hour + 30*time.Minute,
		P90Decision:    144 * time.Hour,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DecisionStats (-want +got):\n%s", diff)
	}
	// 40 of 60 = 66.7% → 67%; 8 of 80 = 10%; 118 of 145 = 81.4% → 81%;
	// 5 of 9 and 6 of 17 … 17 ≥ 10: 35.3% → 35%.
	for _, tc := range []struct {
		name string
		f    triage.Fraction
		pct  int
		ok   bool
	}{
		{"win rate", got.WinRate, 67, true},
		{"came back", got.CameBack, 10, true},
		{"returns qualified", got.ReturnsQualified, 0, false},
		{"herding", got.Herding, 81, true},
		{"dissent", got.Dissent, 35, true},
	} {
		if pct, ok := tc.f.Percent(); pct != tc.pct || ok != tc.ok {
			t.Errorf("%s %d of %d: Percent() = %d, %v; want %d, %v", tc.name, tc.f.K, tc.f.N, pct, ok, tc.pct, tc.ok)
		}
	}
}

// Vote events as they are written since issue 12 carry the choice in Args
// (EvChoice, EvWas): the fixture with its votes as Args only, no detail,
// gives the same figures as with the detail text of older events; where
// the two disagree, Args decide.
func TestDecisionStats_VoteArgs(t *testing.T) {
	t.Parallel()
	from, to := now.AddDate(0, -2, 0), now
	leads := statsFixture(from, to)
	want := triage.DecisionStats(leads, statsCriteria, from, to)
	converted := 0
	for i := range leads {
		evs := slices.Clone(leads[i].Events)
		for j, e := range evs {
			if e.Kind != triage.EventVoted && e.Kind != triage.EventUnvoted {
				continue
			}
			choice, rest, _ := strings.Cut(e.Detail, " ")
			args := map[string]string{triage.EvChoice: choice}
			if was, ok := strings.CutPrefix(rest, "(was "); ok {
				args[triage.EvWas] = strings.TrimSuffix(was, ")")
			}
			evs[j].Detail, evs[j].Args = "", args
			converted++
		}
		leads[i].Events = evs
	}
	if converted < 300 {
		t.Fatalf("converted %d vote events; the fixture has more", converted)
	}
	if diff := cmp.Diff(want, triage.DecisionStats(leads, statsCriteria, from, to)); diff != "" {
		t.Errorf("DecisionStats from Args (-text +args):\n%s", diff)
	}
	if want.Herding != (triage.Fraction{K: 118, N: 145}) {
		t.Errorf("herding from text = %+v: the fixture changed", want.Herding)
	}

	// One lead whose first vote's Args and detail disagree: Args count.
	at := from.Add(time.Hour)
	l := statsLead(1, triage.StatusQualified, at, time.Hour, []triage.Event{
		{Kind: triage.EventVoted, By: "U1", Detail: "disqualify", Args: map[string]string{triage.EvChoice: "qualify"}}})
	if got := triage.DecisionStats([]triage.Lead{l}, nil, from, to).Herding; got != (triage.Fraction{K: 1, N: 1}) {
		t.Errorf("herding = %+v, want the Args' qualify to match the decision (1 of 1)", got)
	}
}

func TestDecisionStats_Edges(t *testing.T) {
	t.Parallel()
	from, to := now.AddDate(0, -1, 0), now
	tooFew := []triage.CriterionStats{
		{ID: "budget", Kind: triage.KindYesNo, Signal: triage.SignalTooFew},
		{ID: "fit", Kind: triage.KindScale, Signal: triage.SignalTooFew},
		{ID: "size", Kind: triage.KindChoice, Signal: triage.SignalTooFew},
	}
	won := func(id int, at time.Time) triage.Lead {
		l := statsLead(id, triage.StatusQualified, at, time.Hour, []triage.Event{vote("U1", q)}, "budget", "yes")
		l.Outcome = outcome(triage.OutcomeWon)
		return l
	}
	t.Run("no leads", func(t *testing.T) {
		t.Parallel()
		got := triage.DecisionStats(nil, statsCriteria, from, to)
		want := triage.DecisionReport{From: from, To: to, Criteria: tooFew}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("three leads: no percentages", func(t *testing.T) {
		t.Parallel()
		leads := []triage.Lead{won(1, from), won(2, from.Add(time.Hour)), statsLead(3, triage.StatusDisqualified, from.Add(2*time.Hour), 3*time.Hour, nil)}
		leads[2].Events = []triage.Event{vote("U1", d)}
		got := triage.DecisionStats(leads, statsCriteria, from, to)
		if got.Decided != 3 || got.WinRate != (triage.Fraction{K: 2, N: 2}) || got.Herding != (triage.Fraction{K: 3, N: 3}) {
			t.Errorf("decided %d, win rate %+v, herding %+v; want 3, 2 of 2, 3 of 3", got.Decided, got.WinRate, got.Herding)
		}
		for _, f := range []triage.Fraction{got.WinRate, got.Herding, got.CameBack, got.Criteria[0].Yes} {
			if pct, ok := f.Percent(); ok {
				t.Errorf("%d of %d shown as %d%%; want no percentage below %d", f.K, f.N, pct, triage.MinForPercent)
			}
		}
		// Waits 1 h, 1 h, 3 h: median 1 h, 90th percentile rank ⌈2.7⌉ = 3 → 3 h.
		if got.MedianDecision != time.Hour || got.P90Decision != 3*time.Hour {
			t.Errorf("median %v, p90 %v; want 1h, 3h", got.MedianDecision, got.P90Decision)
		}
	})
	t.Run("outside the period and undecided are ignored", func(t *testing.T) {
		t.Parallel()
		pending := statsLead(3, triage.StatusPending, from.Add(time.Hour), time.Hour, []triage.Event{vote("U1", q)})
		reopened := won(4, from.Add(time.Hour)) // reopened: pending again, decision cleared
		reopened.Status, reopened.Decision = triage.StatusPending, nil
		leads := []triage.Lead{won(1, from.Add(-time.Nanosecond)), won(2, to), pending, reopened}
		got := triage.DecisionStats(leads, statsCriteria, from, to)
		want := triage.DecisionReport{From: from, To: to, Criteria: tooFew}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("a lead passed twice counts once", func(t *testing.T) {
		t.Parallel()
		back := statsLead(2, triage.StatusQualified, to.Add(time.Hour), time.Hour, nil)
		back.Returning = &triage.PriorDecision{Lead: 1, Outcome: triage.StatusDisqualified}
		no := statsLead(1, triage.StatusDisqualified, from, time.Hour, nil)
		got := triage.DecisionStats([]triage.Lead{no, back, no, back}, nil, from, to)
		if got.Decided != 1 || got.CameBack != (triage.Fraction{K: 1, N: 1}) || got.Returns != 1 || got.ReturnsQualified != (triage.Fraction{K: 1, N: 1}) {
			t.Errorf("decided %d, came back %+v, returns %d, qualified %+v; want 1, 1 of 1, 1, 1 of 1", got.Decided, got.CameBack, got.Returns, got.ReturnsQualified)
		}
	})
}

func TestFraction_Percent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		f   triage.Fraction
		pct int
		ok  bool
	}{
		{triage.Fraction{}, 0, false},
		{triage.Fraction{K: 2, N: 3}, 0, false},
		{triage.Fraction{K: 9, N: 9}, 0, false},
		{triage.Fraction{K: 1, N: 10}, 10, true},
		{triage.Fraction{K: 1, N: 8 * 25}, 1, true}, // 0.5% rounds half up
		{triage.Fraction{K: 2, N: 3 * 10}, 7, true}, // 6.67%
		{triage.Fraction{K: 0, N: 12}, 0, true},
	} {
		if pct, ok := tc.f.Percent(); pct != tc.pct || ok != tc.ok {
			t.Errorf("%d of %d: Percent() = %d, %v; want %d, %v", tc.f.K, tc.f.N, pct, ok, tc.pct, tc.ok)
		}
	}
}

// The service reads the same leads through its fallback (every lead) as
// DecisionStats gets directly; storage tests the indexed path.
func TestService_DecisionStats(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	from, to := now.AddDate(0, -2, 0), now
	store := &triagetest.Store{}
	leads := statsFixture(from, to)
	for _, l := range leads {
		if _, _, err := store.CreateLead(ctx, l, triage.Idempotency{}, nil); err != nil {
			t.Fatal(err)
		}
	}
	svc := &triage.Service{Store: store, Policy: triage.Policy{Criteria: statsCriteria}}
	got, err := svc.DecisionStats(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(triage.DecisionStats(leads, statsCriteria, from, to), got); diff != "" {
		t.Errorf("(-direct +service):\n%s", diff)
	}
}

// The month's first digest carries last month's report on its last part
// (in the digest's time zone); any later digest of the month none. With
// skip_empty, last month's figures are something to say.
func TestService_BuildDigest_Month(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ams, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		t.Fatal(err)
	}
	store := &triagetest.Store{}
	nov15 := time.Date(2026, 11, 15, 10, 0, 0, 0, ams)
	won := statsLead(0, triage.StatusQualified, nov15, 4*time.Hour, []triage.Event{vote("U1", q)})
	won.Outcome = outcome(triage.OutcomeWon)
	// Decided 30 minutes into December in Amsterdam (23:30 UTC on 30
	// November): December's, not November's.
	dec := statsLead(0, triage.StatusDisqualified, time.Date(2026, 12, 1, 0, 30, 0, 0, ams), time.Hour, nil)
	for _, l := range []triage.Lead{won, dec} {
		if _, _, err := store.CreateLead(ctx, l, triage.Idempotency{}, nil); err != nil {
			t.Fatal(err)
		}
	}
	svc := &triage.Service{Store: store}
	decStart := time.Date(2026, 12, 1, 0, 0, 0, 0, ams)
	first := time.Date(2026, 12, 1, 9, 0, 0, 0, ams)
	for _, tc := range []struct {
		name       string
		since, now time.Time
		skipEmpty  bool
		want       *triage.DecisionReport
	}{
		{"first of the month", first.Add(-72 * time.Hour), first, false, &triage.DecisionReport{
			From: decStart.AddDate(0, -1, 0), To: decStart, Decided: 1, Qualified: 1, WithOutcome: 1, Won: 1,
			WinRate: triage.Fraction{K: 1, N: 1}, Herding: triage.Fraction{K: 1, N: 1},
			MedianDecision: 4 * time.Hour, P90Decision: 4 * time.Hour,
		}},
		// 00:20 on 1 December: the December lead is not decided yet.
		{"first of the month, skip_empty", first.Add(-24 * time.Hour), decStart.Add(20 * time.Minute), true, nil}, // checked below
		{"later in the month", first, first.Add(24 * time.Hour), false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			parts, _, err := svc.BuildDigest(ctx, tc.since, tc.now, triage.DigestOptions{Location: ams, SkipEmpty: tc.skipEmpty})
			if err != nil {
				t.Fatal(err)
			}
			if tc.skipEmpty {
				// Nothing pending (the December lead is decided) and
				// nothing decided since: only the month speaks.
				if len(parts) != 1 || !parts[0].Empty || parts[0].Month == nil || parts[0].Month.Won != 1 {
					t.Fatalf("parts %+v; want one part with last month's report", parts)
				}
				return
			}
			last := parts[len(parts)-1]
			if diff := cmp.Diff(tc.want, last.Month); diff != "" {
				t.Errorf("Month (-want +got):\n%s", diff)
			}
			for _, p := range parts[:len(parts)-1] {
				if p.Month != nil {
					t.Errorf("part %d carries the month too", p.Part)
				}
			}
		})
	}
}
