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

// startupNow is the benchmark's "now".
var startupNow = time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC)

// The benchmark files differ only in their old decided leads: the pending
// leads, the recent decisions (the digest's "decided since" and the week's
// timings) and the leads due a second look are the same at every size, so
// that a job whose cost follows what it acts on costs the same at each.
const (
	startupPending = 500 // created in the last week, reminded and escalated already
	startupRecent  = 100 // created and decided in the last six days
	startupRevisit = 10  // old disqualified leads not shown again yet
)

// startupLead is lead i of a file of total leads: contact details, research
// with facts and flags, about ten events, and for a decided lead its
// decision. Leads [0, old) are decided over the two years before the last
// month; then come the recent decided leads, then the pending ones.
func startupLead(i, total int) triage.Lead {
	old := total - startupPending - startupRecent
	var created time.Time
	decided := true
	switch {
	case i < old:
		created = startupNow.AddDate(-2, 0, 0).Add(time.Duration(i) * (700 * 24 * time.Hour / time.Duration(old)))
	case i < old+startupRecent:
		created = startupNow.Add(-6 * 24 * time.Hour).Add(time.Duration(i-old) * (6 * 24 * time.Hour / startupRecent))
	default:
		created = startupNow.Add(-7 * 24 * time.Hour).Add(time.Duration(i-old-startupRecent) * (7 * 24 * time.Hour / startupPending))
		decided = false
	}
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
	// Owners: U1 (the App Home's user) owns every 50th pending lead and
	// the recent qualified ones, the same number at every size; old
	// qualified leads belong to fifty others, so that only a scan of the
	// qualified leads grows with the file.
	switch {
	case !decided && (i-old-startupRecent)%50 == 0:
		l.Owner = "U1"
	case decided && i%3 == 0 && i >= old:
		l.Owner = "U1"
	case decided && i%3 == 0:
		l.Owner = fmt.Sprintf("U%d", 100+i%50)
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
		if st == triage.StatusDisqualified && i < old && i >= 3*startupRevisit {
			l.Reminder.Revisited = at.Add(30 * 24 * time.Hour) // shown for a second look already
		}
		l.Events = append(l.Events, triage.Event{At: at, Kind: triage.EventDecided, By: "auto", Detail: string(st)})
	}
	return l
}

