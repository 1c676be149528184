package bot

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/leadtriage/leadtriage/triage"
)

// /qualify text -> command: the grammar (DESIGN.md), pure.

// commandKind is what a /qualify invocation asks for (the grammar in
// DESIGN.md).
type commandKind string

const (
	cmdHelp    commandKind = "help"    // "help", and anything the grammar does not know
	cmdModal   commandKind = "modal"   // no text: open the add-lead dialog
	cmdAdd     commandKind = "add"     // an e-mail, domain, URL or company name; "add <text>"
	cmdList    commandKind = "list"    // "list [mine|pending|all]"
	cmdShow    commandKind = "show"    // "L-42": one lead
	cmdHistory commandKind = "history" // "L-42 history": its audit trail
	cmdDigest  commandKind = "digest"  // "digest": the digest, now
	cmdOutcome commandKind = "outcome" // "L-42 won|lost|no-deal [value] [note…]": what became of it
)

// listFilter selects the leads "/qualify list" shows.
type listFilter string

const (
	listPending listFilter = "pending" // the default
	listMine    listFilter = "mine"    // owned or added by the caller
	listAll     listFilter = "all"
)

// command is a parsed /qualify text. It is pure data, so the parser is
// table-tested without Slack.
type command struct {
	kind   commandKind
	lead   triage.LeadID // show, history; 0 with an L-form the domain cannot hold ("L-0")
	arg    string        // add: the text to add; show/history: the id as typed; help: the text that was not understood
	filter listFilter    // list
	// suggestion is, for help, the /qualify text the user probably meant
	// ("list", "L-42 history"); "" = plain help.
	suggestion string
	// addHint says that the text could also have been a company name, so
	// help points at "/qualify add <text>".
	addHint bool
	// outcome, value and note: what "L-42 won 12k signed" says (outcome);
	// valueText is the value as typed, valueErr why it could not be read.
	outcome   triage.OutcomeKind
	value     int64
	valueText string
	valueErr  error
	note      string
}

// subcommands are the words a single-word typo is compared with.
var subcommands = []string{"help", "list", "digest", "history"}

// dutchSubcommands and dutchFilters are the Dutch command words, accepted
// next to the English ones whatever ui.language says: a Dutch team types
// both ("/qualify lijst mijn", "/qualify L-42 geschiedenis").
var (
	dutchSubcommands = map[string]string{"hulp": "help", "toevoegen": "add", "lijst": "list", "overzicht": "digest", "geschiedenis": "history"}
	dutchFilters     = map[string]string{"mijn": "mine", "open": "pending", "alles": "all"}
)

// commandWord is word lowercased, in English.
func commandWord(word string, dutch map[string]string) string {
	w := strings.ToLower(word)
	if en, ok := dutch[w]; ok {
		return en
	}
	return w
}

// listFilters are the words after "list", in the order help lists them.
var listFilters = []listFilter{listMine, listPending, listAll}

// maxTypoDistance is how far (in edits) a word may be from a keyword to be
// taken for a typo of it.
const maxTypoDistance = 2

// leadIDForm is the L-form of a lead id; a bare number is not one (a
// company may be called "42").
var leadIDForm = regexp.MustCompile(`^[lL]-[0-9]+$`)

