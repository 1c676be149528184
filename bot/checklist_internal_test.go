package bot

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
)

// ckCriteria is a default-like set covering every kind.
var ckCriteria = []triage.Criterion{
	{ID: "need", Question: "Is there a real need?", Kind: triage.KindYesNo, Must: true, Weight: 3, Help: "They can name the problem & what it costs them."},
	{ID: "budget", Question: "Budget confirmed?", Kind: triage.KindYesNo, Must: true, Weight: 2},
	{ID: "timing", Question: "Buying within 3 months?", Kind: triage.KindScale, Weight: 1, Help: "1 = no plans, 5 = this month"},
	{ID: "fit", Question: "Fit with our ideal customer", Kind: triage.KindChoice, Options: []string{"Great", "OK", "Poor"}, Weight: 2},
	{ID: "seats", Question: "How many seats?", Kind: triage.KindNumber},
	{ID: "notes", Question: "Anything else?", Kind: triage.KindText},
}

var ckPol = triage.Policy{Quorum: 3, Blind: true, Auto: true, TeamLead: "ULEAD", Criteria: ckCriteria}

// answer records user's answer on l as triage.Service.Answer does: per
// person, and the latest as the criterion's value.
func answer(l *triage.Lead, criterion, user, value string, at time.Time) {
	a := triage.Answer{Value: value, By: user, At: at}
	if l.AnswersBy == nil {
		l.AnswersBy = map[string]map[string]triage.Answer{}
	}
	if l.AnswersBy[criterion] == nil {
		l.AnswersBy[criterion] = map[string]triage.Answer{}
	}
	l.AnswersBy[criterion][user] = a
	if l.Answers == nil {
		l.Answers = map[string]triage.Answer{}
	}
	if cur, ok := l.Answers[criterion]; !ok || !at.Before(cur.At) {
		l.Answers[criterion] = a
	}
}

func partlyAnswered() triage.Lead {
	l := freshLead()
	t := received.Add(time.Minute)
	answer(&l, "need", "UALICE", triage.AnswerYes, t)
	answer(&l, "need", "UBOB", triage.AnswerNo, t.Add(time.Minute))
	answer(&l, "need", "UCAROL", triage.AnswerYes, t.Add(2*time.Minute))
	answer(&l, "budget", "UALICE", triage.AnswerUnknown, t)
	answer(&l, "seats", "UBOB", "40", t)
	return l
}

func TestRenderChecklist(t *testing.T) { testRenderChecklist(t, english) }

// The same checklists in Dutch (ui.language = "nl").
func TestRenderChecklistNL(t *testing.T) { testRenderChecklist(t, newWords(LangDutch)) }

func testRenderChecklist(t *testing.T, w words) {
	t.Parallel()
	cases := []struct {
		name string
		lead func() triage.Lead
	}{
		{"Fresh", freshLead},
		{"PartlyAnsweredWithDisagreement", partlyAnswered},
		{"ChoiceAndScale", func() triage.Lead {
			l := freshLead()
			answer(&l, "timing", "UALICE", "4", received)
			answer(&l, "fit", "UALICE", "Great", received)
			answer(&l, "fit", "UBOB", "OK", received.Add(time.Minute))
			answer(&l, "notes", "UBOB", "Call after <!here> the 5th & not before", received)
			return l
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			text, blocks := checklistWords{w}.checklist(tc.lead(), ckPol)
			raw := blocksJSON(t, blocks)
			if problems := slackfake.ValidateBlocks(raw, slackfake.MaxMessageBlocks); len(problems) > 0 {
				t.Errorf("blocks invalid: %v", problems)
			}
			msg := cardJSON(t, text, blocks)
			checkNoInjection(t, msg)
			assertGolden(t, msg)
		})
	}
}

// elementsByBlock lists each block_id's answer elements as
// "action_id=value" (selects: "action_id=value,value,…"), with "*" after
// a primary button and "[initial]" for a preselected option.
func elementsByBlock(blocks []slack.Block) map[string][]string {
	out := map[string][]string{}
	for _, b := range blocks {
		switch b := b.(type) {
		case *slack.ActionBlock:
			for _, e := range b.Elements.ElementSet {
				switch e := e.(type) {
				case *slack.ButtonBlockElement:
					s := e.ActionID + "=" + e.Value
					if e.Style == slack.StylePrimary {
						s += "*"
					}
					out[b.BlockID] = append(out[b.BlockID], s)
				case *slack.SelectBlockElement:
					var vals []string
					for _, o := range e.Options {
						vals = append(vals, o.Value)
					}
					s := e.ActionID + "=" + strings.Join(vals, ",")
					if e.InitialOption != nil {
						s += "[" + e.InitialOption.Value + "]"
					}
					out[b.BlockID] = append(out[b.BlockID], s)
				}
			}
		case *slack.SectionBlock:
			if b.BlockID != "" {
				out[b.BlockID] = nil
			}
		}
	}
	return out
}

