package triage

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// MaxTextAnswer bounds a text answer, in runes.
const MaxTextAnswer = 500

// maxReplyLines bounds how much of one thread reply is read: answers come a
// handful at a time, and a pasted document should not cost more than that.
const maxReplyLines = 100

var (
	yesWords = []string{"yes", "y", "yep", "yeah", "yup", "sure", "definitely", "absolutely", "ja", "j", "jep", "jawel",
		"zeker", "zeker weten", "absoluut", "klopt", "true", "✓", "✔", "✔️", "✅", "👍", ":+1:", ":thumbsup:",
		":white_check_mark:", ":heavy_check_mark:"}
	noWords = []string{"no", "n", "nope", "nah", "not yet", "nee", "neen", "nog niet", "false", "✗", "✘", "❌", "👎",
		":-1:", ":thumbsdown:", ":x:"}
	// "?" is handled before punctuation is trimmed. "no idea" and "geen idee"
	// are here so that "no" is not read from them with "idea" as a note.
	unknownWords = []string{"don't know", "dont know", "do not know", "unknown", "not sure", "unsure", "no idea", "no clue",
		"weet niet", "weet ik niet", "weet ik nog niet", "geen idee", "niet zeker", "onbekend", "nog onbekend", "idk",
		":thinking_face:", ":shrug:", "🤔", "🤷"}
)

// NormaliseAnswer reads raw as an answer to c: yes/no/ja/nee/y/n/j, "?",
// "don't know", "weet niet" for yes/no; 1–5 for scales; numbers (with
// thousands separators, k/m suffixes, a currency sign) for numbers; one of
// the options (case-insensitive, unambiguous prefix) for choices; trimmed
// text for text. It returns the normalised value or an error saying what is
// accepted.
//
// A normalised value normalises to itself, so a stored answer can be checked
// again (Service.Answer does).
func NormaliseAnswer(c Criterion, raw string) (string, error) {
	if c.Kind == KindText {
		v := cleanText(raw)
		switch n := len([]rune(v)); {
		case n == 0:
			return "", errors.New("the answer is empty")
		case n > MaxTextAnswer:
			return "", fmt.Errorf("the answer is too long (%d characters, at most %d)", n, MaxTextAnswer)
		}
		return v, nil
	}
	s := strings.ToLower(cleanLine(raw))
	if len([]rune(s)) > 100 {
		return "", fmt.Errorf("that is too long for an answer; accepted: %s", AcceptedForms(c))
	}
	var (
		v  string
		ok bool
	)
	switch c.Kind {
	case KindYesNo:
		v, ok = yesNo(s)
	case KindScale:
		v, ok = scale(s)
	case KindNumber:
		v, ok = number(s)
	case KindChoice:
		var err error
		if v, err = choice(c.Options, s); err != nil {
			return "", err
		}
		ok = true
	default:
		return "", fmt.Errorf("criterion %q has no known kind (%q)", c.ID, c.Kind)
	}
	if !ok {
		return "", fmt.Errorf("%q is not an answer; accepted: %s", truncateRunes(cleanLine(raw), 40), AcceptedForms(c))
	}
	return v, nil
}

// AcceptedForms says in a few words what c accepts, for hints.
func AcceptedForms(c Criterion) string {
	switch c.Kind {
	case KindYesNo:
		return "yes, no or don't know"
	case KindScale:
		return "1 to 5"
	case KindNumber:
		return "a number, e.g. 50 or 2.5k"
	case KindText:
		return "any text"
	case KindChoice:
		opts := c.Options
		more := ""
		if len(opts) > 10 {
			opts, more = opts[:10], ", …"
		}
		return "one of: " + strings.Join(opts, ", ") + more
	}
	return "nothing (unknown kind)"
}

// trimPunct drops trailing sentence punctuation: "Yes." and "ja!" are answers.
func trimPunct(s string) string {
	return strings.TrimSpace(strings.TrimRight(s, ".!,;?"))
}

func yesNo(s string) (string, bool) {
	if strings.Trim(s, "?") == "" && s != "" {
		return AnswerUnknown, true
	}
	s = strings.ReplaceAll(trimPunct(s), "’", "'") // phones type curly apostrophes
	for _, set := range []struct {
		words []string
		value string
	}{{yesWords, AnswerYes}, {noWords, AnswerNo}, {unknownWords, AnswerUnknown}} {
		for _, w := range set.words {
			if s == w {
				return set.value, true
			}
		}
	}
	return "", false
}

