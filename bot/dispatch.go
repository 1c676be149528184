package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// handlerTimeout bounds the work done for one Slack request after its ack.
const handlerTimeout = 10 * time.Second

// root is the parent of handler contexts: the context given to Start, or
// Background before Start.
func (b *Bot) root() context.Context {
	b.rootMu.Lock()
	defer b.rootMu.Unlock()
	if b.rootCtx != nil {
		return b.rootCtx
	}
	return context.Background()
}

// spawn runs fn after the ack, in a goroutine that Drain waits for. The
// context keeps the root's values but not its cancellation: a click that
// Slack saw acknowledged must not be lost because shutdown began; the
// timeout, and Drain's deadline, bound it instead.
func (b *Bot) spawn(kind string, fn func(ctx context.Context)) {
	b.inflight.Add(1)
	go func() {
		defer b.inflight.Done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(b.root()), handlerTimeout)
		defer cancel()
		defer func() {
			if r := recover(); r != nil {
				b.log.Error("panic in slack handler", "kind", kind, "panic", r, "stack", string(debug.Stack()))
			}
		}()
		fn(ctx)
	}()
}

// handleEvent handles an Events API event that was already acknowledged,
// deduplicated and written to the inbox (inbox.go).
func (b *Bot) handleEvent(ctx context.Context, ev slackevents.EventsAPIEvent) {
	switch ev.Type {
	case slackevents.AppRateLimited:
		b.log.Warn("slack is rate limiting the app's events", "team", ev.TeamID)
		return
	case slackevents.CallbackEvent:
	default:
		b.log.Debug("slack event ignored", "type", ev.Type)
		return
	}
	own := b.auth.ownUserID()
	switch e := ev.InnerEvent.Data.(type) {
	case *slackevents.MessageEvent:
		b.handleMessage(ctx, own, e)
	case *slackevents.ReactionAddedEvent:
		b.handleReaction(ctx, own, true, slackevents.ReactionRemovedEvent(*e))
	case *slackevents.ReactionRemovedEvent:
		b.handleReaction(ctx, own, false, *e)
	case *slackevents.AppHomeOpenedEvent:
		b.home.opened(ctx, e)
	// Blocked deliveries (blocked.go, issue 17).
	case *slackevents.MemberJoinedChannelEvent:
		b.handleMemberJoined(ctx, own, e)
	case *slackevents.ChannelUnarchiveEvent:
		b.handleUnarchive(ctx, e.Channel)
	case *slackevents.GroupUnarchiveEvent:
		b.handleUnarchive(ctx, e.Channel)
	case *slackevents.AppUninstalledEvent:
		b.outbox.blockToken(ctx, causeUninstalled)
	case *slackevents.TokensRevokedEvent:
		b.handleTokensRevoked(ctx, own, e)
	default:
		b.log.DebugContext(ctx, "slack event ignored", "type", ev.InnerEvent.Type)
	}
}

