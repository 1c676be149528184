package bot

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
)

// Budgets of one digest message. A line is at most about 80 (label) + 3×40
// (flags) + 200 (reason) + ~120 (link and words) ≈ 550 runes, so the 15
// leads of a default part (triage.DefaultDigestPart) fit with room to spare;
// whatever a bigger part holds beyond maxDigestText is counted in a last
// line instead of breaking Slack's limits (50 blocks, ~12 000 characters).
const (
	maxDigestLabel  = 80
	maxDigestReason = 200
	maxDigestFlags  = 3
	maxDigestText   = 11000
	// digestReserve keeps room for the weekly line and the "… more" line.
	digestReserve = 400
)

// digestWords renders the daily digest.
type digestWords struct{ words }

// renderDigestPart renders one part of a digest: a header with the title
// (and "(2/3)" when the digest has parts), the pending leads oldest first,
// the decisions since the last digest, the disqualified leads worth another
// look, and the weekly timing line on the part that carries it. permalink
// links a card (Bot.permalink); loc dates the decisions; now is the clock
// for the pending leads' ages. Every text of the part is raw lead or config
// text and is escaped here where it goes into mrkdwn.
func (w digestWords) part(p triage.DigestPart, permalink func(channel, ts string) string, loc *time.Location, now time.Time) (text string, blocks []slack.Block) {
	if loc == nil {
		loc = time.UTC
	}
	// The title goes into the plain_text header as it is, and escaped into
	// the notification text, which Slack reads as mrkdwn. Parts stored
	// before the bot worded titles carry their own.
	title := plainCut(p.Title, 100)
	switch {
	case title != "":
	case !p.Day.IsZero():
		title = w.t("digest.title.day", w.date(p.Day.In(loc)))
	default:
		title = w.t("digest.title")
	}
	if p.Parts > 1 {
		title += fmt.Sprintf(" (%d/%d)", p.Part, p.Parts)
	}
	blocks = append(blocks, slack.NewHeaderBlock(plain(plainCut(title, maxHeader))))

	budget := maxDigestText - utf8.RuneCountInString(title) - digestReserve
	omitted := 0
	// add packs a section's heading and as many of its lines as the budget
	// holds; the rest are counted.
	add := func(heading string, lines []string) {
		if len(lines) == 0 {
			return
		}
		var kept []string
		if n := utf8.RuneCountInString(heading) + 1; omitted == 0 && n <= budget {
			budget -= n
			kept = append(kept, heading)
		}
		for _, line := range lines {
			n := utf8.RuneCountInString(line) + 1
			if len(kept) == 0 || omitted > 0 || n > budget {
				omitted++
				continue
			}
			budget -= n
			kept = append(kept, line)
		}
		blocks = append(blocks, packSections(kept)...)
	}

	card := func(l triage.DigestLead) string { return w.cardLink(l, permalink) }
	var pending, decided, revisit []string
	for _, l := range p.Pending {
		pending = append(pending, joinParts(
			"*"+l.ID.String()+"*",
			escTrunc(l.Label, maxDigestLabel, false),
			w.shortDuration(now.Sub(l.CreatedAt)),
			w.t("digest.votes", l.Votes),
			w.flagList(l.Flags),
			card(l),
		))
	}
	for _, l := range p.Decided {
		decided = append(decided, joinParts(
			"*"+l.ID.String()+"*",
			escTrunc(l.Label, maxDigestLabel, false),
			w.status(l.Status),
			w.reasonText(l.Reason),
			card(l),
		))
	}
	for _, l := range p.Revisit {
		revisit = append(revisit, joinParts(
			"*"+l.ID.String()+"*",
			escTrunc(l.Label, maxDigestLabel, false),
			w.t("digest.disqualified_on", w.date(l.DecidedAt.In(loc))),
			w.reasonText(l.Reason),
			card(l),
		))
	}
	add(bold(w.t("digest.pending", len(p.Pending)))+w.t("digest.pending.order"), pending)
	add(bold(w.t("digest.decided", len(p.Decided))), decided)
	// The revisit hint: a no can be a missed big deal.
	add(bold(w.t("digest.revisit", len(p.Revisit)))+"\n_"+w.t("digest.revisit.hint", bold(w.t("button.decide")))+"_", revisit)
	add(outcomeWords(w).heading(p), outcomeWords(w).digestLines(p, card, loc))

	if p.Empty || len(p.Pending)+len(p.Decided)+len(p.Revisit)+len(p.Outcomes) == 0 {
		blocks = append(blocks, section(w.t("digest.nothing")+" :tada:"))
	}
	if omitted > 0 {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn("… "+w.t("digest.omitted", omitted))))
	}
	if p.Week != nil {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(w.weekLine(*p.Week))))
	}
	if p.Month != nil {
		blocks = append(blocks, statsWords(w).digestMonth(*p.Month, loc)...)
	}

	var counts []string
	if n := len(p.Pending); n > 0 {
		counts = append(counts, w.t("digest.count.pending", n))
	}
	if n := len(p.Decided); n > 0 {
		counts = append(counts, w.t("digest.count.decided", n))
	}
	if n := len(p.Revisit); n > 0 {
		counts = append(counts, w.t("digest.count.revisit", n))
	}
	if n := len(p.Outcomes) + p.OutcomesMore; n > 0 {
		counts = append(counts, w.t("digest.count.outcomes", n))
	}
	text = esc(title) + ": " + w.t("digest.count.none")
	if len(counts) > 0 {
		text = esc(title) + ": " + strings.Join(counts, ", ")
	}
	return fit(text, maxFallbackText), blocks
}