func scale(s string) (string, bool) {
	s = trimPunct(s)
	if len(s) == 0 || s[0] < '1' || s[0] > '5' {
		return "", false
	}
	n, rest := s[:1], strings.TrimSpace(s[1:])
	if rest == "" {
		return n, true
	}
	// "4/5", "3 of 5", "3 out of 5", "3 van 5": only out of five.
	for _, of := range []string{"/", "out of", "of", "van"} {
		if r, ok := strings.CutPrefix(rest, of); ok && strings.TrimSpace(r) == "5" {
			return n, true
		}
	}
	return "", false
}

// number reads amounts the way people type them. Thousands separators may be
// dots, commas or spaces; a single dot or comma followed by exactly three
// digits (after one to three other digits) is a thousands separator ("1.500"
// is fifteen hundred, as both Dutch and English readers mean it), otherwise
// it is the decimal point ("2.5", "2,5"). With a k or m suffix a single
// separator is always the decimal point ("1,250m").
func number(s string) (string, bool) {
	s = strings.TrimRight(s, "!;")
	s = strings.TrimSuffix(strings.TrimSuffix(s, ",-"), ".-") // "€ 10.000,-"
	s = strings.TrimRight(s, ".")
	s = strings.Map(func(r rune) rune {
		switch r {
		case '€', '$', '£':
			return -1
		}
		if unicode.IsSpace(r) || r == '\'' || r == '_' {
			return ' '
		}
		return r
	}, s)
	f := strings.Fields(s)
	for len(f) > 0 && isCurrencyWord(f[0]) {
		f = f[1:]
	}
	for len(f) > 0 && isCurrencyWord(f[len(f)-1]) {
		f = f[:len(f)-1]
	}
	s = strings.Join(f, " ")
	if s == "" || s[0] == '-' || strings.HasPrefix(s, "−") {
		return "", false // no negative amounts: a budget or head count is never below zero
	}
	shift := 0
	for _, sf := range []struct {
		suffix string
		shift  int
	}{{"mln", 6}, {"mio", 6}, {"k", 3}, {"m", 6}} {
		if r, ok := strings.CutSuffix(s, sf.suffix); ok {
			s, shift = strings.TrimSpace(r), sf.shift
			break
		}
	}
	intPart, frac, ok := splitDecimal(s, shift > 0)
	if !ok {
		return "", false
	}
	// Multiply by 10^shift by moving digits from the fraction.
	for ; shift > 0; shift-- {
		if frac == "" {
			intPart += "0"
		} else {
			intPart, frac = intPart+frac[:1], frac[1:]
		}
	}
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	if frac == "" {
		return intPart, true
	}
	// Keep "12.125" from reading as twelve thousand when normalised again.
	if len(frac) == 3 && len(intPart) <= 3 && intPart != "0" {
		frac += "0"
	}
	return intPart + "." + frac, true
}

func isCurrencyWord(w string) bool {
	switch w {
	case "eur", "euro", "euros", "usd", "gbp", "dollar", "dollars":
		return true
	}
	return false
}

