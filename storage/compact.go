package storage

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

const (
	// compactTxSize bounds one transaction of the copy into the new file.
	compactTxSize = 16 << 20
	// compactWait is how long Compact waits for a moment with no
	// transaction running.
	compactWait = 30 * time.Second
)

// boltUpdate and boltView run one bbolt transaction on the current file;
// Compact waits for them and they wait for Compact. They are the only way
// to the bbolt handle, and must not be nested (a pending Compact would
// deadlock a nested read lock).
func (db *DB) boltUpdate(fn func(*bolt.Tx) error) error {
	db.swap.RLock()
	defer db.swap.RUnlock()
	return db.bolt.Update(fn)
}

func (db *DB) boltView(fn func(*bolt.Tx) error) error {
	db.swap.RLock()
	defer db.swap.RUnlock()
	return db.bolt.View(fn)
}

// Compact rewrites the database into a new file with only its live data and
// swaps it in, holding every transaction meanwhile. bbolt keeps a deleted
// value's bytes in freed pages until they happen to be reused, so an
// erasure (forget) compacts to make the erased bytes leave the file. It
// copies the whole database: seconds for a large one, during which writes
// wait. The old file's blocks are freed to the file system, not overwritten.
func (db *DB) Compact(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("compacting database %s: %w", db.path, err)
	}
	// TryLock, not Lock: a waiting Lock would stop every new transaction
	// behind a long one (a backup streaming to a slow client).
	deadline := time.Now().Add(compactWait)
	for !db.swap.TryLock() {
		if time.Now().After(deadline) {
			return fmt.Errorf("compacting database %s: still busy after %v (a backup running?); the next erasure or retention run tries again", db.path, compactWait)
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("compacting database %s: %w", db.path, err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	defer db.swap.Unlock()
	tmp := db.path + ".compact"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("compacting database %s: removing a stale copy: %w", db.path, err)
	}
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: db.opts.lockTimeout, MaxSize: db.opts.maxSize})
	if err != nil {
		return fmt.Errorf("compacting database %s: %w", db.path, err)
	}
	err = bolt.Compact(dst, db.bolt, compactTxSize)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("compacting database %s: %w", db.path, err)
	}
	// The copy is complete and synced (bbolt fsyncs each commit): from the
	// rename on, the new file is the database.
	if err := os.Rename(tmp, db.path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("compacting database %s: swapping the files: %w", db.path, err)
	}
	syncDir(filepath.Dir(db.path))
	if err := db.bolt.Close(); err != nil {
		db.log.Error("closing the database file before the swap", "error", err)
	}
	nb, err := openBolt(db.path, db.opts)
	if err != nil {
		// Every later call fails with bbolt's "database not open"; Ping
		// reports it and the operator restarts.
		return fmt.Errorf("compacting database %s: reopening: %w", db.path, err)
	}
	db.bolt = nb
	return nil
}

// syncDir makes a rename in dir durable; failing to is not fatal (some file
// systems cannot sync a directory).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

// keyAuditSalt holds the random salt of the erasure audit's hashes.
var keyAuditSalt = []byte("audit_salt")

// AuditSalt returns this database's salt for the hashes in the erasure
// audit (triage.AuditHash), made at first use. It lives in the database so
// that a hash stays comparable across restarts, and never leaves it except
// in a backup.
func (db *DB) AuditSalt(ctx context.Context) ([]byte, error) {
	var salt []byte
	err := db.update(ctx, "reading the audit salt", func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if v := meta.Get(keyAuditSalt); len(v) == 32 {
			salt = bytes.Clone(v)
			return nil
		}
		salt = make([]byte, 32)
		if _, err := rand.Read(salt); err != nil {
			return fmt.Errorf("making the audit salt: %w", err)
		}
		return meta.Put(keyAuditSalt, salt)
	})
	return salt, err
}
