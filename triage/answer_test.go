package triage_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/leadtriage/leadtriage/triage"
)

var (
	critNeed      = triage.Criterion{ID: "need", Question: "Do they have a clear need?", Kind: triage.KindYesNo, Must: true, Weight: 3}
	critBudget    = triage.Criterion{ID: "budget", Question: "Is there budget for it this year?", Kind: triage.KindYesNo, Must: true, Weight: 3}
	critAuthority = triage.Criterion{ID: "authority", Question: "Is the contact the one who decides?", Kind: triage.KindYesNo, Weight: 2}
	critFit       = triage.Criterion{ID: "fit", Question: "How well do they fit our ideal customer?", Kind: triage.KindScale, Weight: 4}
	critTiming    = triage.Criterion{ID: "timing", Question: "When do they want to start?", Kind: triage.KindChoice, Weight: 2,
		Options: []string{"this month", "this quarter", "this year", "later"}}
	critSize = triage.Criterion{ID: "size", Question: "How big is the deal (EUR)?", Kind: triage.KindNumber, Weight: 5}
	critNote = triage.Criterion{ID: "notes", Question: "Anything else we should know?", Kind: triage.KindText, Weight: 5}

	// criteria is a full set with every kind, in config order.
	criteria = []triage.Criterion{critNeed, critBudget, critAuthority, critFit, critTiming, critSize, critNote}
)

func TestNormaliseAnswer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		c    triage.Criterion
		raw  string
		want string
	}{
		// yes/no, every accepted form
		{critBudget, "yes", "yes"}, {critBudget, "Yes", "yes"}, {critBudget, " YES. ", "yes"}, {critBudget, "y", "yes"},
		{critBudget, "ja", "yes"}, {critBudget, "Ja!", "yes"}, {critBudget, "j", "yes"}, {critBudget, "true", "yes"},
		{critBudget, "✓", "yes"}, {critBudget, "👍", "yes"}, {critBudget, ":+1:", "yes"}, {critBudget, ":white_check_mark:", "yes"},
		{critBudget, "no", "no"}, {critBudget, "No.", "no"}, {critBudget, "n", "no"}, {critBudget, "nee", "no"},
		{critBudget, "NEE!", "no"}, {critBudget, "false", "no"}, {critBudget, "✗", "no"}, {critBudget, "👎", "no"}, {critBudget, ":-1:", "no"},
		{critBudget, "?", "unknown"}, {critBudget, "??", "unknown"}, {critBudget, "don't know", "unknown"},
		{critBudget, "Don’t know", "unknown"}, {critBudget, "dont know", "unknown"}, {critBudget, "unknown", "unknown"},
		{critBudget, "weet niet", "unknown"}, {critBudget, "Onbekend.", "unknown"}, {critBudget, "yes?", "yes"},
		// scale
		{critFit, "1", "1"}, {critFit, "5", "5"}, {critFit, " 3 ", "3"}, {critFit, "4/5", "4"}, {critFit, "4 / 5", "4"},
		{critFit, "3 of 5", "3"}, {critFit, "3 out of 5", "3"}, {critFit, "2 van 5", "2"}, {critFit, "5.", "5"},
		// number
		{critSize, "50", "50"}, {critSize, "0", "0"}, {critSize, "007", "7"},
		{critSize, "1.500", "1500"}, {critSize, "1,500", "1500"}, {critSize, "1.000.000", "1000000"}, {critSize, "1,000,000", "1000000"},
		{critSize, "2.5k", "2500"}, {critSize, "2,5k", "2500"}, {critSize, "2.5K", "2500"}, {critSize, "50k", "50000"}, {critSize, "50 k", "50000"},
		{critSize, "1m", "1000000"}, {critSize, "1.25m", "1250000"}, {critSize, "1,250m", "1250000"}, {critSize, "2 mln", "2000000"},
		{critSize, "€ 10.000", "10000"}, {critSize, "€10.000,-", "10000"}, {critSize, "$2,000", "2000"}, {critSize, "£300", "300"},
		{critSize, "10 000", "10000"}, {critSize, "10\u00a0000", "10000"}, {critSize, "EUR 5000", "5000"}, {critSize, "5000 euro", "5000"},
		{critSize, "50k€", "50000"},
		{critSize, "2.5", "2.5"}, {critSize, "2,5", "2.5"}, {critSize, "2.50", "2.50"}, {critSize, ".5", "0.5"}, {critSize, "0.125", "0.125"},
		{critSize, "1,500.50", "1500.50"}, {critSize, "1.500,50", "1500.50"}, {critSize, "1234.567", "1234.567"},
		{critSize, "12.1250", "12.1250"}, {critSize, "0.012125k", "12.1250"}, {critSize, "1.2345k", "1234.5"}, {critSize, "50.", "50"},
		// text
		{critNote, "  they want it yesterday  ", "they want it yesterday"},
		{critNote, "a\u202Eb\u200Bc", "abc"},
		{critNote, strings.Repeat("x", triage.MaxTextAnswer), strings.Repeat("x", triage.MaxTextAnswer)},
		// choice
		{critTiming, "this quarter", "this quarter"}, {critTiming, "This Quarter", "this quarter"}, {critTiming, "2", "this quarter"},
		{critTiming, "this q", "this quarter"}, {critTiming, "later", "later"}, {critTiming, "l", "later"}, {critTiming, "4", "later"},
		{critTiming, "this year.", "this year"},
	}
	for _, tt := range tests {
		got, err := triage.NormaliseAnswer(tt.c, tt.raw)
		if err != nil || got != tt.want {
			t.Errorf("NormaliseAnswer(%s, %q) = %q, %v; want %q", tt.c.ID, tt.raw, got, err, tt.want)
			continue
		}
		// A stored value is checked again by Service.Answer: it must be its own normal form.
		if again, err := triage.NormaliseAnswer(tt.c, got); err != nil || again != got {
			t.Errorf("NormaliseAnswer(%s, %q) = %q, %v; want it unchanged", tt.c.ID, got, again, err)
		}
	}
}

