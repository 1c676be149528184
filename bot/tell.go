package bot

import (
	"context"
	"log/slog"

	"github.com/leadtriage/leadtriage/triage"
)

// teller tells one person something privately, through the outbox: the
// answer to a click, a dialog or a reaction that has no reply of its own.
type teller struct {
	svc   *triage.Service
	words words
}

// tell queues an ephemeral reply to user; a failure to queue is logged.
func (t teller) tell(ctx context.Context, log *slog.Logger, channel, user, text string) {
	if err := t.svc.Tell(ctx, channel, user, text); err != nil {
		log.ErrorContext(ctx, "queueing a reply", "error", err)
	}
}

// reportError tells user what went wrong, in words fit for people. Only
// unknown errors are logged at error level; known ones are the user's
// business, not the operator's.
func (t teller) reportError(ctx context.Context, log *slog.Logger, channel, user string, err error) {
	if triage.IsInternal(err) {
		log.ErrorContext(ctx, "handling slack action", "error", err)
	} else {
		log.DebugContext(ctx, "slack action refused", "error", err)
	}
	// A field error may quote what the user typed: errorWords.text escapes it so
	// it cannot become a mention or a link in the reply.
	if terr := t.svc.Tell(ctx, channel, user, (errorWords{t.words}).text(err)); terr != nil {
		log.ErrorContext(ctx, "queueing an error reply", "error", terr)
	}
}
