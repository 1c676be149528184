package storage_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/storage"
	"github.com/leadtriage/leadtriage/triage"
)

// BenchmarkSweepReminders checks DESIGN.md's target that the reminder sweep
// costs what the pending leads cost, not what every lead ever stored costs:
// the same 100 pending leads, next to 0 and to 10 000 decided ones. The sweep
// finds nothing due (the leads are young), so it measures the reading.
func BenchmarkSweepReminders(b *testing.B) {
	for _, decided := range []int{0, 10000} {
		b.Run(fmt.Sprintf("pending=100/decided=%d", decided), func(b *testing.B) {
			db := benchStoreWithLeads(b, 100, decided)
			svc := &triage.Service{Store: db, Channel: "C1"}
			f := triage.FollowUp{After: 4 * time.Hour, EscalateAfter: 24 * time.Hour, TeamLead: "ULEAD"}
			now := t0.Add(time.Hour)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := svc.SweepReminders(ctx, f, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchStoreWithLeads stores the leads through the Store, as intake would
// (setup takes some seconds for 10 000 leads: one fsync per write).
func benchStoreWithLeads(b *testing.B, pending, decided int) *storage.DB {
	b.Helper()
	path := filepath.Join(b.TempDir(), "sweep.db")
	db, err := storage.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for i := 0; i < pending+decided; i++ {
		l := triage.Lead{Status: triage.StatusPending, Company: fmt.Sprintf("Bench %d BV", i), CreatedAt: t0}
		created, _, err := db.CreateLead(ctx, l, triage.Idempotency{}, nil)
		if err != nil {
			b.Fatal(err)
		}
		if i >= pending {
			if _, err := db.UpdateLead(ctx, created.ID, func(l *triage.Lead) ([]triage.OutboxItem, error) {
				return nil, triage.Decide(l, triage.StatusDisqualified, "bench", "auto", t0)
			}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Cleanup(func() { _ = db.Close() })
	return db
}
