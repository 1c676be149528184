package bot

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
)

// Listing leads for /qualify: list, a lead, its history.

// list lists leads: pending ones oldest first; the caller's (owned
// or added by them) or all newest first.
func (cm *commands) list(ctx context.Context, log *slog.Logger, user string, f listFilter, name string) *slashReply {
	var leads []triage.Lead
	var total int // of which leads is the first part (pending: a page)
	var err error
	if f == listPending {
		leads, total, err = cm.pendingPage(ctx)
	} else {
		who := "" // all
		if f == listMine {
			who = user
		}
		leads, total, err = cm.svc.NewestLeads(ctx, who, maxListLeads)
	}
	if err != nil {
		return cm.failed(ctx, log, err)
	}
	return cm.listReply(leads, total, f, name)
}

// listReply renders leads, one line each, packed into sections within the
// reply's Block Kit budget; what does not fit, or is not in leads, of
// total is counted in a last line.
func (cm *commands) listReply(leads []triage.Lead, total int, f listFilter, name string) *slashReply {
	w := cm.words
	var title, empty string
	switch f {
	case listMine:
		title, empty = w.t("list.mine"), w.t("list.mine.none")
	case listAll:
		title, empty = w.t("list.all"), w.t("list.all.none")
	default:
		title, empty = w.t("list.pending"), w.t("list.pending.none")
	}
	if len(leads) == 0 {
		return ephemeralReply(empty)
	}
	head := label(title) + strconv.Itoa(total)
	now := cm.now()
	budget := maxReplyText - utf8.RuneCountInString(head) - 200 // room for the last line
	var lines []string
	for _, l := range leads {
		line := cm.listLine(l, now)
		n := utf8.RuneCountInString(line) + 1
		if len(lines) == maxListLeads || n > budget {
			break
		}
		budget -= n
		lines = append(lines, line)
	}
	blocks := []slack.Block{section(head)}
	blocks = append(blocks, packSections(lines)...)
	if more := total - len(lines); more > 0 {
		hint := w.t("list.narrow", "`"+name+" list mine`")
		if f == listMine {
			hint = w.t("list.home")
		}
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn("… "+w.t("more", more)+"; "+hint+".")))
	}
	return ephemeralReply(fmt.Sprintf("%s: %d", title, total), blocks...)
}

// listLine is one lead in a list: "*L-3* · Acme · 2d old · 2 votes ·
// pending · card".
func (cm *commands) listLine(l triage.Lead, now time.Time) string {
	parts := []string{
		"*" + l.ID.String() + "*",
		escTrunc(l.Label(), maxListLabel, false),
		cm.words.ageOld(now.Sub(l.CreatedAt)),
		commandWords{cm.words}.votesPhrase(l, cm.svc.Policy),
		cm.words.status(l.Status),
	}
	if link := cm.links.cardLink(l, cm.words.t("digest.card")); link != "" {
		parts = append(parts, link)
	} else {
		parts = append(parts, cm.words.t("digest.card.none"))
	}
	return strings.Join(parts, " · ")
}

// votesPhrase counts a lead's votes; how they split only once they are
// revealed (blind voting: no herding).
func (w commandWords) votesPhrase(l triage.Lead, p triage.Policy) string {
	n := len(l.Votes)
	s := w.t("home.votes", n)
	if n == 0 || !triage.Revealed(&l, p) {
		return s
	}
	t := triage.Count(l.Votes)
	var split []string
	for _, c := range []struct {
		n    int
		word string
	}{{t.Qualify, w.t("vote.qualify")}, {t.Disqualify, w.t("vote.disqualify")}, {t.Unsure, w.t("vote.unsure")}} {
		if c.n > 0 {
			split = append(split, fmt.Sprintf("%d %s", c.n, c.word))
		}
	}
	return s + " (" + strings.Join(split, ", ") + ")"
}

// packSections joins lines into as few sections as fit maxSection each.
// Every line must itself fit a section.
func packSections(lines []string) []slack.Block {
	var blocks []slack.Block
	var cur strings.Builder
	n := 0
	for _, line := range lines {
		w := utf8.RuneCountInString(line)
		if n > 0 && n+1+w > maxSection {
			blocks = append(blocks, section(cur.String()))
			cur.Reset()
			n = 0
		}
		if n > 0 {
			cur.WriteByte('\n')
			n++
		}
		cur.WriteString(line)
		n += w
	}
	if n > 0 {
		blocks = append(blocks, section(cur.String()))
	}
	return blocks
}

// showReply is one lead as its card shows it, without the card's buttons
// (they belong on the card), with a link to the card.
func (cm *commands) showReply(l triage.Lead) *slashReply {
	text, card := cardWords{cm.words}.card(l, cm.svc.Policy, cm.now())
	blocks := slices.DeleteFunc(card, func(bl slack.Block) bool { return bl.BlockType() == slack.MBTAction })
	if link := cm.links.cardLink(l, cm.words.t("direct.open_card")); link != "" {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(link)))
	} else {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(cm.words.t("show.no_card"))))
	}
	return ephemeralReply(text, blocks...)
}

// historyReply is l's audit trail, oldest first; when it does not all fit,
// the newest events are kept behind a count of the earlier ones.
func (w commandWords) historyReply(l triage.Lead) *slashReply {
	head := w.t("history.head", bold(w.t("history.title", l.ID.String())), escTrunc(l.Label(), maxListLabel, false))
	if len(l.Events) == 0 {
		return ephemeralReply(head + "\n" + w.t("history.none"))
	}
	budget := maxReplyText - utf8.RuneCountInString(head) - 100
	var lines []string
	for i := len(l.Events) - 1; i >= 0; i-- {
		line := eventWords(w).line(l.Events[i])
		n := utf8.RuneCountInString(line) + 1
		if n > budget {
			break
		}
		budget -= n
		lines = append(lines, line)
	}
	slices.Reverse(lines)
	if earlier := len(l.Events) - len(lines); earlier > 0 {
		lines = append([]string{"_… " + w.t("history.earlier", earlier) + "_"}, lines...)
	}
	blocks := append([]slack.Block{section(head)}, packSections(lines)...)
	return ephemeralReply(w.t("history.title", l.ID.String()), blocks...)
}
