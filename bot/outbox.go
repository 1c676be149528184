package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
)

const (
	// defaultPoll is RunOutbox's longest sleep: items written by another
	// path without a Wake are still delivered within it.
	defaultPoll = time.Second
	// dueBatch is how many due items one pass handles.
	dueBatch = 100
	// urgentBatch is how many confirmations are looked for between two
	// other calls of a pass: a round of votes, within the ephemeral burst.
	urgentBatch = ephemeralBurst
	// scanLimit bounds the rare scan of the whole outbox for a lead's card post.
	scanLimit = 10000
	// callTimeout bounds one Web API call, whatever the client's own timeout.
	callTimeout = 15 * time.Second

	backoffFirst = time.Second
	backoffCap   = 5 * time.Minute // RELIABILITY O3: max gap between attempts
	minRetry     = time.Second     // a Retry-After of 0 still waits this long
	// fallback429 is slack-go's own default for a 429 without Retry-After.
	fallback429 = 60 * time.Second

	// cardEventType tags a card's message metadata, so that after an
	// ambiguous failure the card can be found in the channel's history.
	cardEventType = "leadtriage_lead"
	// historyDepth is how many messages one page of the history check reads.
	historyDepth = 100
	// historyPages bounds the pages the history check reads: a post is
	// looked for back to its attempt, but not through a whole archive.
	historyPages = 5
	// historySkew is how far our clock and Slack's may disagree when the
	// history check judges whether a page reaches back to the attempt.
	historySkew = 5 * time.Minute
	// digestEventType tags a digest part's message metadata, so that after
	// an ambiguous failure the part is found instead of posted twice.
	digestEventType = "leadtriage_digest"
	// checklistEventType tags a checklist's message metadata, like cardEventType.
	checklistEventType = "leadtriage_checklist"
	// repliesDepth is how many replies of a card's thread the check reads:
	// the checklist is posted right after the card, so it is among the first.
	repliesDepth = 50
	// ambiguous prefixes LastError when a failed post may have reached Slack.
	ambiguous = "ambiguous: "
)

// permanentCodes are Slack error codes that no retry and no person can fix
// for this item: it is dead-lettered at once instead of hammering Slack
// (RELIABILITY O5), listed by the admin API and can be sent again from there.
// Causes a person can fix (the app not in the channel, a revoked token, …)
// park the item instead (blocked.go).
var permanentCodes = map[string]bool{
	"invalid_blocks": true, "invalid_arguments": true, "msg_too_long": true, "msg_blocks_too_long": true,
	"message_not_found": true, "cant_update_message": true, "user_not_in_channel": true,
	"cant_delete_message": true, "invalid_metadata_format": true, "invalid_metadata_schema": true,
}

// RunOutbox delivers the outbox until ctx ends: a pass over the due items,
// then a sleep until the next item is due, a Wake, or at most a second.
// It returns nil when ctx ends.
func (b *Bot) RunOutbox(ctx context.Context) error {
	poll := b.outbox.poll
	if poll <= 0 {
		poll = defaultPoll
	}
	// Whatever blocked deliveries may have been fixed while the bot was
	// down: each cause is tried again at once.
	b.RetryBlocked(ctx, "start", nil)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-b.wake:
		}
		next, err := b.deliverPass(ctx)
		if ctx.Err() != nil {
			return nil
		}
		wait := poll
		switch {
		case err != nil:
			b.log.Error("delivering outbox", slog.Any("error", err))
		case !next.IsZero():
			wait = min(wait, max(next.Sub(b.now()), 0))
		}
		timer.Reset(wait)
	}
}

// deliverPass is one DeliverDue that a panic cannot take the worker down with.
func (b *Bot) deliverPass(ctx context.Context) (next time.Time, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("outbox pass panicked: %v", r)
		}
	}()
	return b.DeliverDue(ctx, b.now())
}

// pass is what one DeliverDue learns as it goes.
type pass struct {
	now     time.Time
	skipped map[uint64]bool             // left due: over the channel budget or waiting for the card
	handled map[uint64]bool             // delivered, tried or skipped in this pass
	next    time.Time                   // earliest time a skipped item may go
	cards   map[triage.LeadID]time.Time // leads whose card post did not happen in this pass
	// checklists holds leads whose checklist updates wait for its post, so
	// that the outbox is scanned once per lead and pass.
	checklists map[triage.LeadID]time.Time
}

func (p *pass) wait(id uint64, at time.Time) {
	p.skipped[id] = true
	p.next = earliest(p.next, at)
}

// earliest returns the earlier of two times, ignoring zero ones.
func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}

