// Package storage is the bbolt implementation of triage.Store: leads, their
// indexes, the Slack outbox and the bookkeeping that makes intake and Slack
// delivery idempotent. One file, one process: bbolt takes an exclusive lock,
// so a second leadtriage on the same file fails at Open with ErrLocked.
//
// # File layout
//
// Every value is JSON of a storage-private record (codec.go) carrying a "v"
// version field; the triage types have no json tags. Integer ids in keys are
// 8-byte big-endian, so byte order is numeric order; times in keys are 8-byte
// big-endian Unix nanoseconds (UTC), so byte order is time order. "|" below is
// a literal 0x7C byte between the parts of a composite key.
//
//	bucket                 key                          value
//	meta                   "schema_version"             decimal ASCII, currently "1"
//	leads                  lead id                      leadRecord
//	by_status              status|lead id               empty
//	by_email               email|lead id                empty (only leads with an e-mail)
//	by_domain              domain|lead id               empty (only leads with a domain)
//	by_message             channel|ts                   lead id (only leads whose card is posted)
//	idempotency            idempotency key              idemRecord {lead, fingerprint, expires}
//	idempotency_by_expiry  expires|idempotency key      empty
//	events_seen            Slack event id               seen-at time (8 bytes)
//	events_by_time         seen-at|Slack event id       empty
//	outbox                 outbox item id               outboxRecord (live items only)
//	outbox_dead            outbox item id               outboxRecord (dead letters, Dead = true)
//	outbox_by_lead         lead id                      outbox item id of the lead's pending card item
//
// Lead ids come from the leads bucket's NextSequence and outbox ids from the
// outbox bucket's, so ids are never reused, not even after a delete.
//
// The by_* buckets are indexes, rewritten in the same transaction as the lead
// (saveLead): by_status makes "all pending leads" cost what the pending leads
// cost, not what every lead ever stored costs. The *_by_expiry and
// *_by_time buckets let expired idempotency keys and old Slack event ids be
// pruned a few at a time from the front, without scanning.
//
// Dead letters live in their own bucket so that DueOutbox scans only live
// items. outbox_by_lead points at the live post_card/update_card item a card
// update is folded into (OutboxItem.Coalesces): a burst of votes on one lead
// becomes one chat.update, not one per vote.
//
// # Schema versions
//
// Open creates missing buckets and runs migrations in one transaction, then
// records the schema version. A file with a newer version than this code
// knows is refused rather than half-understood. A file that is not a bbolt
// database, or is truncated, is refused before bbolt maps it, and is never
// written to.
package storage
