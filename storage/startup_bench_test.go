package storage

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/leadtriage/leadtriage/triage"
)

// startupNow is the benchmark's "now"; the decided leads were decided over
// the two years before it.
var startupNow = time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC)

const (
	startupDecided = 95000
	startupPending = 5000
)

// startupLead is a realistic stored lead: contact details, research with
// facts and flags, about ten events, and for a decided lead its decision
// (i of n spread over two years before startupNow).
func startupLead(i int, decided bool) triage.Lead {
	created := startupNow.Add(-time.Duration(startupDecided+startupPending-i) * 10 * time.Minute)
	domain := fmt.Sprintf("company%d.example", i%20000)
	l := triage.Lead{
		Status: triage.StatusPending, Company: fmt.Sprintf("Company %d B.V.", i), Name: "Jan Jansen",
		Email: "jan@" + domain, Phone: "+31 20 123 4567", Website: "https://" + domain + "/", Domain: domain,
		Message: "We would like a demo for our team of forty, preferably next week.", Source: "webhook",
		Founded: 2015, Employees: 40, CreatedAt: created,
		Votes: map[string]triage.Choice{"U1": triage.Choice("yes"), "U2": triage.Choice("no")},
		Slack: triage.SlackRef{Channel: "C1", TS: fmt.Sprintf("%d.000100", 1700000000+i)},
		Research: triage.Research{
			Summary: "domain 11 years old, website reachable, KvK match",
			Flags:   []triage.Flag{{Code: "role_address", Detail: "info@ is not a person", Source: "email"}},
			Facts: triage.Facts{
				EmailDomain: domain, DomainRegistered: created.AddDate(-11, 0, 0), Registrar: "Registrar B.V.",
				MX: []string{"mx1." + domain, "mx2." + domain}, EmailDomainLive: true,
				Website: triage.Website{URL: "https://" + domain + "/", FinalURL: "https://www." + domain + "/", Status: 200, Reachable: true,
					Title: "Company — we make things", Description: "Company makes things for other companies since 2015.",
					CopyrightYears: []int{2015, 2026}, Social: map[string]string{"linkedin": "https://linkedin.example/company"}},
			},
			Providers: []triage.ProviderResult{{Name: "email", OK: true}, {Name: "rdap", OK: true, Took: 80 * time.Millisecond}, {Name: "dns", OK: true}, {Name: "website", OK: true, Took: 300 * time.Millisecond}},
			At:        created.Add(2 * time.Second),
		},
	}
	for e := 0; e < 9; e++ {
		l.Events = append(l.Events, triage.Event{At: created.Add(time.Duration(e) * time.Minute), Kind: triage.EventVoted, By: "U1", Detail: "yes"})
	}
	if !decided {
		// Reminded and escalated already, so that the catch-up sweep only
		// reads (a sweep that writes measures fsyncs, not start-up reads).
		l.Reminder.Reminded, l.Reminder.Escalated = created.Add(time.Minute), created.Add(time.Minute)
	}
	if decided {
		at := created.Add(time.Hour)
		st := []triage.Status{triage.StatusQualified, triage.StatusDisqualified, triage.StatusReferred}[i%3]
		l.Status = st
		l.Decision = &triage.Decision{Outcome: st, Reason: "not a fit", By: "auto", At: at}
		if st == triage.StatusDisqualified && at.Add(30*24*time.Hour).Before(startupNow) {
			l.Reminder.Revisited = at.Add(30 * 24 * time.Hour) // shown for a second look already
		}
		l.Events = append(l.Events, triage.Event{At: at, Kind: triage.EventDecided, By: "auto", Detail: string(st)})
	}
	return l
}

// buildStartupFixture writes the 100 000 leads (once per benchmark run), 1000
// per transaction, through the same encoding and index writes as CreateLead.
func buildStartupFixture(dir string) (string, error) {
	path := filepath.Join(dir, "startup100k.db")
	db, err := Open(path)
	if err != nil {
		return "", err
	}
	defer db.Close()
	total := startupDecided + startupPending
	for start := 0; start < total; start += 1000 {
		err := db.bolt.Update(func(tx *bolt.Tx) error {
			for i := start; i < start+1000 && i < total; i++ {
				l := startupLead(i, i < startupDecided)
				seq, err := tx.Bucket(bucketLeads).NextSequence()
				if err != nil {
					return err
				}
				l.ID = triage.LeadID(seq)
				if _, err := saveLead(tx, nil, &l, nil); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return "", err
		}
	}
	return path, nil
}

func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

type noResearch struct{}

func (noResearch) Research(context.Context, triage.Lead, bool) (triage.Findings, error) {
	return triage.Findings{}, nil
}

// BenchmarkStartup100k measures DESIGN.md's "100 000 stored leads: start-up
// under 1 s, memory under 100 MiB": what a start of Main.Run reads from a
// store of 95 000 decided and 5 000 pending leads: storage.Open with its
// checks, ResumeResearch's scan of the pending leads, and the catch-up jobs
// (reminder sweep, retention, the digest). The file comes from the page
// cache, as after a restart of the process. peak-heap-MiB is the largest
// live heap seen after each step (results still referenced).
func BenchmarkStartup100k(b *testing.B) {
	fixture, err := buildStartupFixture(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "start.db")
	var peak, total uint64
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		if err := copyFile(path, fixture); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		b.StartTimer()

		var ms runtime.MemStats
		sample := func() {
			b.StopTimer()
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak {
				peak = ms.HeapAlloc
			}
			b.StartTimer()
		}
		db, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		svc := &triage.Service{Store: db, Channel: "C1", Researcher: noResearch{}, Now: func() time.Time { return startupNow }}
		if err := svc.ResumeResearch(ctx); err != nil {
			b.Fatal(err)
		}
		sample()
		res, err := svc.SweepReminders(ctx, triage.FollowUp{After: 4 * time.Hour, EscalateAfter: 24 * time.Hour, TeamLead: "ULEAD"}, startupNow)
		if err != nil {
			b.Fatal(err)
		}
		sample()
		purged, err := svc.PurgeExpired(ctx, 3*365*24*time.Hour, startupNow)
		if err != nil || len(purged) != 0 {
			b.Fatal(purged, err)
		}
		sample()
		parts, _, err := svc.BuildDigest(ctx, startupNow.Add(-24*time.Hour), startupNow, triage.DigestOptions{Channel: "C1", RevisitAfter: 30 * 24 * time.Hour})
		if err != nil {
			b.Fatal(err)
		}
		sample()
		runtime.KeepAlive(res)
		runtime.KeepAlive(parts)
		b.StopTimer()
		runtime.ReadMemStats(&ms)
		total += ms.TotalAlloc - base.TotalAlloc
		if err := svc.StopResearch(ctx); err != nil {
			b.Fatal(err)
		}
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(total)/float64(b.N)/(1<<20), "alloc-MiB/op")
}
