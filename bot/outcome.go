package bot

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/slack-go/slack"

	"github.com/leadtriage/leadtriage/triage"
)

// What became of a decided lead (issue 15): the /qualify grammar, the value
// parser, the card's outcome line and buttons, and the buttons' clicks.

// outcomeKeywords are the words /qualify accepts for an outcome, English and
// Dutch alike (as for the other command words).
var outcomeKeywords = map[string]triage.OutcomeKind{
	"won": triage.OutcomeWon, "lost": triage.OutcomeLost,
	"no-deal": triage.OutcomeNoDeal, "no_deal": triage.OutcomeNoDeal, "nodeal": triage.OutcomeNoDeal,
	"gewonnen": triage.OutcomeWon, "verloren": triage.OutcomeLost,
	"geen-deal": triage.OutcomeNoDeal, "geen_deal": triage.OutcomeNoDeal,
}

// outcomeButtons maps the card's outcome buttons to outcomes, in the order
// the card shows them.
var outcomeButtons = []struct {
	action string
	kind   triage.OutcomeKind
}{
	{actionOutcomeWon, triage.OutcomeWon},
	{actionOutcomeLost, triage.OutcomeLost},
	{actionOutcomeNoDeal, triage.OutcomeNoDeal},
}

// valueError says why a typed value could not be read: a catalogue key
// ("outcome.value.*") and the text as typed.
type valueError struct {
	key, text string
}

func (e *valueError) Error() string { return e.key + ": " + e.text }

// currencyWords may stand before (or after) an amount and are ignored:
// the value is in whole units of the team's own currency.
var currencyWords = []string{"€", "$", "£", "euro", "eur", "usd", "gbp"}

// parseValue reads a deal value as people type it: "12000", "12.000",
// "12,000", "€ 12.000", "12k", "1,5k", "2m", "12.000,50" (rounded to whole
// units). A single separator followed by exactly three digits groups
// thousands whichever it is; anything that could be read two ways
// ("12,50", "1.5", "1,234k") is refused with the problem named.
func parseValue(s string) (int64, error) {
	raw := s
	t := strings.ToLower(strings.Join(strings.Fields(s), ""))
	for _, c := range currencyWords {
		t = strings.TrimSuffix(strings.TrimPrefix(t, c), c)
	}
	if t == "" {
		return 0, &valueError{"outcome.value.not_number", raw}
	}
	mult := 1.0
	switch t[len(t)-1] {
	case 'k':
		mult, t = 1e3, t[:len(t)-1]
	case 'm':
		mult, t = 1e6, t[:len(t)-1]
	}
	if t == "" || strings.ContainsFunc(t, func(r rune) bool { return !unicode.IsDigit(r) && r != '.' && r != ',' }) ||
		!unicode.IsDigit(rune(t[0])) || !unicode.IsDigit(rune(t[len(t)-1])) {
		if strings.HasPrefix(t, "-") {
			return 0, &valueError{"outcome.value.negative", raw}
		}
		return 0, &valueError{"outcome.value.not_number", raw}
	}
	seps := strings.Count(t, ".") + strings.Count(t, ",")
	var whole, frac string
	switch {
	case seps == 0:
		whole = t
	case mult > 1:
		// "1,5k", "2.25m": one decimal separator; a group of three is
		// ambiguous (1,234k: 1234k or 1.234k?).
		i := strings.IndexAny(t, ".,")
		if seps > 1 || len(t)-i-1 == 3 {
			return 0, &valueError{"outcome.value.ambiguous", raw}
		}
		whole, frac = t[:i], t[i+1:]
	default:
		// The last separator is a decimal one only when the other kind
		// groups thousands before it ("12.000,50", "12,000.50").
		last := strings.LastIndexAny(t, ".,")
		lastSep := t[last]
		other := byte('.')
		if lastSep == '.' {
			other = ','
		}
		head, tail := t, ""
		if strings.IndexByte(t, other) >= 0 {
			if strings.Count(t, string(lastSep)) > 1 || strings.LastIndexByte(t, other) > last {
				return 0, &valueError{"outcome.value.ambiguous", raw}
			}
			head, tail = t[:last], t[last+1:]
			if len(tail) > 2 {
				return 0, &valueError{"outcome.value.ambiguous", raw}
			}
			lastSep = other
		}
		groups := strings.Split(head, string(lastSep))
		for i, g := range groups {
			if (i > 0 && len(g) != 3) || (i == 0 && (g == "" || len(g) > 3)) {
				return 0, &valueError{"outcome.value.ambiguous", raw}
			}
		}
		whole, frac = strings.Join(groups, ""), tail
	}
	f, err := strconv.ParseFloat(whole+"."+frac+"0", 64)
	if err != nil {
		return 0, &valueError{"outcome.value.not_number", raw}
	}
	v := math.Round(f * mult)
	if v > triage.MaxOutcomeValue {
		return 0, &valueError{"outcome.value.too_big", raw}
	}
	return int64(v), nil
}