// answerHash is the suffix criterionBlockID adds once a criterion is answered.
var answerHash = regexp.MustCompile(`\.[0-9a-f]{8}$`)

func TestRenderChecklist_Elements(t *testing.T) {
	t.Parallel()
	l := freshLead()
	answer(&l, "need", "UALICE", triage.AnswerNo, received)
	answer(&l, "timing", "UALICE", "2", received)
	answer(&l, "fit", "UBOB", "ok", received) // options match case-insensitively
	_, blocks := renderChecklist(l, ckPol)
	want := map[string][]string{
		// Answered: the block_id carries a hash of the answer shown.
		"crit.need.#":   {"lead.answer.yes=L-3 need", "lead.answer.no=L-3 need*", "lead.answer.unknown=L-3 need"},
		"crit.budget":   {"lead.answer.yes=L-3 budget", "lead.answer.no=L-3 budget", "lead.answer.unknown=L-3 budget"},
		"crit.timing.#": {"lead.answer.1=L-3 timing", "lead.answer.2=L-3 timing*", "lead.answer.3=L-3 timing", "lead.answer.4=L-3 timing", "lead.answer.5=L-3 timing"},
		"crit.fit.#":    {"lead.answer.choice=L-3 fit 0,L-3 fit 1,L-3 fit 2[L-3 fit 1]"},
		"crit.seats":    nil,
		"crit.notes":    nil,
	}
	got := map[string][]string{}
	for id, els := range elementsByBlock(blocks) {
		got[answerHash.ReplaceAllString(id, ".#")] = els
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answer elements by block (-want +got):\n%s", diff)
	}
	raw := string(unescapeHTML(blocksJSON(t, blocks)))
	for _, want := range []string{"Answer in this thread: `seats: …`", "Answer in this thread: `notes: …`", "e.g. `need: yes`"} {
		if !strings.Contains(raw, want) {
			t.Errorf("checklist lacks %q", want)
		}
	}
	if strings.Contains(raw, "Answer in this thread: `need") {
		t.Error("a yes/no criterion with buttons is told to be answered in the thread")
	}
}

func TestRenderChecklist_AnswersShown(t *testing.T) {
	t.Parallel()
	_, blocks := renderChecklist(partlyAnswered(), ckPol)
	raw := string(unescapeHTML(blocksJSON(t, blocks)))
	for _, want := range []string{
		"*Answer:* Yes — <@UALICE>: Yes, <@UBOB>: No, <@UCAROL>: Yes", // earliest first; the latest is the value
		"*Answer:* Don't know — <@UALICE>\"",                          // one person: no repeat of the value
		"*Answer:* 40 — <@UBOB>\\n",
		"_Not answered yet_",
		"· *must-have* · weight 3",
	} {
		if !strings.Contains(raw, want) {
			t.Errorf("checklist lacks %q:\n%s", want, raw)
		}
	}
}

func TestCurrentValue_Disagreement(t *testing.T) {
	t.Parallel()
	// The domain computes disagreement; the checklist shows it escaped.
	l := partlyAnswered()
	st := triage.CriteriaStatus{Disagree: dis("need", "2 yes, 1 no <!here>")}
	got := checklistWords{english}.currentValue(l, ckCriteria[0], st, maxAnswerers)
	want := "*Answer:* Yes — <@UALICE>: Yes, <@UBOB>: No, <@UCAROL>: Yes\n:warning: *Disagreement:* 2 yes, 1 no &lt;!here&gt;"
	if got != want {
		t.Errorf("currentValue =\n%q, want\n%q", got, want)
	}
}

func TestRenderChecklist_NoCriteria(t *testing.T) {
	t.Parallel()
	text, blocks := renderChecklist(freshLead(), cardPol)
	if problems := slackfake.ValidateBlocks(blocksJSON(t, blocks), slackfake.MaxMessageBlocks); len(problems) > 0 {
		t.Errorf("blocks invalid: %v", problems)
	}
	if text == "" || len(blocks) != 1 {
		t.Errorf("checklist without criteria = %q, %d blocks; want a text and one block", text, len(blocks))
	}
}

