package storage

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// ProbeEvery is how often Ping writes a probe while writes succeed and none
// happened lately. While the last write failed, every Ping probes, so that
// health recovers as soon as the disk does.
const ProbeEvery = 30 * time.Second

// ErrCannotWrite is wrapped by Ping while the store cannot write: the last
// write (a real one or Ping's probe) failed.
var ErrCannotWrite = errors.New("store cannot write")

var keyHealthProbe = []byte("health_probe")

// probeSize is the size of the probe Ping writes: about a large lead, so
// that a database too full for a lead is not declared healthy by a write of
// a few bytes that still fits in a free page.
const probeSize = 16 << 10

// WithWriteFault makes every write transaction call fault first; a non-nil
// error fails the write as a full or broken disk would, without touching the
// file. For tests and failure drills; nil (the default) costs nothing.
func WithWriteFault(fault func() error) Option {
	return func(o *options) { o.writeFault = fault }
}

// WithClock sets the clock that paces Ping's write probes (time.Now by
// default).
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// writeHealth remembers how writes went, for Ping. A real write that failed
// counts for ProbeEvery even when a probe succeeds meanwhile: a database too
// full for a lead may still take a probe. A real write that succeeds clears
// it at once.
type writeHealth struct {
	mu        sync.Mutex
	failed    error     // the last write's error (real or probe); nil when it succeeded
	realErr   error     // the last real write's error, until a real write succeeds
	realErrAt time.Time // when realErr happened
	lastOK    time.Time // the last successful real write
	lastProbe time.Time
}

// note records how a real write went.
func (h *writeHealth) note(err error, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failed = err
	if err == nil {
		h.realErr, h.lastOK = nil, now
		return
	}
	h.realErr, h.realErrAt = err, now
}

// noteProbe records how a probe went.
func (h *writeHealth) noteProbe(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failed = err
}

// probeDue reports whether Ping should write a probe now, and records it:
// at every Ping while something failed, else when no real write and no
// probe happened for ProbeEvery.
func (h *writeHealth) probeDue(now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failed == nil && h.realErr == nil && (now.Sub(h.lastOK) < ProbeEvery || now.Sub(h.lastProbe) < ProbeEvery) {
		return false
	}
	h.lastProbe = now
	return true
}

// status is the write half of Ping's answer at now.
func (h *writeHealth) status(now time.Time) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.failed != nil:
		return h.failed
	case h.realErr != nil && now.Sub(h.realErrAt) < ProbeEvery:
		return h.realErr
	}
	return nil
}

// checkWrite is Ping's write half: a probe write when one is due (see
// probeDue), then the verdict. Its error names the cause but not the file.
func (db *DB) checkWrite(ctx context.Context) error {
	now := db.now()
	if db.health.probeDue(now) {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("probing database writes: %w", err)
		}
		var err error
		if db.writeFault != nil {
			err = db.writeFault()
		}
		if err == nil {
			err = db.boltUpdate(func(tx *bolt.Tx) error {
				v := make([]byte, probeSize)
				copy(v, timeKey(now))
				return tx.Bucket(bucketMeta).Put(keyHealthProbe, v)
			})
		}
		db.health.noteProbe(err)
	}
	if err := db.health.status(now); err != nil {
		return fmt.Errorf("%w: %s", ErrCannotWrite, writeReason(err))
	}
	return nil
}

// writeReason says why a write failed in words fit for an unauthenticated
// health answer: the error class, never the path.
func writeReason(err error) string {
	var errno syscall.Errno
	switch {
	case errors.As(err, &errno):
		return errno.Error() // "no space left on device", "file too large", …
	case errors.Is(err, berrors.ErrMaxSizeReached):
		return "the database reached its maximum size"
	case errors.Is(err, berrors.ErrDatabaseNotOpen):
		return "the database is closed"
	case errors.Is(err, berrors.ErrDatabaseReadOnly):
		return "the database is read-only"
	}
	return "write failed"
}
