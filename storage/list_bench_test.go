package storage

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/triage"
)

// timeOnly hides the owner index, paging and the outcome indexes
// (triage.OwnerIndex, triage.LeadPager, triage.OutcomeIndex) but keeps the
// time indexes: the store as it was before them, the lists' and the
// outcome jobs' baseline in the same run.
type timeOnly struct {
	triage.Store
	triage.TimeIndex
}

// startupOwned is how many leads U1 owns in every startup file (pending
// and qualified): 10 pending and the recent qualified ones.
const startupOwned = 10 + startupRecent/3

// BenchmarkLists measures issue 14's lists at 1 000, 10 000 and 100 000
// leads (the startup files), each against its baseline in the same run:
//
//   - list-page: one page of 100 qualified leads near the end of the
//     list, as GET /api/leads?status=qualified&limit=100&cursor=… reads it
//     (page), against the whole list the endpoint answered before paging
//     (whole);
//   - app-home: Service.Home for U1, who owns the same leads at every size,
//     through the owner index (owner) and through the status index
//     (scan: every qualified lead read to find U1's).
func BenchmarkLists(b *testing.B) {
	dir := b.TempDir()
	ctx := context.Background()
	for _, n := range startupSizes {
		fixture, err := buildStartupFixture(dir, n)
		if err != nil {
			b.Fatal(err)
		}
		path := filepath.Join(dir, fmt.Sprintf("lists%d.db", n))
		if err := copyFile(path, fixture); err != nil {
			b.Fatal(err)
		}
		db, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		qualified, err := db.CountLeads(ctx, triage.StatusQualified)
		if err != nil {
			b.Fatal(err)
		}
		// The page starts 150 qualified leads before the end: 100 leads,
		// and more follow, at every size.
		mid, _, err := db.LeadsAfter(ctx, triage.LeadFilter{Status: triage.StatusQualified, Limit: qualified - 150}, 0)
		if err != nil {
			b.Fatal(err)
		}
		after := mid[len(mid)-1].ID
		for _, v := range []struct {
			name string
			run  func(svc *triage.Service) (int, error)
		}{
			{"page", func(svc *triage.Service) (int, error) {
				p, err := svc.LeadsPage(ctx, triage.StatusQualified, after, 100)
				if err == nil && (len(p.Leads) != 100 || p.Next == 0) {
					err = fmt.Errorf("page of %d leads, next %s; want 100 and more", len(p.Leads), p.Next)
				}
				return len(p.Leads), err
			}},
			{"whole", func(svc *triage.Service) (int, error) {
				l, err := svc.Leads(ctx, triage.StatusQualified)
				return len(l), err
			}},
		} {
			b.Run(fmt.Sprintf("list-page/leads=%d/%s", n, v.name), func(b *testing.B) {
				svc := &triage.Service{Store: db, Channel: "C1", Now: func() time.Time { return startupNow }}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := v.run(svc); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		for _, v := range []struct {
			name  string
			store triage.Store
		}{
			{"owner", db},
			{"scan", timeOnly{db, db}},
		} {
			b.Run(fmt.Sprintf("app-home/leads=%d/%s", n, v.name), func(b *testing.B) {
				svc := &triage.Service{Store: v.store, Channel: "C1", Now: func() time.Time { return startupNow }}
				b.ReportAllocs()
				for b.Loop() {
					h, err := svc.Home(ctx, "U1", startupNow)
					if err != nil {
						b.Fatal(err)
					}
					if len(h.Owned) != startupOwned {
						b.Fatalf("U1 owns %d leads, want %d", len(h.Owned), startupOwned)
					}
				}
			})
		}
		// "/qualify list all" and "list mine": the newest page through the
		// index, against the service's fallback that reads every lead.
		for _, v := range []struct {
			name, user string
			store      triage.Store
		}{
			{"all/index", "", db},
			{"all/scan", "", struct{ triage.Store }{db}},
			{"mine/index", "U1", db},
			{"mine/scan", "U1", struct{ triage.Store }{db}},
		} {
			b.Run(fmt.Sprintf("list-newest/leads=%d/%s", n, v.name), func(b *testing.B) {
				svc := &triage.Service{Store: v.store, Channel: "C1", Now: func() time.Time { return startupNow }}
				b.ReportAllocs()
				for b.Loop() {
					leads, _, err := svc.NewestLeads(ctx, v.user, 100)
					if err != nil {
						b.Fatal(err)
					}
					if len(leads) == 0 {
						b.Fatal("no leads listed")
					}
				}
			})
		}
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
