package bot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack/slackevents"
)

// When Slack says no for a reason a person can fix (the app is not in the
// channel, the channel is archived, the token was revoked, …), the outbox
// does not dead-letter: it parks the item as blocked on that cause, says so
// in words that name the fix (log, /healthz, /metrics, one DM to the team
// lead), tries again every blockedRetry with one call, and delivers
// everything in order once the cause is gone (issue 17).

// blockedRetry is how often a blocked channel (or the token) is tried
// again: one call per cause, not one per waiting item.
const blockedRetry = 5 * time.Minute

// Causes of our own, for the events that tell of them.
const (
	causeUninstalled   = "app_uninstalled"
	causeTokensRevoked = "tokens_revoked"
)

// causeScope is what a cause concerns.
type causeScope int

const (
	// inChannel: one channel (or a DM's user): other channels go on.
	inChannel causeScope = iota + 1
	// inToken: the bot token itself; nothing goes until auth.test passes.
	inToken
)

// fixableCauses are the Slack error codes (and events) that a person can
// fix, from the error lists of chat.postMessage, chat.update,
// chat.postEphemeral and chat.delete in Slack's Web API reference.
var fixableCauses = map[string]causeScope{
	"not_in_channel":    inChannel,
	"is_archived":       inChannel,
	"channel_not_found": inChannel,
	"restricted_action": inChannel,
	// Scopes come with the method, and chat:write is needed everywhere, but
	// the DM to the team lead still has a chance where another scope lacks.
	"missing_scope":    inChannel,
	"invalid_auth":     inToken,
	"not_authed":       inToken,
	"account_inactive": inToken,
	"token_revoked":    inToken,
	causeUninstalled:   inToken,
	causeTokensRevoked: inToken,
}

// fixable reports whether code is a cause a person can fix.
func fixable(code string) bool { return fixableCauses[code] != 0 }

// blocks reports whether cause, answered to c, is worth waiting on. A
// direct message to a user who does not exist, or deleting a message in a
// channel that is gone, never comes right: those are dead letters.
func blocks(c call, cause string) bool {
	if cause != "channel_not_found" {
		return true
	}
	return c.method != methodDelete && !slackUserID.MatchString(c.channel)
}

// block is one cause that holds deliveries back.
type block struct {
	cause   string
	on      string    // channel or user id; "" = the whole workspace (the token)
	since   time.Time // when it was first seen in this run
	retryAt time.Time // when one call may try again
}

func (bl block) token() bool { return fixableCauses[bl.cause] == inToken }

// where names what a block concerns, for logs and /healthz.
func where(on string) string {
	switch {
	case on == "":
		return "the workspace"
	case strings.HasPrefix(on, "U") || strings.HasPrefix(on, "W"):
		return "direct messages to " + on
	}
	return "channel " + on
}

// fix says what a person does about cause on on.
func fix(cause, on string) string {
	switch cause {
	case "not_in_channel":
		return "invite the app to " + where(on) + ": /invite @leadtriage in that channel"
	case "is_archived":
		return "unarchive " + where(on)
	case "channel_not_found":
		return "check slack.channel: " + where(on) + " does not exist, or is private without the app in it (/invite @leadtriage there)"
	case "restricted_action":
		return "let the app post in " + where(on) + " (the channel's posting permissions or a workspace setting keep it out)"
	case "missing_scope":
		return "reinstall the app from manifest.yml, so that it has every scope leadtriage needs"
	case causeUninstalled:
		return "reinstall the app and set SLACK_BOT_TOKEN to its new token"
	}
	return "reinstall the app or replace SLACK_BOT_TOKEN"
}

// blocking returns the block that holds back calls to channel: the token's
// first, then the channel's.
func (s *outboxState) blocking(channel string) (block, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if bl, ok := s.blocks[""]; ok {
		return *bl, true
	}
	if bl, ok := s.blocks[channel]; ok && channel != "" {
		return *bl, true
	}
	return block{}, false
}

// probe lets one call through a block that is due for a try, and moves the
// next try on, so that the items behind it wait for its answer.
func (s *outboxState) probe(on string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	bl, ok := s.blocks[on]
	if !ok || now.Before(bl.retryAt) {
		return false
	}
	bl.retryAt = now.Add(blockedRetry)
	return true
}

