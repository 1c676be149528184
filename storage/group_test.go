package storage

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// A failing call in a group is run alone and gets its own error; the others
// run again together and are committed; nothing of the failed call stays.
func TestCommitGroup_FailingCallRunsAlone(t *testing.T) {
	t.Parallel()
	db, err := Open(filepath.Join(t.TempDir(), "g.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	runs := map[string]int{}
	put := func(k string, fail error) *groupCall {
		return &groupCall{fn: func(tx *bolt.Tx) error {
			runs[k]++
			if err := tx.Bucket(bucketJobs).Put([]byte(k), []byte("v")); err != nil {
				return err
			}
			return fail
		}}
	}
	errRefused := errors.New("refused")
	batch := []*groupCall{put("a", nil), put("b", errRefused), put("c", nil)}
	db.commitGroup(batch)

	if batch[0].err != nil || !errors.Is(batch[1].err, errRefused) || batch[2].err != nil {
		t.Errorf("errors = %v, %v, %v; want nil, refused, nil", batch[0].err, batch[1].err, batch[2].err)
	}
	// a ran in the failed group and again; b in the group and alone; c once.
	if fmt.Sprint(runs) != "map[a:2 b:2 c:1]" {
		t.Errorf("runs = %v", runs)
	}
	_ = db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketJobs)
		if b.Get([]byte("a")) == nil || b.Get([]byte("c")) == nil || b.Get([]byte("b")) != nil {
			t.Errorf("stored a=%q b=%q c=%q; want a and c only", b.Get([]byte("a")), b.Get([]byte("b")), b.Get([]byte("c")))
		}
		return nil
	})
}
