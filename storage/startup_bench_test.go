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
	// startupDeals old leads decided last (within the read-back's year at
	// every size) and the recent ones have a CRM deal; every other old one
	// is won already, so startupOpenDeals deals are open at every size.
	startupDeals     = 180
	startupOpenDeals = startupDeals/2 + startupRecent
	// startupAskAfter is outcomes.ask_after in the benchmarks that ask.
	startupAskAfter = 720 * time.Hour
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
		if i < old {
			// The steady state of outcomes.ask_after = 720h: every old
			// card asked once its decision was 30 days old.
			l.Reminder.OutcomeAsked = at.Add(startupAskAfter)
		}
		if i >= old-startupDeals {
			l.CRM = []triage.CRMRecord{
				{System: "hubspot", Kind: "company", ID: fmt.Sprintf("c%d", i), At: at},
				{System: "hubspot", Kind: "deal", ID: fmt.Sprintf("d%d", i), At: at},
			}
			if i < old && i%2 == 0 {
				l.Outcome = &triage.Outcome{Kind: triage.OutcomeWon, Value: 1000, By: "hubspot", At: at.Add(20 * 24 * time.Hour)}
			}
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

// startupVariants are the stores a benchmark reads through.
var startupVariants = map[string]func(*DB) triage.Store{
	"index":   func(db *DB) triage.Store { return db },
	"status":  func(db *DB) triage.Store { return statusOnly{db} },
	"decided": func(db *DB) triage.Store { return timeOnly{db, db} },
}

// openDealsOf reads what the CRM read-back asks about (crm.ReadBack.Run
// without the CRM's answers): through the K index where store has it,
// else every lead decided within the year.
func openDealsOf(ctx context.Context, store triage.Store, now time.Time) (int, error) {
	from, to := now.Add(-365*24*time.Hour), now.Add(time.Nanosecond)
	var leads []triage.Lead
	var err error
	if ix, ok := store.(interface {
		LeadsWithOpenDeals(ctx context.Context, from, to time.Time) ([]triage.Lead, error)
	}); ok {
		leads, err = ix.LeadsWithOpenDeals(ctx, from, to)
	} else {
		leads, err = store.(triage.TimeIndex).LeadsDecided(ctx, from, to)
	}
	n := 0
	for _, l := range leads {
		if l.Outcome != nil {
			continue
		}
		for _, r := range l.CRM {
			if r.System == "hubspot" && r.Kind == "deal" && r.Gone.IsZero() {
				n++
				break
			}
		}
	}
	return n, err
}

// startupSizes are the benchmark files: 1 000, 10 000 and 100 000 leads.
var startupSizes = []int{1000, 10000, 100000}

// startupJobs are the jobs Main runs at start (catch-up) and on schedule,
// as their benchmarks call them; none finds anything due to write, so each
// measures what it reads.
// A job runs at now: startupNow, and for the jobs that warm a minute more
// each run after a first untimed run at startupNow (a check a minute). Its
// variants are "index" and "status" unless it names others.
var startupJobs = []struct {
	name     string
	run      func(ctx context.Context, svc *triage.Service, db *DB, now time.Time) (any, error)
	warm     bool
	variants []string
}{
	{name: "reminders", run: func(ctx context.Context, svc *triage.Service, _ *DB, _ time.Time) (any, error) {
		return svc.SweepReminders(ctx, triage.FollowUp{After: 4 * time.Hour, EscalateAfter: 24 * time.Hour, TeamLead: "ULEAD"}, startupNow)
	}},
	{name: "retention", run: func(ctx context.Context, svc *triage.Service, _ *DB, _ time.Time) (any, error) {
		purged, err := svc.PurgeExpired(ctx, 3*365*24*time.Hour, startupNow)
		if err == nil && len(purged) != 0 {
			err = fmt.Errorf("purged %d leads, want none", len(purged))
		}
		return purged, err
	}},
	{name: "digest", run: func(ctx context.Context, svc *triage.Service, _ *DB, _ time.Time) (any, error) {
		parts, revisit, err := svc.BuildDigest(ctx, startupNow.Add(-24*time.Hour), startupNow, triage.DigestOptions{Channel: "C1", RevisitAfter: 30 * 24 * time.Hour})
		if err == nil && len(revisit) != startupRevisit {
			err = fmt.Errorf("digest shows %d leads for a second look, want %d", len(revisit), startupRevisit)
		}
		return parts, err
	}},
	{name: "prune", run: func(ctx context.Context, _ *triage.Service, db *DB, _ time.Time) (any, error) {
		return db.Prune(ctx, startupNow)
	}},
	// Not a job, but read as often: opening the App Home.
	{name: "app-home", run: func(ctx context.Context, svc *triage.Service, _ *DB, _ time.Time) (any, error) {
		return svc.Home(ctx, "U1", startupNow)
	}},
	// The outcome jobs (issue 15), against the decided-time index they
	// read before schema 4. ask-outcomes is the steady state of the
	// reminder check's outcome check: a minute after the previous one.
	{name: "ask-outcomes", run: func(ctx context.Context, svc *triage.Service, _ *DB, now time.Time) (any, error) {
		asked, err := svc.AskOutcomes(ctx, startupAskAfter, now)
		if err == nil && len(asked) != 0 {
			err = fmt.Errorf("asked about %d leads, want none", len(asked))
		}
		return asked, err
	}, warm: true, variants: []string{"index", "decided"}},
	{name: "digest-ask", run: func(ctx context.Context, svc *triage.Service, _ *DB, _ time.Time) (any, error) {
		return digestAsking(ctx, svc)
	}, variants: []string{"index", "decided"}},
	{name: "crm-readback", run: func(ctx context.Context, svc *triage.Service, _ *DB, _ time.Time) (any, error) {
		n, err := openDealsOf(ctx, svc.Store, startupNow)
		if err == nil && n != startupOpenDeals {
			err = fmt.Errorf("%d open deals, want %d", n, startupOpenDeals)
		}
		return n, err
	}, variants: []string{"index", "decided"}},
}

// digestAsking builds the daily digest with outcomes.ask_after on: it lists
// the five oldest leads awaiting an outcome and counts the rest.
func digestAsking(ctx context.Context, svc *triage.Service) (any, error) {
	parts, revisit, err := svc.BuildDigest(ctx, startupNow.Add(-24*time.Hour), startupNow, triage.DigestOptions{Channel: "C1", RevisitAfter: 30 * 24 * time.Hour, AskAfter: startupAskAfter})
	switch {
	case err != nil:
	case len(revisit) != startupRevisit:
		err = fmt.Errorf("digest shows %d leads for a second look, want %d", len(revisit), startupRevisit)
	case len(parts[len(parts)-1].Outcomes) != triage.MaxDigestOutcomes:
		err = fmt.Errorf("digest asks about %d leads, want %d", len(parts[len(parts)-1].Outcomes), triage.MaxDigestOutcomes)
	}
	return parts, err
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
	for _, n := range startupSizes {
		for _, v := range []string{"index", "status"} {
			b.Run(fmt.Sprintf("start-up/leads=%d/%s", n, v), func(b *testing.B) {
				benchStartup(b, fixtures[n], startupVariants[v], false)
			})
		}
	}
	// start-up-ask: the same with outcomes.ask_after on: the digest asks
	// what became of leads, and the first outcome check after a start
	// reads back OutcomeAskCatchUp; the baseline reads through the
	// decided-time index, as before schema 4.
	for _, n := range startupSizes {
		for _, v := range []string{"index", "decided"} {
			b.Run(fmt.Sprintf("start-up-ask/leads=%d/%s", n, v), func(b *testing.B) {
				benchStartup(b, fixtures[n], startupVariants[v], true)
			})
		}
	}
	// migrate: Open converting the file from schema 2 (its lead_index
	// dropped and the version set back, untimed), once per start.
	b.Run("migrate/leads=100000", func(b *testing.B) { benchMigrate(b, fixtures[100000], asSchema2) })
	// migrate-3: Open converting the file from schema 3 (its W, A and K
	// entries deleted and the version set back, untimed), once per start.
	b.Run("migrate-3/leads=100000", func(b *testing.B) { benchMigrate(b, fixtures[100000], asSchema3) })
	for _, job := range startupJobs {
		variants := job.variants
		if variants == nil {
			variants = []string{"index", "status"}
		}
		for _, n := range startupSizes {
			for _, v := range variants {
				b.Run(fmt.Sprintf("job/%s/leads=%d/%s", job.name, n, v), func(b *testing.B) {
					path := filepath.Join(b.TempDir(), "job.db")
					if err := copyFile(path, fixtures[n]); err != nil {
						b.Fatal(err)
					}
					db, err := Open(path)
					if err != nil {
						b.Fatal(err)
					}
					defer db.Close()
					svc := &triage.Service{Store: startupVariants[v](db), Channel: "C1", Now: func() time.Time { return startupNow }}
					ctx := context.Background()
					now := startupNow
					if job.warm {
						if _, err := job.run(ctx, svc, db, now); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportAllocs()
					for b.Loop() {
						if job.warm {
							now = now.Add(time.Minute)
						}
						if _, err := job.run(ctx, svc, db, now); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}

// benchMigrate times Open of a copy of fixture that older writes into a
// fresh file before each start (untimed).
func benchMigrate(b *testing.B, fixture string, older func(dst, src string) error) {
	path := filepath.Join(b.TempDir(), "old.db")
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		if err := older(path, fixture); err != nil {
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

// asSchema3 copies src to dst as schema 3 would have it: lead_index
// without its W, A and K entries.
func asSchema3(dst, src string) error {
	if err := copyFile(dst, src); err != nil {
		return err
	}
	bdb, err := bolt.Open(dst, 0o600, nil)
	if err != nil {
		return err
	}
	err = bdb.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLeadIndex)
		for _, kind := range []byte{ixAwait, ixAsk, ixDeal} {
			c := b.Cursor()
			for k, _ := c.Seek([]byte{kind}); k != nil && k[0] == kind; k, _ = c.Seek([]byte{kind}) {
				if err := c.Delete(); err != nil {
					return err
				}
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchemaVersion, []byte("3"))
	})
	if cerr := bdb.Close(); err == nil {
		err = cerr
	}
	return err
}

func benchStartup(b *testing.B, fixture string, store func(*DB) triage.Store, ask bool) {
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
			run := job.run
			if ask && job.name == "digest" {
				run = func(ctx context.Context, svc *triage.Service, _ *DB, _ time.Time) (any, error) {
					return digestAsking(ctx, svc)
				}
			}
			res, err := run(ctx, svc, db, startupNow)
			if err != nil {
				b.Fatal(job.name, ": ", err)
			}
			results = append(results, res)
			sample()
		}
		if ask {
			// The reminder check's outcome check, the first after the start.
			asked, err := svc.AskOutcomes(ctx, startupAskAfter, startupNow)
			if err != nil || len(asked) != 0 {
				b.Fatal("ask-outcomes: ", asked, err)
			}
			results = append(results, asked)
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