// manyCriteria makes n criteria of every kind, each piece of config text
// as long as wanted, choices with options options.
func manyCriteria(n, textLen, options int) []triage.Criterion {
	long := strings.Repeat("&<x", textLen/3+1)
	kinds := []triage.CriterionKind{triage.KindYesNo, triage.KindScale, triage.KindChoice, triage.KindNumber, triage.KindText}
	var cs []triage.Criterion
	for i := range n {
		c := triage.Criterion{ID: fmt.Sprintf("c%d", i), Question: long, Kind: kinds[i%len(kinds)], Must: i%2 == 0, Weight: i, Help: long}
		if c.Kind == triage.KindChoice {
			for j := range options {
				c.Options = append(c.Options, fmt.Sprintf("%d%s", j, long))
			}
		}
		cs = append(cs, c)
	}
	return cs
}

// checklistStats counts the blocks with answer elements and the total text.
func checklistStats(t *testing.T, blocks []slack.Block) (interactive, text int) {
	t.Helper()
	for _, b := range blocks {
		if _, ok := b.(*slack.ActionBlock); ok {
			interactive++
		}
	}
	return interactive, slackfake.BlocksTextLen(blocksJSON(t, blocks))
}

func TestRenderChecklist_Limits(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name                string
		n, textLen, options int
		wantInteractive     bool
	}{
		{"FewShort", 5, 10, 5, true},
		{"SixteenWithHelp", 16, 20, 5, true},
		{"ThirtyCompact", 30, 10, 5, true},
		{"FewHuge", 5, 5000, 150, true},
		{"Sixty", 60, 10, 5, false},
		{"Thousand", 1000, 10, 5, false},
		{"ThousandHuge", 1000, 5000, 150, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := ckPol
			p.Criteria = manyCriteria(tc.n, tc.textLen, tc.options)
			l := freshLead()
			for i, c := range p.Criteria {
				for u := range 60 {
					answer(&l, c.ID, fmt.Sprintf("U%03dXYZ", u), strings.Repeat("<!channel>", i%3*100+1), received)
				}
			}
			text, blocks := renderChecklist(l, p)
			raw := blocksJSON(t, blocks)
			if problems := slackfake.ValidateBlocks(raw, slackfake.MaxMessageBlocks); len(problems) > 0 {
				t.Fatalf("blocks invalid: %v", problems)
			}
			interactive, n := checklistStats(t, blocks)
			if n > maxChecklistText {
				t.Errorf("blocks hold %d characters of text, want at most %d", n, maxChecklistText)
			}
			if got := interactive > 0; got != tc.wantInteractive {
				t.Errorf("answer buttons shown = %v, want %v", got, tc.wantInteractive)
			}
			if utf8.RuneCountInString(text) > maxFallbackText {
				t.Errorf("fallback text is %d characters", utf8.RuneCountInString(text))
			}
			msg := cardJSON(t, text, blocks)
			checkNoInjection(t, msg)
			if !tc.wantInteractive && !strings.Contains(string(msg), "answer in this thread") {
				t.Error("the line form does not say to answer in the thread")
			}
			if tc.n > 60 && !strings.Contains(string(msg), "more criteria") {
				t.Error("criteria left out without saying how many")
			}
		})
	}
}

func TestRenderChecklist_FoldsHelpBeforeDroppingButtons(t *testing.T) {
	t.Parallel()
	// 20 criteria with help take 61 blocks in full; folded, 41.
	p := ckPol
	p.Criteria = manyCriteria(20, 10, 5)
	for i := range p.Criteria {
		p.Criteria[i].Kind = triage.KindYesNo
	}
	_, blocks := renderChecklist(freshLead(), p)
	interactive, _ := checklistStats(t, blocks)
	if interactive != 20 || len(blocks) != 41 {
		t.Errorf("got %d blocks, %d with buttons; want 41 and 20", len(blocks), interactive)
	}
	for _, b := range blocks {
		if _, ok := b.(*slack.ContextBlock); ok {
			t.Error("help shown as a context block although it does not fit")
			break
		}
	}
}