// DeliverDue makes one pass over the items due at now (now is the clock for
// pacing and retries, so tests can drive it) and returns when the next
// attempt is due: zero if the outbox is empty. An error means the store
// failed; Slack failures are recorded on the items instead.
func (b *Bot) DeliverDue(ctx context.Context, now time.Time) (next time.Time, err error) {
	b.probeToken(ctx, now)
	items, err := b.store.DueOutbox(ctx, now, dueBatch)
	if err != nil {
		return time.Time{}, fmt.Errorf("listing due outbox items: %w", err)
	}
	p := &pass{now: now, skipped: map[uint64]bool{}, handled: map[uint64]bool{}, cards: map[triage.LeadID]time.Time{}, checklists: map[triage.LeadID]time.Time{}}
	for _, it := range items {
		if err := ctx.Err(); err != nil {
			return time.Time{}, err
		}
		if p.handled[it.ID] {
			continue // an urgent item delivered between two calls
		}
		p.handled[it.ID] = true
		if err := b.deliver(ctx, p, it); err != nil {
			return time.Time{}, err
		}
		if !it.Kind.Urgent() && !p.skipped[it.ID] {
			// That was a Slack call: confirmations queued meanwhile go
			// before the rest of the pass.
			if err := b.deliverUrgent(ctx, p); err != nil {
				return time.Time{}, err
			}
		}
	}
	return b.nextDue(ctx, p)
}

// deliverUrgent delivers the urgent items (OutboxKind.Urgent) that became
// due during the pass. The store lists them first, so the first other item
// ends the look.
func (b *Bot) deliverUrgent(ctx context.Context, p *pass) error {
	items, err := b.store.DueOutbox(ctx, p.now, urgentBatch)
	if err != nil {
		return fmt.Errorf("listing due outbox items: %w", err)
	}
	for _, it := range items {
		if !it.Kind.Urgent() {
			break
		}
		if p.handled[it.ID] {
			continue
		}
		p.handled[it.ID] = true
		if err := b.deliver(ctx, p, it); err != nil {
			return err
		}
	}
	return nil
}

// nextDue works out when the next pass should run.
func (b *Bot) nextDue(ctx context.Context, p *pass) (time.Time, error) {
	at, ok, err := b.store.NextOutbox(ctx)
	if err != nil {
		return time.Time{}, fmt.Errorf("finding the next outbox item: %w", err)
	}
	if !ok {
		return time.Time{}, nil
	}
	if at.After(p.now) {
		return earliest(at, p.next), nil
	}
	// Something is due already: new items, items that changed while we
	// delivered them, or only the ones this pass left waiting.
	due, err := b.store.DueOutbox(ctx, p.now, dueBatch)
	if err != nil {
		return time.Time{}, fmt.Errorf("listing due outbox items: %w", err)
	}
	for _, it := range due {
		if !p.skipped[it.ID] {
			return p.now, nil
		}
	}
	// Only waiting items are due, which hides when later items are due;
	// look again within a second at the latest.
	return earliest(p.next, p.now.Add(defaultPoll)), nil
}

// deliver handles one item. It returns an error only when the store fails.
func (b *Bot) deliver(ctx context.Context, p *pass, it triage.OutboxItem) error {
	log := b.log.With(slog.String("kind", string(it.Kind)), slog.Uint64("item", it.ID), slog.Int("attempt", it.Attempts+1))
	if it.Lead != 0 {
		log = log.With(slog.String("lead_id", it.Lead.String()))
	}
	if n := it.Notice; n != nil {
		// Worded now, in today's language; items stored before notices
		// carry their text already.
		it.Text, it.Plain = b.words.notice(*n, b.cfg.Location, b.cfg.Policy.Criteria)
	}
	d, ok := deliverers[it.Kind]
	if !ok {
		return b.deadLetter(ctx, log, it, "invalid_item", "unknown outbox kind")
	}
	return d(b, ctx, log, p, it)
}

// deliverFunc delivers one outbox item of its kind. It returns an error
// only when the store fails.
type deliverFunc func(b *Bot, ctx context.Context, log *slog.Logger, p *pass, it triage.OutboxItem) error

// deliverers has one deliverer per outbox kind; an unknown kind (written by
// a newer version) is a dead letter.
var deliverers = map[triage.OutboxKind]deliverFunc{
	triage.OutboxEphemeral:       (*Bot).postEphemeral,
	triage.OutboxDigest:          (*Bot).postDigest,
	triage.OutboxDirect:          (*Bot).postDirect,
	triage.OutboxDeleteMessage:   (*Bot).deleteMessage,
	triage.OutboxRedactDigest:    (*Bot).redactDigest,
	triage.OutboxAnnounce:        (*Bot).postAnnounce,
	triage.OutboxPostCard:        (*Bot).deliverOnCard,
	triage.OutboxUpdateCard:      (*Bot).deliverOnCard,
	triage.OutboxThreadReply:     (*Bot).deliverOnCard,
	triage.OutboxPostChecklist:   (*Bot).deliverOnCard,
	triage.OutboxUpdateChecklist: (*Bot).deliverOnCard,
	triage.OutboxReminder:        (*Bot).deliverOnCard,
}

// cardDeliverFunc delivers an item about a lead whose card is posted, once
// the call c may go out; cctx bounds the call.
type cardDeliverFunc func(b *Bot, ctx, cctx context.Context, log *slog.Logger, p *pass, it triage.OutboxItem, l triage.Lead, c call) error

