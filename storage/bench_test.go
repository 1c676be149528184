package storage_test

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/leadtriage/leadtriage/storage"
	"github.com/leadtriage/leadtriage/triage"
)

// BenchmarkCreateLead measures durable intake as Service.Submit does it: one
// transaction per lead with its idempotency key and its post_card item.
// Compare with BenchmarkRawBoltPut for DESIGN.md's "at least 80 % of raw bbolt".
func BenchmarkCreateLead(b *testing.B) {
	db, err := storage.Open(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	lead := benchLead(b)
	out := []triage.OutboxItem{{Kind: triage.OutboxPostCard, Channel: "C1", CreatedAt: t0}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		idem := triage.Idempotency{Key: "body:" + strconv.Itoa(i), Fingerprint: "fp", Expires: t0.Add(10 * time.Minute), Now: t0}
		if _, _, err := db.CreateLead(ctx, lead, idem, out); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRawBoltPut is the baseline: one bbolt transaction per op putting a
// value as large as a stored lead under a NextSequence key, same options.
func BenchmarkRawBoltPut(b *testing.B) {
	// Size the value like the stored record of benchLead.
	sdb, err := storage.Open(filepath.Join(b.TempDir(), "size.db"))
	if err != nil {
		b.Fatal(err)
	}
	l, _, err := sdb.CreateLead(context.Background(), benchLead(b), triage.Idempotency{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	var size int
	_ = sdb.Bolt().View(func(tx *bolt.Tx) error {
		size = len(tx.Bucket([]byte("leads")).Get([]byte{0, 0, 0, 0, 0, 0, 0, byte(l.ID)}))
		return nil
	})
	sdb.Close()
	if size == 0 {
		b.Fatal("could not size the lead record")
	}

	db, err := bolt.Open(filepath.Join(b.TempDir(), "raw.db"), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket([]byte("leads"))
		return err
	}); err != nil {
		b.Fatal(err)
	}
	value := make([]byte, size)
	b.ReportMetric(float64(size), "value-bytes")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		err := db.Update(func(tx *bolt.Tx) error {
			bk := tx.Bucket([]byte("leads"))
			id, err := bk.NextSequence()
			if err != nil {
				return err
			}
			return bk.Put([]byte{byte(id >> 56), byte(id >> 48), byte(id >> 40), byte(id >> 32), byte(id >> 24), byte(id >> 16), byte(id >> 8), byte(id)}, value)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func benchLead(b *testing.B) triage.Lead {
	l, err := triage.NewLead(triage.LeadInput{
		Company: "Acme B.V.", Name: "Jan Jansen", Email: "jan@acme.example", Phone: "+31 20 123 4567",
		Website: "acme.example", Message: "We would like a demo for our team of forty.", Source: "webhook",
		Founded: "2015", Employees: "40",
	}, t0)
	if err != nil {
		b.Fatal(err)
	}
	l.Events = []triage.Event{{At: t0, Kind: triage.EventCreated, By: "webhook", Detail: "via webhook"}}
	return l
}

// BenchmarkOutboxPostCard measures the store's share of delivering one card
// post: "record" completes the item and records the card on the lead, as
// before issue 10; "mark+record" first marks the item attempted, the
// durable write that precedes the Slack call so that a crash or a failed
// record never posts the card twice. Creating the lead is not timed.
func BenchmarkOutboxPostCard(b *testing.B) {
	for _, mark := range []bool{false, true} {
		name := "record"
		if mark {
			name = "mark+record"
		}
		b.Run(name, func(b *testing.B) {
			db, err := storage.Open(filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			ctx := context.Background()
			lead := benchLead(b)
			out := []triage.OutboxItem{{Kind: triage.OutboxPostCard, Channel: "C1", CreatedAt: t0}}
			record := func(l *triage.Lead) error {
				l.Slack.Channel, l.Slack.TS = "C1", "1700000000.000100"
				l.Events = append(l.Events, triage.Event{At: t0, Kind: triage.EventCardPosted, By: "bot"})
				return nil
			}
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				if _, _, err := db.CreateLead(ctx, lead, triage.Idempotency{}, out); err != nil {
					b.Fatal(err)
				}
				due, err := db.DueOutbox(ctx, t0, 1)
				if err != nil || len(due) != 1 {
					b.Fatalf("due: %v, %v", due, err)
				}
				b.StartTimer()
				if mark {
					if err := db.MarkAttempted(ctx, due[0].ID, t0); err != nil {
						b.Fatal(err)
					}
				}
				if err := db.CompleteOutbox(ctx, due[0].ID, due[0].Seq, record); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