// setBlock records that cause blocks on at now and returns the block; fresh
// reports a new cause (not a repeat of the one known), which is told.
func (s *outboxState) setBlock(cause, on string, now time.Time) (bl block, fresh bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.blocks == nil {
		s.blocks = map[string]*block{}
	}
	old, ok := s.blocks[on]
	// A revoked token that auth.test then calls invalid_auth is the same
	// trouble, not news.
	if ok && (old.cause == cause || old.token() && fixableCauses[cause] == inToken) {
		old.retryAt = now.Add(blockedRetry)
		return *old, false
	}
	nb := &block{cause: cause, on: on, since: now, retryAt: now.Add(blockedRetry)}
	s.blocks[on] = nb
	return *nb, true
}

// lift drops the blocks that match and returns them.
func (s *outboxState) lift(match func(block) bool) []block {
	s.mu.Lock()
	defer s.mu.Unlock()
	var lifted []block
	for on, bl := range s.blocks {
		if match(*bl) {
			lifted = append(lifted, *bl)
			delete(s.blocks, on)
		}
	}
	return lifted
}

// tokenBlock returns the block on the token, if any.
func (s *outboxState) tokenBlock() (block, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if bl, ok := s.blocks[""]; ok {
		return *bl, true
	}
	return block{}, false
}

// blockedFor returns the block that holds it back from c now: none when
// nothing blocks c, or when this is the one call that tries the cause again
// (a token block is tried with auth.test instead, in probeToken). tryingOn
// reports the block such a try is for, so that it is marked tried once the
// call may go.
func (w *outboxWorker) blockedFor(c call, now time.Time) (bl block, blocked bool, tryingOn *string) {
	bl, ok := w.state.blocking(c.channel)
	if !ok {
		return block{}, false, nil
	}
	if !bl.token() && !now.Before(bl.retryAt) {
		return block{}, false, &bl.on
	}
	return bl, true, nil
}

// park stores it as blocked on bl until bl's next try.
func (w *outboxWorker) park(ctx context.Context, log *slog.Logger, p *pass, it triage.OutboxItem, bl block) error {
	err := w.store.BlockOutbox(ctx, it.ID, bl.cause, bl.on, bl.retryAt)
	if errors.Is(err, triage.ErrNotFound) {
		return nil // purged meanwhile
	}
	if err != nil {
		return fmt.Errorf("parking outbox item %d: %w", it.ID, err)
	}
	if it.Kind == triage.OutboxPostCard {
		p.cards[it.Lead] = bl.retryAt
	}
	p.wait(it.ID, bl.retryAt)
	log.Debug("slack delivery parked", slog.String("cause", bl.cause), slog.String("on", bl.on), slog.Time("next_at", bl.retryAt))
	return nil
}

// blockOn handles a call that Slack refused for cause: the cause blocks
// the channel (or the workspace) and the item is parked on it. A new cause
// is logged with its fix and told to the team lead.
func (w *outboxWorker) blockOn(ctx context.Context, log *slog.Logger, p *pass, it triage.OutboxItem, c call, cause string) error {
	on := c.channel
	if fixableCauses[cause] == inToken {
		on = ""
	}
	bl, fresh := w.state.setBlock(cause, on, p.now)
	w.metrics.failed.WithLabelValues(string(it.Kind), "blocked").Inc()
	if fresh {
		w.announceBlock(ctx, log, bl)
	}
	return w.park(ctx, log, p, it, bl)
}

// announceBlock says loudly what blocks deliveries and how to fix it, and
// tells the team lead once a day per cause while the token still works.
func (w *outboxWorker) announceBlock(ctx context.Context, log *slog.Logger, bl block) {
	log.Error("slack refuses deliveries; they wait and go out by themselves once this is fixed",
		slog.String("cause", bl.cause), slog.String("channel", bl.on), slog.String("fix", fix(bl.cause, bl.on)))
	lead := w.cfg.Policy.TeamLead
	if bl.token() || lead == "" || lead == bl.on {
		return
	}
	text := noticeWords{w.words}.blockNotice(bl)
	key := "blocked|" + bl.cause + "|" + bl.on + "|" + bl.since.UTC().Format(time.DateOnly)
	item := triage.OutboxItem{Kind: triage.OutboxDirect, User: lead, Text: text, CreatedAt: bl.since}
	if _, err := w.store.MarkJob(ctx, key, bl.since, []triage.OutboxItem{item}); err != nil {
		log.Error("queueing the team lead's notice of a blocked delivery", slog.Any("error", err))
	}
}