func TestRenderChecklist_OddIDs(t *testing.T) {
	t.Parallel()
	p := ckPol
	p.Criteria = []triage.Criterion{
		{ID: "has space", Question: "Q1", Kind: triage.KindYesNo},
		{ID: strings.Repeat("x", 100), Question: "Q2", Kind: triage.KindYesNo},
		{ID: "dup", Question: "Q3", Kind: triage.KindYesNo},
		{ID: "dup", Question: "Q4", Kind: triage.KindScale},
		{ID: "`<!here>`", Question: "", Kind: triage.KindChoice, Options: []string{"", "<!channel>"}},
		{ID: "empty-choice", Question: "Q6", Kind: triage.KindChoice},
	}
	_, blocks := renderChecklist(freshLead(), p)
	raw := blocksJSON(t, blocks)
	if problems := slackfake.ValidateBlocks(raw, slackfake.MaxMessageBlocks); len(problems) > 0 {
		t.Fatalf("blocks invalid: %v", problems)
	}
	checkNoInjection(t, raw)
	got := elementsByBlock(blocks)
	want := map[string][]string{
		"crit.dup":          {"lead.answer.yes=L-3 dup", "lead.answer.no=L-3 dup", "lead.answer.unknown=L-3 dup"},
		"crit.`<!here>`":    {"lead.answer.choice=L-3 `<!here>` 0,L-3 `<!here>` 1"},
		"crit.empty-choice": nil,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answer elements by block (-want +got):\n%s", diff)
	}
}

func TestRenderChecklist_Injection(t *testing.T) {
	t.Parallel()
	p := ckPol
	p.Criteria = nil
	for i, c := range ckCriteria {
		c.Question, c.Help = injections, injections
		if i == 0 {
			c.ID = injections[:10]
		}
		if c.Kind == triage.KindChoice {
			c.Options = []string{injections, "OK"}
		}
		p.Criteria = append(p.Criteria, c)
	}
	l := freshLead()
	for _, c := range p.Criteria {
		answer(&l, c.ID, "<!channel>", injections, received)
		answer(&l, c.ID, "U1|<!here>", injections, received)
		answer(&l, c.ID, "UBOB", injections, received.Add(time.Minute))
	}
	text, blocks := renderChecklist(l, p)
	msg := cardJSON(t, text, blocks)
	checkNoInjection(t, msg)
	for _, raw := range []string{"<!channel>", "<!here>", "<!everyone>", "<!subteam", "<@U123>", "<#C1>", "<https://evil.example|bank>", "<b>"} {
		// Block ids and values carry the criterion id as configured, and
		// plain_text (the option texts) shows text literally; only mrkdwn
		// parses tokens.
		mt, _ := textObjects(t, msg)
		if strings.Contains(strings.Join(mt, "\n"), raw) {
			t.Errorf("checklist mrkdwn contains %q", raw)
		}
	}
	if tv, _ := texts(t, msg); !strings.Contains(strings.Join(tv, "\n"), "<@UBOB>") {
		t.Error("a valid answerer is not mentioned")
	}
}

func FuzzRenderChecklist(f *testing.F) {
	f.Add("need", "Is there a need?", "help", "yes", "UALICE", uint8(0), uint16(1))
	f.Add(injections, injections, injections, injections, "<!here>", uint8(2), uint16(300))
	f.Add("a b", "&", "<", ">", "U1", uint8(4), uint16(2))
	f.Add("\u202e", "\x00\xff", "\u2028", "```", "W1", uint8(9), uint16(60))
	f.Fuzz(func(t *testing.T, id, question, help, value, user string, kind uint8, n uint16) {
		kinds := []triage.CriterionKind{triage.KindYesNo, triage.KindScale, triage.KindChoice, triage.KindNumber, triage.KindText, "odd"}
		count := int(n%200) + 1
		p := triage.Policy{Quorum: 1}
		l := triage.Lead{ID: triage.LeadID(n) + 1, Status: triage.StatusPending}
		for i := range count {
			c := triage.Criterion{
				ID:       fmt.Sprintf("%s%d", id, i%7), // duplicates too
				Question: strings.Repeat(question, i%5+1),
				Kind:     kinds[(int(kind)+i)%len(kinds)],
				Must:     i%3 == 0,
				Weight:   i,
				Help:     strings.Repeat(help, i%4),
				Options:  []string{value, question, help},
			}
			p.Criteria = append(p.Criteria, c)
			answer(&l, c.ID, user, strings.Repeat(value, i%9+1), received)
			answer(&l, c.ID, fmt.Sprintf("U%dX", i), value, received.Add(time.Duration(i)))
		}
		text, blocks := renderChecklist(l, p)
		raw := blocksJSON(t, blocks)
		if problems := slackfake.ValidateBlocks(raw, slackfake.MaxMessageBlocks); len(problems) > 0 {
			t.Fatalf("blocks invalid: %v", problems)
		}
		if got := slackfake.BlocksTextLen(raw); got > maxChecklistText {
			t.Fatalf("blocks hold %d characters of text", got)
		}
		checkNoInjection(t, cardJSON(t, text, blocks))
	})
}

