package bot

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
)

// Block Kit limits (SLACK-NOTES §4.6) with a margin, and the budgets that
// keep a whole card far below Slack's ~12 000-character message limit
// whatever the lead holds: header 150 + fields 8×~260 + message 2400 +
// extras 800 + research 1500 + votes/status ~2000 ≈ 9 000.
const (
	maxHeader       = 150
	maxSection      = 2900
	maxFieldValue   = 250
	maxMessage      = 2400
	maxExtras       = 800
	maxExtraValue   = 200
	maxResearch     = 1500
	maxFlags        = 8
	maxVoters       = 1000
	maxReason       = 500
	maxFallbackText = 300
)

// renderCard renders a lead's card from its current state: the
// notification text (already escaped) and the blocks. It is pure; now only
// feeds the "waiting for" note on old pending leads. Every piece of lead
// text is escaped and cut to fit, so no lead can produce an invalid message
// or a mention.
func renderCard(l triage.Lead, p triage.Policy, now time.Time) (text string, blocks []slack.Block) {
	id := l.ID.String()
	label := escTrunc(l.Label(), 120, false)
	if label == "" {
		label = id
	}

	text = fit(fmt.Sprintf("%s · %s (%s)", id, label, statusWord(l.Status)), maxFallbackText)

	blocks = append(blocks, slack.NewHeaderBlock(plain(fit(id+" · "+label, maxHeader))))

	if f := contactFields(l); len(f) > 0 {
		blocks = append(blocks, slack.NewSectionBlock(nil, f, nil))
	}
	if msg := clean(l.Message, true); msg != "" {
		body := quote(escTrunc(msg, maxMessage, true))
		blocks = append(blocks, section("*Message*\n"+body))
	}
	if s := extrasText(l.Extra); s != "" {
		blocks = append(blocks, section("*Other fields*\n"+s))
	}
	if s := researchText(l.Research); s != "" {
		blocks = append(blocks, section(s))
	} else {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn("Research pending…")))
	}

	blocks = append(blocks, slack.NewDividerBlock())
	blocks = append(blocks, section(voteText(l, p)+"\n"+ownerText(l)+"\n"+statusText(l, p)))

	if l.Status == triage.StatusPending && !l.CreatedAt.IsZero() {
		if age := now.Sub(l.CreatedAt); age >= 24*time.Hour {
			days := int(age / (24 * time.Hour))
			unit := "days"
			if days == 1 {
				unit = "day"
			}
			blocks = append(blocks, slack.NewContextBlock("", mrkdwn(fmt.Sprintf("Waiting for a decision for %d %s.", days, unit))))
		}
	}

	if btns := buttons(l); len(btns) > 0 {
		blocks = append(blocks, slack.NewActionBlock("", btns...))
	}
	return text, blocks
}

// mrkdwn is a verbatim mrkdwn text object: Slack neither auto-links URLs nor
// parses mentions in it, so only our own "<…>" tokens are live.
func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, true)
}

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

func section(s string) *slack.SectionBlock {
	return slack.NewSectionBlock(mrkdwn(fit(s, maxSection)), nil, nil)
}

func statusWord(s triage.Status) string {
	if s.Valid() {
		return string(s)
	}
	return "unknown status"
}

func contactFields(l triage.Lead) []*slack.TextBlockObject {
	var f []*slack.TextBlockObject
	add := func(title, value string) {
		if value != "" {
			f = append(f, mrkdwn("*"+title+"*\n"+value))
		}
	}
	add("Contact", escTrunc(l.Name, maxFieldValue, false))
	add("E-mail", escTrunc(l.Email, maxFieldValue, false))
	add("Phone", escTrunc(l.Phone, maxFieldValue, false))
	if strings.TrimSpace(l.Website) != "" {
		add("Website", websiteLink(l.Website))
	}
	add("Source", escTrunc(l.Source, maxFieldValue, false))
	if !l.CreatedAt.IsZero() {
		add("Received", dateToken(l.CreatedAt))
	}
	if l.Founded != 0 {
		add("Founded (claimed)", strconv.Itoa(l.Founded))
	}
	if l.Employees != 0 {
		add("Employees (claimed)", strconv.Itoa(l.Employees))
	}
	return f
}

