// Package storage is the bbolt implementation of triage.Store: leads, their
// indexes, the Slack outbox and the bookkeeping that makes intake and Slack
// delivery idempotent, and a TTL cache for research results. One file, one process: bbolt takes an exclusive lock,
// so a second leadtriage on the same file fails at Open with ErrLocked.
//
// # File layout
//
// Every value but the cache's (and the inbox's raw body after its record) is JSON of a storage-private record (codec.go)
// carrying a "v" version field; the triage types have no json tags. Integer ids in keys are
// 8-byte big-endian, so byte order is numeric order; times in keys are 8-byte
// big-endian Unix nanoseconds (UTC), so byte order is time order. "|" below is
// a literal 0x7C byte between the parts of a composite key.
//
//	bucket                 key                          value
//	meta                   "schema_version"             decimal ASCII, currently "4"
//	leads                  lead id                      leadRecord
//	lead_index             "S" status|lead id           empty: every lead
//	                       "E" email|lead id            empty (only leads with an e-mail)
//	                       "D" domain|lead id           empty (only leads with a domain)
//	                       "c" created lead id          empty: every lead with a creation time
//	                       "d" decided lead id          empty: decided leads (not pending)
//	                       "r" decided lead id          empty: disqualified leads not shown for a second look since
//	                       "O" owner|lead id            empty: pending and qualified leads with an owner
//	                       "U" user|lead id             empty: every lead a user owns or added
//	                       "W" decided lead id          empty: decided leads without an outcome
//	                       "A" decided lead id          empty: those of them not asked about for their current decision
//	                       "K" decided lead id          empty: those of them with a CRM deal not gone
//	by_message             channel|ts                   lead id (only leads whose card is posted)
//	idempotency            idempotency key              idemRecord {lead, fingerprint, expires}
//	idempotency_by_expiry  expires|idempotency key      empty
//	events_seen            inbox mark (Slack event id)  seen-at time (8 bytes)
//	events_by_time         seen-at|Slack event id       empty (ids recorded before the inbox; only pruned now)
//	inbox                  inbox entry id               inboxRecord {v, kind, mark, at}, a newline, the raw body (accepted, not yet acted on)
//	outbox                 outbox item id               outboxRecord (live items only)
//	outbox_dead            outbox item id               outboxRecord (dead letters, Dead = true)
//	outbox_by_lead         lead id|family               outbox item id of the lead's pending item of that family ("card", "checklist")
//	outbox_urgent          outbox item id               empty (live items of an urgent kind, OutboxKind.Urgent: listed first)
//	outbox_blocked         outbox item id               the cause (live items parked on a cause a person can fix, OutboxItem.Blocked)
//	outbox_crm             outbox item id               empty (live items of the crm lane, OutboxKind.Lane: domain events and webhook deliveries, which the bot's worker skips)
//	cache                  cache key (≤ 512 bytes)      expires (8 bytes) + value (≤ 1 MiB, opaque)
//	cache_by_expiry        expires|cache key            empty
//	jobs                   job key ("digest|<local time>", "purged|L-7")  when it ran (8 bytes, unix nanos)
//	signatures_seen        expires|sha256("<t>.<body>") empty: signed intake requests already accepted (replay guard)
//
// Lead ids come from the leads bucket's NextSequence and outbox ids from the
// outbox bucket's, so ids are never reused, not even after a delete.
//
// lead_index and by_message are indexes, rewritten in the same transaction
// as the lead (saveLead): the status entries make "all pending leads" cost
// what the pending leads cost, not what every lead ever stored costs, and
// the time entries (created, decided, revisit; "c", "d", "r" followed by
// 8-byte time and 8-byte id, no separator) do the same for the digest's
// "decided since", its second looks and week, and for retention's
// "decided before" (triage.TimeIndex). One bucket with a typed first byte
// instead of one per index: a lead's entries share its branch pages, and
// an index costs no bucket of its own. The *_by_expiry and
// *_by_time buckets let expired idempotency keys and old Slack event ids be
// pruned a few at a time from the front, without scanning (events_by_time
// only for ids recorded before the inbox).
//
// The cache is a TTL key-value store for adapters that must not repeat
// expensive look-ups (research results per domain: GetCache, PutCache). Its
// values are bytes storage does not interpret, so they carry no JSON record
// and no version; the owner of a key encodes and versions what it stores. An
// entry that expired counts as missing at once; it is deleted later, a few at
// a time by GetCache and all at once by Prune, from the front of
// cache_by_expiry.
//
// signatures_seen remembers each signed intake request (X-Leadtriage-Signature
// t=…,v1=…) until its timestamp leaves the tolerance, so that a captured
// request cannot be replayed; expired keys are pruned from the front.
// inbox holds every Slack request that can change state, written with its
// de-duplication mark (events_seen) in one transaction before Slack gets its
// acknowledgement (AdmitInbox, group-committed: concurrent requests share an
// fsync). An entry leaves in the same transaction as its effect: update
// removes the entry whose key the context carries (triage.WithInboxKey), so
// after a crash an entry is either still there, and replayed at start, or
// done. Marks outlive their entries for EventRetention, so a Slack retry
// after the effect is still a repeat. Marks have no time index (one bucket
// less to write before the ack): an expired mark counts as gone at once,
// and Prune finds expired ones by scanning events_seen. A bucket added
// without a new schema version, like cache.
//
// jobs holds the exactly-once markers of scheduled work (MarkJob, LastJob):
// a digest run is keyed by its local scheduled time, so a double cron tick
// or a catch-up after downtime sends it once. "purged|L-7" is the PII-free
// audit line of a lead removed by privacy.retention or an erasure, and
// "forgotten|<salted hash>|<by>|<time>|<ids>" that of an erasure request
// (triage.Service.Forget); the salt is meta's "audit_salt" (AuditSalt).
//
// A lead's record keeps the places of the bot's other messages about it
// ("posted": thread replies, reminders, DMs, and digest parts that name it,
// marked "digest"), so that a purge deletes them in Slack too (a digest
// part is redacted instead). After a purge that matters, Compact copies the live data
// into a new file and swaps it in (compact.go): bbolt leaves deleted bytes
// in freed pages, and an erasure must not.
//
// Dead letters live in their own bucket so that DueOutbox scans only live
// items. outbox_by_lead points, per lead and family (OutboxKind.Family), at
// the live post or update item a later update is folded into
// (OutboxItem.Coalesces): a burst of votes on one lead becomes one
// chat.update of the card, a burst of answers one of the checklist, and the
// two families never fold into each other.
//
// # Schema versions
//
// Open creates missing buckets and runs migrations in one transaction, then
// records the schema version. A bucket added without a change of layout
// (cache, cache_by_expiry, jobs, signatures_seen, inbox) is simply created in files that lack it, without a
// new schema version: older leadtriage ignores buckets it does not know. A file with a newer version than this code
// knows is refused rather than half-understood. A file that is not a bbolt
// database, or is truncated, is refused before bbolt maps it, and is never
// written to.
//
// Schema 2 (issue 4) keys outbox_by_lead by lead id|family; schema 1 keyed it
// by the bare lead id, meaning the card. Open rewrites schema 1 keys.
//
// Schema 3 (issue 14) replaces by_status, by_email and by_domain with
// lead_index and adds its time and owner entries. Open builds lead_index from the lead
// records and drops the three buckets, in the migration transaction; an
// older leadtriage refuses the result (schema newer than it knows).
//
// Schema 4 (issue 15's outcomes, made flat) adds the W, A and K entries to
// lead_index: Open adds them for every lead in the migration transaction.
package storage
