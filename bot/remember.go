package bot

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/leadtriage/leadtriage/triage"
)

// rememberPost is what settle records for a message posted about it's
// lead that is neither its card nor its checklist (a thread reply, a
// reminder, a direct message): its place, so that an erasure or the
// retention purge can delete it (triage.PostedOther). nil when the item
// belongs to no lead or Slack did not say where the message went.
func rememberPost(it triage.OutboxItem, channel, ts string, now time.Time) *triage.Posted {
	if it.Lead == 0 || channel == "" || ts == "" {
		return nil
	}
	return &triage.Posted{Message: triage.PostedOther, Channel: channel, TS: ts, At: now}
}

// deleteOrphan queues the deletion of a message Slack took for a lead that
// was erased meanwhile (forget or retention deleted the item in flight):
// nobody can find it from the lead any more, and it must not outlive the
// erasure. It does nothing while the lead exists.
func (b *Bot) deleteOrphan(ctx context.Context, log *slog.Logger, it triage.OutboxItem, posted *triage.Posted) {
	if posted == nil || posted.Channel == "" || posted.TS == "" || it.Lead == 0 {
		return
	}
	if _, err := b.store.Lead(ctx, it.Lead); !errors.Is(err, triage.ErrNotFound) {
		return
	}
	del := triage.OutboxItem{Kind: triage.OutboxDeleteMessage, Channel: posted.Channel, Payload: []byte(posted.TS), CreatedAt: posted.At}
	if err := b.svc.Store.Enqueue(ctx, del); err != nil {
		log.Error("queueing the deletion of a message about an erased lead", slog.Any("error", err))
	}
}
