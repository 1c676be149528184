package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/leadtriage/leadtriage/triage"
)

// MaxLastError caps OutboxItem.LastError: Slack error bodies can be long and
// the item is rewritten on every attempt.
const MaxLastError = 500

// Enqueue implements triage.Store.
func (db *DB) Enqueue(ctx context.Context, items ...triage.OutboxItem) error {
	if len(items) == 0 {
		return nil
	}
	return db.update(ctx, "queueing outbox items", func(tx *bolt.Tx) error {
		return enqueue(tx, items)
	})
}

// enqueue stores items as new live items (fresh id, Seq 1, no attempts),
// except that an update of a lead's card or checklist is folded into the
// pending item of the same family (OutboxKind.Family) by bumping its Seq.
func enqueue(tx *bolt.Tx, items []triage.OutboxItem) error {
	outbox, byLead := tx.Bucket(bucketOutbox), tx.Bucket(bucketOutboxByLead)
	for _, it := range items {
		family := it.Kind.Family()
		if family != "" && it.Lead != 0 {
			folded, err := coalesce(tx, it)
			if err != nil {
				return err
			}
			if folded {
				continue
			}
		}
		id, err := outbox.NextSequence()
		if err != nil {
			return fmt.Errorf("assigning outbox id: %w", err)
		}
		it.ID, it.Seq, it.Attempts, it.LastError, it.Dead = id, 1, 0, "", false
		if err := putOutbox(outbox, it); err != nil {
			return err
		}
		if err := indexLane(tx, it); err != nil {
			return err
		}
		if family != "" && it.Lead != 0 {
			if err := byLead.Put(byLeadKey(it.Lead, family), u64(id)); err != nil {
				return fmt.Errorf("indexing outbox item %d: %w", id, err)
			}
		}
	}
	return nil
}

// indexLane indexes a new live item: urgent items in outbox_urgent, items
// of the crm lane in outbox_crm.
func indexLane(tx *bolt.Tx, it triage.OutboxItem) error {
	if it.Kind.Urgent() {
		if err := tx.Bucket(bucketOutboxUrgent).Put(u64(it.ID), nil); err != nil {
			return fmt.Errorf("indexing outbox item %d: %w", it.ID, err)
		}
	}
	if it.Kind.Lane() == triage.LaneCRM {
		if err := tx.Bucket(bucketOutboxCRM).Put(u64(it.ID), nil); err != nil {
			return fmt.Errorf("indexing outbox item %d: %w", it.ID, err)
		}
	}
	return nil
}

// byLeadKey is the outbox_by_lead key of a lead's pending item of a family:
// lead id|family. Schema 1 keyed the card family by the bare lead id; the
// migration to schema 2 rewrites those keys.
func byLeadKey(id triage.LeadID, family string) []byte {
	return join(u64(uint64(id)), []byte(family))
}

// coalesce folds it into its lead's pending item of the same family, if
// there is one that takes it (OutboxItem.Coalesces).
func coalesce(tx *bolt.Tx, it triage.OutboxItem) (bool, error) {
	outbox, byLead := tx.Bucket(bucketOutbox), tx.Bucket(bucketOutboxByLead)
	key := byLeadKey(it.Lead, it.Kind.Family())
	ref := byLead.Get(key)
	if ref == nil {
		return false, nil
	}
	if v := outbox.Get(ref); v != nil {
		pending, err := decodeOutbox(v)
		if err != nil {
			return false, fmt.Errorf("outbox item %d: %w", fromU64(ref), err)
		}
		if pending.Coalesces(it) {
			pending.Seq++
			return true, putOutbox(outbox, pending)
		}
	}
	// The index points at an item that is gone or cannot take this one.
	ref = bytes.Clone(ref) // Delete invalidates the bytes Get returned
	if err := byLead.Delete(key); err != nil {
		return false, fmt.Errorf("unindexing outbox item %d: %w", fromU64(ref), err)
	}
	return false, nil
}

