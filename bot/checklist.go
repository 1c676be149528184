package bot

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
)

// Checklist budgets: Slack takes at most 50 blocks and ~12 000 characters of
// block text per message (SLACK-NOTES §4.6); the checklist stays below both
// whatever the config and the answers hold.
const (
	maxChecklistBlocks = 50
	maxChecklistText   = 10000
	maxQuestion        = 200
	maxHelp            = 300
	maxAnswerShown     = 80  // runes of one number or text answer
	maxAnswerers       = 400 // runes of "who answered what" per criterion
	maxChecklistLine   = 400 // one criterion in the compact "lines" form
	maxChoiceText      = 75  // Block Kit option text
	maxChoiceValue     = 150 // Block Kit option value
	maxChoices         = 100 // Block Kit static_select options
	maxInteractiveID   = 64  // longer criterion ids are answered in the thread only
)

// layout is how much room each criterion gets. renderChecklist tries them
// in order until the message fits.
type layout struct {
	helpBlock bool // help as a context block of its own, else folded into the section
	help      int  // runes of help; 0 = left out
	question  int
	answerers int // runes of "who answered what"; 0 = only how many answered
	option    int // runes of a choice option's text
}

var layouts = []layout{
	{helpBlock: true, help: maxHelp, question: maxQuestion, answerers: maxAnswerers, option: maxChoiceText},
	{help: maxHelp, question: maxQuestion, answerers: maxAnswerers, option: maxChoiceText},
	{question: 100, option: 30},
}

// checklistWords renders the criteria checklist in the lead's thread.
type checklistWords struct{ words }

// renderChecklist renders the lead's qualification checklist, a reply in
// the card's thread: the notification text and the blocks. It is pure.
// With many criteria it falls back to fewer blocks per criterion and in
// the end to one line each, answered in the thread, so that the message
// always fits.
func (w checklistWords) checklist(l triage.Lead, p triage.Policy) (text string, blocks []slack.Block) {
	id := l.ID.String()
	cs := p.Criteria
	if len(cs) == 0 {
		return w.t("checklist.title", id),
			[]slack.Block{section(w.t("checklist.none", bold(id)))}
	}
	st := triage.EvaluateCriteria(&l, cs)
	text = w.t("checklist.text", id, st.Answered, len(cs))
	head := section(w.header(id, cs))

	headLen := textLen(head)
layouts:
	for _, lay := range layouts {
		blocks = []slack.Block{head}
		n := headLen
		seen := map[string]bool{}
		for _, c := range cs {
			more := w.criterionBlocks(l, c, st, lay, seen)
			n += blocksTextLen(more)
			blocks = append(blocks, more...)
			// Stop as soon as it cannot fit: a config with hundreds of
			// criteria must not cost hundreds of renderings.
			if len(blocks) > maxChecklistBlocks || n > maxChecklistText {
				continue layouts
			}
		}
		return text, blocks
	}
	return text, append([]slack.Block{head}, w.lines(l, cs, st, maxChecklistBlocks-1, maxChecklistText-headLen)...)
}

// header says what the message is and how to answer, with an
// example built from the first criterion.
func (w checklistWords) header(id string, cs []triage.Criterion) string {
	return w.t("checklist.header", bold(id), "`"+strings.ReplaceAll(escTrunc(cs[0].ID, maxCriterionID, false), "`", "'")+": "+w.exampleAnswer(cs[0])+"`")
}

func (w checklistWords) exampleAnswer(c triage.Criterion) string {
	switch c.Kind {
	case triage.KindYesNo:
		return w.t("answer.yes")
	case triage.KindScale:
		return "4"
	case triage.KindNumber:
		return "25000"
	case triage.KindChoice:
		if len(c.Options) > 0 {
			if o := strings.ReplaceAll(escTrunc(c.Options[0], 40, false), "`", "'"); o != "" {
				return o
			}
		}
	}
	return "…"
}

