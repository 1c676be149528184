package storage

import (
	"bytes"
	"context"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/leadtriage/leadtriage/triage"
)

// timePage is how many leads EachLeadDecided and EachLeadCreated decode in
// one read transaction: a few hundred keep both the heap and the time a
// reader holds the file (a writer that must grow the file waits for it)
// small.
const timePage = 256

// EachLeadDecided implements triage.TimePager through the decided-at index.
func (db *DB) EachLeadDecided(ctx context.Context, from, to time.Time, fn func(triage.Lead) error) error {
	return db.eachByTime(ctx, "reading leads by decision time", ixDecided, from, to, timePage, fn)
}

// EachLeadCreated implements triage.TimePager through the created-at index.
func (db *DB) EachLeadCreated(ctx context.Context, from, to time.Time, fn func(triage.Lead) error) error {
	return db.eachByTime(ctx, "reading leads by creation time", ixCreated, from, to, timePage, fn)
}

var _ triage.TimePager = (*DB)(nil)

// eachByTime calls fn with the leads of a time index whose time is in
// [from, to), in index order, decoding at most page of them per read
// transaction and calling fn after it ends. Each page resumes at the
// first key the one before did not read.
func (db *DB) eachByTime(ctx context.Context, what string, kind byte, from, to time.Time, page int, fn func(triage.Lead) error) error {
	seek := timeIndexKey(kind, from, nil)
	end := timeIndexKey(kind, to, nil)
	leads := make([]triage.Lead, 0, page)
	for {
		var more bool
		err := db.view(ctx, what, func(tx *bolt.Tx) error {
			leads, more = leads[:0], false
			c := tx.Bucket(bucketLeadIndex).Cursor()
			for k, _ := c.Seek(seek); k != nil && k[0] == kind && bytes.Compare(k, end) < 0; k, _ = c.Next() {
				if len(k) != 17 {
					continue
				}
				if len(leads) == page {
					more = true
					// The next page starts at k, which this one did not
					// read. Copied: k lives only in tx.
					seek = bytes.Clone(k)
					return nil
				}
				l, ok, err := db.indexedLead(tx, kind, triage.LeadID(fromU64(k[9:])))
				if err != nil {
					return err
				}
				if ok {
					leads = append(leads, l)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, l := range leads {
			if err := fn(l); err != nil {
				return err
			}
		}
		if !more {
			return nil
		}
	}
}