func putOutbox(b *bolt.Bucket, it triage.OutboxItem) error {
	v, err := encodeOutbox(it)
	if err != nil {
		return err
	}
	if err := b.Put(u64(it.ID), v); err != nil {
		return fmt.Errorf("writing outbox item %d: %w", it.ID, err)
	}
	return nil
}

// liveItem loads a pending (not dead) item; ErrNotFound if there is none.
func liveItem(tx *bolt.Tx, id uint64) (triage.OutboxItem, error) {
	v := tx.Bucket(bucketOutbox).Get(u64(id))
	if v == nil {
		return triage.OutboxItem{}, fmt.Errorf("outbox item %d is not pending: %w", id, triage.ErrNotFound)
	}
	it, err := decodeOutbox(v)
	if err != nil {
		return triage.OutboxItem{}, fmt.Errorf("outbox item %d: %w", id, err)
	}
	return it, nil
}

// deleteLive removes a live item and its index entries.
func deleteLive(tx *bolt.Tx, it triage.OutboxItem) error {
	if err := tx.Bucket(bucketOutbox).Delete(u64(it.ID)); err != nil {
		return fmt.Errorf("deleting outbox item %d: %w", it.ID, err)
	}
	return unindex(tx, it)
}

// outboxIDIndexes are the indexes keyed by a live item's id alone.
var outboxIDIndexes = [][]byte{bucketOutboxUrgent, bucketOutboxBlocked, bucketOutboxCRM}

// unindexID removes a live item's entries in outboxIDIndexes (those it has).
func unindexID(tx *bolt.Tx, id []byte) error {
	for _, name := range outboxIDIndexes {
		if err := tx.Bucket(name).Delete(id); err != nil {
			return fmt.Errorf("unindexing outbox item %d: %w", fromU64(id), err)
		}
	}
	return nil
}

// unindex removes the item's urgent, blocked and crm entries, and the coalescing entry of its
// lead and family if that points at the item.
func unindex(tx *bolt.Tx, it triage.OutboxItem) error {
	if err := unindexID(tx, u64(it.ID)); err != nil {
		return err
	}
	family := it.Kind.Family()
	if it.Lead == 0 || family == "" {
		return nil
	}
	b := tx.Bucket(bucketOutboxByLead)
	k := byLeadKey(it.Lead, family)
	if bytes.Equal(b.Get(k), u64(it.ID)) {
		if err := b.Delete(k); err != nil {
			return fmt.Errorf("unindexing outbox item %d: %w", it.ID, err)
		}
	}
	return nil
}

