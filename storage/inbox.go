package storage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
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

// groupCommit batches concurrent AdmitInbox (and DoneInbox) calls into one bbolt
// transaction, and so one fsync. It needs no goroutine of its own and adds
// no delay: the first caller commits at once (bbolt's DB.Batch would wait
// up to MaxBatchDelay, 10 ms, which the ack budget cannot spare); callers
// arriving meanwhile queue up, and one of them commits them all together
// when the commit in flight is done.
type groupCommit struct {
	mu      sync.Mutex
	cond    *sync.Cond
	busy    bool
	pending []*admission
}

// admission is one AdmitInbox or DoneInbox call waiting for its commit.
type admission struct {
	entry    triage.InboxEntry
	done     []byte // DoneInbox: the entry to remove; nil for AdmitInbox
	key      string
	dup      bool
	err      error
	finished bool
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
	if err := ctx.Err(); err != nil {
		return "", false, fmt.Errorf("admitting to the inbox: %w", err)
	}
	a := &admission{entry: e}
	db.groupCommit(a)
	return a.key, a.dup, a.err
}

// groupCommit commits a together with the calls that are waiting, and
// returns once a's commit is done; a's fields hold its result.
func (db *DB) groupCommit(a *admission) {
	g := &db.admit
	g.mu.Lock()
	if g.cond == nil {
		g.cond = sync.NewCond(&g.mu)
	}
	g.pending = append(g.pending, a)
	for g.busy && !a.finished {
		g.cond.Wait()
	}
	if a.finished {
		g.mu.Unlock()
		return
	}
	// Nobody is committing: this caller commits everything queued so far.
	g.busy = true
	batch := g.pending
	g.pending = nil
	g.mu.Unlock()

	err := db.commitAdmissions(batch)

	g.mu.Lock()
	for _, b := range batch {
		if err != nil {
			b.key, b.dup, b.err = "", false, err
		}
		b.finished = true
	}
	g.busy = false
	g.cond.Broadcast()
	g.mu.Unlock()
}

// markExpired reports whether a mark recorded at seen (events_seen's value)
// is past InboxMarkRetention at now.
func markExpired(seen []byte, now time.Time) bool {
	return len(seen) == 8 && int64(fromU64(seen)) < now.Add(-triage.InboxMarkRetention).UnixNano()
}

// commitAdmissions writes a batch of admissions and removals in one
// transaction. A mark that appears
// twice in one batch is a repeat the second time: the first Put is visible
// to the second Get within the transaction.
func (db *DB) commitAdmissions(batch []*admission) error {
	var err error
	if db.writeFault != nil {
		err = db.writeFault()
	}
	if err == nil {
		err = db.boltUpdate(func(tx *bolt.Tx) error {
			marks, inbox := tx.Bucket(bucketEvents), tx.Bucket(bucketInbox)
			for _, a := range batch {
				if a.done != nil {
					if err := inbox.Delete(a.done); err != nil {
						return fmt.Errorf("removing inbox entry: %w", err)
					}
					continue
				}
				e := a.entry
				a.key, a.dup = "", false
				if e.Mark != "" {
					mark := []byte(e.Mark)
					if seen := marks.Get(mark); seen != nil && !markExpired(seen, e.At) {
						a.dup = true
						continue
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
				a.key = strconv.FormatUint(seq, 10)
			}
			return nil
		})
	}
	if err == nil {
		// The inbox is the first write after every Slack click: /healthz
		// hears of it like any other write (RELIABILITY D13).
		db.health.note(nil, db.now())
		return nil
	}
	var p passErr
	if errors.As(err, &p) {
		return fmt.Errorf("admitting to the inbox: %w", p.err)
	}
	db.health.note(err, db.now())
	return fmt.Errorf("admitting to the inbox: %w: %w", triage.ErrStoreFull, err)
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
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("removing inbox entry %s: %w", key, err)
	}
	a := &admission{done: k}
	db.groupCommit(a)
	return a.err
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
