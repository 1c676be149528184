package bot

import (
	"context"
	"time"

	"github.com/leadtriage/leadtriage/triage"
)

// The store as the bot uses it. The domain's triage.Store holds what the
// use cases call; delivering the outbox, admitting Slack's requests and
// parking blocked items are the bot's business, so the bot declares the
// interfaces it needs here (storage.DB satisfies them; main asserts it). The
// bot changes a lead only through triage.Service, never with a closure of
// its own (a posted message is recorded by Service.RecordPosted).

// Store is everything the bot reads and writes directly.
type Store interface {
	LeadReader
	InboxStore
	DeliveryStore
	BlockedStore
}

// LeadReader reads leads: a card's lead to render, a reaction's lead by its card,
// a command's list.
type LeadReader interface {
	// Lead returns triage.ErrNotFound if there is no lead with that id.
	Lead(ctx context.Context, id triage.LeadID) (triage.Lead, error)
	// Leads returns matching leads, oldest first.
	Leads(ctx context.Context, f triage.LeadFilter) ([]triage.Lead, error)
	// LeadByMessage finds the lead whose card is at (channel, ts);
	// triage.ErrNotFound otherwise.
	LeadByMessage(ctx context.Context, channel, ts string) (triage.Lead, error)
}

// InboxStore keeps Slack's requests from their acknowledgement until they are
// acted on, and de-duplicates Slack's retries by their mark (inbox.go).
type InboxStore interface {
	// AdmitInbox stores e (without its Key) durably and returns its key,
	// together with its Mark, in one transaction; concurrent calls may share
	// one commit. A Mark admitted within triage.InboxMarkRetention makes e a
	// repeat: dup is true and nothing is written (Slack delivers at least
	// once).
	AdmitInbox(ctx context.Context, e triage.InboxEntry) (key string, dup bool, err error)

	// Inbox returns the entries not yet acted on, oldest first.
	Inbox(ctx context.Context) ([]triage.InboxEntry, error)

	// DoneInbox removes an entry whose handling changed nothing durable
	// (changes remove it themselves; see triage.WithInboxKey). An unknown
	// key is not an error.
	DoneInbox(ctx context.Context, key string) error
}

// DeliveryStore is the outbox as its worker drains it (outbox.go).
type DeliveryStore interface {
	// DueOutbox returns up to limit live items whose NextAt is not after now,
	// in ID order; a store may list urgent ones (OutboxKind.Urgent) first,
	// so that no backlog hides a confirmation someone waits for.
	DueOutbox(ctx context.Context, now time.Time, limit int) ([]triage.OutboxItem, error)

	// NextOutbox returns the earliest NextAt of any live item; ok is false
	// when the outbox is empty.
	NextOutbox(ctx context.Context) (at time.Time, ok bool, err error)

	// CompleteOutbox deletes item id if its Seq still equals seq, in one
	// transaction with fn applied to its lead; the bot passes nil (see
	// triage.Store.CompleteOutbox; posts are recorded by
	// Service.RecordPosted).
	CompleteOutbox(ctx context.Context, id uint64, seq int, fn func(*triage.Lead) error) error

	// RetryOutbox counts a failed attempt and schedules the next one. It
	// keeps Attempted: a failed call may still have reached Slack.
	RetryOutbox(ctx context.Context, id uint64, next time.Time, lastErr string) error

	// MarkAttempted records durably, before the call, that a post of item id
	// begins at at (OutboxItem.Attempted), so that after a crash or a failed
	// record the message is looked for before it is posted again.
	// triage.ErrNotFound if id is not pending.
	MarkAttempted(ctx context.Context, id uint64, at time.Time) error

	// DeadLetter marks item id as permanently failed.
	DeadLetter(ctx context.Context, id uint64, reason string) error

	// Enqueue adds items that change no lead: the deletion of a message
	// posted for a lead erased meanwhile, a digest part's redaction
	// (remember.go). As triage.Store.Enqueue.
	Enqueue(ctx context.Context, items ...triage.OutboxItem) error
}

// BlockedStore parks items on a cause a person can fix (blocked.go).
type BlockedStore interface {
	// BlockOutbox parks pending item id on a cause a person can fix
	// (OutboxItem.Blocked, BlockedOn) until next; unlike RetryOutbox it
	// counts no failed attempt. triage.ErrNotFound if id is not pending.
	BlockOutbox(ctx context.Context, id uint64, cause, on string, next time.Time) error

	// UnblockOutbox makes every blocked item due at once (it stays marked
	// blocked until it is delivered or fails otherwise) and returns how many
	// there were.
	UnblockOutbox(ctx context.Context) (int, error)

	// BlockedOutbox lists the blocked items, in id order.
	BlockedOutbox(ctx context.Context) ([]triage.OutboxItem, error)

	// MarkJob records the job key once, with out: the notice that a cause
	// blocks delivery is queued once per cause (see triage.Store.MarkJob).
	MarkJob(ctx context.Context, key string, at time.Time, out []triage.OutboxItem) (first bool, err error)
}