// extrasText lists the extra form fields in key order, as many as fit.
func extrasText(extra map[string]string) string {
	keys := make([]string, 0, len(extra))
	for k := range extra {
		if clean(k, false) != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var lines []string
	n := 0
	for i, k := range keys {
		line := "*" + escTrunc(k, 64, false) + ":* " + escTrunc(extra[k], maxExtraValue, false)
		if n+len([]rune(line)) > maxExtras {
			lines = append(lines, fmt.Sprintf("… and %d more", len(keys)-i))
			break
		}
		lines = append(lines, line)
		n += len([]rune(line)) + 1
	}
	return strings.Join(lines, "\n")
}

// researchText is "" while research has not arrived.
func researchText(r triage.Research) string {
	summary := escTrunc(r.Summary, maxResearch/2, true)
	if summary == "" && len(r.Flags) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("*Research*")
	if summary != "" {
		b.WriteString("\n" + summary)
	}
	for i, fl := range r.Flags {
		if i == maxFlags {
			fmt.Fprintf(&b, "\n… and %d more flags", len(r.Flags)-i)
			break
		}
		b.WriteString("\n:warning: `" + escTrunc(fl.Code, 40, false) + "`")
		if d := escTrunc(fl.Detail, 80, false); d != "" {
			b.WriteString(" " + d)
		}
	}
	return fit(b.String(), maxResearch)
}

var choiceOrder = []triage.Choice{triage.ChoiceQualify, triage.ChoiceDisqualify, triage.ChoiceUnsure}

func voteText(l triage.Lead, p triage.Policy) string {
	q := max(p.Quorum, 1)
	n := len(l.Votes)
	if !triage.Revealed(&l, p) {
		// Blind voting: not who, not how, only how many (no herding).
		return fmt.Sprintf("*Votes:* %d of %d votes — hidden until the quorum", n, q)
	}
	if n == 0 {
		return "*Votes:* none yet"
	}
	byChoice := map[triage.Choice][]string{}
	var other []string
	for user, c := range l.Votes {
		if slices.Contains(choiceOrder, c) {
			byChoice[c] = append(byChoice[c], user)
		} else {
			other = append(other, user)
		}
	}
	t := triage.Count(l.Votes)
	var b strings.Builder
	fmt.Fprintf(&b, "*Votes:* %d of %d for the quorum (%s)", n, q, t)
	budget := maxVoters
	for _, c := range choiceOrder {
		users := byChoice[c]
		if len(users) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n%s: %s", choiceTitle(c), mentions(users, &budget))
	}
	if len(other) > 0 {
		fmt.Fprintf(&b, "\nOther: %s", mentions(other, &budget))
	}
	return b.String()
}

func choiceTitle(c triage.Choice) string {
	switch c {
	case triage.ChoiceQualify:
		return "Qualify"
	case triage.ChoiceDisqualify:
		return "Disqualify"
	default:
		return "Unsure"
	}
}

// mentions lists users in id order while budget (runes) lasts.
func mentions(users []string, budget *int) string {
	sort.Strings(users)
	var parts []string
	for i, u := range users {
		m := mention(u)
		if *budget-len([]rune(m))-2 < 0 {
			parts = append(parts, fmt.Sprintf("and %d more", len(users)-i))
			break
		}
		*budget -= len([]rune(m)) + 2
		parts = append(parts, m)
	}
	return strings.Join(parts, ", ")
}

func ownerText(l triage.Lead) string {
	switch {
	case l.Owner != "":
		return "*Owner:* " + mention(l.Owner)
	case l.Status == triage.StatusPending || l.Status == triage.StatusQualified:
		return "*Owner:* Unclaimed — use Claim"
	default:
		return "*Owner:* none"
	}
}

func statusText(l triage.Lead, p triage.Policy) string {
	if l.Status == triage.StatusPending || !l.Status.Valid() {
		v := triage.Evaluate(&l, p)
		if v.Quorum && (v.Tie || !p.Auto) {
			who := "the team lead"
			if slackUserID.MatchString(p.TeamLead) {
				who = mention(p.TeamLead)
			}
			if v.Tie {
				return "*Status:* pending — quorum reached without a majority; " + who + " decides"
			}
			return "*Status:* pending — quorum reached; waiting for " + who + " to decide"
		}
		return "*Status:* pending — vote below"
	}
	s := "*Status:* " + statusWord(l.Status)
	if d := l.Decision; d != nil {
		by := mention(d.By)
		if d.By == triage.DecidedByPolicy {
			by = "the team's vote"
		}
		s += " by " + by
		if !d.At.IsZero() {
			s += " on " + dateToken(d.At)
		}
		if r := escTrunc(d.Reason, maxReason, false); r != "" {
			s += "\n*Reason:* " + r
		}
	}
	return s
}

// buttons are the card's actions: the votes and Claim while the lead is
// pending; afterwards only Claim, while a qualified lead has no owner. Each
// value is the lead id and nothing else (no PII in payloads).
func buttons(l triage.Lead) []slack.BlockElement {
	id := l.ID.String()
	claim := slack.NewButtonBlockElement(actionClaim, id, plain("Claim"))
	switch {
	case l.Status == triage.StatusPending:
		return []slack.BlockElement{
			slack.NewButtonBlockElement(actionVoteQualify, id, plain("Qualify")).WithStyle(slack.StylePrimary),
			slack.NewButtonBlockElement(actionVoteDisqualify, id, plain("Disqualify")).WithStyle(slack.StyleDanger),
			slack.NewButtonBlockElement(actionVoteUnsure, id, plain("Unsure")),
			claim,
		}
	case l.Status == triage.StatusQualified && l.Owner == "":
		return []slack.BlockElement{claim}
	}
	return nil
}
