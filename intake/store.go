package intake

import (
	"context"
	"time"

	"github.com/leadtriage/leadtriage/triage"
)

// Store is what the server asks the store directly, beside the use cases
// of triage.Service: its health, and the outbox items that wait on a person
// (storage.DB satisfies it; main asserts it).
type Store interface {
	// Ping reports whether the store is usable.
	Ping(ctx context.Context) error

	// DeadLetters lists the permanently failed outbox items.
	DeadLetters(ctx context.Context) ([]triage.OutboxItem, error)

	// RequeueDeadLetter moves dead letter id back into the outbox, due at
	// once with a fresh attempt count, marked Requeued at at (a delivery
	// that gives up some time after its event counts from there), and
	// returns it as queued. triage.ErrNotFound if id is not a dead letter.
	RequeueDeadLetter(ctx context.Context, id uint64, at time.Time) (triage.OutboxItem, error)

	// BlockedOutbox lists the items parked on a cause a person can fix, in
	// id order.
	BlockedOutbox(ctx context.Context) ([]triage.OutboxItem, error)
}
