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

// revisitHint introduces the second looks.
const revisitHint = "_A no can be a missed big deal — reopen it with *Decide* on its card if things changed._"

// renderDigestPart renders one part of a digest: a header with the title
// (and "(2/3)" when the digest has parts), the pending leads oldest first,
// the decisions since the last digest, the disqualified leads worth another
// look, and the weekly timing line on the part that carries it. permalink
// links a card (Bot.permalink); loc dates the decisions; now is the clock
// for the pending leads' ages. Every text of the part is raw lead or config
// text and is escaped here where it goes into mrkdwn.
func renderDigestPart(p triage.DigestPart, permalink func(channel, ts string) string, loc *time.Location, now time.Time) (text string, blocks []slack.Block) {
	if loc == nil {
		loc = time.UTC
	}
	// The title goes into the plain_text header as it is, and escaped into
	// the notification text, which Slack reads as mrkdwn.
	title := plainCut(p.Title, 100)
	if title == "" {
		title = "Leads digest"
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

	card := func(l triage.DigestLead) string { return digestCardLink(l, permalink) }
	var pending, decided, revisit []string
	for _, l := range p.Pending {
		pending = append(pending, joinParts(
			"*"+l.ID.String()+"*",
			escTrunc(l.Label, maxDigestLabel, false),
			shortDuration(now.Sub(l.CreatedAt)),
			voteCount(l.Votes),
			flagList(l.Flags),
			card(l),
		))
	}
	for _, l := range p.Decided {
		decided = append(decided, joinParts(
			"*"+l.ID.String()+"*",
			escTrunc(l.Label, maxDigestLabel, false),
			statusWord(l.Status),
			reasonText(l.Reason),
			card(l),
		))
	}
	for _, l := range p.Revisit {
		revisit = append(revisit, joinParts(
			"*"+l.ID.String()+"*",
			escTrunc(l.Label, maxDigestLabel, false),
			"disqualified on "+l.DecidedAt.In(loc).Format("Mon 2 Jan 2006"),
			reasonText(l.Reason),
			card(l),
		))
	}
	add(fmt.Sprintf("*Pending (%d)*, oldest first", len(p.Pending)), pending)
	add(fmt.Sprintf("*Decided since the last digest (%d)*", len(p.Decided)), decided)
	add(fmt.Sprintf("*Worth another look (%d)*\n%s", len(p.Revisit), revisitHint), revisit)

	if p.Empty || len(p.Pending)+len(p.Decided)+len(p.Revisit) == 0 {
		blocks = append(blocks, section("Nothing pending. :tada:"))
	}
	if omitted > 0 {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(fmt.Sprintf("… and %d more that do not fit in this message.", omitted))))
	}
	if p.Week != nil {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(weekLine(*p.Week))))
	}

	var counts []string
	for _, c := range []struct {
		n    int
		what string
	}{{len(p.Pending), "pending"}, {len(p.Decided), "decided"}, {len(p.Revisit), "worth another look"}} {
		if c.n > 0 {
			counts = append(counts, fmt.Sprintf("%d %s", c.n, c.what))
		}
	}
	text = esc(title) + ": nothing pending"
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
	m := triage.DigestPart{Key: parts[0].Key, Part: 1, Parts: 1, Title: parts[0].Title, Empty: true}
	for _, p := range parts {
		m.Pending = append(m.Pending, p.Pending...)
		m.Decided = append(m.Decided, p.Decided...)
		m.Revisit = append(m.Revisit, p.Revisit...)
		if p.Week != nil {
			m.Week = p.Week
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

// digestCardLink links a digest line to its lead's card.
func digestCardLink(l triage.DigestLead, permalink func(channel, ts string) string) string {
	if l.TS == "" || permalink == nil {
		return "card not posted yet"
	}
	if u := permalink(l.Channel, l.TS); u != "" {
		return link(u, "card")
	}
	return "card not posted yet"
}

// flagList is the red flags, worst first, led by the worst one's colour.
func flagList(flags []string) string {
	if len(flags) == 0 {
		return ""
	}
	return severityEmoji(flags[0]) + " " + codeList(flags, maxDigestFlags)
}

// reasonText is a decision's reason, escaped and cut.
func reasonText(reason string) string {
	if r := escTrunc(reason, maxDigestReason, false); r != "" {
		return "reason: " + r
	}
	return ""
}

func voteCount(n int) string {
	switch n {
	case 0:
		return "no votes"
	case 1:
		return "1 vote"
	}
	return fmt.Sprintf("%d votes", n)
}

// weekLine is the digest's timing line: "This week: 12 leads · median first
// vote 1h 20m · claim 3h · decision 1d 2h".
func weekLine(w triage.TimingSummary) string {
	if w.Count == 0 {
		return "This week: no new leads."
	}
	median := func(d time.Duration, n int) string {
		if n == 0 {
			return "none yet"
		}
		return shortDuration(d)
	}
	leads := "leads"
	if w.Count == 1 {
		leads = "lead"
	}
	return fmt.Sprintf("This week: %d %s · median first vote %s · claim %s · decision %s",
		w.Count, leads, median(w.MedianFirstVote, w.FirstVotes), median(w.MedianClaim, w.Claims), median(w.MedianDecision, w.Decisions))
}

// shortDuration shows d in its two largest units as mrkdwn: "&lt;1m"
// (a bare "<" would open a mrkdwn token), "45m", "1h 20m", "3h", "1d 2h",
// "12d".
func shortDuration(d time.Duration) string {
	d = max(d, 0)
	switch {
	case d < time.Minute:
		return "&lt;1m"
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 24*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh %dm", h, m)
	}
	days, h := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	if h == 0 {
		return fmt.Sprintf("%dd", days)
	}
	return fmt.Sprintf("%dd %dh", days, h)
}

// digestLocation dates what a digest shows: digest.timezone, else
// reminders.timezone, else UTC.
func (b *Bot) digestLocation() *time.Location {
	switch {
	case b.cfg.Digest.Location != nil:
		return b.cfg.Digest.Location
	case b.cfg.Location != nil:
		return b.cfg.Location
	}
	return time.UTC
}
