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
	q, ok := b.store.(enqueuer)
	if !ok {
		log.Error("cannot queue the deletion of a message about an erased lead: the store queues nothing", slog.String("channel", posted.Channel), slog.String("ts", posted.TS))
		return
	}
	if err := q.Enqueue(ctx, del); err != nil {
		log.Error("queueing the deletion of a message about an erased lead", slog.Any("error", err))
	}
}

// enqueuer is the part of the store deleteOrphan needs (storage.DB has it).
type enqueuer interface {
	Enqueue(ctx context.Context, items ...triage.OutboxItem) error
}
