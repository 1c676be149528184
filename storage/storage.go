package storage

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/leadtriage/leadtriage/triage"
)

// SchemaVersion is the file layout this code writes (see doc.go).
const SchemaVersion = 4

// Sentinel errors returned by Open.
var (
	// ErrLocked means another process holds the database file.
	ErrLocked = errors.New("database locked")
	// ErrCorrupt means the file is not a usable bbolt database (truncated,
	// damaged or something else altogether). It is never written to.
	ErrCorrupt = errors.New("database file damaged")
	// ErrSchemaTooNew means the file was written by a newer leadtriage.
	ErrSchemaTooNew = errors.New("database schema newer than this leadtriage")
)

// Bucket names; doc.go describes their keys and values.
var (
	bucketMeta          = []byte("meta")
	bucketLeads         = []byte("leads")
	bucketLeadIndex     = []byte("lead_index")
	bucketByMessage     = []byte("by_message")
	bucketIdem          = []byte("idempotency")
	bucketIdemExpiry    = []byte("idempotency_by_expiry")
	bucketEvents        = []byte("events_seen")
	bucketEventsByTime  = []byte("events_by_time")
	bucketOutbox        = []byte("outbox")
	bucketOutboxDead    = []byte("outbox_dead")
	bucketOutboxByLead  = []byte("outbox_by_lead")
	bucketOutboxUrgent  = []byte("outbox_urgent")
	bucketOutboxBlocked = []byte("outbox_blocked")
	// bucketOutboxCRM indexes the live items of the crm lane
	// (OutboxKind.Lane): the crm worker reads only these.
	bucketOutboxCRM     = []byte("outbox_crm")
	bucketCache         = []byte("cache")
	bucketCacheByExpiry = []byte("cache_by_expiry")
	bucketJobs          = []byte("jobs")
	bucketSignatures    = []byte("signatures_seen")
	bucketInbox         = []byte("inbox")

	allBuckets = [][]byte{
		bucketMeta, bucketLeads, bucketLeadIndex, bucketByMessage, bucketIdem, bucketIdemExpiry, bucketEvents,
		bucketEventsByTime, bucketOutbox, bucketOutboxDead, bucketOutboxByLead,
		bucketCache, bucketCacheByExpiry, bucketJobs, bucketOutboxUrgent,
		bucketSignatures, bucketInbox, bucketOutboxBlocked, bucketOutboxCRM,
	}

	keySchemaVersion = []byte("schema_version")
)

// DB is a leadtriage database: one bbolt file. It is safe for concurrent use.
type DB struct {
	// swap guards bolt: every transaction holds it for reading, Compact for
	// writing while it replaces the file (compact.go).
	swap sync.RWMutex
	bolt *bolt.DB
	opts options
	path string
	log  *slog.Logger

	now        func() time.Time
	writeFault func() error // WithWriteFault; nil in production
	health     writeHealth  // how the last write went, for Ping
	group      txGroup      // the shared group commit of CreateLead and the inbox (group.go)
}

var _ triage.Store = (*DB)(nil)

type options struct {
	lockTimeout time.Duration
	maxSize     int
	log         *slog.Logger
	writeFault  func() error
	now         func() time.Time
}

// Option configures Open.
type Option func(*options)

// WithLockTimeout sets how long Open waits for another process to release
// the file (default 1 s). Zero waits forever, which a service should not do.
func WithLockTimeout(d time.Duration) Option {
	return func(o *options) { o.lockTimeout = d }
}

// WithMaxSize caps the file at n bytes (0 = no cap): a write that would grow
// it further fails with an error wrapping triage.ErrStoreFull, as a full disk
// does. Useful to keep a runaway intake from filling the disk, and in tests.
func WithMaxSize(n int) Option {
	return func(o *options) { o.maxSize = n }
}

// WithLogger sets the logger for start-up and maintenance messages.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.log = l }
}

// lockedError keeps the exact sentence operators see while matching both
// ErrLocked and bbolt's ErrTimeout.
type lockedError struct{ path string }

func (e *lockedError) Error() string {
	return fmt.Sprintf("database %s is locked: is another leadtriage running?", e.path)
}