func TestNormaliseAnswer_Rejected(t *testing.T) {
	t.Parallel()
	tests := []struct {
		c   triage.Criterion
		raw string
	}{
		{critBudget, ""}, {critBudget, "maybe"}, {critBudget, "yes please, if the budget allows"}, {critBudget, "yesno"},
		{critBudget, "1"}, {critBudget, strings.Repeat("yes ", 40)},
		{critFit, "0"}, {critFit, "6"}, {critFit, "10"}, {critFit, "3.5"}, {critFit, "4/10"}, {critFit, "three"}, {critFit, ""}, {critFit, "-1"},
		{critSize, ""}, {critSize, "-50"}, {critSize, "−50"}, {critSize, "lots"}, {critSize, "50 or 60"}, {critSize, "1e6"},
		{critSize, "1..500"}, {critSize, "1.50.0"}, {critSize, "1,5.3"}, {critSize, "1.500.00"}, {critSize, "k"}, {critSize, "€"},
		{critSize, "1,500,50.0,0"}, {critSize, "12345.678.9"}, {critSize, "0x10"},
		{critNote, ""}, {critNote, "   "}, {critNote, "\u200B"}, {critNote, strings.Repeat("x", triage.MaxTextAnswer+1)},
		{critTiming, ""}, {critTiming, "next decade"}, {critTiming, "this"}, {critTiming, "0"}, {critTiming, "5"},
		{triage.Criterion{ID: "odd", Kind: "colour"}, "red"},
	}
	for _, tt := range tests {
		if got, err := triage.NormaliseAnswer(tt.c, tt.raw); err == nil {
			t.Errorf("NormaliseAnswer(%s, %q) = %q, want an error", tt.c.ID, tt.raw, got)
		}
	}
}

func TestNormaliseAnswer_ErrorSaysWhy(t *testing.T) {
	t.Parallel()
	_, err := triage.NormaliseAnswer(critTiming, "this")
	if err == nil || !strings.Contains(err.Error(), "this month or this quarter or this year") {
		t.Errorf("ambiguous prefix: err = %v, want it to name the candidates", err)
	}
	_, err = triage.NormaliseAnswer(critBudget, "maybe")
	if err == nil || !strings.Contains(err.Error(), "yes, no or don't know") {
		t.Errorf("err = %v, want it to say what is accepted", err)
	}
}

func TestAcceptedForms(t *testing.T) {
	t.Parallel()
	many := triage.Criterion{Kind: triage.KindChoice}
	for i := range 12 {
		many.Options = append(many.Options, string(rune('a'+i)))
	}
	tests := []struct {
		c    triage.Criterion
		want string
	}{
		{critBudget, "yes, no or don't know"},
		{critFit, "1 to 5"},
		{critSize, "a number, e.g. 50 or 2.5k"},
		{critNote, "any text"},
		{critTiming, "one of: this month, this quarter, this year, later"},
		{many, "one of: a, b, c, d, e, f, g, h, i, j, …"},
	}
	for _, tt := range tests {
		if got := triage.AcceptedForms(tt.c); got != tt.want {
			t.Errorf("AcceptedForms(%s) = %q, want %q", tt.c.Kind, got, tt.want)
		}
	}
}

