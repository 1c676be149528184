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

// outboxWorker delivers the outbox to Slack: one pass over the due items
// at a time, each kind by its deliverer, at Slack's pace (pacing.go), with
// retries, dead letters and items parked on causes a person can fix
// (blocked.go). The Bot holds one and exposes RunOutbox, DeliverDue,
// RetryBlocked, HealthProblems and Wake; its event handlers tell it of
// fixed or new causes.
type outboxWorker struct {
	cfg     *Config // the bot's: policy, team lead, time zones
	api     *slack.Client
	svc     *triage.Service // records posts and digests as use cases
	store   deliveryStore
	log     *slog.Logger
	words   words
	metrics *metrics
	links   *links // shared with the bot: auth.test tells the workspace URL
	// authTest asks Slack whether a blocked token works again; a success
	// calls tokenWorks.
	authTest func(ctx context.Context) error

	wakeup chan struct{} // nudges run
	state  outboxState   // memory between passes (pacing.go, blocked.go)
}

// deliveryStore is what the outbox worker reads and writes: the outbox, its
// blocked items, and the leads the items are about.
type deliveryStore interface {
	LeadReader
	DeliveryStore
	BlockedStore
}

// Wake tells the worker that new items are waiting. It never blocks.
func (w *outboxWorker) Wake() {
	select {
	case w.wakeup <- struct{}{}:
	default:
	}
}

// RunOutbox delivers the outbox until ctx ends: a pass over the due items,
// then a sleep until the next item is due, a Wake, or at most a second.
// It returns nil when ctx ends.
func (b *Bot) RunOutbox(ctx context.Context) error { return b.outbox.run(ctx) }

// DeliverDue makes one pass over the items due at now (now is the clock for
// pacing and retries, so tests can drive it) and returns when the next
// attempt is due: zero if the outbox is empty. An error means the store
// failed; Slack failures are recorded on the items instead.
func (b *Bot) DeliverDue(ctx context.Context, now time.Time) (next time.Time, err error) {
	return b.outbox.deliverDue(ctx, now)
}

// Wake tells the outbox worker that new items are waiting. It never blocks.
func (b *Bot) Wake() { b.outbox.Wake() }

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

// run delivers the outbox until ctx ends (Bot.RunOutbox).
func (w *outboxWorker) run(ctx context.Context) error {
	poll := w.state.poll
	if poll <= 0 {
		poll = defaultPoll
	}
	// Whatever blocked deliveries may have been fixed while the bot was
	// down: each cause is tried again at once.
	w.retryBlocked(ctx, "start", nil)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-w.wakeup:
		}
		next, err := w.deliverPass(ctx)
		if ctx.Err() != nil {
			return nil
		}
		wait := poll
		switch {
		case err != nil:
			w.log.Error("delivering outbox", slog.Any("error", err))
		case !next.IsZero():
			wait = min(wait, max(next.Sub(w.cfg.now()), 0))
		}
		timer.Reset(wait)
	}
}

// deliverPass is one deliverDue that a panic cannot take the worker down with.
func (w *outboxWorker) deliverPass(ctx context.Context) (next time.Time, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("outbox pass panicked: %v", r)
		}
	}()
	return w.deliverDue(ctx, w.cfg.now())
}

// pass is what one deliverDue learns as it goes.
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

// deliverDue makes one pass over the items due at now (Bot.DeliverDue).
func (w *outboxWorker) deliverDue(ctx context.Context, now time.Time) (next time.Time, err error) {
	w.probeToken(ctx, now)
	items, err := w.store.DueOutbox(ctx, now, dueBatch)
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
		if err := w.deliver(ctx, p, it); err != nil {
			return time.Time{}, err
		}
		if !it.Kind.Urgent() && !p.skipped[it.ID] {
			// That was a Slack call: confirmations queued meanwhile go
			// before the rest of the pass.
			if err := w.deliverUrgent(ctx, p); err != nil {
				return time.Time{}, err
			}
		}
	}
	return w.nextDue(ctx, p)
}

// deliverUrgent delivers the urgent items (OutboxKind.Urgent) that became
// due during the pass. The store lists them first, so the first other item
// ends the look.
func (w *outboxWorker) deliverUrgent(ctx context.Context, p *pass) error {
	items, err := w.store.DueOutbox(ctx, p.now, urgentBatch)
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
		if err := w.deliver(ctx, p, it); err != nil {
			return err
		}
	}
	return nil
}