func (e *lockedError) Unwrap() []error { return []error{ErrLocked, berrors.ErrTimeout} }

// Open opens (creating if needed) the database at path, brings its schema up
// to date and, for a new file, verifies it before returning. A damaged file
// is refused with an error wrapping ErrCorrupt and left untouched; a file held
// by another process gives ErrLocked after the lock timeout.
func Open(path string, opts ...Option) (*DB, error) {
	o := options{lockTimeout: time.Second, log: slog.New(slog.DiscardHandler), now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}

	fresh := false
	switch info, err := os.Stat(path); {
	case errors.Is(err, fs.ErrNotExist):
		fresh = true
	case err != nil:
		return nil, fmt.Errorf("opening database %s: %w", path, err)
	case info.Size() == 0:
		fresh = true
	default:
		// bbolt trusts its meta page and panics (or faults) when the file is
		// shorter than the meta says, so look before it leaps.
		if err := verifyFile(path, info.Size()); err != nil {
			return nil, fmt.Errorf("opening database %s: %w: %w", path, ErrCorrupt, err)
		}
	}

	bdb, err := openBolt(path, o)
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, &lockedError{path: path}
	}
	if err != nil {
		if errors.Is(err, berrors.ErrInvalid) || errors.Is(err, berrors.ErrChecksum) || errors.Is(err, berrors.ErrVersionMismatch) {
			err = fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		return nil, fmt.Errorf("opening database %s: %w", path, err)
	}
	db := &DB{bolt: bdb, opts: o, path: path, log: o.log, now: o.now, writeFault: o.writeFault}
	db.health.lastOK = o.now() // Open just wrote (the schema check)

	if err := db.migrate(); err != nil {
		_ = bdb.Close()
		return nil, fmt.Errorf("opening database %s: %w", path, err)
	}
	if fresh {
		// A power cut while a new file is initialised can leave it unusable
		// (RELIABILITY D7): verify it before anyone relies on it.
		if err := db.Check(); err != nil {
			_ = bdb.Close()
			return nil, fmt.Errorf("verifying new database %s: %w", path, err)
		}
		o.log.Info("created database", slog.String("path", path), slog.Int("schema_version", SchemaVersion))
	}
	return db, nil
}

// openBolt opens the file, turning a bbolt panic or memory fault on a damaged
// file into an error instead of a crash.
func openBolt(path string, o options) (db *bolt.DB, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("%w: bbolt: %v", ErrCorrupt, r)
		}
	}()
	// bbolt's default fsync on every commit stays on: a lead acknowledged to
	// its sender must survive a power cut (RELIABILITY D5).
	return bolt.Open(path, 0o600, &bolt.Options{Timeout: o.lockTimeout, MaxSize: o.maxSize})
}

// migrate creates missing buckets, runs migrations and records the schema
// version, all in one transaction.
func (db *DB) migrate() error {
	return db.boltUpdate(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		version := 0
		if meta == nil {
			// Refuse to scribble our buckets into somebody else's bbolt file.
			var foreign []byte
			_ = tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
				foreign = bytes.Clone(name)
				return errStop
			})
			if foreign != nil {
				return fmt.Errorf("%w: not a leadtriage database (has bucket %q but no %q)", ErrCorrupt, foreign, bucketMeta)
			}
		} else if v := meta.Get(keySchemaVersion); v != nil {
			n, err := strconv.Atoi(string(v))
			if err != nil {
				return fmt.Errorf("%w: reading schema version %q: %w", ErrCorrupt, v, err)
			}
			version = n
		}
		if version > SchemaVersion {
			return fmt.Errorf("%w: the file has schema version %d, this leadtriage knows up to %d; upgrade leadtriage", ErrSchemaTooNew, version, SchemaVersion)
		}
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("creating bucket %s: %w", name, err)
			}
		}
		for v := version; v < SchemaVersion; v++ {
			if m := migrations[v]; m != nil {
				if err := m(tx); err != nil {
					return fmt.Errorf("migrating schema %d to %d: %w", v, v+1, err)
				}
			}
		}
		if version != SchemaVersion {
			if err := tx.Bucket(bucketMeta).Put(keySchemaVersion, []byte(strconv.Itoa(SchemaVersion))); err != nil {
				return fmt.Errorf("recording schema version: %w", err)
			}
		}
		return nil
	})
}