// cardDeliverers has one deliverer per kind that needs the lead's card.
var cardDeliverers = map[triage.OutboxKind]cardDeliverFunc{
	triage.OutboxPostCard:        (*Bot).updateCard,
	triage.OutboxUpdateCard:      (*Bot).updateCard,
	triage.OutboxThreadReply:     (*Bot).postThreadReply,
	triage.OutboxReminder:        (*Bot).postReminder,
	triage.OutboxPostChecklist:   (*Bot).putChecklist,
	triage.OutboxUpdateChecklist: (*Bot).putChecklist,
}

// postEphemeral shows an item to one person.
func (b *Bot) postEphemeral(ctx context.Context, log *slog.Logger, p *pass, it triage.OutboxItem) error {
	if it.User == "" || it.Channel == "" {
		return b.deadLetter(ctx, log, it, "invalid_item", "ephemeral without a user or channel")
	}
	// Not the channel's budget: a confirmation never waits behind the
	// card updates paced at one message per second.
	c := call{methodEphemeral, it.Channel}
	if ok, err := b.mayCall(ctx, log, p, it, c); !ok || err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	_, err := b.api.PostEphemeralContext(cctx, it.Channel, it.User, slack.MsgOptionText(it.Text, false))
	cancel()
	return b.settle(ctx, log, p, it, c, err, nil)
}

// deliverOnCard delivers an item that needs the lead's card: it waits while
// the card's (or the checklist's) post is queued, posts the card itself,
// and hands everything else to its kind's cardDeliverer.
func (b *Bot) deliverOnCard(ctx context.Context, log *slog.Logger, p *pass, it triage.OutboxItem) error {
	if it.Lead == 0 {
		return b.deadLetter(ctx, log, it, "invalid_item", "item has no lead")
	}
	if at, waiting := p.cards[it.Lead]; waiting {
		p.wait(it.ID, at)
		return nil
	}
	l, err := b.store.Lead(ctx, it.Lead)
	if errors.Is(err, triage.ErrNotFound) {
		return b.deadLetter(ctx, log, it, "lead_not_found", "the lead no longer exists")
	}
	if err != nil {
		return fmt.Errorf("loading %s for outbox item %d: %w", it.Lead, it.ID, err)
	}

	if l.Slack.TS == "" {
		if it.Kind == triage.OutboxPostCard {
			return b.postCard(ctx, log, p, it, l)
		}
		// Updates, thread replies and reminders need the card. While its post is still
		// queued they wait for it; without one they never can be sent.
		post, found, err := b.pendingPost(ctx, it.Lead)
		if err != nil {
			return err
		}
		if !found {
			return b.deadLetter(ctx, log, it, "no_card", "card was never posted")
		}
		at := later(post.NextAt, p.now)
		p.cards[it.Lead] = at
		p.wait(it.ID, at)
		return nil
	}

	if it.Kind == triage.OutboxUpdateChecklist && l.Slack.ChecklistTS == "" {
		// Like a card update without a card: wait while the checklist's post
		// is queued; without one there is nothing to update.
		if at, waiting := p.checklists[it.Lead]; waiting {
			p.wait(it.ID, at)
			return nil
		}
		post, found, err := b.pendingChecklist(ctx, it.Lead)
		if err != nil {
			return err
		}
		if !found {
			return b.deadLetter(ctx, log, it, "no_checklist", "checklist was never posted")
		}
		at := later(post.NextAt, p.now)
		p.checklists[it.Lead] = at
		p.wait(it.ID, at)
		return nil
	}

	channel := l.Slack.Channel
	c := call{methodUpdate, channel}
	switch {
	case it.Kind == triage.OutboxThreadReply, it.Kind == triage.OutboxReminder,
		it.Kind == triage.OutboxPostChecklist && l.Slack.ChecklistTS == "":
		c.method = methodPost
	}
	if ok, err := b.mayCall(ctx, log, p, it, c); !ok || err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	return cardDeliverers[it.Kind](b, ctx, cctx, log, p, it, l, c)
}

// postThreadReply posts what the domain said (or a draft) in the card's thread.
func (b *Bot) postThreadReply(ctx, cctx context.Context, log *slog.Logger, p *pass, it triage.OutboxItem, l triage.Lead, c call) error {
	text, blocks := b.words.replyContent(it.Text, it.Plain)
	opts := []slack.MsgOption{
		slack.MsgOptionText(text, false), slack.MsgOptionTS(l.Slack.TS),
		slack.MsgOptionDisableLinkUnfurl(), slack.MsgOptionDisableMediaUnfurl(),
	}
	if len(blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(blocks...))
	}
	ch, ts, err := b.api.PostMessageContext(cctx, c.channel, opts...)
	return b.settle(ctx, log, p, it, c, err, rememberPost(it, ch, ts, p.now))
}

// postReminder posts a reminder with its Snooze buttons in the card's thread.
func (b *Bot) postReminder(ctx, cctx context.Context, log *slog.Logger, p *pass, it triage.OutboxItem, l triage.Lead, c call) error {
	text, blocks := b.words.reminder(l.ID, it.Text)
	ch, ts, err := b.api.PostMessageContext(cctx, c.channel,
		slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...), slack.MsgOptionTS(l.Slack.TS),
		slack.MsgOptionDisableLinkUnfurl(), slack.MsgOptionDisableMediaUnfurl())
	return b.settle(ctx, log, p, it, c, err, rememberPost(it, ch, ts, p.now))
}

