package bot

import (
	"context"
	"errors"
	"runtime/debug"
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
		b.clicks.click(ctx, ic, *a)
	}
}
