package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/bits"
	"strings"
	"time"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/robfig/cron/v3"
)

// The scheduler only ticks; bbolt holds the state (STYLE.md §3). The jobs
// are plain functions of (m.now(), store): RunReminders, RunDigestTick and
// RunRetention.
// Cron calls them, start-up calls them once to catch up, and tests call
// them with an injected clock (Main.Now). Exactly-once lives in the store:
// each reminder stage is recorded on its lead in the transaction that
// queues it, and each digest run is a job marker (Store.MarkJob) keyed by
// its scheduled local wall time, written with the digest's outbox items.
//
// robfig/cron has no catch-up, skips a time that falls in a spring-forward
// gap and runs a time that a fall-back repeats twice (SLACK-NOTES.md §7).
// RunDigestTick therefore does not trust the tick: it computes the latest
// scheduled time at or before now itself (latestOccurrence), so a late tick,
// a catch-up at start-up and a repeated tick all name the same run.

// digestGrace is how late a digest may still be sent: a catch-up after a
// night of downtime still sends this morning's digest, a digest missed days
// ago is not sent (the next one covers the same leads).
const digestGrace = 20 * time.Hour

// jobs is what the scheduled jobs need from the configuration.
type jobs struct {
	followUp    triage.FollowUp
	digest      triage.DigestOptions
	checkSched  cron.Schedule // reminders.check
	digestSched cron.Schedule // digest.schedule
	retention   time.Duration // privacy.retention; 0 = keep
	askAfter    time.Duration // outcomes.ask_after; 0 = never
}

// retentionEvery is how often RunRetention runs when privacy.retention is
// set. Retention is counted in days or months, so hourly is "daily" with
// room to spare; a run that finds nothing due costs a read of the decided
// leads.
const retentionEvery = time.Hour

// newJobs builds the jobs' settings from a validated configuration.
func newJobs(cfg Config) (jobs, error) {
	var j jobs
	var err error
	if j.followUp, err = cfg.FollowUp(); err != nil {
		return j, err
	}
	if j.digest, err = cfg.DigestOptions(); err != nil {
		return j, err
	}
	if j.checkSched, err = parseSchedule(cfg.Reminders.Check); err != nil {
		return j, fmt.Errorf("reminders.check: %w", err)
	}
	if j.digestSched, err = parseSchedule(cfg.Digest.Schedule); err != nil {
		return j, fmt.Errorf("digest.schedule: %w", err)
	}
	j.retention = cfg.Privacy.Retention.Duration
	j.askAfter = cfg.Outcomes.AskAfter.Duration
	return j, nil
}

// parseSchedule parses a standard cron spec (5 fields or a descriptor such
// as "@every 1m"). robfig/cron panics on a time-zone prefix with no fields
// ("CRON_TZ=UTC"), so the parse is guarded.
func parseSchedule(spec string) (s cron.Schedule, err error) {
	if strings.TrimSpace(spec) == "" {
		return nil, errors.New("no cron spec")
	}
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("%q is not a cron spec", spec)
		}
	}()
	s, err = cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("%q is not a cron spec: %w", spec, err)
	}
	return s, nil
}

func (m *Main) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// RunReminders queues the reminders and escalations due now. Each stage
// happens once per lead, also across restarts and overlapping sweeps.
func (m *Main) RunReminders(ctx context.Context) error {
	now := m.now()
	res, err := m.Svc.SweepReminders(ctx, m.jobs.followUp, now)
	if n := len(res.Reminded) + len(res.Escalated); n > 0 {
		m.log.Info("followed up leads", "reminded", len(res.Reminded), "escalated", len(res.Escalated))
	}
	// The same check asks what became of leads decided ask_after ago.
	asked, aerr := m.Svc.AskOutcomes(ctx, m.jobs.askAfter, now)
	if len(asked) > 0 {
		m.log.Info("asked for outcomes", "leads", len(asked))
	}
	return errors.Join(err, aerr)
}