func TestReplyContent(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("word ", 1000)
	cases := []struct {
		name, text, plain string
		wantFallback      string
		wantSections      []string
	}{
		{"TextOnly", "Decided.", "", "Decided.", nil},
		{"BlankPlain", "Decided.", " \u200b\n", "Decided.", nil},
		{"Draft", "A decline:", "Dear Jan,\n\nthanks & <!channel> bye", "A decline:",
			[]string{"A decline:\n```\nDear Jan,\n\nthanks &amp; &lt;!channel&gt; bye\n```"}},
		{"Fences", "Intro", "a ``` b `\u200b`` c", "Intro", []string{"Intro\n```\na ''' b ''' c\n```"}},
		{"NoText", "", "x", "A draft to copy", []string{"```\nx\n```"}},
		{"LongDraftTruncated", "Intro", long, "Intro", []string{"Intro", "```\n" + long[:maxDraft-1] + "…\n```"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fallback, blocks := replyContent(tc.text, tc.plain)
			if fallback != tc.wantFallback {
				t.Errorf("fallback = %q, want %q", fallback, tc.wantFallback)
			}
			var got []string
			for _, b := range blocks {
				got = append(got, b.(*slack.SectionBlock).Text.Text)
			}
			if diff := cmp.Diff(tc.wantSections, got); diff != "" {
				t.Errorf("sections (-want +got):\n%s", diff)
			}
			if problems := slackfake.ValidateBlocks(blocksJSON(t, blocks), slackfake.MaxMessageBlocks); len(blocks) > 0 && len(problems) > 0 {
				t.Errorf("blocks invalid: %v", problems)
			}
		})
	}
}

func FuzzReplyContent(f *testing.F) {
	f.Add("Intro", "Dear <!channel>", uint16(1))
	f.Add("", "```", uint16(3000))
	f.Add("<@U1> decided", "&amp;\u202e", uint16(700))
	f.Fuzz(func(t *testing.T, text, plain string, rep uint16) {
		plain = strings.Repeat(plain, int(rep%2000)+1)
		// text is the domain's own mrkdwn: fuzz only its length.
		_, blocks := replyContent(strings.Repeat("Intro ", len(text)%600), plain)
		raw := blocksJSON(t, blocks)
		if problems := slackfake.ValidateBlocks(raw, slackfake.MaxMessageBlocks); len(blocks) > 0 && len(problems) > 0 {
			t.Fatalf("blocks invalid: %v", problems)
		}
		for _, b := range blocks {
			s := b.(*slack.SectionBlock).Text.Text
			if i := strings.Index(s, "```\n"); i >= 0 {
				body := strings.TrimSuffix(s[i+4:], "\n```")
				if strings.ContainsAny(body, "<>") || strings.Contains(body, "```") {
					t.Fatalf("draft not escaped or fences not neutralised: %q", body)
				}
			}
		}
	})
}

func TestCurrentValue_Note(t *testing.T) {
	t.Parallel()
	l := partlyAnswered()
	a := l.Answers["need"]
	a.Note = "the CFO signed off <!here> & <@U0BAD>"
	l.Answers["need"] = a
	got := checklistWords{english}.currentValue(l, ckCriteria[0], triage.CriteriaStatus{}, maxAnswerers)
	want := "*Answer:* Yes — <@UALICE>: Yes, <@UBOB>: No, <@UCAROL>: Yes\n*Note:* the CFO signed off &lt;!here&gt; &amp; &lt;@U0BAD&gt;"
	if got != want {
		t.Errorf("currentValue =\n%q, want\n%q", got, want)
	}
	// Where room is short, only the value and the count are shown.
	if got := (checklistWords{english}).currentValue(l, ckCriteria[0], triage.CriteriaStatus{}, 0); strings.Contains(got, "Note") {
		t.Errorf("compact currentValue shows the note: %q", got)
	}
}
