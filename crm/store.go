package crm

import (
	"context"
	"time"

	"github.com/leadtriage/leadtriage/triage"
)

// Store is what the crm worker needs of the outbox: the items of the crm lane
// (triage.OutboxKind.Lane) only, so neither worker ever waits on the other's
// backlog. *storage.DB and *triagetest.Store satisfy it.
type Store interface {
	// DueCRM returns the live crm-lane items due at now, oldest first, at
	// most limit (<= 0: no limit).
	DueCRM(ctx context.Context, now time.Time, limit int) ([]triage.OutboxItem, error)
	// NextCRM reports when the earliest live crm-lane item is due (zero: at
	// once); ok is false when there is none.
	NextCRM(ctx context.Context) (at time.Time, ok bool, err error)
	// ExpandCRM replaces live item id with items (crm lane), in one
	// transaction; ErrNotFound, writing nothing, if id is not pending.
	ExpandCRM(ctx context.Context, id uint64, items []triage.OutboxItem) error
	// CompleteOutbox, RetryOutbox and DeadLetter are the outbox's own, as
	// the bot's worker uses them.
	CompleteOutbox(ctx context.Context, id uint64, seq int, fn func(*triage.Lead) error) error
	RetryOutbox(ctx context.Context, id uint64, next time.Time, lastErr string) error
	DeadLetter(ctx context.Context, id uint64, reason string) error
}
