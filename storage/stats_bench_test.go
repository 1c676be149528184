package storage

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/triage"
)

// sliceDecisionStats is Service.DecisionStats before the accumulator, the
// benchmark's baseline: every lead decided in the period and every lead
// created since its start loaded into one slice, then counted.
func sliceDecisionStats(ctx context.Context, db *DB, criteria []triage.Criterion, from, to time.Time) (triage.DecisionReport, error) {
	decided, err := db.LeadsDecided(ctx, from, to)
	if err != nil {
		return triage.DecisionReport{}, err
	}
	later, err := db.LeadsCreated(ctx, from, time.Unix(0, math.MaxInt64))
	if err != nil {
		return triage.DecisionReport{}, err
	}
	return triage.DecisionStats(append(decided, later...), criteria, from, to), nil
}

// peakHeap runs fn once while sampling the heap every millisecond, and
// returns the largest HeapAlloc seen (live data and garbage not yet
// collected, as BenchmarkStartup's peak-heap-MiB) and the bytes allocated.
func peakHeap(fn func()) (peak, alloc uint64) {
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	peak = base.HeapAlloc
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc)
			}
		}
	})
	fn()
	close(done)
	wg.Wait()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return max(peak, ms.HeapAlloc), ms.TotalAlloc - base.TotalAlloc
}

// BenchmarkDecisionStats measures "Did we decide well?" (issue 15) on the
// start-up files (1 000 / 10 000 / 100 000 leads; the same 100 recent
// decisions and 500 pending leads at every size, the rest decided over
// two years): the App Home's default last 30 days and all time, each
// through the accumulator a page at a time (stream: a fresh Service per
// call, so no cache) against the old slice of every lead read (slice), and
// the 30 days served again from the Service's cache (cached).
// peak-heap-MiB and alloc-MiB come from one extra call sampled apart from
// the timed ones.
func BenchmarkDecisionStats(b *testing.B) {
	dir := b.TempDir()
	ctx := context.Background()
	criteria := []triage.Criterion{{ID: "budget", Kind: triage.KindYesNo}}
	for _, n := range startupSizes {
		fixture, err := buildStartupFixture(dir, n)
		if err != nil {
			b.Fatal(err)
		}
		path := filepath.Join(dir, fmt.Sprintf("stats%d.db", n))
		if err := copyFile(path, fixture); err != nil {
			b.Fatal(err)
		}
		db, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		newSvc := func() *triage.Service {
			return &triage.Service{Store: db, Policy: triage.Policy{Criteria: criteria}, Now: func() time.Time { return startupNow }}
		}
		for _, p := range []struct {
			name string
			from time.Time
		}{
			{"30d", startupNow.Add(-30 * 24 * time.Hour)},
			{"all", time.Time{}},
		} {
			want, err := sliceDecisionStats(ctx, db, criteria, p.from, startupNow)
			if err != nil {
				b.Fatal(err)
			}
			cached := newSvc()
			variants := []struct {
				name string
				run  func() (triage.DecisionReport, error)
			}{
				{"stream", func() (triage.DecisionReport, error) { return newSvc().DecisionStats(ctx, p.from, startupNow) }},
				{"slice", func() (triage.DecisionReport, error) {
					return sliceDecisionStats(ctx, db, criteria, p.from, startupNow)
				}},
			}
			if p.name == "30d" {
				variants = append(variants, struct {
					name string
					run  func() (triage.DecisionReport, error)
				}{"cached", func() (triage.DecisionReport, error) { return cached.DecisionStats(ctx, p.from, startupNow) }})
			}
			for _, v := range variants {
				b.Run(fmt.Sprintf("%s/leads=%d/%s", p.name, n, v.name), func(b *testing.B) {
					got, err := v.run()
					if err != nil {
						b.Fatal(err)
					}
					if !reflect.DeepEqual(got, want) {
						b.Fatalf("report %+v; want the slice's %+v", got, want)
					}
					b.ReportAllocs()
					for b.Loop() {
						if _, err := v.run(); err != nil {
							b.Fatal(err)
						}
					}
					b.StopTimer()
					peak, alloc := peakHeap(func() {
						if _, err := v.run(); err != nil {
							b.Fatal(err)
						}
					})
					b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
					b.ReportMetric(float64(alloc)/(1<<20), "alloc-MiB")
					b.ReportMetric(float64(want.Decided), "decided")
				})
			}
		}
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
