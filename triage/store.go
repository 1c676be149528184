package triage

import (
	"context"
	"time"
)

// Idempotency makes a repeated submission return the first lead instead of
// creating another.
type Idempotency struct {
	Key         string    // "" = none
	Fingerprint string    // of the request content; a key reused with another fingerprint is an error
	Expires     time.Time // the key is forgotten after this
	Now         time.Time // to judge whether a stored key has expired
}

// LeadFilter selects leads.
type LeadFilter struct {
	Status Status // "" = any
	Limit  int    // 0 = no limit
}

// Store keeps leads, their audit trail and the outbox, as the domain uses
// them: delivering the outbox, the inbox and health are the adapters'
// business, and each declares the small interface it needs (bot.Store,
// intake.Store). Every method that changes state does so in one
// transaction, outbox items included, and removes the inbox entry its ctx
// carries (WithInboxKey) in that transaction.
type Store interface {
	// CreateLead assigns lead an ID and stores it with out (the items' Lead
	// fields are set to the new ID). With idem.Key set and a live lead stored
	// under that key, it returns that lead and created=false, or
	// ErrIdempotencyKey if its fingerprint differs.
	CreateLead(ctx context.Context, lead Lead, idem Idempotency, out []OutboxItem) (stored Lead, created bool, err error)

	// Lead returns ErrNotFound if there is no lead with that id.
	Lead(ctx context.Context, id LeadID) (Lead, error)

	// Leads returns matching leads, oldest first, using the status index.
	Leads(ctx context.Context, f LeadFilter) ([]Lead, error)

	// LeadsByEmail and LeadsByDomain return every lead with that e-mail
	// address or domain (exact, lowercase), oldest first, using the indexes.
	LeadsByEmail(ctx context.Context, email string) ([]Lead, error)
	LeadsByDomain(ctx context.Context, domain string) ([]Lead, error)

	// LeadByMessage finds the lead whose card is at (channel, ts); ErrNotFound otherwise.
	LeadByMessage(ctx context.Context, channel, ts string) (Lead, error)

	// UpdateLead loads the lead, calls fn, and stores the lead together with
	// the outbox items fn returns, in one transaction. If fn returns an error
	// nothing is written and the error is returned. ErrNotFound if no such lead.
	UpdateLead(ctx context.Context, id LeadID, fn func(*Lead) ([]OutboxItem, error)) (Lead, error)

	// PurgeLead deletes lead id for good, in one transaction: the lead, its
	// index entries (status, e-mail, domain, message), the idempotency keys
	// that point at it and its outbox items, pending and dead (a pending card
	// update must not race the deletion of the card). Storage also drops
	// cached look-ups (research) of the lead's domain when no other lead has
	// that domain. fn sees the lead as stored in that transaction and returns
	// the items to queue in its place (the deletion of its Slack messages);
	// if fn returns an error nothing is written and the error is returned. A
	// PII-free audit entry, the job key "purged|L-<id>" at at (see MarkJob,
	// LastJob), is written with it. ErrNotFound if there is no such lead.
	PurgeLead(ctx context.Context, id LeadID, at time.Time, fn func(Lead) ([]OutboxItem, error)) error

	// Enqueue adds outbox items that change no lead (e.g. an ephemeral reply).
	Enqueue(ctx context.Context, items ...OutboxItem) error

	// CompleteOutbox deletes item id if its Seq still equals seq, and applies
	// fn (which may be nil) to the item's lead, in one transaction (see
	// Service.RecordPosted). If Seq
	// moved on, the item stays due (a post becomes its family's update, with
	// no post outstanding: Attempted is cleared) and fn is still applied.
	CompleteOutbox(ctx context.Context, id uint64, seq int, fn func(*Lead) error) error

	// MarkJob records that the scheduled job key (e.g. "digest|2026-11-30T09:00
	// Europe/Amsterdam") ran, together with out, in one transaction. It
	// reports false, writing nothing, if the key was recorded before: the
	// job's exactly-once guard, across restarts and double cron ticks.
	MarkJob(ctx context.Context, key string, at time.Time, out []OutboxItem) (first bool, err error)

	// LastJob returns the newest recorded job whose key starts with prefix,
	// by its at time; ok is false when there is none.
	LastJob(ctx context.Context, prefix string) (key string, at time.Time, ok bool, err error)
}

