package bot

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/leadtriage/leadtriage/triage"
)

// commandKind is what a /qualify invocation asks for. The grammar is the one
// in DESIGN.md; only help is served today, the other kinds are recognised so
// that later work fills in their handling without touching the parser.
type commandKind string

const (
	cmdHelp    commandKind = "help"    // "help", and anything the grammar does not know
	cmdModal   commandKind = "modal"   // no text: open the new-lead form
	cmdAdd     commandKind = "add"     // an e-mail, domain, URL or company name
	cmdList    commandKind = "list"    // "list": pending leads
	cmdShow    commandKind = "show"    // "L-42": one lead
	cmdHistory commandKind = "history" // "L-42 history": its audit trail
	cmdDigest  commandKind = "digest"  // "digest": the digest, now
)

// command is a parsed /qualify text. It is pure data, so the parser is
// table-tested without Slack.
type command struct {
	kind commandKind
	lead triage.LeadID // show, history
	arg  string        // add: the text as typed, trimmed
}

// parseCommand turns the text after /qualify into a command. It never fails:
// text that fits no rule of the grammar asks for help.
func parseCommand(text string) command {
	fields := strings.Fields(text)
	if len(fields) == 0 {
		return command{kind: cmdModal}
	}
	first := strings.ToLower(fields[0])
	switch {
	case len(fields) == 1 && first == "help":
		return command{kind: cmdHelp}
	case len(fields) == 1 && first == "list":
		return command{kind: cmdList}
	case len(fields) == 1 && first == "digest":
		return command{kind: cmdDigest}
	case first == "help" || first == "list" || first == "digest":
		// A keyword with trailing words is a typo more likely than a company.
		return command{kind: cmdHelp}
	}
	if id, err := triage.ParseLeadID(fields[0]); err == nil {
		switch {
		case len(fields) == 1:
			return command{kind: cmdShow, lead: id}
		case len(fields) == 2 && strings.EqualFold(fields[1], "history"):
			return command{kind: cmdHistory, lead: id}
		default:
			return command{kind: cmdHelp}
		}
	}
	return command{kind: cmdAdd, arg: strings.Join(fields, " ")}
}

// helpText lists the grammar from DESIGN.md, how to answer the team's
// criteria (cs) in a card's thread, and which parts arrive in later
// releases, so nobody mistakes a missing feature for a broken bot.
func helpText(name string, cs []triage.Criterion, reactions map[string]triage.Choice) string {
	if name == "" {
		name = "/qualify"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "*%s* helps the team triage inbound leads.\n", name)
	fmt.Fprintf(&b, "• `%s help`: this help\n", name)
	b.WriteString("Vote on a lead, or claim it, with the buttons on its card in the triage channel; deciders decide with *Decide*.\n")
	if r := reactionHelp(reactions); r != "" {
		b.WriteString("Reactions on the card vote too: " + r + ".\n")
	}
	if len(cs) > 0 {
		b.WriteString("Answer the criteria with the checklist in the card's thread, or reply there with one line per answer, e.g. `" + cs[0].ID + ": yes`:\n")
		for i, c := range cs {
			if i == maxHelpCriteria {
				fmt.Fprintf(&b, "• … and %d more\n", len(cs)-i)
				break
			}
			fmt.Fprintf(&b, "• `%s`: %s (%s)\n", esc(c.ID), escTrunc(c.Question, 150, false), esc(triage.AcceptedForms(c)))
		}
	}
	b.WriteString("Coming in a later release:\n")
	fmt.Fprintf(&b, "• `%s`: open a form to add a lead\n", name)
	fmt.Fprintf(&b, "• `%s <e-mail, domain, URL or company>`: add a lead\n", name)
	fmt.Fprintf(&b, "• `%s list`: the pending leads\n", name)
	fmt.Fprintf(&b, "• `%s L-42`: one lead\n", name)
	fmt.Fprintf(&b, "• `%s L-42 history`: a lead's audit trail\n", name)
	fmt.Fprintf(&b, "• `%s digest`: the digest of pending leads, now", name)
	return b.String()
}

// reactionHelp lists the voting reactions, in the order of the vote buttons.
func reactionHelp(reactions map[string]triage.Choice) string {
	var parts []string
	for _, c := range []triage.Choice{triage.ChoiceQualify, triage.ChoiceDisqualify, triage.ChoiceUnsure} {
		var names []string
		for name, rc := range reactions {
			if rc == c && reactionName.MatchString(name) {
				names = append(names, ":"+name+":")
			}
		}
		if len(names) > 0 {
			sort.Strings(names)
			parts = append(parts, strings.Join(names, " ")+" "+string(c))
		}
	}
	return strings.Join(parts, ", ")
}

// reactionName is what an emoji name looks like; anything else stays out of
// the help rather than being escaped into it.
var reactionName = regexp.MustCompile(`^[a-z0-9_+'-]{1,100}$`)

// maxHelpCriteria bounds the criteria the help lists, to keep it one screen.
const maxHelpCriteria = 20