// blockNotice is the team lead's direct message about bl: mrkdwn of fixed
// words and ids only.
func (w noticeWords) blockNotice(bl block) string {
	place := where(bl.on)
	if slackChannelID.MatchString(bl.on) {
		place = "<#" + bl.on + ">"
	}
	var todo string
	switch bl.cause {
	case "not_in_channel":
		todo = w.t("blocked.not_in_channel", "`/invite @leadtriage`", place)
	case "is_archived":
		todo = w.t("blocked.is_archived", place)
	case "channel_not_found":
		todo = w.t("blocked.channel_not_found", "`slack.channel`", place)
	case "restricted_action":
		todo = w.t("blocked.restricted_action", place)
	default:
		todo = w.t("blocked.reinstall")
	}
	return ":warning: " + bold(w.t("blocked.title", place)) + " " + w.t("blocked.slack_says", "`"+esc(bl.cause)+"`") + " " + todo + " " + w.t("blocked.nothing_lost")
}

// unblockedBy lifts the block a successful call c proves gone.
func (w *outboxWorker) unblockedBy(ctx context.Context, log *slog.Logger, p *pass, c call) error {
	lifted := w.state.lift(func(bl block) bool { return !bl.token() && bl.on == c.channel })
	if len(lifted) == 0 {
		return nil
	}
	for _, bl := range lifted {
		log.Info("slack takes deliveries again", slog.String("cause", bl.cause), slog.String("channel", bl.on))
	}
	if _, err := w.store.UnblockOutbox(ctx); err != nil {
		return fmt.Errorf("releasing blocked outbox items: %w", err)
	}
	p.next = p.now
	return nil
}

// retryBlocked makes every blocked item due at once, after whatever may
// have removed its cause (a start, the app joining a channel, a channel
// unarchived, auth.test passing): the first item of each cause tries again.
// lift says which known blocks are gone; nil keeps them all, so an item
// still blocked is parked again without a call.
func (w *outboxWorker) retryBlocked(ctx context.Context, why string, lift func(block) bool) {
	if lift != nil {
		for _, bl := range w.state.lift(lift) {
			w.log.Info("slack may take deliveries again", slog.String("why", why), slog.String("cause", bl.cause), slog.String("channel", bl.on))
		}
	}
	n, err := w.store.UnblockOutbox(ctx)
	if err != nil {
		w.log.Error("releasing blocked outbox items", slog.String("why", why), slog.Any("error", err))
		return
	}
	if n > 0 {
		w.log.Info("trying blocked slack deliveries again", slog.String("why", why), slog.Int("items", n))
	}
	w.Wake()
}

// probeToken asks auth.test, once per blockedRetry, whether a blocked token
// works again; a success lifts the block (authTest calls tokenWorks).
func (w *outboxWorker) probeToken(ctx context.Context, now time.Time) {
	bl, ok := w.state.tokenBlock()
	if !ok || !w.state.probe(bl.on, now) {
		return
	}
	if err := w.authTest(ctx); err != nil {
		w.log.Warn("slack still refuses the bot token", slog.String("cause", bl.cause), slog.String("fix", fix(bl.cause, "")), slog.Any("error", err))
	}
}

// tokenWorks is told of every successful auth.test: the token is good, so
// a block on it is gone and everything blocked tries again.
func (w *outboxWorker) tokenWorks(ctx context.Context) {
	w.retryBlocked(ctx, "auth.test succeeded", block.token)
}