// criterionBlocks renders one criterion. seen holds the ids already given
// a block_id: a duplicate id (config forbids it) gets none, since Slack
// rejects duplicate block_ids.
func (w checklistWords) criterionBlocks(l triage.Lead, c triage.Criterion, st triage.CriteriaStatus, lay layout, seen map[string]bool) []slack.Block {
	interactive := interactiveID(l.ID, c.ID) && !seen[c.ID]
	seen[c.ID] = true
	var elements []slack.BlockElement
	if interactive {
		elements = w.answerElements(l, c, lay.option)
	}

	var b strings.Builder
	b.WriteString(w.criterionTitle(c, lay.question))
	var help string
	if lay.help > 0 {
		help = escTrunc(c.Help, lay.help, false)
	}
	if help != "" && !lay.helpBlock {
		b.WriteString("\n_" + help + "_")
	}
	b.WriteString("\n" + w.currentValue(l, c, st, lay.answerers))
	if len(elements) == 0 {
		b.WriteString("\n" + w.t("checklist.answer_in_thread", codeSpan(c.ID+": …")))
	}

	sec := section(b.String())
	blocks := []slack.Block{sec}
	if help != "" && lay.helpBlock {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(help)))
	}
	switch {
	case len(elements) > 0:
		latest, answered := l.Answers[c.ID]
		blocks = append(blocks, slack.NewActionBlock(criterionBlockID(c.ID, latest, answered), elements...))
	case interactive:
		sec.BlockID = blockCriterionPrefix + c.ID
	}
	return blocks
}

// criterionBlockID is the block_id of the block holding c's answer
// elements: "crit.<id>", and once c has an answer "crit.<id>.<hash>".
// Slack clients keep an element's state (the option someone picked in a
// select) under its block_id across chat.update, and Slack's docs say "If
// a message is updated, use a new block_id"
// (docs.slack.dev/reference/block-kit/blocks/actions-block); so the
// id changes with the answer shown, and everyone sees the current one. The
// hash covers the answer's time too, so that going back to an earlier
// value (yes, no, yes) is a new id as well. It is 8 hex digits of SHA-256:
// opaque, no answer text in the payload (RELIABILITY I4), and at most
// 5+64+9 characters in all (block_id takes 255).
func criterionBlockID(id string, latest triage.Answer, answered bool) string {
	if !answered {
		return blockCriterionPrefix + id
	}
	sum := sha256.Sum256([]byte(latest.Value + "\x00" + latest.At.UTC().Format(time.RFC3339Nano)))
	return blockCriterionPrefix + id + "." + hex.EncodeToString(sum[:4])
}

// interactiveID reports whether c's id can go into block ids and element
// values that dispatch splits on spaces and Block Kit bounds in length.
func interactiveID(lead triage.LeadID, id string) bool {
	if id == "" || utf8.RuneCountInString(id) > maxInteractiveID || strings.IndexFunc(id, unicode.IsSpace) >= 0 {
		return false
	}
	return len(optionValue(lead, id, maxChoices)) <= maxChoiceValue
}

func optionValue(lead triage.LeadID, id string, i int) string {
	return lead.String() + " " + id + " " + strconv.Itoa(i)
}

// criterionTitle is the question with its id, and whether it is a
// must-have and what it weighs. The question is config text: escaped.
func (w checklistWords) criterionTitle(c triage.Criterion, max int) string {
	q := escTrunc(c.Question, max, false)
	if q == "" {
		q = escTrunc(c.ID, max, false)
	}
	s := "*" + q + "* " + codeSpan(c.ID)
	if c.Must {
		s += " · " + bold(w.t("checklist.must"))
	}
	if c.Weight != 0 {
		s += " · " + w.t("checklist.weight", c.Weight)
	}
	return s
}

