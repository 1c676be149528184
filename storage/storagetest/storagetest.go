// Package storagetest opens real storage.DB files for tests, the way bbolt's
// btesting does: a fresh file under tb.TempDir() that is consistency-checked
// and closed when the test ends.
package storagetest

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/leadtriage/leadtriage/storage"
)

// FileName is the database file's name inside the test's temp dir.
const FileName = "leadtriage.db"

// MustOpen opens a new database in tb.TempDir(). At cleanup it fails tb if
// bbolt's consistency check finds a problem, then closes the database.
func MustOpen(tb testing.TB) *storage.DB {
	tb.Helper()
	return mustOpenPath(tb, filepath.Join(tb.TempDir(), FileName))
}

// MustOpenWith is MustOpen with options, e.g. storage.WithWriteFault to
// make writes fail as a full disk would.
func MustOpenWith(tb testing.TB, opts ...storage.Option) *storage.DB {
	tb.Helper()
	return mustOpenPath(tb, filepath.Join(tb.TempDir(), FileName), opts...)
}

// MustReopen closes db and opens its file again, as a restart would. The new
// handle gets the same cleanup; the old one must not be used any more.
func MustReopen(tb testing.TB, db *storage.DB) *storage.DB {
	tb.Helper()
	if err := db.Close(); err != nil {
		tb.Fatalf("closing %s before reopening: %v", db.Path(), err)
	}
	return mustOpenPath(tb, db.Path())
}

func mustOpenPath(tb testing.TB, path string, opts ...storage.Option) *storage.DB {
	tb.Helper()
	db, err := storage.Open(path, opts...)
	if err != nil {
		tb.Fatalf("opening test database: %v", err)
	}
	tb.Cleanup(func() {
		// A handle the test closed itself (MustReopen) cannot be checked;
		// its successor handle checks the file. (tb.Context is already
		// cancelled when cleanups run.)
		if err := db.Ping(context.Background()); err != nil && !errors.Is(err, storage.ErrCannotWrite) {
			return
		}
		if err := db.Check(); err != nil {
			tb.Errorf("consistency check of %s: %v", path, err)
		}
		if err := db.Close(); err != nil {
			tb.Errorf("closing %s: %v", path, err)
		}
	})
	return db
}
