package storage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/leadtriage/leadtriage/triage"
)

// inboxRecordV is the version of inboxRecord (see codec.go).
const inboxRecordV = 1

// Limits of an inbox entry: a mark is a bbolt key in events_seen, and a body
// is a request an adapter already capped.
const (
	maxInboxMark = 512
	maxInboxBody = 4 << 20
	maxInboxKind = 64
)

// inboxRecord is a triage.InboxEntry's header as stored; the key is the
// bucket key. The stored value is the record's JSON, a newline (which
// compact JSON never contains) and then the body as it is: base64 in JSON
// would make it a third larger, and a Slack payload of a few KiB would
// spill into more pages for the fsync before the ack.
type inboxRecord struct {
	V    int       `json:"v"`
	Kind string    `json:"kind"`
	Mark string    `json:"mark,omitempty"`
	At   time.Time `json:"at"`
}

func encodeInbox(e triage.InboxEntry) ([]byte, error) {
	head, err := json.Marshal(inboxRecord{V: inboxRecordV, Kind: e.Kind, Mark: e.Mark, At: e.At.UTC()})
	if err != nil {
		return nil, fmt.Errorf("encoding inbox entry: %w", err)
	}
	v := make([]byte, 0, len(head)+1+len(e.Body))
	v = append(v, head...)
	v = append(v, '\n')
	return append(v, e.Body...), nil
}

// decodeInbox decodes a stored value; the body is copied out of bbolt's
// memory.
func decodeInbox(v []byte) (triage.InboxEntry, error) {
	head, body, ok := bytes.Cut(v, []byte{'\n'})
	if !ok {
		return triage.InboxEntry{}, errors.New("no body separator")
	}
	var r inboxRecord
	if err := json.Unmarshal(head, &r); err != nil {
		return triage.InboxEntry{}, err
	}
	if r.V != inboxRecordV {
		return triage.InboxEntry{}, fmt.Errorf("unknown version %d", r.V)
	}
	return triage.InboxEntry{Kind: r.Kind, Mark: r.Mark, Body: bytes.Clone(body), At: r.At}, nil
}

// AdmitInbox implements bot.InboxStore: the mark goes to events_seen and the
// entry to inbox, in one transaction shared with the other calls that are
// waiting for a commit. A mark older than InboxMarkRetention counts as
// gone even before Prune deletes it. Marks get no time index: one bucket
// less to write before the ack (Prune scans events_seen instead).
func (db *DB) AdmitInbox(ctx context.Context, e triage.InboxEntry) (string, bool, error) {
	switch {
	case e.Kind == "" || len(e.Kind) > maxInboxKind:
		return "", false, fmt.Errorf("inbox entry kind must be 1–%d bytes: %w", maxInboxKind, triage.ErrInvalid)
	case len(e.Mark) > maxInboxMark:
		return "", false, fmt.Errorf("inbox mark longer than %d bytes: %w", maxInboxMark, triage.ErrInvalid)
	case len(e.Body) > maxInboxBody:
		return "", false, fmt.Errorf("inbox body larger than %d bytes: %w", maxInboxBody, triage.ErrInvalid)
	}
	var (
		key string
		dup bool
	)
	// groupUpdate shares the commit (and its fsync) with the other writes
	// waiting for one: under load many acks cost one fsync.
	err := db.write(ctx, "admitting to the inbox", db.groupUpdate, func(tx *bolt.Tx) error {
		key, dup = "", false // the function may run again with its group
		marks, inbox := tx.Bucket(bucketEvents), tx.Bucket(bucketInbox)
		if e.Mark != "" {
			mark := []byte(e.Mark)
			if seen := marks.Get(mark); seen != nil && !markExpired(seen, e.At) {
				dup = true
				return nil
			}
			if err := marks.Put(mark, timeKey(e.At)); err != nil {
				return fmt.Errorf("writing inbox mark: %w", err)
			}
		}
		seq, err := inbox.NextSequence()
		if err != nil {
			return fmt.Errorf("numbering inbox entry: %w", err)
		}
		v, err := encodeInbox(e)
		if err != nil {
			return pass(err)
		}
		if err := inbox.Put(u64(seq), v); err != nil {
			return fmt.Errorf("writing inbox entry: %w", err)
		}
		key = strconv.FormatUint(seq, 10)
		return nil
	})
	if err != nil {
		return "", false, err
	}
	return key, dup, nil
}

// markExpired reports whether a mark recorded at seen (events_seen's value)
// is past InboxMarkRetention at now.
func markExpired(seen []byte, now time.Time) bool {
	return len(seen) == 8 && int64(fromU64(seen)) < now.Add(-triage.InboxMarkRetention).UnixNano()
}

// Inbox implements bot.InboxStore.
func (db *DB) Inbox(ctx context.Context) ([]triage.InboxEntry, error) {
	var out []triage.InboxEntry
	err := db.view(ctx, "reading the inbox", func(tx *bolt.Tx) error {
		return tx.Bucket(bucketInbox).ForEach(func(k, v []byte) error {
			e, err := decodeInbox(v)
			if err != nil {
				return fmt.Errorf("decoding inbox entry %d: %w", fromU64(k), err)
			}
			e.Key = strconv.FormatUint(fromU64(k), 10)
			out = append(out, e)
			return nil
		})
	})
	return out, err
}

// DoneInbox implements bot.InboxStore. It shares AdmitInbox's group commit:
// under load, handlers that changed nothing finish many to an fsync too.
func (db *DB) DoneInbox(ctx context.Context, key string) error {
	k, err := inboxKey(key)
	if err != nil {
		return err
	}
	return db.write(ctx, "removing inbox entry "+key, db.groupUpdate, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketInbox).Delete(k)
	})
}

// inboxKey is the bucket key of an entry key AdmitInbox returned.
func inboxKey(key string) ([]byte, error) {
	n, err := strconv.ParseUint(key, 10, 64)
	if err != nil || n == 0 {
		return nil, fmt.Errorf("inbox key %q: %w", key, triage.ErrInvalid)
	}
	return u64(n), nil
}

// consumeInbox wraps fn so that the inbox entry whose key ctx carries
// (triage.WithInboxKey) is removed in the same transaction as fn's changes.
func consumeInbox(ctx context.Context, fn func(*bolt.Tx) error) (func(*bolt.Tx) error, error) {
	key := triage.InboxKey(ctx)
	if key == "" {
		return fn, nil
	}
	k, err := inboxKey(key)
	if err != nil {
		return nil, err
	}
	return func(tx *bolt.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		if err := tx.Bucket(bucketInbox).Delete(k); err != nil {
			return fmt.Errorf("removing inbox entry %s: %w", key, err)
		}
		return nil
	}, nil
}