// parseCommand turns the text after /qualify into a command. It never fails:
// text that fits no rule of the grammar is added as a company name, or asks
// for help with a suggestion when it looks like a mistyped keyword.
func parseCommand(text string) command {
	fields := strings.Fields(text)
	if len(fields) == 0 {
		return command{kind: cmdModal}
	}
	joined := strings.Join(fields, " ")
	first := commandWord(fields[0], dutchSubcommands)
	rest := fields[1:]

	switch first {
	case "help":
		return command{kind: cmdHelp}
	case "add":
		if len(rest) == 0 {
			return command{kind: cmdModal}
		}
		return command{kind: cmdAdd, arg: strings.Join(rest, " ")}
	case "list":
		return parseList(rest, joined)
	case "digest":
		if len(rest) == 0 {
			return command{kind: cmdDigest}
		}
		return command{kind: cmdHelp, arg: joined, suggestion: "digest"}
	case "history":
		// The lead comes first: "/qualify L-42 history".
		return command{kind: cmdHelp, arg: joined, suggestion: "L-42 history", addHint: len(rest) == 0}
	}

	if leadIDForm.MatchString(fields[0]) {
		c := command{kind: cmdShow, arg: fields[0]}
		if id, err := triage.ParseLeadID(fields[0]); err == nil {
			c.lead = id
		}
		idText := "L-" + fields[0][2:]
		switch {
		case len(rest) == 0:
			return c
		case outcomeKeywords[strings.ToLower(rest[0])] != "":
			return parseOutcome(c, outcomeKeywords[strings.ToLower(rest[0])], rest[1:])
		case len(rest) == 1 && commandWord(rest[0], dutchSubcommands) == "history":
			c.kind = cmdHistory
			return c
		case len(rest) >= 1 && (strings.EqualFold(rest[0], "history") || typoOf(rest[0], "history")):
			return command{kind: cmdHelp, arg: joined, suggestion: idText + " history"}
		default:
			return command{kind: cmdHelp, arg: joined, suggestion: idText}
		}
	}

	if isAddress(fields[0]) {
		return command{kind: cmdAdd, arg: joined}
	}
	if len(fields) == 1 {
		if isNumber(first) {
			return command{kind: cmdHelp, arg: joined, suggestion: "L-" + strings.TrimLeft(first, "0"), addHint: true}
		}
		if kw, ok := closest(first, subcommands); ok {
			s := kw
			if kw == "history" {
				s = "L-42 history"
			}
			return command{kind: cmdHelp, arg: joined, suggestion: s, addHint: true}
		}
	}
	// "lsit mine": a typo of list followed by a filter.
	if len(fields) == 2 && typoOf(first, "list") {
		if f, ok := closest(strings.ToLower(fields[1]), filterWords()); ok {
			return command{kind: cmdHelp, arg: joined, suggestion: "list " + f, addHint: true}
		}
	}
	return command{kind: cmdAdd, arg: joined}
}

// parseList reads the words after "list".
func parseList(rest []string, joined string) command {
	if len(rest) == 0 {
		return command{kind: cmdList, filter: listPending}
	}
	word := commandWord(rest[0], dutchFilters)
	for _, f := range listFilters {
		if word == string(f) {
			if len(rest) == 1 {
				return command{kind: cmdList, filter: f}
			}
			return command{kind: cmdHelp, arg: joined, suggestion: "list " + string(f)}
		}
	}
	if f, ok := closest(word, filterWords()); ok {
		return command{kind: cmdHelp, arg: joined, suggestion: "list " + f}
	}
	return command{kind: cmdHelp, arg: joined, suggestion: "list"}
}

func filterWords() []string {
	w := make([]string, len(listFilters))
	for i, f := range listFilters {
		w[i] = string(f)
	}
	return w
}

// closest returns the keyword word is a typo of: the nearest within
// maxTypoDistance edits, the first in keywords on a tie.
func closest(word string, keywords []string) (string, bool) {
	best, bestD := "", maxTypoDistance+1
	for _, k := range keywords {
		if d := editDistance(word, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best, best != ""
}

func typoOf(word, keyword string) bool {
	return editDistance(strings.ToLower(word), keyword) <= maxTypoDistance
}

// editDistance is the optimal string alignment distance between a and b, in
// runes: insertions, deletions, substitutions and transpositions of two
// neighbours ("histroy") each count one. Long words are cut short: nothing
// that long is a typo of a keyword.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 40 || len(rb) > 40 {
		return 40
	}
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// isAddress reports whether s reads as an e-mail address, a URL or a bare
// domain (possibly in Slack's <…|…> link form): such text is a lead to add,
// never a typo.
func isAddress(s string) bool {
	s = strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">")
	if i := strings.IndexByte(s, '|'); i >= 0 {
		s = s[:i]
	}
	s = strings.ToLower(s)
	switch {
	case strings.HasPrefix(s, "mailto:"), strings.HasPrefix(s, "http://"), strings.HasPrefix(s, "https://"):
		return true
	case strings.Contains(s, "@"):
		at := strings.LastIndexByte(s, '@')
		return at > 0 && strings.Contains(s[at+1:], ".")
	}
	host, _, _ := strings.Cut(s, "/")
	dot := strings.LastIndexByte(host, '.')
	if dot <= 0 || dot == len(host)-1 {
		return false
	}
	tld := host[dot+1:]
	if utf8.RuneCountInString(tld) < 2 {
		return false
	}
	for _, r := range tld {
		if !(r >= 'a' && r <= 'z' || r > 127 || r == '-' || r >= '0' && r <= '9') {
			return false
		}
	}
	return !isNumber(tld)
}

func isNumber(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