// readBackEvery is how often the CRM read-back asks about open deals: a
// won or lost deal shows within the hour, at one call per open deal, far
// inside either CRM's daily limits for a team's volume of leads.
const readBackEvery = time.Hour

// RunCRMReadBack asks the CRM what became of the deals the hand-off made
// (none when the hand-off is off) and records won or lost as the outcome.
// It is idempotent: a lead with an outcome, or a deal gone, is not asked
// about again.
func (m *Main) RunCRMReadBack(ctx context.Context) error {
	if m.readBack == nil {
		return nil
	}
	_, err := m.readBack.Run(ctx)
	return err
}

// RunRetention purges the leads decided at least privacy.retention ago
// (none when it is unset) and queues the deletion of their Slack messages.
// It is idempotent: a purged lead is gone, so a second run finds nothing.
func (m *Main) RunRetention(ctx context.Context) error {
	purged, err := m.Svc.PurgeExpired(ctx, m.jobs.retention, m.now())
	if len(purged) > 0 {
		ids := make([]string, len(purged))
		for i, id := range purged {
			ids[i] = id.String()
		}
		m.log.Info("purged leads past retention", "count", len(purged), "lead_ids", strings.Join(ids, ","))
		// As after a forget: the purged bytes must leave the file too.
		if cerr := m.DB.Compact(ctx); cerr != nil {
			err = errors.Join(err, cerr)
		}
	}
	return err
}

// RunDigestTick posts the digest of the latest scheduled run at or before
// now, unless that run was posted already (a second tick, a restart, the
// repeated hour of a DST fall-back) or is older than digestGrace. sent
// reports whether this call queued it.
func (m *Main) RunDigestTick(ctx context.Context) (sent bool, err error) {
	now := m.now()
	loc := m.jobs.digest.Location
	if loc == nil {
		loc = time.UTC
	}
	scheduled, ok := latestOccurrence(m.jobs.digestSched, now, loc)
	if !ok || now.Sub(scheduled) > digestGrace {
		return false, nil
	}
	key := digestKey(scheduled, loc)
	sent, err = m.Svc.RunDigest(ctx, key, scheduled, now, m.jobs.digest)
	if sent {
		m.log.Info("digest queued", "run", key)
	}
	return sent, err
}

// digestKey is triage.DigestKey, with the seconds added when the run has
// any (an "@every 30s" digest), so that runs within one minute differ.
func digestKey(t time.Time, loc *time.Location) string {
	if t.Second() == 0 {
		return triage.DigestKey(t, loc)
	}
	return t.In(loc).Format("2006-01-02T15:04:05") + " " + loc.String()
}

// latestOccurrence is the latest time at or before now that schedule s
// names, read in loc (a spec's own CRON_TZ= wins); ok is false when there is
// none within five years.
//
//   - "@every D" is not tied to the clock in robfig/cron (it counts from
//     when the entry was added). Its scheduled time is defined as
//     now.Truncate(D): multiples of D since Go's zero time, which for a D that
//     divides a day are aligned to the UTC clock ("@every 10m" → :00, :10, …).
//   - A spec with one fixed minute and one fixed hour ("30 2 * * *") also
//     counts on a day whose wall time falls into a spring-forward gap: that
//     day's run is at the wall time as time.Date normalises it (02:30 on
//     2026-03-29 in Europe/Amsterdam is 03:30 CEST). robfig/cron skips that
//     day; digestSchedule makes cron tick then too.
func latestOccurrence(s cron.Schedule, now time.Time, loc *time.Location) (time.Time, bool) {
	switch s := s.(type) {
	case cron.ConstantDelaySchedule:
		return now.Truncate(s.Delay), true
	case *cron.SpecSchedule:
		if s.Location != time.Local {
			loc = s.Location
		}
		now = now.In(loc)
		latest, ok := walkBack(s, now)
		if h, mi, fixed := fixedTime(s); fixed {
			y, mo, d := now.Date()
			for _, off := range []int{0, -1} {
				c := time.Date(y, mo, d+off, h, mi, 0, 0, loc)
				if !c.After(now) && specDay(s, y, mo, d+off, loc) {
					if !ok || c.After(latest) {
						latest, ok = c, true
					}
					break
				}
			}
		}
		return latest, ok
	}
	return walkBack(s, now.In(loc))
}