// splitDecimal splits a number with separators into its integer digits and
// its fraction digits.
func splitDecimal(s string, suffixed bool) (intPart, frac string, ok bool) {
	if s == "" {
		return "", "", false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r == '.' || r == ',' || r == ' ') {
			return "", "", false
		}
	}
	dots, commas := strings.Count(s, "."), strings.Count(s, ",")
	dec := -1 // index of the decimal separator
	switch {
	case dots > 0 && commas > 0:
		// Both: the last one is the decimal point, and it appears once.
		dec = max(strings.LastIndexByte(s, '.'), strings.LastIndexByte(s, ','))
		if strings.Count(s, s[dec:dec+1]) != 1 {
			return "", "", false
		}
	case dots+commas == 1:
		dec = strings.IndexAny(s, ".,")
		after, before := s[dec+1:], s[:dec]
		lastGroup := before[strings.LastIndexByte(before, ' ')+1:]
		if !suffixed && len(after) == 3 && len(lastGroup) >= 1 && len(lastGroup) <= 3 && strings.TrimLeft(lastGroup, "0") != "" {
			dec = -1 // "1.500": thousands
		}
	}
	intPart = s
	if dec >= 0 {
		intPart, frac = s[:dec], s[dec+1:]
		if frac == "" || strings.ContainsAny(frac, "., ") {
			return "", "", false
		}
	}
	groups := strings.FieldsFunc(intPart, func(r rune) bool { return r == '.' || r == ',' || r == ' ' })
	if len(groups) == 0 {
		if frac == "" || intPart != "" {
			return "", "", false
		}
		return "", frac, true // ".5"
	}
	// Separators sit between groups, one at a time: "1..500" and "1." are no numbers.
	if strings.Count(intPart, ".")+strings.Count(intPart, ",")+strings.Count(intPart, " ") != len(groups)-1 {
		return "", "", false
	}
	if len(groups) > 1 {
		if len(groups[0]) > 3 {
			return "", "", false
		}
		for _, g := range groups[1:] {
			if len(g) != 3 {
				return "", "", false
			}
		}
	}
	return strings.Join(groups, ""), frac, true
}