// migrations[v] turns schema v into v+1, after the buckets of the current
// schema exist. Version 0 is an empty file: nothing to convert.
var migrations = map[int]func(*bolt.Tx) error{
	1: migrateOutboxByLeadFamilies,
	2: migrateLeadIndex,
	3: migrateOutcomeIndex,
}

// migrateOutboxByLeadFamilies (schema 1 → 2) rewrites outbox_by_lead keys
// from the bare lead id, which meant the card, to lead id|"card", now that
// the checklist has pending items of its own.
func migrateOutboxByLeadFamilies(tx *bolt.Tx) error {
	b := tx.Bucket(bucketOutboxByLead)
	type entry struct{ key, value []byte }
	var old []entry
	// Collect first: changing a bucket under its cursor can skip entries.
	if err := b.ForEach(func(k, v []byte) error {
		if len(k) == 8 {
			old = append(old, entry{bytes.Clone(k), bytes.Clone(v)})
		}
		return nil
	}); err != nil {
		return err
	}
	for _, e := range old {
		if err := b.Delete(e.key); err != nil {
			return fmt.Errorf("rewriting outbox index of lead %s: %w", triage.LeadID(fromU64(e.key)), err)
		}
		if err := b.Put(join(e.key, []byte(triage.OutboxPostCard.Family())), e.value); err != nil {
			return fmt.Errorf("rewriting outbox index of lead %s: %w", triage.LeadID(fromU64(e.key)), err)
		}
	}
	return nil
}

var errStop = errors.New("stop")

// verifyFile checks what bbolt would trust blindly: a valid meta page whose
// high-water mark lies inside the file.
func verifyFile(path string, size int64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()

	const metaOffset = 16 // after the page header
	read := func(off int64) (fileMeta, bool) {
		buf := make([]byte, metaOffset+64)
		if _, err := f.ReadAt(buf, off); err != nil {
			return fileMeta{}, false
		}
		return parseMeta(buf[metaOffset:])
	}
	var metas []fileMeta
	m0, ok0 := read(0)
	if ok0 {
		metas = append(metas, m0)
		if m1, ok := read(int64(m0.pageSize)); ok {
			metas = append(metas, m1)
		}
	} else {
		for _, ps := range []int64{4096, 8192, 16384, 32768, 65536, int64(os.Getpagesize())} {
			if m1, ok := read(ps); ok && int64(m1.pageSize) == ps {
				metas = append(metas, m1)
				break
			}
		}
	}
	if len(metas) == 0 {
		return errors.New("no valid bbolt meta page (not a bbolt file, or damaged)")
	}
	// bbolt uses the valid meta with the highest transaction id.
	m := metas[0]
	if len(metas) == 2 && metas[1].txid > m.txid {
		m = metas[1]
	}
	if need := int64(m.pgid) * int64(m.pageSize); size < need {
		return fmt.Errorf("file is %d bytes but its meta page says %d are in use (truncated?)", size, need)
	}
	if m.root >= m.pgid || (m.freelist >= m.pgid && m.freelist != ^uint64(0)) {
		return errors.New("meta page points outside the file")
	}
	return nil
}

type fileMeta struct {
	pageSize uint32
	root     uint64
	freelist uint64
	pgid     uint64
	txid     uint64
}

// parseMeta decodes bbolt's meta struct (native byte order, as bbolt writes
// it) and validates magic, format version and checksum.
func parseMeta(b []byte) (fileMeta, bool) {
	const (
		magic        = 0xED0CDAED
		version      = 2
		checksumOffs = 56
	)
	e := binary.NativeEndian
	if len(b) < checksumOffs+8 || e.Uint32(b[0:]) != magic || e.Uint32(b[4:]) != version {
		return fileMeta{}, false
	}
	h := fnv.New64a()
	_, _ = h.Write(b[:checksumOffs])
	if h.Sum64() != e.Uint64(b[checksumOffs:]) {
		return fileMeta{}, false
	}
	m := fileMeta{
		pageSize: e.Uint32(b[8:]),
		root:     e.Uint64(b[16:]),
		freelist: e.Uint64(b[32:]),
		pgid:     e.Uint64(b[40:]),
		txid:     e.Uint64(b[48:]),
	}
	if m.pageSize < 512 || m.pageSize&(m.pageSize-1) != 0 {
		return fileMeta{}, false
	}
	return m, true
}