// walkBack finds the latest Next(t) ≤ now by walking forward from windows
// before now that grow until one holds an occurrence. A window before it held
// none, so the walk is short for any spec (at most a day of minutes).
func walkBack(s cron.Schedule, now time.Time) (time.Time, bool) {
	const maxSteps = 100_000
	for _, w := range []time.Duration{2 * time.Hour, 26 * time.Hour, 8 * 24 * time.Hour, 32 * 24 * time.Hour, 367 * 24 * time.Hour, 5 * 366 * 24 * time.Hour} {
		var last time.Time
		found := false
		t := now.Add(-w)
		for range maxSteps {
			n := s.Next(t)
			if n.IsZero() || n.After(now) {
				break
			}
			last, found, t = n, true, n
		}
		if found {
			return last, true
		}
	}
	return time.Time{}, false
}

const starBit = 1 << 63

// fixedTime reports the hour and minute of a spec with exactly one of each.
func fixedTime(s *cron.SpecSchedule) (hour, minute int, ok bool) {
	h, mi := s.Hour&^starBit, s.Minute&^starBit
	if bits.OnesCount64(h) != 1 || bits.OnesCount64(mi) != 1 || s.Second != 1 {
		return 0, 0, false
	}
	return bits.TrailingZeros64(h), bits.TrailingZeros64(mi), true
}

// specDay reports whether the local day (y, m, d) in loc matches the spec's
// month, day-of-month and weekday fields, with cron's rule: when both day
// fields are restricted, either may match.
func specDay(s *cron.SpecSchedule, y int, m time.Month, d int, loc *time.Location) bool {
	t := time.Date(y, m, d, 12, 0, 0, 0, loc)
	if s.Month&(1<<uint(t.Month())) == 0 {
		return false
	}
	dom := s.Dom&(1<<uint(t.Day())) != 0
	dow := s.Dow&(1<<uint(t.Weekday())) != 0
	if s.Dom&starBit != 0 || s.Dow&starBit != 0 {
		return dom && dow
	}
	return dom || dow
}

// digestSchedule is the digest spec as cron should tick it: robfig's next
// time, or earlier the normalised time of a fixed-time run that falls into a
// spring-forward gap (which robfig skips), so that no day goes without.
type digestSchedule struct {
	s   cron.Schedule
	loc *time.Location
}

func (d digestSchedule) Next(t time.Time) time.Time {
	n := d.s.Next(t)
	spec, ok := d.s.(*cron.SpecSchedule)
	if !ok {
		return n
	}
	h, mi, fixed := fixedTime(spec)
	if !fixed {
		return n
	}
	loc := d.loc
	if spec.Location != time.Local {
		loc = spec.Location
	}
	tt := t.In(loc)
	y, mo, day := tt.Date()
	// A day's normalised time equals robfig's time except in a gap, so
	// anything found before n is a skipped gap day. Look a year ahead at most.
	for off := 0; off <= 366; off++ {
		c := time.Date(y, mo, day+off, h, mi, 0, 0, loc)
		if !n.IsZero() && !c.Before(n) {
			break
		}
		if c.After(t) && specDay(spec, y, mo, day+off, loc) {
			return c
		}
	}
	return n
}

// inLocation evaluates a schedule in loc, whatever cron's own location.
type inLocation struct {
	s   cron.Schedule
	loc *time.Location
}

func (l inLocation) Next(t time.Time) time.Time { return l.s.Next(t.In(l.loc)) }