func choice(options []string, s string) (string, error) {
	s = trimPunct(s)
	if s == "" {
		return "", fmt.Errorf("the answer is empty; accepted: %s", AcceptedForms(Criterion{Kind: KindChoice, Options: options}))
	}
	for _, o := range options {
		if strings.EqualFold(o, s) {
			return o, nil
		}
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 1 && n <= len(options) {
		return options[n-1], nil
	}
	var match []string
	for _, o := range options {
		if strings.HasPrefix(strings.ToLower(o), s) {
			match = append(match, o)
		}
	}
	switch len(match) {
	case 1:
		return match[0], nil
	case 0:
		return "", fmt.Errorf("%q is not one of the options; accepted: %s", truncateRunes(s, 40), AcceptedForms(Criterion{Kind: KindChoice, Options: options}))
	}
	return "", fmt.Errorf("%q could be %s; write more of it", truncateRunes(s, 40), strings.Join(match, " or "))
}

// MaxAnswerNote bounds the note kept with an answer, in runes.
const MaxAnswerNote = 300

// ParseReply reads answers from a thread reply: one per line, "<criterion id
// or the start of its question>: <answer>" ("=" works too), case-insensitive.
// The text is plain: the bot has undone Slack's markup and escaping. The
// leading value is the answer and the words after it are kept as its note
// ("budget: ja, CFO akkoord"). Lines that do not name a criterion are
// chatter and ignored; a line that names one but has no readable answer is
// a problem. When a message names a criterion twice, the last line wins.
func ParseReply(text string, cs []Criterion) (answers []ParsedAnswer, problems []ReplyProblem) {
	type result struct {
		answer  *ParsedAnswer
		problem *ReplyProblem
	}
	var order []string
	last := map[string]result{}
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	if len(lines) > maxReplyLines {
		lines = lines[:maxReplyLines]
	}
	for _, line := range lines {
		c, raw, ok := readLine(line, cs)
		if !ok {
			continue
		}
		if _, seen := last[c.ID]; !seen {
			order = append(order, c.ID)
		}
		if c.Kind != KindText {
			raw = strings.Trim(raw, "*_~` ")
		}
		v, note, err := SplitAnswer(c, raw)
		if err != nil {
			last[c.ID] = result{problem: &ReplyProblem{Criterion: c.ID, Raw: truncateRunes(cleanLine(raw), 100), Accepted: AcceptedForms(c)}}
			continue
		}
		last[c.ID] = result{answer: &ParsedAnswer{Criterion: c.ID, Value: v, Note: note}}
	}
	for _, id := range order {
		switch r := last[id]; {
		case r.answer != nil:
			answers = append(answers, *r.answer)
		case r.problem != nil:
			problems = append(problems, *r.problem)
		}
	}
	return answers, problems
}

// SplitAnswer reads the longest leading part of raw that is an answer to c
// (NormaliseAnswer) and returns it with the rest as a note: "yes, the CFO
// signed off" is yes with the note "the CFO signed off", "this quarter
// (maybe sooner)" is this quarter with "maybe sooner". Longest first, so
// "10 000 euro" is ten thousand and "weet ik niet" is not "weet". A text
// criterion takes all of raw. The error is NormaliseAnswer's for all of raw.
func SplitAnswer(c Criterion, raw string) (value, note string, err error) {
	v, err := NormaliseAnswer(c, raw)
	if err == nil || c.Kind == KindText {
		return v, "", err
	}
	cuts := answerCuts(raw)
	for i := len(cuts) - 1; i >= 0; i-- {
		// "yes," and "50k:" end in a separator; ":+1:" ends in its colon.
		head := strings.TrimRight(raw[:cuts[i]], " \t")
		for _, h := range []string{head, strings.TrimRight(head, ",;:")} {
			if h == "" || isLetter(h) {
				continue // "j. smith decides" is no yes, "l and then" no "later"
			}
			if hv, herr := NormaliseAnswer(c, h); herr == nil {
				return hv, answerNote(raw[cuts[i]:]), nil
			}
		}
	}
	return "", "", err
}

// answerCuts lists where a leading answer may end in raw: before a space,
// before punctuation that starts a remark, before a symbol such as an emoji
// ("ja👍").
func answerCuts(raw string) []int {
	var cuts []int
	for i, r := range raw {
		if i > maxAnswerHead {
			break // no answer is that long: a pasted paragraph costs no more than this
		}
		if i == 0 {
			continue
		}
		if unicode.IsSpace(r) || strings.ContainsRune(",;:(—–!", r) || unicode.Is(unicode.So, r) {
			cuts = append(cuts, i)
		}
	}
	return cuts
}

// maxAnswerHead bounds, in bytes, where a leading answer may end; the
// longest forms ("€ 1.000.000,- euro", an option) are far shorter.
const maxAnswerHead = 200

// isLetter reports whether s is one letter: a valid answer on its own
// ("y", "n", "j", the prefix of an option), too thin to split a note from.
func isLetter(s string) bool {
	r := []rune(strings.TrimRight(s, ".!,;?"))
	return len(r) == 1 && unicode.IsLetter(r[0])
}

// answerNote tidies the words after an answer: no leading separator, no
// parentheses around all of it, bounded.
func answerNote(rest string) string {
	n := cleanLine(rest)
	for n != "" {
		// A leading colon is a separator unless it opens an emoji (":+1:").
		if t := strings.TrimLeft(n, ",;—–-!.? "); t != n {
			n = t
		} else if strings.HasPrefix(n, ":") && (len(n) == 1 || n[1] == ' ') {
			n = n[1:]
		} else {
			break
		}
	}
	if enclosed(n) {
		n = strings.TrimSpace(n[1 : len(n)-1])
	}
	if strings.Trim(n, ",;:—–-!.?() ") == "" {
		return ""
	}
	return truncateRunes(n, MaxAnswerNote)
}

// enclosed reports whether one pair of parentheses holds all of s:
// "(maybe sooner)", "(see roadmap (link))", not "(a) or (b)".
func enclosed(s string) bool {
	if !strings.HasPrefix(s, "(") || !strings.HasSuffix(s, ")") {
		return false
	}
	depth := 0
	for i, r := range s {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 && i != len(s)-1 {
				return false
			}
		}
	}
	return depth == 0
}

// listMarker matches a list's numbering typed by hand: "1. ", "2) ".
func listMarker(line string) (string, bool) {
	i := 0
	for i < len(line) && i < 3 && line[i] >= '0' && line[i] <= '9' {
		i++
	}
	if i == 0 || i >= len(line)-1 || (line[i] != '.' && line[i] != ')') || line[i+1] != ' ' {
		return line, false
	}
	return strings.TrimSpace(line[i+2:]), true
}

