package bot

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// How many leads each App Home list shows; the rest is counted.
const (
	homeMaxAwaiting = 10
	homeMaxOwned    = 10
	homeMaxPending  = 15
	// homeLabel bounds a lead's name on a line.
	homeLabel = 60
)

// homePublishTimeout bounds views.publish: the Home is per person and
// published again the next time the tab opens, so it is sent straight from
// the handler, not through the outbox.
const homePublishTimeout = 5 * time.Second

// homeTab publishes each person's App Home: what waits for them, the
// pending leads, the numbers and "Did we decide well?" (home_stats.go).
type homeTab struct {
	cfg   *Config
	api   *slack.Client
	svc   *triage.Service
	words words
	log   *slog.Logger
	links *links
	gate  *gate
	now   func() time.Time
}

// opened publishes the Home tab for the person who opened it.
// The Messages tab (tab "messages") is left alone.
func (ht *homeTab) opened(ctx context.Context, e *slackevents.AppHomeOpenedEvent) {
	user := e.User
	log := ht.log.With("user", user, "tab", e.Tab)
	if e.Tab != "home" || user == "" {
		log.DebugContext(ctx, "app home event ignored")
		return
	}
	ht.publish(ctx, log, user, statsPeriods[0])
}

// refusedHome is the Home of someone the access lists leave out.
func refusedHome(msg string) slack.HomeTabViewRequest {
	return slack.HomeTabViewRequest{
		Type: slack.VTHomeTab,
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewHeaderBlock(plain("leadtriage")),
			section(msg),
		}},
	}
}

// view renders h: what waits for the person's vote, their own leads,
// everything pending, the last 30 days in numbers, and a line of help. It
// stays within Block Kit's limits (100 blocks, 3000 characters a section)
// for any input: lists are capped and their lines packed into sections.
func (ht *homeTab) view(h triage.Home, now time.Time) slack.HomeTabViewRequest {
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain("leadtriage")),
		slack.NewContextBlock("", mrkdwn(ht.help())),
		slack.NewDividerBlock(),
	}
	blocks = append(blocks, ht.list(ht.words.t("home.awaiting"), ht.words.t("home.awaiting.none"), h.AwaitingVote, homeMaxAwaiting, now, homeLineAwaiting)...)
	blocks = append(blocks, ht.list(ht.words.t("home.owned"), ht.words.t("home.owned.none"), h.Owned, homeMaxOwned, now, homeLineOwned)...)
	blocks = append(blocks, ht.list(ht.words.t("home.pending"), ht.words.t("home.pending.none"), h.Pending, homeMaxPending, now, homeLinePending)...)
	blocks = append(blocks, slack.NewDividerBlock(), homeWords{ht.words}.statsBlock(h.Stats))
	return slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: blocks}}
}

func (ht *homeTab) help() string {
	where := ht.words.t("home.triage_channel")
	if slackChannelID.MatchString(ht.svc.Channel) {
		where = "<#" + ht.svc.Channel + ">"
	}
	cmd := ht.cfg.Command
	if cmd == "" || strings.ContainsAny(cmd, "<>&`") {
		cmd = "/qualify"
	}
	return ht.words.t("home.help", "`"+cmd+"`", bold(ht.words.t("home.shortcut")), where, "`"+cmd+" help`")
}

// homeLineKind picks what a list line says after the lead's name.
type homeLineKind int

const (
	homeLineAwaiting homeLineKind = iota // age
	homeLineOwned                        // status, age
	homeLinePending                      // age, votes so far
)

// list is a titled list of at most max leads, "and N more" after it,
// or the empty text. Lines are packed into as few sections as fit.
func (ht *homeTab) list(title, empty string, leads []triage.Lead, max int, now time.Time, kind homeLineKind) []slack.Block {
	head := fmt.Sprintf("*%s* (%d)", title, len(leads))
	if len(leads) == 0 {
		return []slack.Block{section(head + "\n_" + empty + "_")}
	}
	lines := make([]string, 0, min(len(leads), max)+1)
	for i, l := range leads {
		if i == max {
			lines = append(lines, "_… "+ht.words.t("more", len(leads)-max)+"_")
			break
		}
		lines = append(lines, ht.line(l, now, kind))
	}
	return packLines(head, lines)
}

// packLines puts head and lines into sections of at most maxSection
// characters, never splitting a line.
func packLines(head string, lines []string) []slack.Block {
	var blocks []slack.Block
	cur := head
	for _, ln := range lines {
		if utf8.RuneCountInString(cur)+1+utf8.RuneCountInString(ln) > maxSection {
			blocks = append(blocks, section(cur))
			cur = ln
			continue
		}
		cur += "\n" + ln
	}
	return append(blocks, section(cur))
}

// line is one lead: its id (linked to its card once posted), its name
// and what the list is about.
func (ht *homeTab) line(l triage.Lead, now time.Time, kind homeLineKind) string {
	id := "*" + l.ID.String() + "*"
	if l.Slack.TS != "" {
		if target := ht.links.permalink(l.Slack.Channel, l.Slack.TS); target != "" {
			id = "*" + link(target, l.ID.String()) + "*"
		}
	}
	parts := []string{"• " + id + " " + escTrunc(l.Label(), homeLabel, false)}
	age := ht.words.ageText(now.Sub(l.CreatedAt))
	switch kind {
	case homeLineOwned:
		parts = append(parts, ht.words.status(l.Status), age)
	case homeLinePending:
		parts = append(parts, age, ht.words.t("home.votes", triage.Count(l.Votes).Total()))
	default:
		parts = append(parts, age)
	}
	return strings.Join(parts, " · ")
}

// homeWords renders the App Home's figures (home.go, home_stats.go).
type homeWords struct{ words }

// statsBlock is the last 30 days in numbers.
func (w homeWords) statsBlock(st triage.Stats) slack.Block {
	median := "—"
	if st.Decided > 0 {
		median = w.durationText(st.MedianDecision)
	}
	fields := []*slack.TextBlockObject{
		mrkdwn(bold(w.t("home.stats.received")) + "\n" + strconv.Itoa(st.Received)),
		mrkdwn(bold(w.t("home.stats.qualified")) + "\n" + strconv.Itoa(st.Qualified)),
		mrkdwn(bold(w.t("home.stats.disqualified")) + "\n" + strconv.Itoa(st.Disqualified)),
		mrkdwn(bold(w.t("home.stats.referred")) + "\n" + strconv.Itoa(st.Referred)),
		mrkdwn(bold(w.t("home.stats.median")) + "\n" + median),
	}
	return slack.NewSectionBlock(mrkdwn(bold(w.t("home.stats"))), fields, nil)
}