// handleMessage reads a human's reply in a card's thread, or its edit, as
// answers to the criteria; a reply with a file (file_share) is a reply like
// any other. An edit whose words did not change (an unfurl, an attachment,
// a reply count) is ignored. Everything else is ignored too: top-level
// messages, other threads (the service finds no card), bots (ourselves
// included), deletions. The text is never logged: it is the team's
// conversation.
func (b *Bot) handleMessage(ctx context.Context, own string, e *slackevents.MessageEvent) {
	channel, user, ts, threadTS, botID := e.Channel, e.User, e.TimeStamp, e.ThreadTimeStamp, e.BotID
	var text string
	switch e.SubType {
	case "", "thread_broadcast", "file_share":
		text = messageWords(e.Text, e.Blocks)
	case "message_changed":
		// The edited message is in Message; the event's own fields
		// describe the edit notice.
		if e.Message == nil {
			b.log.DebugContext(ctx, "message event ignored", "channel", channel, "subtype", e.SubType)
			return
		}
		m := e.Message
		user, ts, threadTS, botID = m.User, m.Timestamp, m.ThreadTimestamp, m.BotID
		text = messageWords(m.Text, m.Blocks)
		if p := e.PreviousMessage; p != nil && messageWords(p.Text, p.Blocks) == text {
			b.log.DebugContext(ctx, "message change without new words ignored", "channel", channel, "thread_ts", threadTS)
			return
		}
	default:
		b.log.DebugContext(ctx, "message event ignored", "channel", channel, "user", user, "subtype", e.SubType)
		return
	}
	if user == "" || botID != "" || (own != "" && user == own) {
		return // bots, and our own cards, checklists and replies
	}
	log := b.log.With("channel", channel, "user", user, "thread_ts", threadTS, "subtype", e.SubType)
	if threadTS == "" || threadTS == ts {
		log.DebugContext(ctx, "message event ignored")
		return
	}
	res, err := b.svc.AnswerReply(ctx, triage.Reply{Channel: channel, ThreadTS: threadTS, TS: ts, User: user, Text: text})
	if err != nil {
		b.teller.reportError(ctx, log, channel, user, err)
		return
	}
	if !res.Ours {
		log.DebugContext(ctx, "message event ignored")
		return
	}
	log.DebugContext(ctx, "thread reply read", "lead_id", res.Lead.ID.String(), "answers", res.Answered, "problems", len(res.Problems), "hinted", res.Hinted)
}

// handleReaction votes with a configured reaction on a card, or withdraws
// that vote when the reaction is removed. Reactions on anything but a card
// are the team's own business and are ignored.
func (b *Bot) handleReaction(ctx context.Context, own string, added bool, e slackevents.ReactionRemovedEvent) {
	if e.User == "" || (own != "" && e.User == own) {
		return
	}
	log := b.log.With("channel", e.Item.Channel, "user", e.User, "reaction", e.Reaction, "added", added)
	if e.Item.Type != "message" {
		log.DebugContext(ctx, "reaction event ignored")
		return
	}
	choice, ok := b.reactionChoice(e.Reaction)
	if !ok {
		log.DebugContext(ctx, "reaction event ignored")
		return
	}
	l, err := b.store.LeadByMessage(ctx, e.Item.Channel, e.Item.Timestamp)
	if errors.Is(err, triage.ErrNotFound) {
		log.DebugContext(ctx, "reaction event ignored")
		return
	}
	if err != nil {
		log.ErrorContext(ctx, "finding the card of a reaction", "error", err)
		return
	}
	log = log.With("lead_id", l.ID.String())
	if added {
		_, err = b.svc.Vote(ctx, l.ID, e.User, choice)
	} else {
		_, err = b.svc.Unvote(ctx, l.ID, e.User, choice)
	}
	if err != nil {
		b.teller.reportError(ctx, log, e.Item.Channel, e.User, err)
		return
	}
	log.DebugContext(ctx, "reaction handled")
}

// reactionChoice maps a reaction to a vote. Skin tones do not change the
// meaning: "+1::skin-tone-2" counts as "+1".
func (b *Bot) reactionChoice(reaction string) (triage.Choice, bool) {
	name, _, _ := strings.Cut(reaction, "::")
	c, ok := b.cfg.Reactions[name]
	return c, ok && c.Valid()
}

// handleInteraction handles an acknowledged interaction: the card's and the
// checklist's buttons, and the message shortcut. A view_submission never
// comes here: its answer is the ack (handleViewSubmission).
func (b *Bot) handleInteraction(ctx context.Context, ic slack.InteractionCallback) {
	switch ic.Type {
	case slack.InteractionTypeBlockActions:
	case slack.InteractionTypeMessageAction:
		b.dialogs.shortcut(ctx, ic)
		return
	default:
		b.log.DebugContext(ctx, "interaction ignored", "type", ic.Type, "user", ic.User.ID)
		return
	}
	// Buttons live on cards in the triage channel: only the person counts.
	if ok, msg := b.gate.allowed(ctx, ic.User.ID, ""); !ok {
		channel := ic.Container.ChannelID
		if channel == "" {
			channel = ic.Channel.ID
		}
		b.teller.tell(ctx, b.log.With("user", ic.User.ID), channel, ic.User.ID, msg)
		return
	}
	for _, a := range ic.ActionCallback.BlockActions {
		if a == nil {
			continue
		}
		b.handleBlockAction(ctx, ic, *a)
	}
}