func TestParseReply(t *testing.T) {
	t.Parallel()
	type (
		A = triage.ParsedAnswer
		P = triage.ReplyProblem
	)
	tests := []struct {
		name     string
		text     string
		answers  []A
		problems []P
	}{
		{"id and colon", "budget: yes", []A{{"budget", "yes", ""}}, nil},
		{"equals sign", "budget = nee", []A{{"budget", "no", ""}}, nil},
		{"no space", "budget:ja", []A{{"budget", "yes", ""}}, nil},
		{"id case-insensitive", "BUDGET: Y", []A{{"budget", "yes", ""}}, nil},
		{"bullet dash", "- budget: yes", []A{{"budget", "yes", ""}}, nil},
		{"bullet star", "* fit: 4/5", []A{{"fit", "4", ""}}, nil},
		{"bullet dot", "• size: 2.5k", []A{{"size", "2500", ""}}, nil},
		{"bold key", "*budget*: yes", []A{{"budget", "yes", ""}}, nil},
		{"italic key", "_budget_: no", []A{{"budget", "no", ""}}, nil},
		{"code key", "`budget`: ?", []A{{"budget", "unknown", ""}}, nil},
		{"bold key and colon", "*budget:* yes", []A{{"budget", "yes", ""}}, nil},
		{"formatted value", "budget: *yes*", []A{{"budget", "yes", ""}}, nil},
		{"question prefix", "Is there budget: yes", []A{{"budget", "yes", ""}}, nil},
		{"whole question", "Is there budget for it this year?: no", []A{{"budget", "no", ""}}, nil},
		{"question prefix, other case and spacing", "is  THERE budget = ja", []A{{"budget", "yes", ""}}, nil},
		{"question prefix of four letters", "when: this quarter", []A{{"timing", "this quarter", ""}}, nil},
		{"ambiguous question prefix is chatter", "Is th: yes", nil, nil},
		{"too short a prefix is chatter", "Do t: yes", nil, nil},
		{"choice by number", "timing: 1", []A{{"timing", "this month", ""}}, nil},
		{"text keeps its words", "notes: they want *everything* = now", []A{{"notes", "they want *everything* = now", ""}}, nil},
		{"plain text is taken as it is", "notes: budget < 10k & no team", []A{{"notes", "budget < 10k & no team", ""}}, nil},
		{"several answers",
			"budget: yes\nauthority: no\nfit: 3\nsize: € 10.000\ntiming: this year\nnotes: met at the fair",
			[]A{{"budget", "yes", ""}, {"authority", "no", ""}, {"fit", "3", ""}, {"size", "10000", ""}, {"timing", "this year", ""}, {"notes", "met at the fair", ""}}, nil},
		{"CRLF lines", "budget: yes\r\nfit: 2\r\n", []A{{"budget", "yes", ""}, {"fit", "2", ""}}, nil},
		{"chatter around answers",
			"Had a call with them today.\nbudget: yes\nThey sounded keen: very!\nSee you at 10:30\nfit: 5\n\nCheers",
			[]A{{"budget", "yes", ""}, {"fit", "5", ""}}, nil},
		{"only chatter", "Looks good to me, let's talk tomorrow", nil, nil},
		{"unknown key", "colour: blue", nil, nil},
		{"empty answer is chatter", "Budget:\nwe have to ask", nil, nil},
		{"url is not a key", "see https://acme.example/about", nil, nil},
		{"url alone", "https://acme.example", nil, nil},
		{"slack link", "<https://acme.example|acme>: yes", nil, nil},
		{"url in a text answer", "notes: see https://acme.example/about", []A{{"notes", "see https://acme.example/about", ""}}, nil},
		{"mention is not a key", "<@U123>: yes", nil, nil},
		{"emoji line", ":+1: great", nil, nil},
		{"emoji answer", "budget: :+1:", []A{{"budget", "yes", ""}}, nil},
		{"quoted line is someone else's", "> budget: yes\nagreed", nil, nil},
		{"bad answer", "budget: maybe", nil, []P{{Criterion: "budget", Raw: "maybe", Accepted: "yes, no or don't know"}}},
		{"bad answer by question", "How well do they fit: great", nil, []P{{Criterion: "fit", Raw: "great", Accepted: "1 to 5"}}},
		{"bad and good", "budget: maybe\nfit: 4",
			[]A{{"fit", "4", ""}}, []P{{Criterion: "budget", Raw: "maybe", Accepted: "yes, no or don't know"}}},
		{"same key twice: the last wins", "budget: yes\nfit: 2\nbudget: no", []A{{"budget", "no", ""}, {"fit", "2", ""}}, nil},
		{"id and question for one criterion: the last wins", "budget: yes\nIs there budget: no", []A{{"budget", "no", ""}}, nil},
		{"a later good answer replaces a problem", "budget: maybe\nbudget: yes", []A{{"budget", "yes", ""}}, nil},
		{"a later problem replaces an answer", "budget: yes\nbudget: perhaps",
			nil, []P{{Criterion: "budget", Raw: "perhaps", Accepted: "yes, no or don't know"}}},
		{"long raw answer is shortened", "size: " + strings.Repeat("lots ", 20),
			nil, []P{{Criterion: "size", Raw: strings.Repeat("lots ", 19) + "lots", Accepted: "a number, e.g. 50 or 2.5k"}}},
		{"empty", "", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			answers, problems := triage.ParseReply(tt.text, criteria)
			if diff := cmp.Diff(tt.answers, answers); diff != "" {
				t.Errorf("answers (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.problems, problems); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseReply_RawIsBounded(t *testing.T) {
	t.Parallel()
	_, problems := triage.ParseReply("size: "+strings.Repeat("x", 1000), criteria)
	if len(problems) != 1 || len([]rune(problems[0].Raw)) > 100 {
		t.Fatalf("problems = %+v, want one with at most 100 runes of raw text", problems)
	}
}

func TestParseReply_ManyLines(t *testing.T) {
	t.Parallel()
	// A pasted document is read only so far; the answers at the top count.
	text := "budget: yes\n" + strings.Repeat("chatter\n", 5000) + "fit: 3"
	answers, _ := triage.ParseReply(text, criteria)
	if diff := cmp.Diff([]triage.ParsedAnswer{{Criterion: "budget", Value: "yes"}}, answers); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
}

func TestParseReply_NoCriteria(t *testing.T) {
	t.Parallel()
	answers, problems := triage.ParseReply("budget: yes", nil)
	if answers != nil || problems != nil {
		t.Errorf("ParseReply with no criteria = %v, %v", answers, problems)
	}
}

func answersOf(kv ...string) map[string]triage.Answer {
	m := map[string]triage.Answer{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = triage.Answer{Value: kv[i+1], By: "U1", At: now}
	}
	return m
}

func TestEvaluateCriteria(t *testing.T) {
	t.Parallel()
	mustFit := critFit
	mustFit.Must = true
	single := triage.Criterion{ID: "one", Kind: triage.KindChoice, Options: []string{"only"}, Weight: 3}
	three := triage.Criterion{ID: "three", Kind: triage.KindChoice, Options: []string{"a", "b", "c"}, Weight: 3}
	tests := []struct {
		name    string
		cs      []triage.Criterion
		answers map[string]triage.Answer
		want    triage.CriteriaStatus
	}{
		{"no criteria", nil, answersOf("budget", "yes"), triage.CriteriaStatus{}},
		{"nothing answered", criteria, nil, triage.CriteriaStatus{
			Total: 7, MustOpen: []string{"need", "budget"}, MaxScore: 3 + 3 + 2 + 4 + 2}},
		{"all best", criteria, answersOf("need", "yes", "budget", "yes", "authority", "yes", "fit", "5", "timing", "this month", "size", "50000", "notes", "x"),
			triage.CriteriaStatus{Answered: 7, Total: 7, Score: 14, MaxScore: 14}},
		{"all worst", criteria, answersOf("need", "no", "budget", "no", "authority", "no", "fit", "1", "timing", "later", "size", "0", "notes", "x"),
			triage.CriteriaStatus{Answered: 7, Total: 7, MustNo: []string{"need", "budget"}, MaxScore: 14}},
		{"unknown is open and scores nothing", criteria, answersOf("need", "unknown", "budget", "yes", "authority", "unknown"),
			triage.CriteriaStatus{Answered: 3, Total: 7, MustOpen: []string{"need"}, Score: 3, MaxScore: 14}},
		{"must-have no in config order", []triage.Criterion{critNeed, critBudget}, answersOf("budget", "no", "need", "no"),
			triage.CriteriaStatus{Answered: 2, Total: 2, MustNo: []string{"need", "budget"}, MaxScore: 6}},
		{"empty value is not an answer", []triage.Criterion{critBudget}, answersOf("budget", ""),
			triage.CriteriaStatus{Total: 1, MustOpen: []string{"budget"}, MaxScore: 3}},
		{"answers to criteria no longer configured are ignored", []triage.Criterion{critBudget}, answersOf("budget", "yes", "gone", "no"),
			triage.CriteriaStatus{Answered: 1, Total: 1, Score: 3, MaxScore: 3}},
		// scale n scores weight*(n-1)/4, rounded: weight 4 gives 0, 1, 2, 3, 4.
		{"scale 2", []triage.Criterion{critFit}, answersOf("fit", "2"), triage.CriteriaStatus{Answered: 1, Total: 1, Score: 1, MaxScore: 4}},
		{"scale 3", []triage.Criterion{critFit}, answersOf("fit", "3"), triage.CriteriaStatus{Answered: 1, Total: 1, Score: 2, MaxScore: 4}},
		{"scale 4", []triage.Criterion{critFit}, answersOf("fit", "4"), triage.CriteriaStatus{Answered: 1, Total: 1, Score: 3, MaxScore: 4}},
		{"scale rounds half up", []triage.Criterion{{ID: "s", Kind: triage.KindScale, Weight: 2}}, answersOf("s", "2"),
			triage.CriteriaStatus{Answered: 1, Total: 1, Score: 1, MaxScore: 2}}, // 2*1/4 = 0.5
		{"scale rounds down", []triage.Criterion{{ID: "s", Kind: triage.KindScale, Weight: 3}}, answersOf("s", "2"),
			triage.CriteriaStatus{Answered: 1, Total: 1, Score: 1, MaxScore: 3}}, // 3*1/4 = 0.75
		{"must-have scale of 1 is a no", []triage.Criterion{mustFit}, answersOf("fit", "1"),
			triage.CriteriaStatus{Answered: 1, Total: 1, MustNo: []string{"fit"}, MaxScore: 4}},
		{"must-have scale of 2 is not", []triage.Criterion{mustFit}, answersOf("fit", "2"),
			triage.CriteriaStatus{Answered: 1, Total: 1, Score: 1, MaxScore: 4}},
		{"must-have scale unanswered is open", []triage.Criterion{mustFit}, nil,
			triage.CriteriaStatus{Total: 1, MustOpen: []string{"fit"}, MaxScore: 4}},
		// choice: weight for the first option down to 0 for the last.
		{"choice first", []triage.Criterion{three}, answersOf("three", "a"), triage.CriteriaStatus{Answered: 1, Total: 1, Score: 3, MaxScore: 3}},
		{"choice middle rounds", []triage.Criterion{three}, answersOf("three", "b"), triage.CriteriaStatus{Answered: 1, Total: 1, Score: 2, MaxScore: 3}}, // 1.5
		{"choice last", []triage.Criterion{three}, answersOf("three", "c"), triage.CriteriaStatus{Answered: 1, Total: 1, MaxScore: 3}},
		{"choice of four", []triage.Criterion{critTiming}, answersOf("timing", "this year"), triage.CriteriaStatus{Answered: 1, Total: 1, Score: 1, MaxScore: 2}}, // 2*1/3
		{"choice with one option", []triage.Criterion{single}, answersOf("one", "only"), triage.CriteriaStatus{Answered: 1, Total: 1, Score: 3, MaxScore: 3}},
		{"choice no longer an option", []triage.Criterion{three}, answersOf("three", "z"), triage.CriteriaStatus{Answered: 1, Total: 1, MaxScore: 3}},
		{"number and text are not scored", []triage.Criterion{critSize, critNote}, answersOf("size", "100", "notes", "hi"),
			triage.CriteriaStatus{Answered: 2, Total: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := triage.Lead{ID: 1, Status: triage.StatusPending, Answers: tt.answers}
			if diff := cmp.Diff(tt.want, triage.EvaluateCriteria(&l, tt.cs)); diff != "" {
				t.Errorf("EvaluateCriteria (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEvaluateCriteria_Disagree(t *testing.T) {
	t.Parallel()
	by := func(kv ...string) map[string]triage.Answer {
		m := map[string]triage.Answer{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = triage.Answer{Value: kv[i+1], By: kv[i], At: now}
		}
		return m
	}
	long := strings.Repeat("word ", 20)
	l := triage.Lead{ID: 1, Status: triage.StatusPending,
		Answers: answersOf("budget", "no", "fit", "3", "need", "yes", "authority", "yes", "timing", "later", "notes", "b"),
		AnswersBy: map[string]map[string]triage.Answer{
			"budget":    by("U1", "yes", "U2", "yes", "U3", "no"),
			"fit":       by("U1", "3", "U2", "4", "U3", "2", "U4", "4"),
			"need":      by("U1", "yes", "U2", "yes"),
			"authority": by("U1", "yes"),
			"timing":    by("U1", "later", "U2", ""),
			"notes":     by("U1", long, "U2", "b"),
			"gone":      by("U1", "yes", "U2", "no"),
		},
	}
	got := triage.EvaluateCriteria(&l, criteria).Disagree
	want := map[string][]triage.AnswerCount{
		"budget": {{"yes", 2}, {"no", 1}},
		"fit":    {{"4", 2}, {"2", 1}, {"3", 1}}, // by count, then value
		"notes":  {{"b", 1}, {strings.TrimSpace(strings.Repeat("word ", 8)) + "…", 1}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Disagree (-want +got):\n%s", diff)
	}
	if d := triage.EvaluateCriteria(&triage.Lead{Answers: l.Answers}, criteria).Disagree; d != nil {
		t.Errorf("Disagree without AnswersBy = %v, want nil", d)
	}
}

func TestSplitAnswer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		c           triage.Criterion
		raw         string
		value, note string
	}{
		{critBudget, "yes", "yes", ""},
		{critBudget, "yes please, if the budget allows", "yes", "please, if the budget allows"},
		{critBudget, "no idea", "unknown", ""},
		{critBudget, "weet ik niet, vraag Piet", "unknown", "vraag Piet"},
		{critBudget, "ja!!! top", "yes", "top"},
		{critBudget, ":+1: :tada:", "yes", ":tada:"},
		{critBudget, "yes:+1:", "yes", ":+1:"},
		{critBudget, "yes —", "yes", ""},
		{critBudget, "yes (", "yes", ""},
		{critFit, "3 of 5, I think", "3", "I think"},
		{critFit, "4/5 (would be 5 with a budget)", "4", "would be 5 with a budget"},
		{critSize, "10 000 euro, maybe 12", "10000", "maybe 12"},
		{critSize, "50 or 60", "50", "or 60"},
		{critSize, "2 mln", "2000000", ""},
		{critTiming, "this quarter (maybe sooner)", "this quarter", "maybe sooner"},
		{critTiming, "later this year", "later", "this year"},
		{critNote, "all of it, commas too", "all of it, commas too", ""},
		{critBudget, "yes " + strings.Repeat("x", 400), "yes", strings.Repeat("x", triage.MaxAnswerNote-1) + "…"},
		{critBudget, "y", "yes", ""}, {critTiming, "l", "later", ""},
		{critBudget, "ja " + strings.Repeat("lang verhaal ", 5000), "yes", string([]rune(strings.Repeat("lang verhaal ", 30))[:triage.MaxAnswerNote-1]) + "…"},
	}
	for _, tt := range tests {
		v, note, err := triage.SplitAnswer(tt.c, tt.raw)
		if err != nil || v != tt.value || note != tt.note {
			t.Errorf("SplitAnswer(%s, %.60q) = %.60q, %.60q, %v; want %.60q, %.60q", tt.c.ID, tt.raw, v, note, err, tt.value, tt.note)
		}
	}
	for _, tt := range []struct {
		c   triage.Criterion
		raw string
	}{
		{critBudget, "maybe"}, {critBudget, "perhaps yes"}, {critFit, "great, 4"}, {critTiming, "this"}, {critSize, "lots"}, {critNote, ""},
		{critAuthority, "j. smith decides"}, {critAuthority, "n. bakker"}, {critTiming, "l and then we'll see"},
		{critBudget, strings.Repeat("x ", 5000) + "yes"},
	} {
		if v, note, err := triage.SplitAnswer(tt.c, tt.raw); err == nil {
			t.Errorf("SplitAnswer(%s, %.60q) = %q, %.60q; want an error", tt.c.ID, tt.raw, v, note)
		}
	}
}