// nextDue works out when the next pass should run.
func (w *outboxWorker) nextDue(ctx context.Context, p *pass) (time.Time, error) {
	at, ok, err := w.store.NextOutbox(ctx)
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
	due, err := w.store.DueOutbox(ctx, p.now, dueBatch)
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
func (w *outboxWorker) deliver(ctx context.Context, p *pass, it triage.OutboxItem) error {
	log := w.log.With(slog.String("kind", string(it.Kind)), slog.Uint64("item", it.ID), slog.Int("attempt", it.Attempts+1))
	if it.Lead != 0 {
		log = log.With(slog.String("lead_id", it.Lead.String()))
	}
	if n := it.Notice; n != nil {
		// Worded now, in today's language; items stored before notices
		// carry their text already.
		it.Text, it.Plain = noticeWords{w.words}.notice(*n, w.cfg.Location, w.cfg.Policy.Criteria)
	}
	d, ok := deliverers[it.Kind]
	if !ok {
		return w.deadLetter(ctx, log, it, "invalid_item", "unknown outbox kind")
	}
	return d(w, ctx, log, p, it)
}

// deliverFunc delivers one outbox item of its kind. It returns an error
// only when the store fails.
type deliverFunc func(w *outboxWorker, ctx context.Context, log *slog.Logger, p *pass, it triage.OutboxItem) error

// deliverers has one deliverer per outbox kind; an unknown kind (written by
// a newer version) is a dead letter.
var deliverers = map[triage.OutboxKind]deliverFunc{
	triage.OutboxEphemeral:       (*outboxWorker).postEphemeral,
	triage.OutboxDigest:          (*outboxWorker).postDigest,
	triage.OutboxDirect:          (*outboxWorker).postDirect,
	triage.OutboxDeleteMessage:   (*outboxWorker).deleteMessage,
	triage.OutboxRedactDigest:    (*outboxWorker).redactDigest,
	triage.OutboxAnnounce:        (*outboxWorker).postAnnounce,
	triage.OutboxPostCard:        (*outboxWorker).deliverOnCard,
	triage.OutboxUpdateCard:      (*outboxWorker).deliverOnCard,
	triage.OutboxThreadReply:     (*outboxWorker).deliverOnCard,
	triage.OutboxPostChecklist:   (*outboxWorker).deliverOnCard,
	triage.OutboxUpdateChecklist: (*outboxWorker).deliverOnCard,
	triage.OutboxReminder:        (*outboxWorker).deliverOnCard,
}

// cardDeliverFunc delivers an item about a lead whose card is posted, once
// the call c may go out; cctx bounds the call.
type cardDeliverFunc func(w *outboxWorker, ctx, cctx context.Context, log *slog.Logger, p *pass, it triage.OutboxItem, l triage.Lead, c call) error

// cardDeliverers has one deliverer per kind that needs the lead's card.
var cardDeliverers = map[triage.OutboxKind]cardDeliverFunc{
	triage.OutboxPostCard:        (*outboxWorker).updateCard,
	triage.OutboxUpdateCard:      (*outboxWorker).updateCard,
	triage.OutboxThreadReply:     (*outboxWorker).postThreadReply,
	triage.OutboxReminder:        (*outboxWorker).postReminder,
	triage.OutboxPostChecklist:   (*outboxWorker).putChecklist,
	triage.OutboxUpdateChecklist: (*outboxWorker).putChecklist,
}

// postEphemeral shows an item to one person.
func (w *outboxWorker) postEphemeral(ctx context.Context, log *slog.Logger, p *pass, it triage.OutboxItem) error {
	if it.User == "" || it.Channel == "" {
		return w.deadLetter(ctx, log, it, "invalid_item", "ephemeral without a user or channel")
	}
	// Not the channel's budget: a confirmation never waits behind the
	// card updates paced at one message per second.
	c := call{methodEphemeral, it.Channel}
	if ok, err := w.mayCall(ctx, log, p, it, c); !ok || err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	_, err := w.api.PostEphemeralContext(cctx, it.Channel, it.User, slack.MsgOptionText(it.Text, false))
	cancel()
	return w.settle(ctx, log, p, it, c, err, nil)
}

// deliverOnCard delivers an item that needs the lead's card: it waits while
// the card's (or the checklist's) post is queued, posts the card itself,
// and hands everything else to its kind's cardDeliverer.
func (w *outboxWorker) deliverOnCard(ctx context.Context, log *slog.Logger, p *pass, it triage.OutboxItem) error {
	if it.Lead == 0 {
		return w.deadLetter(ctx, log, it, "invalid_item", "item has no lead")
	}
	if at, waiting := p.cards[it.Lead]; waiting {
		p.wait(it.ID, at)
		return nil
	}
	l, err := w.store.Lead(ctx, it.Lead)
	if errors.Is(err, triage.ErrNotFound) {
		return w.deadLetter(ctx, log, it, "lead_not_found", "the lead no longer exists")
	}
	if err != nil {
		return fmt.Errorf("loading %s for outbox item %d: %w", it.Lead, it.ID, err)
	}

	if l.Slack.TS == "" {
		if it.Kind == triage.OutboxPostCard {
			return w.postCard(ctx, log, p, it, l)
		}
		// Updates, thread replies and reminders need the card. While its post is still
		// queued they wait for it; without one they never can be sent.
		return w.awaitPost(ctx, log, p, it, triage.OutboxPostCard, p.cards, "no_card", "card was never posted")
	}

	if it.Kind == triage.OutboxUpdateChecklist && l.Slack.ChecklistTS == "" {
		// Like a card update without a card: wait while the checklist's post
		// is queued; without one there is nothing to update.
		return w.awaitPost(ctx, log, p, it, triage.OutboxPostChecklist, p.checklists, "no_checklist", "checklist was never posted")
	}

	channel := l.Slack.Channel
	c := call{methodUpdate, channel}
	switch {
	case it.Kind == triage.OutboxThreadReply, it.Kind == triage.OutboxReminder,
		it.Kind == triage.OutboxPostChecklist && l.Slack.ChecklistTS == "":
		c.method = methodPost
	}
	if ok, err := w.mayCall(ctx, log, p, it, c); !ok || err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	return cardDeliverers[it.Kind](w, ctx, cctx, log, p, it, l, c)
}

// awaitPost makes it wait, in this pass, for its lead's queued post of
// kind (the card or the checklist), noting when in waiting so that the
// lead's other items wait without a look-up; with no such post queued, it
// can never be sent and is dead-lettered with code and reason.
func (w *outboxWorker) awaitPost(ctx context.Context, log *slog.Logger, p *pass, it triage.OutboxItem, kind triage.OutboxKind, waiting map[triage.LeadID]time.Time, code, reason string) error {
	if at, ok := waiting[it.Lead]; ok {
		p.wait(it.ID, at)
		return nil
	}
	post, found, err := w.pendingPost(ctx, it.Lead, kind)
	if err != nil {
		return err
	}
	if !found {
		return w.deadLetter(ctx, log, it, code, reason)
	}
	at := later(post.NextAt, p.now)
	waiting[it.Lead] = at
	p.wait(it.ID, at)
	return nil
}

// postThreadReply posts what the domain said (or a draft) in the card's thread.
func (w *outboxWorker) postThreadReply(ctx, cctx context.Context, log *slog.Logger, p *pass, it triage.OutboxItem, l triage.Lead, c call) error {
	text, blocks := cardWords{w.words}.replyContent(it.Text, it.Plain)
	opts := []slack.MsgOption{
		slack.MsgOptionText(text, false), slack.MsgOptionTS(l.Slack.TS),
		slack.MsgOptionDisableLinkUnfurl(), slack.MsgOptionDisableMediaUnfurl(),
	}
	if len(blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(blocks...))
	}
	ch, ts, err := w.api.PostMessageContext(cctx, c.channel, opts...)
	return w.settle(ctx, log, p, it, c, err, rememberPost(it, ch, ts, p.now))
}