// buildStartupFixture writes a file of total leads, 1000 per transaction,
// through the same encoding and index writes as CreateLead.
func buildStartupFixture(dir string, total int) (string, error) {
	path := filepath.Join(dir, fmt.Sprintf("startup%d.db", total))
	db, err := Open(path)
	if err != nil {
		return "", err
	}
	defer db.Close()
	for start := 0; start < total; start += 1000 {
		err := db.bolt.Update(func(tx *bolt.Tx) error {
			for i := start; i < start+1000 && i < total; i++ {
				l := startupLead(i, total)
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

// statusOnly hides the time indexes (triage.TimeIndex): the service then
// reads every decided lead through the status index, as before schema 3.
// It is each benchmark's baseline, measured in the same run.
type statusOnly struct{ triage.Store }

// startupSizes are the benchmark files: 1 000, 10 000 and 100 000 leads.
var startupSizes = []int{1000, 10000, 100000}

// startupJobs are the jobs Main runs at start (catch-up) and on schedule,
// as their benchmarks call them; none finds anything due to write, so each
// measures what it reads.
var startupJobs = []struct {
	name string
	run  func(ctx context.Context, svc *triage.Service, db *DB) (any, error)
}{
	{"reminders", func(ctx context.Context, svc *triage.Service, _ *DB) (any, error) {
		return svc.SweepReminders(ctx, triage.FollowUp{After: 4 * time.Hour, EscalateAfter: 24 * time.Hour, TeamLead: "ULEAD"}, startupNow)
	}},
	{"retention", func(ctx context.Context, svc *triage.Service, _ *DB) (any, error) {
		purged, err := svc.PurgeExpired(ctx, 3*365*24*time.Hour, startupNow)
		if err == nil && len(purged) != 0 {
			err = fmt.Errorf("purged %d leads, want none", len(purged))
		}
		return purged, err
	}},
	{"digest", func(ctx context.Context, svc *triage.Service, _ *DB) (any, error) {
		parts, revisit, err := svc.BuildDigest(ctx, startupNow.Add(-24*time.Hour), startupNow, triage.DigestOptions{Channel: "C1", RevisitAfter: 30 * 24 * time.Hour})
		if err == nil && len(revisit) != startupRevisit {
			err = fmt.Errorf("digest shows %d leads for a second look, want %d", len(revisit), startupRevisit)
		}
		return parts, err
	}},
	{"prune", func(ctx context.Context, _ *triage.Service, db *DB) (any, error) {
		return db.Prune(ctx, startupNow)
	}},
	// Not a job, but read as often: opening the App Home.
	{"app-home", func(ctx context.Context, svc *triage.Service, _ *DB) (any, error) {
		return svc.Home(ctx, "U1", startupNow)
	}},
}

// BenchmarkStartup measures DESIGN.md's "100 000 stored leads: start-up
// under 1 s, memory under 100 MiB" at 1 000, 10 000 and 100 000 leads, each
// through the time indexes ("index") and, as the baseline in the same run,
// through the status index alone ("status"). start-up is what a start of
// Main.Run reads: storage.Open with its checks, ResumeResearch's scan of the
// pending leads, and the catch-up jobs (reminder sweep, retention, the
// digest); the file comes from the page cache, as after a restart of the
// process. peak-heap-MiB is the largest live heap seen after each step
// (results still referenced). job/<name> runs one scheduled job on an open
// store. The files are built once per run (about half a minute).
func BenchmarkStartup(b *testing.B) {
	dir := b.TempDir()
	fixtures := map[int]string{}
	for _, n := range startupSizes {
		path, err := buildStartupFixture(dir, n)
		if err != nil {
			b.Fatal(err)
		}
		fixtures[n] = path
	}
	variants := []struct {
		name  string
		store func(*DB) triage.Store
	}{
		{"index", func(db *DB) triage.Store { return db }},
		{"status", func(db *DB) triage.Store { return statusOnly{db} }},
	}
	for _, n := range startupSizes {
		for _, v := range variants {
			b.Run(fmt.Sprintf("start-up/leads=%d/%s", n, v.name), func(b *testing.B) {
				benchStartup(b, fixtures[n], v.store)
			})
		}
	}
	// migrate: Open converting the file from schema 2 (its lead_index
	// dropped and the version set back, untimed), once per start.
	b.Run("migrate/leads=100000", func(b *testing.B) {
		path := filepath.Join(b.TempDir(), "v2.db")
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			if err := asSchema2(path, fixtures[100000]); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			db, err := Open(path)
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if err := db.Close(); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
	})
	for _, job := range startupJobs {
		for _, n := range startupSizes {
			for _, v := range variants {
				b.Run(fmt.Sprintf("job/%s/leads=%d/%s", job.name, n, v.name), func(b *testing.B) {
					path := filepath.Join(b.TempDir(), "job.db")
					if err := copyFile(path, fixtures[n]); err != nil {
						b.Fatal(err)
					}
					db, err := Open(path)
					if err != nil {
						b.Fatal(err)
					}
					defer db.Close()
					svc := &triage.Service{Store: v.store(db), Channel: "C1", Now: func() time.Time { return startupNow }}
					ctx := context.Background()
					b.ReportAllocs()
					for b.Loop() {
						if _, err := job.run(ctx, svc, db); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}

// asSchema2 copies src to dst as schema 2 would have it: no lead_index, and
// empty by_status, by_email and by_domain (the migration drops them).
func asSchema2(dst, src string) error {
	if err := copyFile(dst, src); err != nil {
		return err
	}
	bdb, err := bolt.Open(dst, 0o600, nil)
	if err != nil {
		return err
	}
	err = bdb.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketLeadIndex); err != nil {
			return err
		}
		for _, name := range []string{"by_status", "by_email", "by_domain"} {
			if _, err := tx.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchemaVersion, []byte("2"))
	})
	if cerr := bdb.Close(); err == nil {
		err = cerr
	}
	return err
}

func benchStartup(b *testing.B, fixture string, store func(*DB) triage.Store) {
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
		svc := &triage.Service{Store: store(db), Channel: "C1", Researcher: noResearch{}, Now: func() time.Time { return startupNow }}
		if err := svc.ResumeResearch(ctx); err != nil {
			b.Fatal(err)
		}
		sample()
		var results []any
		for _, job := range startupJobs[:3] { // reminders, retention, digest: the catch-up
			res, err := job.run(ctx, svc, db)
			if err != nil {
				b.Fatal(job.name, ": ", err)
			}
			results = append(results, res)
			sample()
		}
		runtime.KeepAlive(results)
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