// DueOutbox implements bot.DeliveryStore. limit <= 0 means no limit. It scans the
// live items only; dead letters are in a bucket of their own. Urgent items
// come first through their own index (outbox_urgent), so a backlog of paced
// posts cannot hide a confirmation behind the limit.
func (db *DB) DueOutbox(ctx context.Context, now time.Time, limit int) ([]triage.OutboxItem, error) {
	var due []triage.OutboxItem
	err := db.view(ctx, "listing due outbox items", func(tx *bolt.Tx) error {
		due = nil
		full := func() bool { return limit > 0 && len(due) >= limit }
		outbox, urgent := tx.Bucket(bucketOutbox), tx.Bucket(bucketOutboxUrgent)
		uc := urgent.Cursor()
		for k, _ := uc.First(); k != nil && !full(); k, _ = uc.Next() {
			v := outbox.Get(k)
			if v == nil {
				continue
			}
			it, err := decodeOutbox(v)
			if err != nil {
				return fmt.Errorf("outbox item %d: %w", fromU64(k), err)
			}
			if !it.NextAt.After(now) {
				due = append(due, it)
			}
		}
		crm := tx.Bucket(bucketOutboxCRM)
		c := outbox.Cursor()
		for k, v := c.First(); k != nil && !full(); k, v = c.Next() {
			if crm.Get(k) != nil {
				continue // the crm worker's (DueCRM), not decoded: a receiver's backlog costs this nothing
			}
			it, err := decodeOutbox(v)
			if err != nil {
				return fmt.Errorf("outbox item %d: %w", fromU64(k), err)
			}
			if it.NextAt.After(now) || it.Kind.Lane() != triage.LaneSlack {
				continue
			}
			// Listed above; an urgent item queued before the index existed
			// is not in it and comes in id order instead.
			if it.Kind.Urgent() && urgent.Get(k) != nil {
				continue
			}
			due = append(due, it)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return due, nil
}

// NextOutbox implements bot.DeliveryStore. An item due at once has a zero NextAt,
// so at is the zero time then.
func (db *DB) NextOutbox(ctx context.Context) (time.Time, bool, error) {
	var (
		at time.Time
		ok bool
	)
	err := db.view(ctx, "finding next outbox item", func(tx *bolt.Tx) error {
		at, ok = time.Time{}, false
		crm := tx.Bucket(bucketOutboxCRM)
		c := tx.Bucket(bucketOutbox).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if crm.Get(k) != nil {
				continue // the crm worker's (NextCRM), not decoded
			}
			it, err := decodeOutbox(v)
			if err != nil {
				return fmt.Errorf("outbox item %d: %w", fromU64(k), err)
			}
			if it.Kind.Lane() != triage.LaneSlack {
				continue // the crm worker's, should outbox_crm lack it
			}
			if !ok || it.NextAt.Before(at) {
				at, ok = it.NextAt, true
			}
			if at.IsZero() {
				break // nothing is earlier than "at once"
			}
		}
		return nil
	})
	if err != nil {
		return time.Time{}, false, err
	}
	return at, ok, nil
}

// CompleteOutbox implements triage.Store. An unknown (or dead) id returns
// ErrNotFound and applies nothing. If Seq moved on, the item stays due; a
// post item (post_card, post_checklist) then becomes its family's update
// item, because the message now exists and the folded changes only need a
// chat.update. If the item's lead
// no longer exists (erased), the item is still completed and fn is skipped.
func (db *DB) CompleteOutbox(ctx context.Context, id uint64, seq int, fn func(*triage.Lead) error) error {
	return db.update(ctx, fmt.Sprintf("completing outbox item %d", id), func(tx *bolt.Tx) error {
		it, err := liveItem(tx, id)
		if err != nil {
			return err
		}
		outbox := tx.Bucket(bucketOutbox)
		if it.Seq == seq {
			if err := deleteLive(tx, it); err != nil {
				return err
			}
		} else {
			// The message exists now; the folded changes need an update,
			// which finds nothing to look for first.
			it.Kind = updateKind(it.Kind)
			it.Attempts, it.LastError, it.Attempted = 0, "", time.Time{}
			if err := unblock(tx, &it); err != nil {
				return err
			}
			if err := putOutbox(outbox, it); err != nil {
				return err
			}
		}
		if fn == nil || it.Lead == 0 {
			return nil
		}
		err = applyToLead(tx, it.Lead, fn)
		var p passErr
		if err != nil && !errors.As(err, &p) && errors.Is(err, triage.ErrNotFound) {
			return nil
		}
		return err
	})
}

// updateKind is the kind that re-renders what a post kind posted; other
// kinds stay as they are.
func updateKind(k triage.OutboxKind) triage.OutboxKind {
	switch k {
	case triage.OutboxPostCard:
		return triage.OutboxUpdateCard
	case triage.OutboxPostChecklist:
		return triage.OutboxUpdateChecklist
	}
	return k
}

// RetryOutbox implements bot.DeliveryStore; ErrNotFound if id is not pending.
func (db *DB) RetryOutbox(ctx context.Context, id uint64, next time.Time, lastErr string) error {
	return db.update(ctx, fmt.Sprintf("rescheduling outbox item %d", id), func(tx *bolt.Tx) error {
		it, err := liveItem(tx, id)
		if err != nil {
			return err
		}
		it.Attempts++
		it.NextAt = next
		it.LastError = truncate(lastErr, MaxLastError)
		// Another failure than the cause it was parked on: the cause is gone.
		if err := unblock(tx, &it); err != nil {
			return err
		}
		return putOutbox(tx.Bucket(bucketOutbox), it)
	})
}

// MarkAttempted implements bot.DeliveryStore; ErrNotFound if id is not pending.
// It is a transaction of its own, committed (fsynced) before the call.
func (db *DB) MarkAttempted(ctx context.Context, id uint64, at time.Time) error {
	return db.update(ctx, fmt.Sprintf("marking outbox item %d attempted", id), func(tx *bolt.Tx) error {
		it, err := liveItem(tx, id)
		if err != nil {
			return err
		}
		it.Attempted = at
		return putOutbox(tx.Bucket(bucketOutbox), it)
	})
}

// DeadLetter implements bot.DeliveryStore: the item moves to the dead letters and
// is never due again. Dead-lettering a dead item again only updates its
// reason; an unknown id returns ErrNotFound.
func (db *DB) DeadLetter(ctx context.Context, id uint64, reason string) error {
	return db.update(ctx, fmt.Sprintf("dead-lettering outbox item %d", id), func(tx *bolt.Tx) error {
		dead := tx.Bucket(bucketOutboxDead)
		it, err := liveItem(tx, id)
		if errors.Is(err, triage.ErrNotFound) {
			v := dead.Get(u64(id))
			if v == nil {
				return err
			}
			if it, err = decodeOutbox(v); err != nil {
				return fmt.Errorf("outbox item %d: %w", id, err)
			}
		} else if err != nil {
			return err
		} else if err := deleteLive(tx, it); err != nil {
			return err
		}
		it.Dead = true
		it.LastError = truncate(reason, MaxLastError)
		it.Blocked, it.BlockedOn = "", ""
		return putOutbox(dead, it)
	})
}

// DeadLetters implements intake.Store, in id order.
func (db *DB) DeadLetters(ctx context.Context) ([]triage.OutboxItem, error) {
	var items []triage.OutboxItem
	err := db.view(ctx, "listing dead letters", func(tx *bolt.Tx) error {
		items = nil
		return tx.Bucket(bucketOutboxDead).ForEach(func(k, v []byte) error {
			it, err := decodeOutbox(v)
			if err != nil {
				return fmt.Errorf("outbox item %d: %w", fromU64(k), err)
			}
			items = append(items, it)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return items, nil
}

// RequeueDeadLetter implements intake.Store: the dead letter goes back into
// the outbox under its id, due at once, with no attempts and no post
// outstanding. It is indexed as a new item would be, except that it does not
// take over a coalescing entry a newer pending item of its family holds.
func (db *DB) RequeueDeadLetter(ctx context.Context, id uint64, at time.Time) (triage.OutboxItem, error) {
	var it triage.OutboxItem
	err := db.update(ctx, fmt.Sprintf("requeueing dead letter %d", id), func(tx *bolt.Tx) error {
		dead := tx.Bucket(bucketOutboxDead)
		v := dead.Get(u64(id))
		if v == nil {
			return fmt.Errorf("outbox item %d is not a dead letter: %w", id, triage.ErrNotFound)
		}
		var err error
		if it, err = decodeOutbox(v); err != nil {
			return fmt.Errorf("outbox item %d: %w", id, err)
		}
		if err := dead.Delete(u64(id)); err != nil {
			return fmt.Errorf("deleting dead letter %d: %w", id, err)
		}
		it.Dead, it.Attempts, it.NextAt, it.LastError, it.Attempted = false, 0, time.Time{}, "", time.Time{}
		it.Blocked, it.BlockedOn, it.Requeued = "", "", at
		if err := putOutbox(tx.Bucket(bucketOutbox), it); err != nil {
			return err
		}
		if err := indexLane(tx, it); err != nil {
			return err
		}
		if family := it.Kind.Family(); family != "" && it.Lead != 0 {
			byLead := tx.Bucket(bucketOutboxByLead)
			if k := byLeadKey(it.Lead, family); byLead.Get(k) == nil {
				if err := byLead.Put(k, u64(id)); err != nil {
					return fmt.Errorf("indexing outbox item %d: %w", id, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return triage.OutboxItem{}, err
	}
	return it, nil
}

// BlockOutbox implements bot.BlockedStore; ErrNotFound if id is not pending.
func (db *DB) BlockOutbox(ctx context.Context, id uint64, cause, on string, next time.Time) error {
	if cause == "" {
		return fmt.Errorf("blocking outbox item %d without a cause: %w", id, triage.ErrInvalid)
	}
	return db.update(ctx, fmt.Sprintf("blocking outbox item %d", id), func(tx *bolt.Tx) error {
		it, err := liveItem(tx, id)
		if err != nil {
			return err
		}
		it.Blocked, it.BlockedOn = cause, on
		it.NextAt = next
		it.LastError = truncate(cause, MaxLastError)
		if err := tx.Bucket(bucketOutboxBlocked).Put(u64(id), []byte(cause)); err != nil {
			return fmt.Errorf("indexing outbox item %d: %w", id, err)
		}
		return putOutbox(tx.Bucket(bucketOutbox), it)
	})
}

// unblock clears it's block and its index entry; the caller writes it.
func unblock(tx *bolt.Tx, it *triage.OutboxItem) error {
	if it.Blocked == "" {
		return nil
	}
	it.Blocked, it.BlockedOn = "", ""
	if err := tx.Bucket(bucketOutboxBlocked).Delete(u64(it.ID)); err != nil {
		return fmt.Errorf("unindexing outbox item %d: %w", it.ID, err)
	}
	return nil
}

// UnblockOutbox implements bot.BlockedStore, through the outbox_blocked index.
func (db *DB) UnblockOutbox(ctx context.Context) (int, error) {
	n := 0
	err := db.update(ctx, "making blocked outbox items due", func(tx *bolt.Tx) error {
		n = 0
		outbox := tx.Bucket(bucketOutbox)
		return forBlocked(tx, func(it triage.OutboxItem) error {
			n++
			if it.NextAt.IsZero() {
				return nil
			}
			it.NextAt = time.Time{}
			return putOutbox(outbox, it)
		})
	})
	return n, err
}

// BlockedOutbox implements bot.BlockedStore and intake.Store.
func (db *DB) BlockedOutbox(ctx context.Context) ([]triage.OutboxItem, error) {
	var items []triage.OutboxItem
	err := db.view(ctx, "listing blocked outbox items", func(tx *bolt.Tx) error {
		items = nil
		return forBlocked(tx, func(it triage.OutboxItem) error {
			items = append(items, it)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return items, nil
}

// forBlocked calls fn with each blocked live item, in id order. fn may
// rewrite the item (Put of an existing key) but not delete it.
func forBlocked(tx *bolt.Tx, fn func(triage.OutboxItem) error) error {
	outbox := tx.Bucket(bucketOutbox)
	var ids [][]byte
	if err := tx.Bucket(bucketOutboxBlocked).ForEach(func(k, _ []byte) error {
		ids = append(ids, bytes.Clone(k))
		return nil
	}); err != nil {
		return err
	}
	for _, k := range ids {
		v := outbox.Get(k)
		if v == nil {
			continue
		}
		it, err := decodeOutbox(v)
		if err != nil {
			return fmt.Errorf("outbox item %d: %w", fromU64(k), err)
		}
		if it.Blocked == "" {
			continue
		}
		if err := fn(it); err != nil {
			return err
		}
	}
	return nil
}

// truncate cuts s to at most n runes, marking the cut.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