// currentValue is the criterion's value, who answered what (in budget
// runes; 0: only how many answered), and any disagreement.
func (w checklistWords) currentValue(l triage.Lead, c triage.Criterion, st triage.CriteriaStatus, budget int) string {
	latest, answered := l.Answers[c.ID]
	by := l.AnswersBy[c.ID]
	if !answered && len(by) == 0 {
		return "_" + w.t("checklist.not_answered") + "_"
	}
	s := label(w.t("checklist.answer")) + w.shownValue(c, latest.Value)
	switch {
	case len(by) == 1:
		// One person: their answer is the value, no need to repeat it.
		for u := range by {
			s += " — " + mention(u)
		}
	case len(by) > 0 && budget == 0:
		s += " (" + w.t("checklist.answers", len(by)) + ")"
	case len(by) > 0:
		s += " — " + w.answerers(c, by, budget)
	case latest.By != "":
		s += " — " + mention(latest.By)
	}
	// The words written after the latest answer; left out when room is short.
	const maxNoteShown = 150
	if latest.Note != "" && budget > 0 {
		s += "\n" + label(w.t("card.note")) + escTrunc(latest.Note, maxNoteShown, false)
	}
	if d, ok := st.Disagree[c.ID]; ok {
		s += "\n:warning: " + label(w.t("checklist.disagreement")) + escTrunc(w.answerCounts(c, d), 100, false)
	}
	return s
}

// shownValue renders a normalised answer for people.
func (w checklistWords) shownValue(c triage.Criterion, v string) string {
	switch {
	case v == "":
		return "–"
	case c.Kind == triage.KindYesNo:
		switch v {
		case triage.AnswerYes:
			return w.t("button.yes")
		case triage.AnswerNo:
			return w.t("button.no")
		case triage.AnswerUnknown:
			return w.t("button.unknown")
		}
	case c.Kind == triage.KindScale:
		if n, err := strconv.Atoi(v); err == nil && n >= 1 && n <= 5 {
			return v + "/5"
		}
	}
	return escTrunc(v, maxAnswerShown, false)
}

// answerers lists each person's latest answer, earliest first, while the
// budget lasts. Mentions are built only from valid user ids.
func (w checklistWords) answerers(c triage.Criterion, by map[string]triage.Answer, budget int) string {
	users := make([]string, 0, len(by))
	for u := range by {
		users = append(users, u)
	}
	sort.Slice(users, func(i, j int) bool {
		a, b := by[users[i]], by[users[j]]
		if !a.At.Equal(b.At) {
			return a.At.Before(b.At)
		}
		return users[i] < users[j]
	})
	var parts []string
	n := 0
	for i, u := range users {
		part := mention(u) + ": " + w.shownValue(c, by[u].Value)
		width := utf8.RuneCountInString(part) + 2
		if n+width > budget {
			parts = append(parts, w.t("more", len(users)-i))
			break
		}
		parts = append(parts, part)
		n += width
	}
	return strings.Join(parts, ", ")
}

// answerElements are the buttons or the select that answer c; none for
// numbers and text, which are answered in the thread.
func (w checklistWords) answerElements(l triage.Lead, c triage.Criterion, optionText int) []slack.BlockElement {
	value := l.ID.String() + " " + c.ID
	current := l.Answers[c.ID].Value
	button := func(actionID, label, answer string) *slack.ButtonBlockElement {
		btn := slack.NewButtonBlockElement(actionID, value, plain(label))
		if current == answer {
			btn = btn.WithStyle(slack.StylePrimary)
		}
		return btn
	}
	switch c.Kind {
	case triage.KindYesNo:
		return []slack.BlockElement{
			button(actionAnswerYes, w.t("button.yes"), triage.AnswerYes),
			button(actionAnswerNo, w.t("button.no"), triage.AnswerNo),
			button(actionAnswerUnknown, w.t("button.unknown"), triage.AnswerUnknown),
		}
	case triage.KindScale:
		els := make([]slack.BlockElement, 0, 5)
		for n := 1; n <= 5; n++ {
			s := strconv.Itoa(n)
			els = append(els, button(actionAnswerPrefix+s, s, s))
		}
		return els
	case triage.KindChoice:
		if sel := w.choiceSelect(l, c, current, optionText); sel != nil {
			return []slack.BlockElement{sel}
		}
	}
	return nil
}

