package storage

import (
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/leadtriage/leadtriage/triage"
)

// DueCRM implements crm.Store: the live items of the crm lane due at now,
// in id order, at most limit (<= 0: no limit), read through outbox_crm so a
// Slack backlog costs the crm worker nothing.
func (db *DB) DueCRM(ctx context.Context, now time.Time, limit int) ([]triage.OutboxItem, error) {
	var due []triage.OutboxItem
	err := db.view(ctx, "listing due crm items", func(tx *bolt.Tx) error {
		due = nil
		return forCRM(tx, func(it triage.OutboxItem) bool {
			if !it.NextAt.After(now) {
				due = append(due, it)
			}
			return limit <= 0 || len(due) < limit
		})
	})
	if err != nil {
		return nil, err
	}
	return due, nil
}

// NextCRM implements crm.Store: when the earliest crm item is due (zero: at
// once), and false when there is none.
func (db *DB) NextCRM(ctx context.Context) (time.Time, bool, error) {
	var (
		at time.Time
		ok bool
	)
	err := db.view(ctx, "finding next crm item", func(tx *bolt.Tx) error {
		at, ok = time.Time{}, false
		return forCRM(tx, func(it triage.OutboxItem) bool {
			if !ok || it.NextAt.Before(at) {
				at, ok = it.NextAt, true
			}
			return !at.IsZero() // nothing is earlier than "at once"
		})
	})
	if err != nil {
		return time.Time{}, false, err
	}
	return at, ok, nil
}

// forCRM calls fn with each live crm-lane item in id order while fn returns
// true.
func forCRM(tx *bolt.Tx, fn func(triage.OutboxItem) bool) error {
	outbox := tx.Bucket(bucketOutbox)
	c := tx.Bucket(bucketOutboxCRM).Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		v := outbox.Get(k)
		if v == nil {
			continue
		}
		it, err := decodeOutbox(v)
		if err != nil {
			return fmt.Errorf("outbox item %d: %w", fromU64(k), err)
		}
		if !fn(it) {
			return nil
		}
	}
	return nil
}

// ExpandCRM implements crm.Store: it replaces live item id with items (one
// delivery per receiver) in one transaction, so each receiver's delivery
// then fails or succeeds on its own. ErrNotFound if id is not pending
// (erased meanwhile): nothing is written.
func (db *DB) ExpandCRM(ctx context.Context, id uint64, items []triage.OutboxItem) error {
	for _, it := range items {
		if it.Kind.Lane() != triage.LaneCRM {
			return fmt.Errorf("expanding outbox item %d into a %s item: %w", id, it.Kind, triage.ErrInvalid)
		}
	}
	return db.update(ctx, fmt.Sprintf("expanding outbox item %d", id), func(tx *bolt.Tx) error {
		it, err := liveItem(tx, id)
		if err != nil {
			return err
		}
		if err := deleteLive(tx, it); err != nil {
			return err
		}
		return enqueue(tx, items)
	})
}
