package storage

import (
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// signaturesPrunePerCall bounds the pruning one SpendSignature does, like
// eventsPrunePerCall.
const signaturesPrunePerCall = 32

// SpendSignature records the signed intake request id until expires and
// reports whether it was new; false means the signature was used before and
// the request is a replay. Keys are expires|id, so a lookup needs expires
// (the sender's timestamp fixes it) and pruning takes expired keys from the
// front. It implements intake.SignatureLedger.
func (db *DB) SpendSignature(ctx context.Context, id []byte, expires, now time.Time) (bool, error) {
	key := join(timeKey(expires), id)
	first := false
	err := db.update(ctx, "remembering intake signature", func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSignatures)
		if b.Get(key) != nil {
			return nil
		}
		if err := b.Put(key, []byte{}); err != nil {
			return fmt.Errorf("writing signature: %w", err)
		}
		if _, err := pruneSignatures(tx, now, signaturesPrunePerCall); err != nil {
			return err
		}
		first = true
		return nil
	})
	if err != nil {
		return false, err
	}
	return first, nil
}

// ReleaseSignature forgets a signature recorded by SpendSignature, for a
// request that changed nothing and may be retried as it is.
func (db *DB) ReleaseSignature(ctx context.Context, id []byte, expires time.Time) error {
	return db.update(ctx, "forgetting intake signature", func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSignatures).Delete(join(timeKey(expires), id))
	})
}

// pruneSignatures deletes up to limit signatures that expired by now.
func pruneSignatures(tx *bolt.Tx, now time.Time, limit int) (int, error) {
	b := tx.Bucket(bucketSignatures)
	keys := expired(b, now, limit)
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return 0, fmt.Errorf("pruning signatures: %w", err)
		}
	}
	return len(keys), nil
}