// putChecklist posts the checklist, or updates it: an update, or a post
// whose checklist exists already (a retry after Slack took it, or changes
// folded into the post).
func (b *Bot) putChecklist(ctx, cctx context.Context, log *slog.Logger, p *pass, it triage.OutboxItem, l triage.Lead, c call) error {
	if l.Slack.ChecklistTS == "" {
		return b.postChecklist(ctx, cctx, log, p, it, l)
	}
	text, blocks := b.words.checklist(l, b.cfg.Policy)
	_, _, _, err := b.api.UpdateMessageContext(cctx, c.channel, l.Slack.ChecklistTS,
		slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
	return b.settle(ctx, log, p, it, c, err, nil)
}

// updateCard re-renders the card: an update, or a post_card whose card
// exists already.
func (b *Bot) updateCard(ctx, cctx context.Context, log *slog.Logger, p *pass, it triage.OutboxItem, l triage.Lead, c call) error {
	text, blocks := b.words.card(l, b.cfg.Policy, p.now)
	_, _, _, err := b.api.UpdateMessageContext(cctx, c.channel, l.Slack.TS,
		slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
	return b.settle(ctx, log, p, it, c, err, nil)
}

// postCard posts a lead's first card and records where it landed.
func (b *Bot) postCard(ctx context.Context, log *slog.Logger, p *pass, it triage.OutboxItem, l triage.Lead) error {
	channel := it.Channel
	c := call{methodPost, channel}
	// Slack took this post already, but recording it failed: record it,
	// without asking Slack again.
	if at, ok := b.outbox.recall(it.ID); ok {
		return b.settle(ctx, log, p, it, c, nil, recordCard(at.channel, at.ts, p.now, ""))
	}
	if ok, err := b.mayCall(ctx, log, p, it, c); !ok || err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()

	// An earlier attempt began and never ended in a record (a crash, a
	// failed record, a broken connection): it may have reached Slack, so
	// adopt that card instead of posting a second one (RELIABILITY O4, D12).
	if mayHavePosted(it) {
		ts, found, err := b.findCard(cctx, channel, l.ID, it.Attempted)
		if err != nil {
			return b.settle(ctx, log, p, it, call{methodHistory, channel}, fmt.Errorf("looking for an earlier post of the card: %w", err), nil)
		}
		if found {
			log.Info("adopted card posted by an earlier attempt", slog.String("channel", channel), slog.String("ts", ts))
			return b.settle(ctx, log, p, it, c, nil, recordCard(channel, ts, p.now, "found in channel history after an unfinished attempt"))
		}
	}
	if gone, err := b.markAttempted(ctx, it, p.now); gone || err != nil {
		return err
	}

	text, blocks := b.words.card(l, b.cfg.Policy, p.now)
	ch, ts, err := b.api.PostMessageContext(cctx, channel,
		slack.MsgOptionText(text, false),
		slack.MsgOptionBlocks(blocks...),
		slack.MsgOptionDisableLinkUnfurl(),
		slack.MsgOptionDisableMediaUnfurl(),
		slack.MsgOptionMetadata(slack.SlackMetadata{
			EventType:    cardEventType,
			EventPayload: map[string]any{"lead_id": l.ID.String()},
		}),
	)
	if err == nil && ch == "" {
		ch = channel
	}
	if err == nil {
		b.outbox.remember(it.ID, ch, ts)
	}
	return b.settle(ctx, log, p, it, c, err, recordCard(ch, ts, p.now, ""))
}

// markAttempted records durably that the post of it begins at now, before the
// call. gone reports that the item is no longer pending (its lead was
// purged meanwhile): there is nothing to post.
func (b *Bot) markAttempted(ctx context.Context, it triage.OutboxItem, now time.Time) (gone bool, err error) {
	err = b.store.MarkAttempted(ctx, it.ID, now)
	if errors.Is(err, triage.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("marking outbox item %d attempted: %w", it.ID, err)
	}
	return false, nil
}

// mayHavePosted reports whether an earlier attempt of a post item may have
// reached Slack: it was marked attempted and not completed, or (items from
// before the mark) it failed ambiguously.
func mayHavePosted(it triage.OutboxItem) bool {
	return !it.Attempted.IsZero() || strings.HasPrefix(it.LastError, ambiguous)
}

// later is when an item waiting for another one (due at at) looks again:
// at, or within a poll if that is due already.
func later(at, now time.Time) time.Time {
	if !at.After(now) {
		return now.Add(defaultPoll)
	}
	return at
}

// postChecklist posts the criteria checklist as a reply in the card's
// thread and records its ts, so that answers can update it.
func (b *Bot) postChecklist(ctx, cctx context.Context, log *slog.Logger, p *pass, it triage.OutboxItem, l triage.Lead) error {
	channel := l.Slack.Channel
	c := call{methodPost, channel}
	if at, ok := b.outbox.recall(it.ID); ok {
		return b.settle(ctx, log, p, it, c, nil, recordChecklist(channel, at.ts, p.now))
	}
	// As with the card: after an unfinished attempt, adopt a checklist the
	// last attempt may have posted rather than post a second one.
	if mayHavePosted(it) {
		ts, found, err := b.findChecklist(cctx, channel, l.Slack.TS, l.ID)
		if err != nil {
			return b.settle(ctx, log, p, it, call{methodReplies, channel}, fmt.Errorf("looking for an earlier post of the checklist: %w", err), nil)
		}
		if found {
			log.Info("adopted checklist posted by an earlier attempt", slog.String("channel", channel), slog.String("ts", ts))
			return b.settle(ctx, log, p, it, c, nil, recordChecklist(channel, ts, p.now))
		}
	}
	if gone, err := b.markAttempted(ctx, it, p.now); gone || err != nil {
		return err
	}
	text, blocks := b.words.checklist(l, b.cfg.Policy)
	_, ts, err := b.api.PostMessageContext(cctx, channel,
		slack.MsgOptionText(text, false),
		slack.MsgOptionBlocks(blocks...),
		slack.MsgOptionTS(l.Slack.TS),
		slack.MsgOptionDisableLinkUnfurl(),
		slack.MsgOptionDisableMediaUnfurl(),
		slack.MsgOptionMetadata(slack.SlackMetadata{
			EventType:    checklistEventType,
			EventPayload: map[string]any{"lead_id": l.ID.String()},
		}),
	)
	if err == nil {
		b.outbox.remember(it.ID, channel, ts)
	}
	return b.settle(ctx, log, p, it, c, err, recordChecklist(channel, ts, p.now))
}

// recordChecklist is the checklist's ts, for the lead to keep. The channel
// is not recorded (the checklist is in the card's thread) but lets
// deleteOrphan delete a checklist Slack took while its lead was erased.
func recordChecklist(channel, ts string, now time.Time) *triage.Posted {
	return &triage.Posted{Message: triage.PostedChecklist, Channel: channel, TS: ts, At: now}
}

// findChecklist looks for lead's checklist among the replies to its card by
// its metadata.
func (b *Bot) findChecklist(ctx context.Context, channel, cardTS string, lead triage.LeadID) (ts string, found bool, err error) {
	msgs, _, _, err := b.api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
		ChannelID:          channel,
		Timestamp:          cardTS,
		Limit:              repliesDepth,
		IncludeAllMetadata: true,
	})
	if err != nil {
		return "", false, err
	}
	for _, m := range msgs {
		if m.BotID == "" || m.Metadata.EventType != checklistEventType || m.Timestamp == cardTS {
			continue
		}
		if id, _ := m.Metadata.EventPayload["lead_id"].(string); id == lead.String() {
			return m.Timestamp, true, nil
		}
	}
	return "", false, nil
}