// looksLikeValue says whether a word after the outcome is meant as its value
// rather than the start of the note.
func looksLikeValue(word string) bool {
	w := strings.ToLower(word)
	for _, c := range currencyWords {
		if w == c || strings.HasPrefix(w, c) && len(w) > len(c) {
			return true
		}
	}
	r := []rune(w)
	return len(r) > 0 && (unicode.IsDigit(r[0]) || r[0] == '-' && len(r) > 1 && unicode.IsDigit(r[1]))
}

// parseOutcome reads "[value] [note…]" after "L-42 won".
func parseOutcome(c command, kind triage.OutcomeKind, rest []string) command {
	c.kind, c.outcome = cmdOutcome, kind
	if len(rest) > 0 && looksLikeValue(rest[0]) {
		n := 1
		// "€ 12.000", "12.000 EUR": a currency word of its own goes with the amount.
		if isCurrencyWord(rest[0]) && len(rest) > 1 {
			n = 2
		} else if len(rest) > 1 && isCurrencyWord(rest[1]) {
			n = 2
		}
		c.valueText = strings.Join(rest[:n], " ")
		c.value, c.valueErr = parseValue(c.valueText)
		rest = rest[n:]
	}
	c.note = strings.Join(rest, " ")
	return c
}

func isCurrencyWord(w string) bool {
	for _, c := range currencyWords {
		if strings.EqualFold(w, c) {
			return true
		}
	}
	return false
}

// outcome records what /qualify L-42 won|lost|no-deal says.
func (cm *commands) outcome(ctx context.Context, log *slog.Logger, user string, c command) *slashReply {
	if c.lead == 0 {
		return ephemeralReply(cm.words.t("command.no_lead", bold(escTrunc(c.arg, maxCommandArg, false))))
	}
	var ve *valueError
	if errors.As(c.valueErr, &ve) {
		return ephemeralReply(cm.words.t(ve.key, codeSpan(ve.text)))
	}
	res, err := cm.svc.RecordOutcome(ctx, c.lead, triage.OutcomeInput{Kind: c.outcome, Value: c.value, Note: c.note, By: user})
	if err != nil {
		return ephemeralReply(outcomeWords{cm.words}.errorText(err, c.lead))
	}
	n := triage.Notice{Kind: triage.NoticeOutcomeRecorded, Lead: c.lead, User: user, Outcome: res.Lead.Outcome,
		Corrected: res.Corrected, Repeat: !res.Changed}
	text, _ := noticeWords{cm.words}.notice(n, nil, nil)
	log.DebugContext(ctx, "outcome recorded", "lead_id", c.lead.String(), "changed", res.Changed)
	return ephemeralReply(text)
}

// outcomeWords renders outcomes: on the card, in notices and in the digest.
type outcomeWords struct{ words }

// errorText words what RecordOutcome refused.
func (w outcomeWords) errorText(err error, id triage.LeadID) string {
	switch {
	case errors.Is(err, triage.ErrNotDecided):
		return w.t("error.not_decided", bold(id.String()))
	case errors.Is(err, triage.ErrNotFound):
		return w.t("command.no_lead", bold(id.String()))
	}
	return errorWords(w).text(err)
}

// outcome records the outcome a card's button names; the clicker is
// who says so, and gets a private confirmation through the outbox.
func (ck *clicks) outcome(ctx context.Context, log *slog.Logger, channel, user string, a slack.BlockAction) {
	var kind triage.OutcomeKind
	for _, ob := range outcomeButtons {
		if ob.action == a.ActionID {
			kind = ob.kind
		}
	}
	if kind == "" {
		log.DebugContext(ctx, "button ignored")
		return
	}
	id, log, ok := ck.leadOf(ctx, log, channel, user, a)
	if !ok {
		return
	}
	if _, err := ck.svc.RecordOutcome(ctx, id, triage.OutcomeInput{Kind: kind, By: user, Confirm: true}); err != nil {
		if triage.IsInternal(err) {
			ck.teller.reportError(ctx, log, channel, user, err)
			return
		}
		ck.teller.tell(ctx, log, channel, user, outcomeWords{ck.words}.errorText(err, id))
		return
	}
	log.DebugContext(ctx, "outcome recorded by a click", "outcome", string(kind))
}

// kind is an outcome's name in w's language.
func (w outcomeWords) kind(k triage.OutcomeKind) string {
	switch k {
	case triage.OutcomeWon:
		return w.t("outcome.won")
	case triage.OutcomeLost:
		return w.t("outcome.lost")
	case triage.OutcomeNoDeal:
		return w.t("outcome.no_deal")
	}
	return w.t("outcome.unknown")
}