// Close releases the file. Use the DB no more afterwards.
func (db *DB) Close() error {
	db.swap.Lock()
	defer db.swap.Unlock()
	if err := db.bolt.Close(); err != nil {
		return fmt.Errorf("closing database %s: %w", db.path, err)
	}
	return nil
}

// Path is the database file's path.
func (db *DB) Path() string { return db.path }

// Bolt exposes the underlying bbolt handle for tests and maintenance tools.
// Application code goes through the triage.Store methods. Compact replaces
// the handle: do not keep it across one.
func (db *DB) Bolt() *bolt.DB {
	db.swap.RLock()
	defer db.swap.RUnlock()
	return db.bolt
}

// Check runs bbolt's consistency check and reports the first problem found.
func (db *DB) Check() error {
	err := db.boltView(func(tx *bolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	})
	if err != nil {
		return fmt.Errorf("checking database %s: %w", db.path, err)
	}
	return nil
}

// Backup writes a consistent snapshot of the whole database to w while the
// database stays in use (one read transaction), and returns the bytes written.
func (db *DB) Backup(w io.Writer) (int64, error) {
	var n int64
	err := db.boltView(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("backing up database %s: %w", db.path, err)
	}
	return n, nil
}

// Ping reports whether the store is usable: it fails once the DB is closed,
// and, wrapping ErrCannotWrite, while it cannot write: the last write failed
// (Ping then probes again each time, so it recovers by itself), or a probe
// written when no write succeeded for ProbeEvery failed. Its errors name the
// cause, never the file: /healthz shows them to anyone.
func (db *DB) Ping(ctx context.Context) error {
	err := db.view(ctx, "pinging database", func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta) == nil {
			return errors.New("meta bucket missing")
		}
		return nil
	})
	if err != nil {
		return err
	}
	return db.checkWrite(ctx)
}

// passErr marks an error from the domain (or a not-found) that a write
// transaction returns as is; any other failure of a write is the store's and
// wraps triage.ErrStoreFull so callers answer 503 and the sender retries.
type passErr struct{ err error }

func (e passErr) Error() string { return e.err.Error() }

func pass(err error) error {
	if err == nil {
		return nil
	}
	return passErr{err}
}

func (db *DB) update(ctx context.Context, what string, fn func(*bolt.Tx) error) error {
	return db.write(ctx, what, db.boltUpdate, fn)
}

// write is update with the commit to use: bbolt's Update, or groupUpdate
// for writes that share commits under concurrency.
func (db *DB) write(ctx context.Context, what string, commit func(func(*bolt.Tx) error) error, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	takes := triage.InboxKey(ctx) != "" // this change takes ctx's inbox entry
	fn, err := consumeInbox(ctx, fn)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if db.writeFault != nil {
		err = db.writeFault()
	}
	if err == nil {
		err = commit(fn)
	}
	if err == nil {
		db.health.note(nil, db.now())
		if takes {
			triage.NoteInboxDone(ctx)
		}
		return nil
	}
	var p passErr
	switch {
	case errors.As(err, &p):
		return fmt.Errorf("%s: %w", what, p.err)
	case errors.Is(err, triage.ErrNotFound):
		return fmt.Errorf("%s: %w", what, err)
	}
	db.health.note(err, db.now())
	triage.NoteInboxFailure(ctx) // the entry stays, to be tried again
	return fmt.Errorf("%s: %w: %w", what, triage.ErrStoreFull, err)
}

func (db *DB) view(ctx context.Context, what string, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := db.boltView(fn); err != nil {
		var p passErr
		if errors.As(err, &p) {
			err = p.err
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}