// recordCard is the card's place, for the lead to keep, so that votes on it
// and later updates find it.
func recordCard(channel, ts string, now time.Time, detail string) *triage.Posted {
	return &triage.Posted{Message: triage.PostedCard, Channel: channel, TS: ts, At: now, Detail: detail}
}

// findCard looks for lead's card by its metadata in the channel's history
// since the attempt that may have posted it (see findInHistory).
func (b *Bot) findCard(ctx context.Context, channel string, lead triage.LeadID, since time.Time) (ts string, found bool, err error) {
	return b.findInHistory(ctx, channel, since, func(m slack.Message) bool {
		id, _ := m.Metadata.EventPayload["lead_id"].(string)
		return m.Metadata.EventType == cardEventType && id == lead.String()
	})
}

// findInHistory looks for a bot message that match accepts in channel's
// history, newest first: the first page always, then further pages while
// they still reach back to since (less historySkew for clocks that
// disagree), at most historyPages. A zero since reads the first page only.
// A busy channel can thus not push an earlier attempt's post out of reach.
func (b *Bot) findInHistory(ctx context.Context, channel string, since time.Time, match func(slack.Message) bool) (ts string, found bool, err error) {
	params := &slack.GetConversationHistoryParameters{
		ChannelID:          channel,
		Limit:              historyDepth,
		IncludeAllMetadata: true,
	}
	for range historyPages {
		resp, err := b.api.GetConversationHistoryContext(ctx, params)
		if err != nil {
			return "", false, err
		}
		for _, m := range resp.Messages {
			if m.BotID != "" && match(m) {
				return m.Timestamp, true, nil
			}
		}
		next := resp.ResponseMetaData.NextCursor
		if !resp.HasMore || next == "" || since.IsZero() || len(resp.Messages) == 0 {
			break
		}
		oldest, ok := tsTime(resp.Messages[len(resp.Messages)-1].Timestamp)
		if !ok || oldest.Before(since.Add(-historySkew)) {
			break // this page reaches back before the attempt
		}
		params.Cursor = next
	}
	return "", false, nil
}