// voteActions maps the card's vote buttons to choices.
var voteActions = map[string]triage.Choice{
	actionVoteQualify:    triage.ChoiceQualify,
	actionVoteDisqualify: triage.ChoiceDisqualify,
	actionVoteUnsure:     triage.ChoiceUnsure,
}

// answerButtons maps the checklist's button suffixes to raw answers.
var answerButtons = map[string]string{
	"yes": triage.AnswerYes, "no": triage.AnswerNo, "unknown": triage.AnswerUnknown,
	"1": "1", "2": "2", "3": "3", "4": "4", "5": "5",
}

// handleBlockAction performs one button click. The service queues the card
// update and the clicker's confirmation; errors are told to the clicker.
func (b *Bot) handleBlockAction(ctx context.Context, ic slack.InteractionCallback, a slack.BlockAction) {
	user := ic.User.ID
	channel := ic.Container.ChannelID
	if channel == "" {
		channel = ic.Channel.ID
	}
	log := b.log.With("action_id", a.ActionID, "user", user)
	if strings.HasPrefix(a.ActionID, actionAnswerPrefix) {
		b.answerClick(ctx, log, channel, user, a)
		return
	}
	if strings.HasPrefix(a.ActionID, actionSnoozePrefix) {
		b.snoozeClick(ctx, log, channel, user, a)
		return
	}
	if a.ActionID == actionHomeStatsPeriod {
		b.home.periodPicked(ctx, log, user, a)
		return
	}
	if strings.HasPrefix(a.ActionID, actionOutcomePrefix) {
		b.outcomeClick(ctx, log, channel, user, a)
		return
	}
	choice, isVote := voteActions[a.ActionID]
	switch {
	case isVote, a.ActionID == actionClaim, a.ActionID == actionResearch:
	case a.ActionID == actionDecide:
		// Refuse before anything else: a non-decider gets no dialog at all.
		if !b.svc.Policy.CanDecide(user) {
			log.DebugContext(ctx, "decide refused: not a decider")
			b.teller.tell(ctx, log, channel, user, b.words.notDecider(b.svc.Policy))
			return
		}
	default:
		log.DebugContext(ctx, "button ignored")
		return
	}
	id, err := triage.ParseLeadID(a.Value)
	if err != nil {
		b.teller.reportError(ctx, log, channel, user, err)
		return
	}
	log = log.With("lead_id", id.String())
	switch {
	case a.ActionID == actionDecide:
		b.dialogs.openDecide(ctx, log, ic, channel, id)
		return
	case a.ActionID == actionResearch:
		b.rerunResearch(ctx, log, channel, user, id)
		return
	case isVote:
		_, err = b.svc.Vote(ctx, id, user, choice)
	default:
		_, err = b.svc.Claim(ctx, id, user)
	}
	if err != nil {
		b.teller.reportError(ctx, log, channel, user, err)
		return
	}
	log.DebugContext(ctx, "button handled")
}