// postReminder posts a reminder with its Snooze buttons in the card's thread.
func (w *outboxWorker) postReminder(ctx, cctx context.Context, log *slog.Logger, p *pass, it triage.OutboxItem, l triage.Lead, c call) error {
	text, blocks := noticeWords{w.words}.reminder(l.ID, it.Text)
	ch, ts, err := w.api.PostMessageContext(cctx, c.channel,
		slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...), slack.MsgOptionTS(l.Slack.TS),
		slack.MsgOptionDisableLinkUnfurl(), slack.MsgOptionDisableMediaUnfurl())
	return w.settle(ctx, log, p, it, c, err, rememberPost(it, ch, ts, p.now))
}

// putChecklist posts the checklist, or updates it: an update, or a post
// whose checklist exists already (a retry after Slack took it, or changes
// folded into the post).
func (w *outboxWorker) putChecklist(ctx, cctx context.Context, log *slog.Logger, p *pass, it triage.OutboxItem, l triage.Lead, c call) error {
	if l.Slack.ChecklistTS == "" {
		return w.postChecklist(ctx, cctx, log, p, it, l)
	}
	text, blocks := checklistWords{w.words}.checklist(l, w.cfg.Policy)
	_, _, _, err := w.api.UpdateMessageContext(cctx, c.channel, l.Slack.ChecklistTS,
		slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
	return w.settle(ctx, log, p, it, c, err, nil)
}

// updateCard re-renders the card: an update, or a post_card whose card
// exists already.
func (w *outboxWorker) updateCard(ctx, cctx context.Context, log *slog.Logger, p *pass, it triage.OutboxItem, l triage.Lead, c call) error {
	text, blocks := cardWords{w.words}.card(l, w.cfg.Policy, p.now)
	_, _, _, err := w.api.UpdateMessageContext(cctx, c.channel, l.Slack.TS,
		slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
	return w.settle(ctx, log, p, it, c, err, nil)
}

// postCard posts a lead's first card and records where it landed.
func (w *outboxWorker) postCard(ctx context.Context, log *slog.Logger, p *pass, it triage.OutboxItem, l triage.Lead) error {
	channel := it.Channel
	c := call{methodPost, channel}
	// Slack took this post already, but recording it failed: record it,
	// without asking Slack again.
	if at, ok := w.state.recall(it.ID); ok {
		return w.settle(ctx, log, p, it, c, nil, recordCard(at.channel, at.ts, p.now, ""))
	}
	if ok, err := w.mayCall(ctx, log, p, it, c); !ok || err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()

	// An earlier attempt began and never ended in a record (a crash, a
	// failed record, a broken connection): it may have reached Slack, so
	// adopt that card instead of posting a second one (RELIABILITY O4, D12).
	if mayHavePosted(it) {
		ts, found, err := findCard(cctx, w.api, channel, l.ID, it.Attempted)
		if err != nil {
			return w.settle(ctx, log, p, it, call{methodHistory, channel}, fmt.Errorf("looking for an earlier post of the card: %w", err), nil)
		}
		if found {
			log.Info("adopted card posted by an earlier attempt", slog.String("channel", channel), slog.String("ts", ts))
			return w.settle(ctx, log, p, it, c, nil, foundCard(channel, ts, p.now))
		}
	}
	if gone, err := w.markAttempted(ctx, it, p.now); gone || err != nil {
		return err
	}

	text, blocks := cardWords{w.words}.card(l, w.cfg.Policy, p.now)
	ch, ts, err := w.api.PostMessageContext(cctx, channel,
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
		w.state.remember(it.ID, ch, ts)
	}
	return w.settle(ctx, log, p, it, c, err, recordCard(ch, ts, p.now, ""))
}

// markAttempted records durably that the post of it begins at now, before the
// call. gone reports that the item is no longer pending (its lead was
// purged meanwhile): there is nothing to post.
func (w *outboxWorker) markAttempted(ctx context.Context, it triage.OutboxItem, now time.Time) (gone bool, err error) {
	err = w.store.MarkAttempted(ctx, it.ID, now)
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
func (w *outboxWorker) postChecklist(ctx, cctx context.Context, log *slog.Logger, p *pass, it triage.OutboxItem, l triage.Lead) error {
	channel := l.Slack.Channel
	c := call{methodPost, channel}
	if at, ok := w.state.recall(it.ID); ok {
		return w.settle(ctx, log, p, it, c, nil, recordChecklist(channel, at.ts, p.now))
	}
	// As with the card: after an unfinished attempt, adopt a checklist the
	// last attempt may have posted rather than post a second one.
	if mayHavePosted(it) {
		ts, found, err := findChecklist(cctx, w.api, channel, l.Slack.TS, l.ID)
		if err != nil {
			return w.settle(ctx, log, p, it, call{methodReplies, channel}, fmt.Errorf("looking for an earlier post of the checklist: %w", err), nil)
		}
		if found {
			log.Info("adopted checklist posted by an earlier attempt", slog.String("channel", channel), slog.String("ts", ts))
			return w.settle(ctx, log, p, it, c, nil, recordChecklist(channel, ts, p.now))
		}
	}
	if gone, err := w.markAttempted(ctx, it, p.now); gone || err != nil {
		return err
	}
	text, blocks := checklistWords{w.words}.checklist(l, w.cfg.Policy)
	_, ts, err := w.api.PostMessageContext(cctx, channel,
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
		w.state.remember(it.ID, channel, ts)
	}
	return w.settle(ctx, log, p, it, c, err, recordChecklist(channel, ts, p.now))
}

// recordChecklist is the checklist's ts, for the lead to keep. The channel
// is not recorded (the checklist is in the card's thread) but lets
// deleteOrphan delete a checklist Slack took while its lead was erased.
func recordChecklist(channel, ts string, now time.Time) *triage.Posted {
	return &triage.Posted{Message: triage.PostedChecklist, Channel: channel, TS: ts, At: now}
}

// findChecklist looks for lead's checklist among the replies to its card by
// its metadata.
func findChecklist(ctx context.Context, api *slack.Client, channel, cardTS string, lead triage.LeadID) (ts string, found bool, err error) {
	msgs, _, _, err := api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
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
func findCard(ctx context.Context, api *slack.Client, channel string, lead triage.LeadID, since time.Time) (ts string, found bool, err error) {
	return findInHistory(ctx, api, channel, since, func(m slack.Message) bool {
		id, _ := m.Metadata.EventPayload["lead_id"].(string)
		return m.Metadata.EventType == cardEventType && id == lead.String()
	})
}

// findInHistory looks for a bot message that match accepts in channel's
// history, newest first: the first page always, then further pages while
// they still reach back to since (less historySkew for clocks that
// disagree), at most historyPages. A zero since reads the first page only.
// A busy channel can thus not push an earlier attempt's post out of reach.
func findInHistory(ctx context.Context, api *slack.Client, channel string, since time.Time, match func(slack.Message) bool) (ts string, found bool, err error) {
	params := &slack.GetConversationHistoryParameters{
		ChannelID:          channel,
		Limit:              historyDepth,
		IncludeAllMetadata: true,
	}
	for range historyPages {
		resp, err := api.GetConversationHistoryContext(ctx, params)
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

// pendingPost finds lead's queued post of kind (its card's or its
// checklist's), if any. It scans the outbox, which is rare: only items that
// wait for a message that is not there get here.
func (w *outboxWorker) pendingPost(ctx context.Context, lead triage.LeadID, kind triage.OutboxKind) (triage.OutboxItem, bool, error) {
	all, err := w.store.DueOutbox(ctx, time.Unix(1<<40, 0), scanLimit)
	if err != nil {
		return triage.OutboxItem{}, false, fmt.Errorf("looking for the %s item of %s: %w", kind, lead, err)
	}
	for _, it := range all {
		if it.Lead == lead && it.Kind == kind && !it.Dead {
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
func (w *outboxWorker) mayCall(ctx context.Context, log *slog.Logger, p *pass, it triage.OutboxItem, c call) (bool, error) {
	bl, blocked, trying := w.blockedFor(c, p.now)
	if blocked {
		return false, w.park(ctx, log, p, it, bl)
	}
	ok, at := w.state.take(c.method, c.channel, p.now)
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
		w.state.probe(*trying, p.now)
	}
	return true, nil
}

// settle records the outcome of a Slack call: done (with where a post
// landed recorded on the lead), retried later, parked on a cause a person
// can fix, or dead-lettered.
func (w *outboxWorker) settle(ctx context.Context, log *slog.Logger, p *pass, it triage.OutboxItem, c call, callErr error, posted *triage.Posted) error {
	if callErr == nil {
		// Slack took it: whatever blocked this channel (or the workspace)
		// is gone, and the items parked on it go now, in order.
		if err := w.unblockedBy(ctx, log, p, c); err != nil {
			return err
		}
		err := w.complete(ctx, it, posted)
		if errors.Is(err, triage.ErrNotFound) {
			w.deleteOrphan(ctx, log, it, posted)
		} else if err != nil {
			// Slack has it; the item stays due. A post is not sent again:
			// the worker remembers where it landed (outboxState.remember)
			// and, after a restart, finds it by its metadata.
			return fmt.Errorf("completing outbox item %d: %w", it.ID, err)
		}
		w.state.forget(it.ID)
		w.metrics.delivered.WithLabelValues(string(it.Kind)).Inc()
		log.Debug("delivered to slack")
		return nil
	}
	if ctx.Err() != nil {
		// Shutting down mid-call: the call may have reached Slack. Note that,
		// without waiting, so the next run checks before posting again.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		if err := w.store.RetryOutbox(sctx, it.ID, p.now, ambiguous+"interrupted by shutdown"); err != nil {
			log.Warn("recording an interrupted delivery", slog.Any("error", err))
		}
		return ctx.Err()
	}
	v := classify(callErr, it.Attempts, p.now)
	if v.blocked != "" {
		if blocks(c, v.blocked) {
			return w.blockOn(ctx, log, p, it, c, v.blocked)
		}
		v.dead = true
	}
	if v.dead {
		return w.deadLetter(ctx, log, it, v.code, "slack refused it: "+v.code)
	}
	lastErr := v.code
	if v.ambiguous {
		lastErr = ambiguous + v.code
	}
	if err := w.store.RetryOutbox(ctx, it.ID, v.at, lastErr); err != nil {
		return fmt.Errorf("rescheduling outbox item %d: %w", it.ID, err)
	}
	if v.pause {
		w.state.pause(limitKey(c.method, c.channel), v.at)
	}
	if it.Kind == triage.OutboxPostCard {
		p.cards[it.Lead] = v.at
	}
	p.next = earliest(p.next, v.at)
	w.metrics.failed.WithLabelValues(string(it.Kind), "retry").Inc()
	log.Warn("slack delivery failed, will retry", slog.String("code", v.code), slog.Time("next_at", v.at))
	return nil
}

// complete deletes a delivered item; a post's place is recorded on its lead
// in the same transaction, as a use case of the domain.
func (w *outboxWorker) complete(ctx context.Context, it triage.OutboxItem, posted *triage.Posted) error {
	if posted != nil {
		return w.svc.RecordPosted(ctx, it, *posted)
	}
	return w.store.CompleteOutbox(ctx, it.ID, it.Seq, nil)
}

func (w *outboxWorker) deadLetter(ctx context.Context, log *slog.Logger, it triage.OutboxItem, code, reason string) error {
	if err := w.store.DeadLetter(ctx, it.ID, reason); err != nil {
		return fmt.Errorf("dead-lettering outbox item %d: %w", it.ID, err)
	}
	w.metrics.failed.WithLabelValues(string(it.Kind), "dead").Inc()
	if w.state.loud(code, w.cfg.now()) {
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
func (w *outboxWorker) deleteMessage(ctx context.Context, log *slog.Logger, p *pass, it triage.OutboxItem) error {
	ts := string(it.Payload)
	if it.Channel == "" || ts == "" {
		return w.deadLetter(ctx, log, it, "invalid_item", "delete without a channel or ts")
	}
	c := call{methodDelete, it.Channel}
	if ok, err := w.mayCall(ctx, log, p, it, c); !ok || err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	_, _, err := w.api.DeleteMessageContext(cctx, it.Channel, ts)
	var resp slack.SlackErrorResponse
	if errors.As(err, &resp) && resp.Err == "message_not_found" {
		log.Debug("message to delete was gone already")
		err = nil
	}
	return w.settle(ctx, log, p, it, c, err, nil)
}

// postDirect sends an escalation to it.User in a direct message (Slack
// opens the bot's DM with that user for a post to a user id), with a link
// to the lead's card when it is posted. It does not wait for the card: the
// text names the lead either way.
func (w *outboxWorker) postDirect(ctx context.Context, log *slog.Logger, p *pass, it triage.OutboxItem) error {
	if !slackUserID.MatchString(it.User) {
		return w.deadLetter(ctx, log, it, "invalid_item", "direct message without a valid user")
	}
	cardLink := ""
	if it.Lead != 0 {
		l, err := w.store.Lead(ctx, it.Lead)
		if errors.Is(err, triage.ErrNotFound) {
			return w.deadLetter(ctx, log, it, "lead_not_found", "the lead no longer exists")
		}
		if err != nil {
			return fmt.Errorf("loading %s for outbox item %d: %w", it.Lead, it.ID, err)
		}
		cardLink = w.links.cardLink(l, w.words.t("direct.open_card"))
	}
	c := call{methodPost, it.User}
	if ok, err := w.mayCall(ctx, log, p, it, c); !ok || err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	text, blocks := renderDirect(it.Text, cardLink)
	ch, ts, err := w.api.PostMessageContext(cctx, it.User,
		slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...),
		slack.MsgOptionDisableLinkUnfurl(), slack.MsgOptionDisableMediaUnfurl())
	return w.settle(ctx, log, p, it, c, err, rememberPost(it, ch, ts, p.now))
}

// postAnnounce posts it.Text (worded from its notice) to it.Channel as a
// message of its own, paced with the channel's cards: an import's summary.
func (w *outboxWorker) postAnnounce(ctx context.Context, log *slog.Logger, p *pass, it triage.OutboxItem) error {
	if it.Channel == "" || it.Text == "" {
		return w.deadLetter(ctx, log, it, "invalid_item", "announcement without a channel or text")
	}
	c := call{methodPost, it.Channel}
	if ok, err := w.mayCall(ctx, log, p, it, c); !ok || err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	text, blocks := renderDirect(it.Text, "")
	_, _, err := w.api.PostMessageContext(cctx, it.Channel,
		slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...),
		slack.MsgOptionDisableLinkUnfurl(), slack.MsgOptionDisableMediaUnfurl())
	return w.settle(ctx, log, p, it, c, err, nil)
}

// postDigest posts one part of a digest (its Payload, a triage.DigestPart)
// to it.Channel. After an ambiguous failure it looks for the part in the
// channel's history by its metadata first, so a part is not posted twice.
func (w *outboxWorker) postDigest(ctx context.Context, log *slog.Logger, p *pass, it triage.OutboxItem) error {
	var part triage.DigestPart
	if err := json.Unmarshal(it.Payload, &part); err != nil || part.Part < 1 {
		return w.deadLetter(ctx, log, it, "invalid_payload", "invalid digest payload")
	}
	if it.Channel == "" {
		return w.deadLetter(ctx, log, it, "invalid_item", "digest without a channel")
	}
	c := call{methodPost, it.Channel}
	if at, ok := w.state.recall(it.ID); ok {
		if err := w.rememberDigest(ctx, it, part, at.ts); err != nil {
			return err
		}
		return w.settle(ctx, log, p, it, c, nil, nil)
	}
	if ok, err := w.mayCall(ctx, log, p, it, c); !ok || err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	meta := map[string]any{"key": part.Key, "part": strconv.Itoa(part.Part)}
	if part.Key != "" && mayHavePosted(it) {
		ts, found, err := findDigest(cctx, w.api, it.Channel, meta, it.Attempted)
		if err != nil {
			return w.settle(ctx, log, p, it, call{methodHistory, it.Channel}, fmt.Errorf("looking for an earlier post of the digest: %w", err), nil)
		}
		if found {
			log.Info("digest part posted by an earlier attempt", slog.String("channel", it.Channel))
			if err := w.rememberDigest(ctx, it, part, ts); err != nil {
				return err
			}
			return w.settle(ctx, log, p, it, c, nil, nil)
		}
	}
	if part.Key != "" {
		// Without a key there is nothing to look for: no mark either.
		if gone, err := w.markAttempted(ctx, it, p.now); gone || err != nil {
			return err
		}
	}
	text, blocks := digestWords{w.words}.part(part, w.links.permalink, w.cfg.digestLocation(), p.now)
	_, ts, err := w.api.PostMessageContext(cctx, it.Channel,
		slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...),
		slack.MsgOptionDisableLinkUnfurl(), slack.MsgOptionDisableMediaUnfurl(),
		slack.MsgOptionMetadata(slack.SlackMetadata{EventType: digestEventType, EventPayload: meta}))
	if err == nil {
		w.state.remember(it.ID, it.Channel, ts)
		// Remembered before the item completes: a failure leaves it due,
		// and the next attempt recalls the ts and remembers again.
		if err := w.rememberDigest(ctx, it, part, ts); err != nil {
			return err
		}
	}
	return w.settle(ctx, log, p, it, c, err, nil)
}

// findDigest looks for a digest part with metadata meta in the channel's
// history since the attempt that may have posted it.
func findDigest(ctx context.Context, api *slack.Client, channel string, meta map[string]any, since time.Time) (ts string, found bool, err error) {
	return findInHistory(ctx, api, channel, since, func(m slack.Message) bool {
		key, _ := m.Metadata.EventPayload["key"].(string)
		part, _ := m.Metadata.EventPayload["part"].(string)
		return m.Metadata.EventType == digestEventType && key == meta["key"] && part == meta["part"]
	})
}