// tsTime reads a Slack message ts ("1700000000.000100") as a time.
func tsTime(ts string) (time.Time, bool) {
	sec, frac, _ := strings.Cut(ts, ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	us, _ := strconv.ParseInt(frac, 10, 64)
	return time.Unix(s, us*1000), true
}

// pendingPost finds lead's queued card post, if any. It scans the outbox,
// which is rare: only items that wait for a card that is not there get here.
func (b *Bot) pendingPost(ctx context.Context, lead triage.LeadID) (triage.OutboxItem, bool, error) {
	all, err := b.store.DueOutbox(ctx, time.Unix(1<<40, 0), scanLimit)
	if err != nil {
		return triage.OutboxItem{}, false, fmt.Errorf("looking for the card post of %s: %w", lead, err)
	}
	for _, it := range all {
		if it.Lead == lead && it.Kind == triage.OutboxPostCard && !it.Dead {
			return it, true, nil
		}
	}
	return triage.OutboxItem{}, false, nil
}

// pendingChecklist finds lead's queued checklist post, if any.
func (b *Bot) pendingChecklist(ctx context.Context, lead triage.LeadID) (triage.OutboxItem, bool, error) {
	all, err := b.store.DueOutbox(ctx, time.Unix(1<<40, 0), scanLimit)
	if err != nil {
		return triage.OutboxItem{}, false, fmt.Errorf("looking for the checklist post of %s: %w", lead, err)
	}
	for _, it := range all {
		if it.Lead == lead && it.Kind == triage.OutboxPostChecklist && !it.Dead {
			return it, true, nil
		}
	}
	return triage.OutboxItem{}, false, nil
}

// call names a Web API call of the outbox: its method, and the channel (or,
// for a direct message, the user id) it goes to.
type call struct{ method, channel string }

// mayCall reports whether it may be sent with c now: nothing blocks it
// (blocked.go) and c's rate limit has room (pacing.go). If not, the item is
// parked or left due until it may go.
func (b *Bot) mayCall(ctx context.Context, log *slog.Logger, p *pass, it triage.OutboxItem, c call) (bool, error) {
	bl, blocked, trying := b.blockedFor(c, p.now)
	if blocked {
		return false, b.park(ctx, log, p, it, bl)
	}
	ok, at := b.outbox.take(c.method, c.channel, p.now)
	if !ok {
		if it.Kind == triage.OutboxPostCard {
			p.cards[it.Lead] = at
		}
		p.wait(it.ID, at)
		return false, nil
	}
	if trying != nil {
		// This call tries the cause again; the items behind it wait for
		// its answer until the next try.
		b.outbox.probe(*trying, p.now)
	}
	return true, nil
}

// settle records the outcome of a Slack call: done (with where a post
// landed recorded on the lead), retried later, parked on a cause a person
// can fix, or dead-lettered.
func (b *Bot) settle(ctx context.Context, log *slog.Logger, p *pass, it triage.OutboxItem, c call, callErr error, posted *triage.Posted) error {
	if callErr == nil {
		// Slack took it: whatever blocked this channel (or the workspace)
		// is gone, and the items parked on it go now, in order.
		if err := b.unblockedBy(ctx, log, p, c); err != nil {
			return err
		}
		err := b.complete(ctx, it, posted)
		if errors.Is(err, triage.ErrNotFound) {
			b.deleteOrphan(ctx, log, it, posted)
		} else if err != nil {
			// Slack has it; the item stays due. A post is not sent again:
			// the worker remembers where it landed (outboxState.remember)
			// and, after a restart, finds it by its metadata.
			return fmt.Errorf("completing outbox item %d: %w", it.ID, err)
		}
		b.outbox.forget(it.ID)
		b.metrics.delivered.WithLabelValues(string(it.Kind)).Inc()
		log.Debug("delivered to slack")
		return nil
	}
	if ctx.Err() != nil {
		// Shutting down mid-call: the call may have reached Slack. Note that,
		// without waiting, so the next run checks before posting again.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		if err := b.store.RetryOutbox(sctx, it.ID, p.now, ambiguous+"interrupted by shutdown"); err != nil {
			log.Warn("recording an interrupted delivery", slog.Any("error", err))
		}
		return ctx.Err()
	}
	v := classify(callErr, it.Attempts, p.now)
	if v.blocked != "" {
		if blocks(c, v.blocked) {
			return b.blockOn(ctx, log, p, it, c, v.blocked)
		}
		v.dead = true
	}
	if v.dead {
		return b.deadLetter(ctx, log, it, v.code, "slack refused it: "+v.code)
	}
	lastErr := v.code
	if v.ambiguous {
		lastErr = ambiguous + v.code
	}
	if err := b.store.RetryOutbox(ctx, it.ID, v.at, lastErr); err != nil {
		return fmt.Errorf("rescheduling outbox item %d: %w", it.ID, err)
	}
	if v.pause {
		b.outbox.pause(limitKey(c.method, c.channel), v.at)
	}
	if it.Kind == triage.OutboxPostCard {
		p.cards[it.Lead] = v.at
	}
	p.next = earliest(p.next, v.at)
	b.metrics.failed.WithLabelValues(string(it.Kind), "retry").Inc()
	log.Warn("slack delivery failed, will retry", slog.String("code", v.code), slog.Time("next_at", v.at))
	return nil
}