// blockToken stops every Slack call of the outbox after Slack told us the
// app is gone or its tokens are revoked; auth.test is tried every
// blockedRetry, and a restart with a working token resumes at once.
func (w *outboxWorker) blockToken(ctx context.Context, cause string) {
	bl, fresh := w.state.setBlock(cause, "", w.cfg.now())
	if fresh {
		what := "THE SLACK APP WAS UNINSTALLED"
		switch cause {
		case causeTokensRevoked, "token_revoked":
			what = "SLACK REVOKED THE BOT TOKEN"
		case "account_inactive":
			what = "SLACK SAYS THE BOT'S ACCOUNT IS INACTIVE"
		}
		w.log.ErrorContext(ctx, what+": leadtriage stops calling slack and keeps everything until a working token is configured",
			slog.String("cause", bl.cause), slog.String("fix", fix(bl.cause, "")))
	}
}

// RetryBlocked makes every blocked item due at once, after whatever may
// have removed its cause: see outboxWorker.retryBlocked.
func (b *Bot) RetryBlocked(ctx context.Context, why string, lift func(block) bool) {
	b.outbox.retryBlocked(ctx, why, lift)
}

// HealthProblems says what keeps Slack deliveries back, one sentence per
// cause with its fix; none when nothing does. intake's /healthz answers 503
// with them. A store that cannot be read is /healthz's own check.
func (b *Bot) HealthProblems(ctx context.Context) []string { return b.outbox.healthProblems(ctx) }

// handleMemberJoined tries blocked deliveries to a channel the bot was
// just invited to.
func (b *Bot) handleMemberJoined(ctx context.Context, own string, e *slackevents.MemberJoinedChannelEvent) {
	if own == "" || e.User != own {
		return
	}
	b.outbox.retryBlocked(ctx, "the app joined "+e.Channel, func(bl block) bool { return bl.on == e.Channel })
}

// handleUnarchive tries blocked deliveries to a channel just unarchived.
func (b *Bot) handleUnarchive(ctx context.Context, channel string) {
	b.outbox.retryBlocked(ctx, "unarchived "+channel, func(bl block) bool { return bl.on == channel })
}

// handleTokensRevoked blocks the outbox if the bot's own token is among
// the revoked ones (or the bot's user id is not known yet).
func (b *Bot) handleTokensRevoked(ctx context.Context, own string, e *slackevents.TokensRevokedEvent) {
	if own != "" && !slices.Contains(e.Tokens.Bot, own) {
		b.log.InfoContext(ctx, "slack revoked tokens other than the bot's")
		return
	}
	b.outbox.blockToken(ctx, causeTokensRevoked)
}

// healthProblems says what keeps Slack deliveries back, one sentence per
// cause with its fix; none when nothing does. A store that cannot be read
// is /healthz's own check.
func (w *outboxWorker) healthProblems(ctx context.Context) []string {
	items, err := w.store.BlockedOutbox(ctx)
	if err != nil {
		return nil
	}
	type key struct{ cause, on string }
	counts := map[key]int{}
	for _, it := range items {
		counts[key{it.Blocked, it.BlockedOn}]++
	}
	if bl, ok := w.state.tokenBlock(); ok {
		if _, seen := counts[key{bl.cause, ""}]; !seen {
			counts[key{bl.cause, ""}] += 0
		}
	}
	keys := make([]key, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y key) int { return cmp.Or(cmp.Compare(x.on, y.on), cmp.Compare(x.cause, y.cause)) })
	var out []string
	for _, k := range keys {
		out = append(out, fmt.Sprintf("slack deliveries blocked: %s for %s (%d waiting); fix: %s", k.cause, where(k.on), counts[k], fix(k.cause, k.on)))
	}
	return out
}

// blockedCollector is the gauge leadtriage_outbox_blocked{cause}: items
// waiting on each cause a person can fix, read from the store at scrape
// time, so that it is right after a restart too.
type blockedCollector struct {
	store BlockedStore
	desc  *prometheus.Desc
}

func newBlockedCollector(store BlockedStore) *blockedCollector {
	return &blockedCollector{store: store, desc: prometheus.NewDesc("leadtriage_outbox_blocked",
		"Outbox items waiting on a cause a person can fix (not in channel, archived, token revoked, …), by cause.",
		[]string{"cause"}, nil)}
}

func (c *blockedCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *blockedCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	items, err := c.store.BlockedOutbox(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	counts := map[string]int{}
	for cause := range fixableCauses {
		counts[cause] = 0 // every cause a series, so alerts see 0 too
	}
	for _, it := range items {
		counts[it.Blocked]++
	}
	for cause, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), cause)
	}
}