// choiceSelect offers c's options (at most Block Kit's 100), the current
// answer preselected. Option texts are config text in plain_text: cut, not
// escaped.
func (w checklistWords) choiceSelect(l triage.Lead, c triage.Criterion, current string, optionText int) *slack.SelectBlockElement {
	var (
		opts    []*slack.OptionBlockObject
		initial *slack.OptionBlockObject
	)
	for i, o := range c.Options {
		if i == maxChoices {
			break
		}
		label := plainCut(o, optionText)
		if label == "" {
			label = w.t("checklist.option", i+1)
		}
		opt := slack.NewOptionBlockObject(optionValue(l.ID, c.ID, i), plain(label), nil)
		opts = append(opts, opt)
		if initial == nil && current != "" && strings.EqualFold(strings.TrimSpace(o), current) {
			initial = opt
		}
	}
	if len(opts) == 0 {
		return nil
	}
	sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain(w.t("checklist.choose")), actionAnswerChoice, opts...)
	sel.InitialOption = initial
	return sel
}

// lines is the last resort for very many criteria: one line each,
// packed into at most maxBlocks blocks and budget characters, answered in
// the thread.
func (w checklistWords) lines(l triage.Lead, cs []triage.Criterion, st triage.CriteriaStatus, maxBlocks, budget int) []slack.Block {
	const more = 40 // room kept for "… and N more criteria"
	footer := w.t("checklist.too_many")
	maxSections := maxBlocks - 1 // the footer takes one
	budget -= utf8.RuneCountInString(footer)
	var (
		sections []string
		cur      string
		used     int
	)
	join := func(a, b string) string {
		if a == "" {
			return b
		}
		return a + "\n" + b
	}
	for i, c := range cs {
		line := fit(w.line(l, c, st), maxChecklistLine)
		width := utf8.RuneCountInString(line) + 1
		full := cur != "" && utf8.RuneCountInString(cur)+width+more > maxSection
		if used+width+more > budget || (full && len(sections)+1 >= maxSections) {
			cur = join(cur, "… "+w.t("checklist.more", len(cs)-i))
			break
		}
		if full {
			sections = append(sections, cur)
			cur = ""
		}
		cur = join(cur, line)
		used += width
	}
	if cur != "" {
		sections = append(sections, cur)
	}
	blocks := make([]slack.Block, 0, len(sections)+1)
	for _, s := range sections {
		blocks = append(blocks, section(s))
	}
	return append(blocks, slack.NewContextBlock("", mrkdwn(footer)))
}

func (w checklistWords) line(l triage.Lead, c triage.Criterion, st triage.CriteriaStatus) string {
	s := "• " + w.criterionTitle(c, 100) + " — "
	if a, ok := l.Answers[c.ID]; ok {
		s += "*" + w.shownValue(c, a.Value) + "*"
	} else {
		s += "_" + w.t("checklist.open") + "_"
	}
	if d, ok := st.Disagree[c.ID]; ok {
		s += " (" + w.t("checklist.disagreement.short", escTrunc(w.answerCounts(c, d), 60, false)) + ")"
	}
	return s
}

// blocksTextLen is the total length of every "text" string in blocks, the
// measure behind Slack's msg_blocks_too_long.
func blocksTextLen(blocks []slack.Block) int {
	n := 0
	for _, b := range blocks {
		n += textLen(b)
	}
	return n
}

func textLen(b slack.Block) int {
	raw, err := json.Marshal(b)
	if err != nil {
		return maxChecklistText + 1 // unmeasurable: too long
	}
	var x any
	if err := json.Unmarshal(raw, &x); err != nil {
		return maxChecklistText + 1
	}
	return countText(x)
}

func countText(x any) int {
	n := 0
	switch t := x.(type) {
	case map[string]any:
		for k, v := range t {
			if s, ok := v.(string); ok && k == "text" {
				n += utf8.RuneCountInString(s)
			} else {
				n += countText(v)
			}
		}
	case []any:
		for _, v := range t {
			n += countText(v)
		}
	}
	return n
}