// complete deletes a delivered item; a post's place is recorded on its lead
// in the same transaction, as a use case of the domain.
func (b *Bot) complete(ctx context.Context, it triage.OutboxItem, posted *triage.Posted) error {
	if posted != nil {
		return b.svc.RecordPosted(ctx, it, *posted)
	}
	return b.store.CompleteOutbox(ctx, it.ID, it.Seq, nil)
}

func (b *Bot) deadLetter(ctx context.Context, log *slog.Logger, it triage.OutboxItem, code, reason string) error {
	if err := b.store.DeadLetter(ctx, it.ID, reason); err != nil {
		return fmt.Errorf("dead-lettering outbox item %d: %w", it.ID, err)
	}
	b.metrics.failed.WithLabelValues(string(it.Kind), "dead").Inc()
	if b.outbox.loud(code, b.now()) {
		log.Error("slack delivery failed for good; item dead-lettered", slog.String("code", code))
	} else {
		log.Debug("slack delivery failed for good; item dead-lettered", slog.String("code", code))
	}
	return nil
}

// verdict is what to do after a failed call.
type verdict struct {
	blocked   string // a cause a person can fix (blocked.go): park, do not dead-letter
	dead      bool
	at        time.Time // next attempt
	pause     bool      // rate limited: hold the whole channel until at
	ambiguous bool      // the call may have taken effect
	code      string    // Slack error code or our class of failure; never lead text
}

// classify turns a Slack call's error into a verdict. attempts is the
// persisted count of earlier failures, so backoff continues across restarts
// (RELIABILITY O9).
func classify(err error, attempts int, now time.Time) verdict {
	var (
		rl     *slack.RateLimitedError
		status slack.StatusCodeError
		resp   slack.SlackErrorResponse
	)
	switch {
	case errors.As(err, &rl):
		return verdict{at: now.Add(max(rl.RetryAfter, minRetry)), pause: true, code: "ratelimited"}
	case errors.As(err, &status):
		code := "http_" + strconv.Itoa(status.Code)
		if status.Code == http.StatusTooManyRequests {
			return verdict{at: now.Add(fallback429), pause: true, code: code}
		}
		return verdict{at: now.Add(backoff(attempts)), code: code}
	case errors.As(err, &resp):
		switch {
		case fixable(resp.Err):
			return verdict{blocked: resp.Err, code: resp.Err}
		case permanentCodes[resp.Err]:
			return verdict{dead: true, code: resp.Err}
		case resp.Err == "ratelimited":
			return verdict{at: now.Add(fallback429), pause: true, code: resp.Err}
		}
		return verdict{at: now.Add(backoff(attempts)), code: safeCode(resp.Err)}
	}
	// Timeouts, refused or reset connections, unreadable answers: the request
	// may or may not have reached Slack.
	code := "transport_error"
	if errors.Is(err, context.DeadlineExceeded) {
		code = "timeout"
	}
	return verdict{at: now.Add(backoff(attempts)), ambiguous: true, code: code}
}

// backoff is 1 s, 2 s, 4 s … capped at 5 min, after attempts failures.
func backoff(attempts int) time.Duration {
	if attempts < 0 {
		attempts = 0
	}
	if attempts >= 9 { // 1 s << 9 is past the cap already
		return backoffCap
	}
	return min(backoffFirst<<attempts, backoffCap)
}

// safeCode keeps an unexpected error code fit for logs and LastError.
func safeCode(code string) string {
	if code == "" {
		return "unknown_error"
	}
	if len(code) > 64 {
		code = code[:64]
	}
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, code)
}

// deleteMessage deletes the bot's message at it.Payload (a ts) in
// it.Channel: the card or checklist of a purged lead. The lead is gone, so
// nothing is loaded. A message that is gone already (message_not_found)
// counts as deleted; other permanent refusals are dead-lettered as usual.
func (b *Bot) deleteMessage(ctx context.Context, log *slog.Logger, p *pass, it triage.OutboxItem) error {
	ts := string(it.Payload)
	if it.Channel == "" || ts == "" {
		return b.deadLetter(ctx, log, it, "invalid_item", "delete without a channel or ts")
	}
	c := call{methodDelete, it.Channel}
	if ok, err := b.mayCall(ctx, log, p, it, c); !ok || err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	_, _, err := b.api.DeleteMessageContext(cctx, it.Channel, ts)
	var resp slack.SlackErrorResponse
	if errors.As(err, &resp) && resp.Err == "message_not_found" {
		log.Debug("message to delete was gone already")
		err = nil
	}
	return b.settle(ctx, log, p, it, c, err, nil)
}