// answerClick records an answer given with the checklist's buttons or its
// select.
func (b *Bot) answerClick(ctx context.Context, log *slog.Logger, channel, user string, a slack.BlockAction) {
	value := a.Value
	if a.ActionID == actionAnswerChoice {
		value = a.SelectedOption.Value
	}
	fields := strings.Fields(value)
	wantFields := 2
	if a.ActionID == actionAnswerChoice {
		wantFields = 3
	}
	if len(fields) != wantFields {
		log.WarnContext(ctx, "checklist answer with a malformed value", "fields", len(fields))
		b.teller.tell(ctx, log, channel, user, b.words.t("checklist.out_of_date", "`budget: "+b.words.t("answer.yes")+"`"))
		return
	}
	id, err := triage.ParseLeadID(fields[0])
	if err != nil {
		b.teller.reportError(ctx, log, channel, user, err)
		return
	}
	log = log.With("lead_id", id.String(), "criterion", fields[1])
	if strings.HasPrefix(a.BlockID, blockCriterionPrefix) && !blockNamesCriterion(a.BlockID, fields[1]) {
		// The value is the answer; a block naming another criterion means
		// a payload that is not ours as rendered.
		log.WarnContext(ctx, "checklist answer from another criterion's block", "block_id", a.BlockID)
		b.teller.tell(ctx, log, channel, user, b.words.t("checklist.out_of_date", "`budget: "+b.words.t("answer.yes")+"`"))
		return
	}
	c, ok := b.criterion(fields[1])
	if !ok {
		b.teller.reportError(ctx, log, channel, user, fmt.Errorf("answering on %s: %q: %w", id, fields[1], triage.ErrUnknownCriteria))
		return
	}
	var raw string
	if a.ActionID == actionAnswerChoice {
		i, err := strconv.Atoi(fields[2])
		if c.Kind != triage.KindChoice || err != nil || i < 0 || i >= len(c.Options) {
			b.teller.reportError(ctx, log, channel, user, &triage.FieldError{Field: c.ID, Problem: b.words.t("accepted", b.words.acceptedForms(c))})
			return
		}
		raw = c.Options[i]
	} else if raw, ok = answerButtons[strings.TrimPrefix(a.ActionID, actionAnswerPrefix)]; !ok {
		log.DebugContext(ctx, "button ignored")
		return
	}
	v, err := triage.NormaliseAnswer(c, raw)
	if err != nil {
		// A checklist rendered before the criterion's kind changed in config.
		b.teller.reportError(ctx, log, channel, user, &triage.FieldError{Field: c.ID, Problem: b.words.t("accepted", b.words.acceptedForms(c))})
		return
	}
	if _, err := b.svc.Answer(ctx, id, user, []triage.ParsedAnswer{{Criterion: c.ID, Value: v}}); err != nil {
		b.teller.reportError(ctx, log, channel, user, err)
		return
	}
	log.DebugContext(ctx, "checklist answer recorded")
}

// blockNamesCriterion reports whether blockID is the block_id of criterion
// id's elements: "crit.<id>" as checklists rendered it before answers
// changed the block_id, or "crit.<id>.<suffix>" (criterionBlockID). The
// criterion id comes from the action's value, so an id with a dot in it
// cannot be mistaken for a suffix.
func blockNamesCriterion(blockID, id string) bool {
	rest, ok := strings.CutPrefix(blockID, blockCriterionPrefix+id)
	return ok && (rest == "" || rest[0] == '.')
}

func (b *Bot) criterion(id string) (triage.Criterion, bool) {
	for _, c := range b.svc.Policy.Criteria {
		if c.ID == id {
			return c, true
		}
	}
	return triage.Criterion{}, false
}

// rerunResearch starts research on lead id afresh, bypassing the cache, and
// tells the clicker; the card is updated through the outbox when it is done.
func (b *Bot) rerunResearch(ctx context.Context, log *slog.Logger, channel, user string, id triage.LeadID) {
	// Load it first, so that an unknown lead is refused rather than
	// silently researched into nothing in the background.
	if _, err := b.svc.Lead(ctx, id); err != nil {
		b.teller.reportError(ctx, log, channel, user, err)
		return
	}
	msg := b.words.t("research.off", "research.enabled = false")
	if b.svc.Researcher != nil {
		b.svc.StartResearch(id, true)
		msg = b.words.t("research.rerun", bold(id.String()))
	}
	if err := b.svc.Tell(ctx, channel, user, msg); err != nil {
		log.ErrorContext(ctx, "queueing a reply", "error", err)
		return
	}
	log.DebugContext(ctx, "button handled")
}
