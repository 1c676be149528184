package bot

import (
	"context"
	"log/slog"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// The two transports, HTTP mode (http.go) and Socket Mode (socket.go), take
// Slack's requests, write them to the inbox, acknowledge them and hand them
// to the bot's handlers. They know how Slack delivers, not what a request
// means: that is the handlers' part.

// handlers is what a transport hands a request to once it is durable: the
// Bot (dispatch.go, modal.go, command.go).
type handlers interface {
	// handleEvent acts on an Events API event after its ack.
	handleEvent(ctx context.Context, ev slackevents.EventsAPIEvent)
	// handleInteraction acts on a click or a select after its ack.
	handleInteraction(ctx context.Context, ic slack.InteractionCallback)
	// handleViewSubmission answers a dialog's submission; the answer is
	// the ack (nil closes the dialog).
	handleViewSubmission(ctx context.Context, ic slack.InteractionCallback) *slack.ViewSubmissionResponse
	// runCommand answers a slash command; the reply is the ack (nil: an
	// empty ack, the add-lead dialog is opening).
	runCommand(ctx context.Context, cmd slack.SlashCommand) *slashReply
}

// receiver is what both transports share: where a request goes and how the
// work after its ack runs.
type receiver struct {
	h     handlers
	inbox *inbox
	// spawn runs work after the ack, in a goroutine the bot's Drain waits
	// for (Bot.spawn).
	spawn   func(kind string, fn func(ctx context.Context))
	metrics *metrics
	words   words // the reply to a command that could not be recorded
	log     *slog.Logger
}

// inbound counts one request of kind ("event", "interaction", "command")
// by its result.
func (r *receiver) inbound(kind, result string) {
	r.metrics.inbound.WithLabelValues(kind, result).Inc()
}
