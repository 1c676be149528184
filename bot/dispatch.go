package bot

import (
	"context"
	"errors"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// handlerTimeout bounds the work done for one Slack request after its ack.
const handlerTimeout = 10 * time.Second

// commandReply is the immediate answer to a slash command: the HTTP response
// body, or the Socket Mode ack payload.
type commandReply struct {
	ResponseType string `json:"response_type"`
	Text         string `json:"text"`
}

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

// ownUserID is the bot's user id once auth.test has answered; "" before.
// rootMu guards it too: Start may learn it in the background while handlers read it.
func (b *Bot) ownUserID() string {
	b.rootMu.Lock()
	defer b.rootMu.Unlock()
	return b.botUserID
}

func (b *Bot) setOwnUserID(id string) {
	b.rootMu.Lock()
	defer b.rootMu.Unlock()
	b.botUserID = id
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

// handleEventOnce deduplicates by event id (Slack delivers at least once,
// and retries carry the same id) before handling the event.
func (b *Bot) handleEventOnce(ctx context.Context, ev slackevents.EventsAPIEvent) {
	if cb, ok := ev.Data.(*slackevents.EventsAPICallbackEvent); ok && cb.EventID != "" {
		first, err := b.store.FirstSeen(ctx, cb.EventID, b.now())
		if err != nil {
			b.log.Error("recording slack event id", "event_id", cb.EventID, "error", err)
			return
		}
		if !first {
			b.log.Debug("duplicate slack event ignored", "event_id", cb.EventID)
			return
		}
	}
	b.handleEvent(ctx, ev)
}

// handleEvent handles an Events API event that was already acknowledged
// and deduplicated.
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
	own := b.ownUserID()
	switch e := ev.InnerEvent.Data.(type) {
	case *slackevents.MessageEvent:
		if own != "" && e.User == own {
			return // our own cards and thread replies
		}
		// Thread answers (`budget: yes`) arrive in a later issue.
		b.log.DebugContext(ctx, "message event ignored", "channel", e.Channel, "user", e.User, "subtype", e.SubType)
	case *slackevents.ReactionAddedEvent:
		if own != "" && e.User == own {
			return
		}
		// Reaction votes arrive in a later issue.
		b.log.DebugContext(ctx, "reaction event ignored", "channel", e.Item.Channel, "user", e.User, "reaction", e.Reaction)
	case *slackevents.ReactionRemovedEvent:
		if own != "" && e.User == own {
			return
		}
		b.log.DebugContext(ctx, "reaction event ignored", "channel", e.Item.Channel, "user", e.User, "reaction", e.Reaction)
	default:
		b.log.DebugContext(ctx, "slack event ignored", "type", ev.InnerEvent.Type)
	}
}

// handleInteraction handles an acknowledged interaction: today the card's
// buttons.
func (b *Bot) handleInteraction(ctx context.Context, ic slack.InteractionCallback) {
	if ic.Type != slack.InteractionTypeBlockActions {
		b.log.DebugContext(ctx, "interaction ignored", "type", ic.Type, "user", ic.User.ID)
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

// handleBlockAction performs one button click. The service queues the card
// update and the clicker's confirmation; errors are told to the clicker.
func (b *Bot) handleBlockAction(ctx context.Context, ic slack.InteractionCallback, a slack.BlockAction) {
	user := ic.User.ID
	channel := ic.Container.ChannelID
	if channel == "" {
		channel = ic.Channel.ID
	}
	choice, isVote := voteActions[a.ActionID]
	if !isVote && a.ActionID != actionClaim && a.ActionID != actionResearch {
		// lead.decide arrives in a later issue.
		b.log.DebugContext(ctx, "button ignored", "action_id", a.ActionID, "user", user)
		return
	}
	log := b.log.With("action_id", a.ActionID, "user", user)
	id, err := triage.ParseLeadID(a.Value)
	if err != nil {
		b.reportError(ctx, log, channel, user, err)
		return
	}
	log = log.With("lead_id", id.String())
	if a.ActionID == actionResearch {
		b.rerunResearch(ctx, log, channel, user, id)
		return
	}
	if isVote {
		_, err = b.svc.Vote(ctx, id, user, choice)
	} else {
		_, err = b.svc.Claim(ctx, id, user)
	}
	if err != nil {
		b.reportError(ctx, log, channel, user, err)
		return
	}
	log.DebugContext(ctx, "button handled")
}

// rerunResearch starts research on lead id afresh, bypassing the cache, and
// tells the clicker; the card is updated through the outbox when it is done.
func (b *Bot) rerunResearch(ctx context.Context, log *slog.Logger, channel, user string, id triage.LeadID) {
	// Load it first, so that an unknown lead is refused rather than
	// silently researched into nothing in the background.
	if _, err := b.svc.Lead(ctx, id); err != nil {
		b.reportError(ctx, log, channel, user, err)
		return
	}
	msg := "Research is switched off (research.enabled = false)."
	if b.svc.Researcher != nil {
		b.svc.StartResearch(id, true)
		msg = "Re-running research on *" + id.String() + "*; the card updates when it is done."
	}
	if err := b.svc.Tell(ctx, channel, user, msg); err != nil {
		log.ErrorContext(ctx, "queueing a reply", "error", err)
		return
	}
	log.DebugContext(ctx, "button handled")
}

// reportError tells user what went wrong, in words fit for people. Only
// unknown errors are logged at error level; known ones are the user's
// business, not the operator's.
func (b *Bot) reportError(ctx context.Context, log *slog.Logger, channel, user string, err error) {
	if triage.IsInternal(err) {
		log.ErrorContext(ctx, "handling slack action", "error", err)
	} else {
		log.DebugContext(ctx, "slack action refused", "error", err)
	}
	msg := triage.Message(err)
	var fe *triage.FieldError
	if errors.As(err, &fe) {
		// A field error may quote what the user typed; escape it so it cannot
		// become a mention or a link in the reply.
		msg = esc(msg)
	}
	if terr := b.svc.Tell(ctx, channel, user, msg); terr != nil {
		log.ErrorContext(ctx, "queueing an error reply", "error", terr)
	}
}

// handleCommand answers a slash command at once; the answer is the HTTP
// response or the Socket Mode ack payload, shown only to the invoker.
func (b *Bot) handleCommand(cmd slack.SlashCommand) commandReply {
	if cmd.Command != "" && cmd.Command != b.cfg.Command {
		b.log.Debug("unknown slash command", "command", cmd.Command, "user", cmd.UserID)
	}
	c := parseCommand(cmd.Text)
	// The text may carry an e-mail address: log the kind, never the text.
	b.log.Debug("slash command", "kind", string(c.kind), "user", cmd.UserID, "channel", cmd.ChannelID)
	switch c.kind {
	default:
		// Every other sub-command arrives in a later issue; help says so.
		return commandReply{ResponseType: "ephemeral", Text: helpText(b.cfg.Command)}
	}
}