// readLine splits one line into the criterion it names and the raw answer.
func readLine(line string, cs []Criterion) (Criterion, string, bool) {
	line = strings.TrimSpace(line)
	if strings.HasPrefix(line, ">") {
		return Criterion{}, "", false // a quote of someone else's words
	}
	if r, ok := listMarker(line); ok {
		line = r
	} else {
		for _, b := range []string{"- ", "* ", "• ", "· ", "– ", "◦ ", "▪ "} {
			if r, ok := strings.CutPrefix(line, b); ok {
				line = strings.TrimSpace(r)
				break
			}
		}
	}
	i := strings.IndexAny(line, ":=")
	if i <= 0 {
		return Criterion{}, "", false
	}
	if strings.HasPrefix(line[i:], "://") {
		return Criterion{}, "", false // a URL, not "https: …"
	}
	key := strings.Trim(line[:i], "*_~` ")
	key = strings.TrimSpace(strings.TrimRight(key, "?"))
	raw := strings.TrimSpace(line[i+1:])
	if key == "" || raw == "" {
		return Criterion{}, "", false
	}
	c, ok := criterionByKey(key, cs)
	return c, raw, ok
}

// criterionByKey finds the criterion key names: its id, else the start of
// exactly one question (at least four letters, so "is" or "the" never match).
func criterionByKey(key string, cs []Criterion) (Criterion, bool) {
	for _, c := range cs {
		if strings.EqualFold(c.ID, key) {
			return c, true
		}
	}
	letters := 0
	for _, r := range key {
		if unicode.IsLetter(r) {
			letters++
		}
	}
	if letters < 4 {
		return Criterion{}, false
	}
	k := strings.ToLower(strings.Join(strings.Fields(key), " "))
	var found []Criterion
	for _, c := range cs {
		q := strings.ToLower(strings.Join(strings.Fields(c.Question), " "))
		if strings.HasPrefix(q, k) {
			found = append(found, c)
		}
	}
	if len(found) != 1 {
		return Criterion{}, false
	}
	return found[0], true
}

// EvaluateCriteria sums up l's answers against cs.
func EvaluateCriteria(l *Lead, cs []Criterion) CriteriaStatus {
	st := CriteriaStatus{Total: len(cs)}
	for _, c := range cs {
		v := l.Answers[c.ID].Value
		if v != "" {
			st.Answered++
		}
		if c.Must {
			switch {
			case v == "" || v == AnswerUnknown:
				st.MustOpen = append(st.MustOpen, c.ID)
			case c.Kind == KindYesNo && v == AnswerNo, c.Kind == KindScale && v == "1":
				st.MustNo = append(st.MustNo, c.ID)
			}
		}
		if s, scored := score(c, v); scored {
			st.Score += s
			st.MaxScore += c.Weight
		}
		if d := disagreement(c, l.AnswersBy[c.ID]); d != nil {
			if st.Disagree == nil {
				st.Disagree = map[string][]AnswerCount{}
			}
			st.Disagree[c.ID] = d
		}
	}
	return st
}

// score is what value v earns on c, and whether c's kind is scored at all.
func score(c Criterion, v string) (int, bool) {
	w := float64(c.Weight)
	switch c.Kind {
	case KindYesNo:
		if v == AnswerYes {
			return c.Weight, true
		}
		return 0, true
	case KindScale:
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 5 {
			return 0, true
		}
		return int(math.Round(w * float64(n-1) / 4)), true
	case KindChoice:
		k := len(c.Options)
		for i, o := range c.Options {
			if o != v {
				continue
			}
			if k == 1 {
				return c.Weight, true
			}
			return int(math.Round(w * float64(k-1-i) / float64(k-1))), true
		}
		return 0, true
	}
	return 0, false
}

// disagreement counts differing answers (2 yes, 1 no); nil when everyone
// who answered agrees.
func disagreement(c Criterion, by map[string]Answer) []AnswerCount {
	if len(by) < 2 {
		return nil
	}
	counts := map[string]int{}
	for _, a := range by {
		if a.Value != "" {
			counts[a.Value]++
		}
	}
	if len(counts) < 2 {
		return nil
	}
	values := make([]string, 0, len(counts))
	for v := range counts {
		values = append(values, v)
	}
	sort.Slice(values, func(i, j int) bool {
		if counts[values[i]] != counts[values[j]] {
			return counts[values[i]] > counts[values[j]]
		}
		return values[i] < values[j]
	})
	res := make([]AnswerCount, len(values))
	for i, v := range values {
		n := counts[v]
		if c.Kind == KindText {
			v = truncateRunes(v, 40) // a card line, not an essay
		}
		res[i] = AnswerCount{Value: v, N: n}
	}
	return res
}