// postDirect sends an escalation to it.User in a direct message (Slack
// opens the bot's DM with that user for a post to a user id), with a link
// to the lead's card when it is posted. It does not wait for the card: the
// text names the lead either way.
func (b *Bot) postDirect(ctx context.Context, log *slog.Logger, p *pass, it triage.OutboxItem) error {
	if !slackUserID.MatchString(it.User) {
		return b.deadLetter(ctx, log, it, "invalid_item", "direct message without a valid user")
	}
	cardLink := ""
	if it.Lead != 0 {
		l, err := b.store.Lead(ctx, it.Lead)
		if errors.Is(err, triage.ErrNotFound) {
			return b.deadLetter(ctx, log, it, "lead_not_found", "the lead no longer exists")
		}
		if err != nil {
			return fmt.Errorf("loading %s for outbox item %d: %w", it.Lead, it.ID, err)
		}
		cardLink = b.cardLink(l, b.words.t("direct.open_card"))
	}
	c := call{methodPost, it.User}
	if ok, err := b.mayCall(ctx, log, p, it, c); !ok || err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	text, blocks := renderDirect(it.Text, cardLink)
	ch, ts, err := b.api.PostMessageContext(cctx, it.User,
		slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...),
		slack.MsgOptionDisableLinkUnfurl(), slack.MsgOptionDisableMediaUnfurl())
	return b.settle(ctx, log, p, it, c, err, rememberPost(it, ch, ts, p.now))
}

// postAnnounce posts it.Text (worded from its notice) to it.Channel as a
// message of its own, paced with the channel's cards: an import's summary.
func (b *Bot) postAnnounce(ctx context.Context, log *slog.Logger, p *pass, it triage.OutboxItem) error {
	if it.Channel == "" || it.Text == "" {
		return b.deadLetter(ctx, log, it, "invalid_item", "announcement without a channel or text")
	}
	c := call{methodPost, it.Channel}
	if ok, err := b.mayCall(ctx, log, p, it, c); !ok || err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	text, blocks := renderDirect(it.Text, "")
	_, _, err := b.api.PostMessageContext(cctx, it.Channel,
		slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...),
		slack.MsgOptionDisableLinkUnfurl(), slack.MsgOptionDisableMediaUnfurl())
	return b.settle(ctx, log, p, it, c, err, nil)
}

// postDigest posts one part of a digest (its Payload, a triage.DigestPart)
// to it.Channel. After an ambiguous failure it looks for the part in the
// channel's history by its metadata first, so a part is not posted twice.
func (b *Bot) postDigest(ctx context.Context, log *slog.Logger, p *pass, it triage.OutboxItem) error {
	var part triage.DigestPart
	if err := json.Unmarshal(it.Payload, &part); err != nil || part.Part < 1 {
		return b.deadLetter(ctx, log, it, "invalid_payload", "invalid digest payload")
	}
	if it.Channel == "" {
		return b.deadLetter(ctx, log, it, "invalid_item", "digest without a channel")
	}
	c := call{methodPost, it.Channel}
	if at, ok := b.outbox.recall(it.ID); ok {
		if err := b.rememberDigest(ctx, log, it, part, at.ts); err != nil {
			return err
		}
		return b.settle(ctx, log, p, it, c, nil, nil)
	}
	if ok, err := b.mayCall(ctx, log, p, it, c); !ok || err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	meta := map[string]any{"key": part.Key, "part": strconv.Itoa(part.Part)}
	if part.Key != "" && mayHavePosted(it) {
		ts, found, err := b.findDigest(cctx, it.Channel, meta, it.Attempted)
		if err != nil {
			return b.settle(ctx, log, p, it, call{methodHistory, it.Channel}, fmt.Errorf("looking for an earlier post of the digest: %w", err), nil)
		}
		if found {
			log.Info("digest part posted by an earlier attempt", slog.String("channel", it.Channel))
			if err := b.rememberDigest(ctx, log, it, part, ts); err != nil {
				return err
			}
			return b.settle(ctx, log, p, it, c, nil, nil)
		}
	}
	if part.Key != "" {
		// Without a key there is nothing to look for: no mark either.
		if gone, err := b.markAttempted(ctx, it, p.now); gone || err != nil {
			return err
		}
	}
	text, blocks := b.words.digestPart(part, b.permalink, b.digestLocation(), p.now)
	_, ts, err := b.api.PostMessageContext(cctx, it.Channel,
		slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...),
		slack.MsgOptionDisableLinkUnfurl(), slack.MsgOptionDisableMediaUnfurl(),
		slack.MsgOptionMetadata(slack.SlackMetadata{EventType: digestEventType, EventPayload: meta}))
	if err == nil {
		b.outbox.remember(it.ID, it.Channel, ts)
		// Remembered before the item completes: a failure leaves it due,
		// and the next attempt recalls the ts and remembers again.
		if err := b.rememberDigest(ctx, log, it, part, ts); err != nil {
			return err
		}
	}
	return b.settle(ctx, log, p, it, c, err, nil)
}

// findDigest looks for a digest part with metadata meta in the channel's
// history since the attempt that may have posted it.
func (b *Bot) findDigest(ctx context.Context, channel string, meta map[string]any, since time.Time) (ts string, found bool, err error) {
	return b.findInHistory(ctx, channel, since, func(m slack.Message) bool {
		key, _ := m.Metadata.EventPayload["key"].(string)
		part, _ := m.Metadata.EventPayload["part"].(string)
		return m.Metadata.EventType == digestEventType && key == meta["key"] && part == meta["part"]
	})
}