// text is an outcome in a few words: the kind in bold, the value in
// the language's number format, and who said it.
func (w outcomeWords) text(o triage.Outcome) string {
	s := bold(w.kind(o.Kind))
	if o.Value > 0 {
		s += ", " + w.t("outcome.value", o.Value)
	}
	return s
}

// by names who recorded an outcome.
func (w outcomeWords) by(by string) string {
	if by == "api" {
		return w.t("outcome.by_api")
	}
	if name := crmName(by); name != "" {
		return name // read back from the deal in the CRM
	}
	return mention(by)
}

// blocks are the card's part about what became of the lead: the
// outcome once recorded, or the question with its three buttons once the
// check asked it (triage.OutcomeAsked).
func (w outcomeWords) blocks(l triage.Lead) []slack.Block {
	if o := l.Outcome; o != nil {
		s := label(w.t("card.outcome")) + w.text(*o) + " " + w.t("card.outcome.by", w.by(o.By))
		if !o.At.IsZero() {
			s += " " + w.t("card.decided_on", dateToken(o.At))
		}
		if n := escTrunc(o.Note, maxNote, true); n != "" {
			s += "\n" + fit(quote(n), maxNote)
		}
		return []slack.Block{section(s)}
	}
	if !triage.OutcomeAsked(l) {
		return nil
	}
	id := l.ID.String()
	btns := make([]slack.BlockElement, 0, len(outcomeButtons))
	for _, ob := range outcomeButtons {
		btn := slack.NewButtonBlockElement(ob.action, id, plain(w.kind(ob.kind)))
		if ob.kind == triage.OutcomeWon {
			btn = btn.WithStyle(slack.StylePrimary)
		}
		btns = append(btns, btn)
	}
	return []slack.Block{section(bold(w.t("card.outcome.ask"))), slack.NewActionBlock("", btns...)}
}

// returningBlocks say that a lead came back after the team declined an
// earlier one with its e-mail or domain, naming that decision.
func (w outcomeWords) returningBlocks(l triage.Lead) []slack.Block {
	p := l.Returning
	if p == nil {
		return nil
	}
	s := w.t("card.returning", bold(p.Lead.String()), w.status(p.Outcome), dateToken(p.At))
	if r := escTrunc(p.Reason, maxReason, false); r != "" {
		s += " (" + r + ")"
	}
	if w.permalink != nil && p.TS != "" {
		if u := w.permalink(p.Channel, p.TS); u != "" {
			s += " · " + link(u, w.t("command.see_card"))
		}
	}
	return []slack.Block{slack.NewContextBlock("", mrkdwn(":leftwards_arrow_with_hook: "+s))}
}

// notice words NoticeOutcome (the thread) and NoticeOutcomeRecorded
// (the private confirmation).
func (w outcomeWords) notice(n triage.Notice) string {
	id := bold(n.Lead.String())
	if n.Outcome == nil {
		return w.t("notice.unknown", id)
	}
	o := w.text(*n.Outcome)
	switch {
	case n.Kind == triage.NoticeOutcomeRecorded && n.Repeat:
		return w.t("notice.outcome.repeat", id, o)
	case n.Kind == triage.NoticeOutcomeRecorded:
		return w.t("notice.outcome.recorded", id, o)
	case n.Corrected:
		return w.t("notice.outcome.corrected", w.by(n.User), id, o)
	}
	return w.t("notice.outcome", w.by(n.User), id, o)
}

// heading is the digest's "What became of these? (n)" heading; the
// count is in the form the other sections' have, so that erasing a lead
// (withoutDigestLead) counts it out here too.
func (w outcomeWords) heading(p triage.DigestPart) string {
	return bold(w.t("digest.outcomes", len(p.Outcomes)+p.OutcomesMore)) + "\n_" + w.t("digest.outcomes.hint") + "_"
}

// digestLines list the digest's decided leads without an outcome, and
// how many more there are.
func (w outcomeWords) digestLines(p triage.DigestPart, card func(triage.DigestLead) string, loc *time.Location) []string {
	var lines []string
	for _, l := range p.Outcomes {
		lines = append(lines, joinParts(
			"*"+l.ID.String()+"*",
			escTrunc(l.Label, maxDigestLabel, false),
			w.t("digest.outcomes.decided", w.status(l.Status), w.date(l.DecidedAt.In(loc))),
			card(l),
		))
	}
	if p.OutcomesMore > 0 && len(lines) > 0 {
		lines = append(lines, "… "+w.t("more", p.OutcomesMore))
	}
	return lines
}