// mergeDigest folds a digest's parts into one, for a reply that shows as
// much of it as fits one message (/qualify digest).
func mergeDigest(parts []triage.DigestPart) triage.DigestPart {
	if len(parts) == 0 {
		return triage.DigestPart{Part: 1, Parts: 1, Empty: true}
	}
	m := triage.DigestPart{Key: parts[0].Key, Part: 1, Parts: 1, Title: parts[0].Title, Day: parts[0].Day, Empty: true}
	for _, p := range parts {
		m.Pending = append(m.Pending, p.Pending...)
		m.Decided = append(m.Decided, p.Decided...)
		m.Outcomes, m.OutcomesMore = append(m.Outcomes, p.Outcomes...), m.OutcomesMore+p.OutcomesMore
		m.Revisit = append(m.Revisit, p.Revisit...)
		if p.Week != nil {
			m.Week = p.Week
		}
		if p.Month != nil {
			m.Month = p.Month
		}
		m.Empty = m.Empty && p.Empty
	}
	if len(m.Pending)+len(m.Decided)+len(m.Revisit) > 0 {
		m.Empty = false
	}
	return m
}

// joinParts joins the non-empty parts of a line with " · ".
func joinParts(parts ...string) string {
	kept := parts[:0]
	for _, p := range parts {
		if p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, " · ")
}

// cardLink links a digest line to its lead's card.
func (w digestWords) cardLink(l triage.DigestLead, permalink func(channel, ts string) string) string {
	if l.TS == "" || permalink == nil {
		return w.t("digest.card.none")
	}
	if u := permalink(l.Channel, l.TS); u != "" {
		return link(u, w.t("digest.card"))
	}
	return w.t("digest.card.none")
}

// flagList is the red flags, worst first, led by the worst one's colour.
func (w digestWords) flagList(flags []string) string {
	if len(flags) == 0 {
		return ""
	}
	return severityEmoji(flags[0]) + " " + w.codeList(flags, maxDigestFlags)
}

// reasonText is a decision's reason, escaped and cut.
func (w digestWords) reasonText(reason string) string {
	if r := escTrunc(reason, maxDigestReason, false); r != "" {
		return w.t("digest.reason", r)
	}
	return ""
}

// weekLine is the digest's timing line: "This week: 12 leads · median first
// vote 1h 20m · claim 3h · decision 1d 2h".
func (w digestWords) weekLine(s triage.TimingSummary) string {
	if s.Count == 0 {
		return w.t("digest.week.none")
	}
	median := func(d time.Duration, n int) string {
		if n == 0 {
			return w.t("digest.week.none_yet")
		}
		return w.shortDuration(d)
	}
	return w.t("digest.week", s.Count, median(s.MedianFirstVote, s.FirstVotes), median(s.MedianClaim, s.Claims), median(s.MedianDecision, s.Decisions))
}