// TimeIndex is what a Store with time indexes offers besides Store: the
// digest and retention then read only the leads they act on, not every
// decided lead ever stored. A Store without it is read through the status
// index instead (same results, cost growing with the decided leads).
type TimeIndex interface {
	// LeadsDecided returns the decided (not pending) leads whose decision
	// is in [from, to), in decision order.
	LeadsDecided(ctx context.Context, from, to time.Time) ([]Lead, error)

	// LeadsToRevisit returns the disqualified leads decided before
	// decidedBefore and not shown for a second look since, in decision order.
	LeadsToRevisit(ctx context.Context, decidedBefore time.Time) ([]Lead, error)

	// LeadsCreated returns the leads created in [from, to), in creation order.
	LeadsCreated(ctx context.Context, from, to time.Time) ([]Lead, error)
}

// LeadPager is what a Store that pages through its indexes offers besides
// Store: a list then reads only the page it shows. A Store without it is
// paged by reading every matching lead (same pages, cost growing with them).
type LeadPager interface {
	// LeadsAfter returns up to f.Limit (> 0) leads with status f.Status
	// ("" = any) whose id is above after, in id order (oldest first), and
	// whether more such leads follow. A lead created meanwhile gets a
	// higher id than any before it, so paging with the last id returned
	// sees every lead that existed throughout exactly once.
	LeadsAfter(ctx context.Context, f LeadFilter, after LeadID) (leads []Lead, more bool, err error)

	// CountLeads counts the leads with status ("" = any) without reading
	// them.
	CountLeads(ctx context.Context, status Status) (int, error)
}

// OwnerIndex is what a Store with an owner index offers besides Store: the
// App Home then reads only the leads the person owns, not every qualified
// lead ever stored. A Store without it is read through the status index.
type OwnerIndex interface {
	// LeadsOwned returns the pending and qualified leads whose Owner is
	// owner, oldest first.
	LeadsOwned(ctx context.Context, owner string) ([]Lead, error)
}

// NewestIndex is what a Store may add so that "/qualify list all" and
// "list mine" read only the leads they show: the newest limit leads (of
// those user owns or added, when user is set), newest first, and how many
// there are in all. Service.NewestLeads falls back to reading every lead.
type NewestIndex interface {
	NewestLeads(ctx context.Context, user string, limit int) (leads []Lead, total int, err error)
}

// OutcomeIndex is what a Store with outcome indexes offers besides Store:
// the outcome check, the digest's "what became of these?" and the CRM
// read-back then read only the leads still waiting for an outcome, not
// every decision in their windows. A Store without it is read through
// TimeIndex or the status index (same results, cost growing with the
// decided leads).
type OutcomeIndex interface {
	// LeadsToAsk returns the decided leads without an outcome whose
	// decision is in [from, to) and whose card was not asked about that
	// decision yet (Reminder.OutcomeAsked before Decision.At), in decision
	// order.
	LeadsToAsk(ctx context.Context, from, to time.Time) ([]Lead, error)

	// AwaitingOutcome returns the first limit decided leads without an
	// outcome whose decision is in [from, to), in decision order, and how
	// many there are in all.
	AwaitingOutcome(ctx context.Context, from, to time.Time, limit int) (leads []Lead, total int, err error)

	// LeadsWithOpenDeals returns the decided leads without an outcome whose
	// decision is in [from, to) and that have a CRM record of kind "deal"
	// not gone, in decision order.
	LeadsWithOpenDeals(ctx context.Context, from, to time.Time) ([]Lead, error)
}