// startCron starts the jobs. It is called last in Run, once everything
// the jobs use runs. Recover keeps a panicking job from taking the process
// down; SkipIfStillRunning keeps a slow sweep from overlapping the next.
func (m *Main) startCron(ctx context.Context) {
	logger := cronLogger{m.log.With("component", "cron")}
	loc := m.jobs.digest.Location
	if loc == nil {
		loc = time.UTC
	}
	c := cron.New(
		cron.WithLocation(loc),
		cron.WithLogger(logger),
		cron.WithChain(cron.Recover(logger), cron.SkipIfStillRunning(logger)),
	)
	remindLoc := m.jobs.followUp.Hours.Location
	if remindLoc == nil {
		remindLoc = time.UTC
	}
	c.Schedule(inLocation{m.jobs.checkSched, remindLoc}, cron.FuncJob(func() {
		if err := m.RunReminders(ctx); err != nil && ctx.Err() == nil {
			m.log.Error("reminder sweep", "error", err)
		}
	}))
	c.Schedule(inLocation{digestSchedule{m.jobs.digestSched, loc}, loc}, cron.FuncJob(func() {
		if _, err := m.RunDigestTick(ctx); err != nil && ctx.Err() == nil {
			m.log.Error("digest", "error", err)
		}
	}))
	if m.readBack != nil {
		c.Schedule(cron.Every(readBackEvery), cron.FuncJob(func() {
			if err := m.RunCRMReadBack(ctx); err != nil && ctx.Err() == nil {
				m.log.Error("crm read-back", "error", err)
			}
		}))
	}
	if m.jobs.retention > 0 {
		c.Schedule(cron.Every(retentionEvery), cron.FuncJob(func() {
			if err := m.RunRetention(ctx); err != nil && ctx.Err() == nil {
				m.log.Error("retention", "error", err)
			}
		}))
	}
	c.Start()
	m.cron = c
}

// catchUp runs each job once right after start: reminders that came due
// are queued without waiting for the first tick, leads past retention are
// purged and closed CRM deals read back without waiting an hour, and a digest missed while
// the bot was down (within digestGrace) is sent now. A store that never ran
// a digest has missed none: a first start does not post one out of
// schedule (the first digest comes at the first scheduled time).
func (m *Main) catchUp(ctx context.Context) error {
	var errs []error
	if err := m.RunReminders(ctx); err != nil {
		errs = append(errs, fmt.Errorf("reminders: %w", err))
	}
	if err := m.RunRetention(ctx); err != nil {
		errs = append(errs, fmt.Errorf("retention: %w", err))
	}
	// Deals closed while the bot was down are read back now, not in an hour.
	if err := m.RunCRMReadBack(ctx); err != nil {
		errs = append(errs, fmt.Errorf("crm read-back: %w", err))
	}
	_, _, ran, err := m.Svc.Store.LastJob(ctx, triage.DigestJobPrefix)
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf("finding the last digest: %w", err))
	case ran:
		if _, err := m.RunDigestTick(ctx); err != nil {
			errs = append(errs, fmt.Errorf("digest: %w", err))
		}
	}
	return errors.Join(errs...)
}

// stopCron stops scheduling and waits for running jobs, at most until ctx
// ends (cron does not cancel jobs; the caller cancels their context next).
func (m *Main) stopCron(ctx context.Context) error {
	if m.cron == nil {
		return nil
	}
	select {
	case <-m.cron.Stop().Done():
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for scheduled jobs: %w", ctx.Err())
	}
}

// cronLogger puts cron's log lines into slog. Its routine lines (start,
// wake, run) are debug; a skipped overlapping run is info.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) {
	level := slog.LevelDebug
	if msg == "skip" {
		level = slog.LevelInfo
	}
	l.log.Log(context.Background(), level, "cron "+msg, kv...)
}

func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron "+msg, append([]any{"error", err}, kv...)...)
}
