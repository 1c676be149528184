package storage

import (
	"sync"

	bolt "go.etcd.io/bbolt"
)

// txGroup commits concurrent writes — CreateLead, and the inbox's
// AdmitInbox and DoneInbox before and after each Slack ack — in one bbolt
// transaction, and so one fsync (issues 10 and 14). It adds no delay:
// the first caller commits at once (bbolt's DB.Batch waits up to 10 ms for
// company, which a single sender would pay on every lead); callers arriving
// meanwhile queue up, and one of them commits them all when the commit in
// flight is done.
type txGroup struct {
	mu      sync.Mutex
	cond    *sync.Cond
	busy    bool
	pending []*groupCall
}

type groupCall struct {
	fn       func(*bolt.Tx) error
	err      error
	finished bool
}

// groupUpdate runs fn in a write transaction shared with the calls waiting
// at the time. fn must be safe to run again: when another call of its group
// fails, the others run again together without it (as with DB.Batch).
func (db *DB) groupUpdate(fn func(*bolt.Tx) error) error {
	g := &db.group
	c := &groupCall{fn: fn}
	g.mu.Lock()
	if g.cond == nil {
		g.cond = sync.NewCond(&g.mu)
	}
	g.pending = append(g.pending, c)
	for g.busy && !c.finished {
		g.cond.Wait()
	}
	if c.finished {
		g.mu.Unlock()
		return c.err
	}
	g.busy = true
	batch := g.pending
	g.pending = nil
	g.mu.Unlock()

	db.commitGroup(batch)

	g.mu.Lock()
	for _, b := range batch {
		b.finished = true
	}
	g.busy = false
	g.cond.Broadcast()
	g.mu.Unlock()
	return c.err
}

// commitGroup commits batch in one transaction. A call that fails is taken
// out and run alone, so that its error (a reused idempotency key, a full
// disk) is its own; the rest run again together.
func (db *DB) commitGroup(batch []*groupCall) {
	for len(batch) > 1 {
		failed := -1
		err := db.boltUpdate(func(tx *bolt.Tx) error {
			for i, c := range batch {
				if err := c.fn(tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed < 0 {
			for _, c := range batch {
				c.err = err // nil, or the commit's own failure: nothing was stored
			}
			return
		}
		batch[failed].err = db.boltUpdate(batch[failed].fn)
		batch = append(batch[:failed:failed], batch[failed+1:]...)
	}
	if len(batch) == 1 {
		batch[0].err = db.boltUpdate(batch[0].fn)
	}
}
