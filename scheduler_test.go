package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/leadtriage/leadtriage/storage/storagetest"
	"github.com/leadtriage/leadtriage/triage"
	"github.com/leadtriage/leadtriage/triage/triagetest"
)

func mustLoc(tb testing.TB, name string) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		tb.Fatal(err)
	}
	return loc
}

func TestLatestOccurrence(t *testing.T) {
	t.Parallel()
	ams := mustLoc(t, "Europe/Amsterdam")
	at := func(y int, m time.Month, d, h, mi int) time.Time { return time.Date(y, m, d, h, mi, 0, 0, ams) }
	for _, tc := range []struct {
		name string
		spec string
		now  time.Time
		want time.Time
	}{
		{"daily after 09:00", "0 9 * * *", at(2026, 3, 4, 9, 1), at(2026, 3, 4, 9, 0)},
		{"daily at 09:00", "0 9 * * *", at(2026, 3, 4, 9, 0), at(2026, 3, 4, 9, 0)},
		{"daily before 09:00", "0 9 * * *", at(2026, 3, 4, 8, 59), at(2026, 3, 3, 9, 0)},
		{"weekdays: Monday before 09:00 is Friday's", "0 9 * * 1-5", at(2026, 3, 9, 8, 0), at(2026, 3, 6, 9, 0)},
		{"weekdays: Sunday is Friday's", "0 9 * * 1-5", at(2026, 3, 8, 12, 0), at(2026, 3, 6, 9, 0)},
		{"weekdays: Monday after 09:00", "0 9 * * 1-5", at(2026, 3, 9, 10, 0), at(2026, 3, 9, 9, 0)},
		{"every 10m truncates", "@every 10m", at(2026, 3, 4, 9, 17), at(2026, 3, 4, 9, 10)},
		{"every 10m on the mark", "@every 10m", at(2026, 3, 4, 9, 20), at(2026, 3, 4, 9, 20)},
		{"every minute", "* * * * *", at(2026, 3, 4, 9, 17).Add(30 * time.Second), at(2026, 3, 4, 9, 17)},
		{"monthly", "0 6 1 * *", at(2026, 3, 20, 9, 0), at(2026, 3, 1, 6, 0)},
		{"spring forward: 09:00 is 09:00 CEST", "0 9 * * *", at(2026, 3, 29, 9, 30), at(2026, 3, 29, 9, 0)},
		{"spring forward: 02:30 is missing, the day's run is 03:30 CEST", "30 2 * * *", at(2026, 3, 29, 4, 0), at(2026, 3, 29, 3, 30)},
		{"spring forward: before the normalised time it is yesterday's", "30 2 * * *", at(2026, 3, 29, 3, 10), at(2026, 3, 28, 2, 30)},
		{"spring forward: the next day is normal", "30 2 * * *", at(2026, 3, 30, 2, 31), at(2026, 3, 30, 2, 30)},
		{"fall back: after the second 02:30", "30 2 * * *", time.Date(2026, 10, 25, 2, 40, 0, 0, time.FixedZone("CET", 3600)), time.Date(2026, 10, 25, 2, 30, 0, 0, time.FixedZone("CET", 3600))},
		{"fall back: 09:00 is 09:00 CET", "0 9 * * *", at(2026, 10, 25, 9, 0), at(2026, 10, 25, 9, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := parseSchedule(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := latestOccurrence(s, tc.now, ams)
			if !ok || !got.Equal(tc.want) {
				t.Errorf("latestOccurrence(%q, %v) = %v, %v; want %v", tc.spec, tc.now, got, ok, tc.want)
			}
		})
	}
}

// The fall-back day's two 02:30 runs share one key: the wall time.
func TestDigestKey_FallBack(t *testing.T) {
	t.Parallel()
	ams := mustLoc(t, "Europe/Amsterdam")
	first := time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC)  // 02:30 CEST
	second := time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC) // 02:30 CET
	if a, b := digestKey(first, ams), digestKey(second, ams); a != b || a != "2026-10-25T02:30 Europe/Amsterdam" {
		t.Errorf("keys %q and %q, want both 2026-10-25T02:30 Europe/Amsterdam", a, b)
	}
	if k := digestKey(time.Date(2026, 3, 4, 9, 0, 30, 0, ams), ams); k != "2026-03-04T09:00:30 Europe/Amsterdam" {
		t.Errorf("sub-minute key = %q", k)
	}
}

func TestParseSchedule_GuardsCronPanic(t *testing.T) {
	t.Parallel()
	for _, spec := range []string{"CRON_TZ=UTC", "TZ=", "", "every day", "61 * * * *"} {
		if _, err := parseSchedule(spec); err == nil {
			t.Errorf("parseSchedule(%q) = nil error", spec)
		}
	}
}

// The cron entry ticks on the spring-forward day too, at the normalised
// time robfig/cron skips.
func TestDigestSchedule_SpringForward(t *testing.T) {
	t.Parallel()
	ams := mustLoc(t, "Europe/Amsterdam")
	s, err := parseSchedule("30 2 * * *")
	if err != nil {
		t.Fatal(err)
	}
	d := digestSchedule{s, ams}
	var got []string
	next := time.Date(2026, 3, 27, 12, 0, 0, 0, ams)
	for range 4 {
		next = d.Next(next)
		got = append(got, next.In(ams).Format("2006-01-02 15:04 MST"))
	}
	want := []string{"2026-03-28 02:30 CET", "2026-03-29 03:30 CEST", "2026-03-30 02:30 CEST", "2026-03-31 02:30 CEST"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ticks (-want +got):\n%s", diff)
	}
	// A spec that is not at a fixed time is left to robfig/cron.
	s2, _ := parseSchedule("*/30 * * * *")
	if n := (digestSchedule{s2, ams}).Next(next); !n.Equal(s2.Next(next)) {
		t.Errorf("*/30: %v, want robfig's %v", n, s2.Next(next))
	}
}

// newJobMain is a Main with only what the jobs use: a real store, the
// service and the jobs' settings from a config with the given [digest].
func newJobMain(tb testing.TB, digest string, clk *triagetest.Clock) *Main {
	tb.Helper()
	cfg, problems := LoadConfig(writeConfig(tb, "[slack]\nchannel = \"C0TRIAGE\"\n"+digest))
	if len(problems) > 0 {
		tb.Fatalf("config: %q", problems)
	}
	j, err := newJobs(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	db := storagetest.MustOpen(tb)
	m := &Main{Now: clk.Now, jobs: j, DB: db, log: slog.New(slog.DiscardHandler)}
	m.Svc = &triage.Service{Store: db, Channel: "C0TRIAGE", Now: clk.Now}
	return m
}

// digests are the digest runs queued in the outbox: each run's key and the
// time it was queued.
func digests(tb testing.TB, m *Main) []triage.DigestPart {
	tb.Helper()
	items, err := m.DB.DueOutbox(tb.Context(), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), 100000)
	if err != nil {
		tb.Fatal(err)
	}
	var out []triage.DigestPart
	for _, it := range items {
		if it.Kind != triage.OutboxDigest {
			continue
		}
		var p triage.DigestPart
		if err := json.Unmarshal(it.Payload, &p); err != nil {
			tb.Fatal(err)
		}
		if p.Part == 1 {
			out = append(out, p)
		}
	}
	return out
}

// Ticking every ten minutes through the DST days gives exactly one digest
// per local day: the spring-forward day is not skipped, the fall-back
// day's repeated hour does not double it.
func TestRunDigestTick_DST(t *testing.T) {
	t.Parallel()
	ams := mustLoc(t, "Europe/Amsterdam")
	for _, tc := range []struct {
		spec string
		day  time.Time // the DST day; ticks run from the day before to the day after
	}{
		{"0 9 * * *", time.Date(2026, 3, 29, 0, 0, 0, 0, ams)},
		{"30 2 * * *", time.Date(2026, 3, 29, 0, 0, 0, 0, ams)},
		{"0 9 * * *", time.Date(2026, 10, 25, 0, 0, 0, 0, ams)},
		{"30 2 * * *", time.Date(2026, 10, 25, 0, 0, 0, 0, ams)},
		{"30 1,2 * * *", time.Date(2026, 10, 25, 0, 0, 0, 0, ams)},
	} {
		t.Run(fmt.Sprintf("%s %s", tc.spec, tc.day.Format(time.DateOnly)), func(t *testing.T) {
			t.Parallel()
			clk := triagetest.NewClock(time.Time{})
			m := newJobMain(t, fmt.Sprintf("[digest]\nschedule = %q\ntimezone = \"Europe/Amsterdam\"\n", tc.spec), clk)
			start := tc.day.AddDate(0, 0, -1)
			end := tc.day.AddDate(0, 0, 2) // midnight after the day after
			// A tick just before the range sends the run before it (within
			// the grace window), so the range's first ticks start clean.
			clk.Set(start.Add(-time.Minute))
			if _, err := m.RunDigestTick(t.Context()); err != nil {
				t.Fatal(err)
			}
			primed := len(digests(t, m))
			sentPerDay := map[string]int{}
			for now := start; now.Before(end); now = now.Add(10 * time.Minute) {
				clk.Set(now)
				sent, err := m.RunDigestTick(t.Context())
				if err != nil {
					t.Fatalf("tick at %v: %v", now, err)
				}
				if sent {
					sentPerDay[now.In(ams).Format(time.DateOnly)]++
				}
			}
			perDay := 1
			if strings.Contains(tc.spec, "1,2") {
				perDay = 2
			}
			want := map[string]int{}
			for d := start; d.Before(end); d = d.AddDate(0, 0, 1) {
				want[d.Format(time.DateOnly)] = perDay
			}
			if diff := cmp.Diff(want, sentPerDay); diff != "" {
				t.Errorf("digests per local day (-want +got):\n%s", diff)
			}
			// The store agrees: one queued digest per run, each key once.
			keys := map[string]int{}
			for _, p := range digests(t, m) {
				keys[p.Key]++
			}
			if len(keys) != primed+3*perDay {
				t.Errorf("queued digest runs %v, want %d", keys, primed+3*perDay)
			}
			for k, n := range keys {
				if n != 1 {
					t.Errorf("run %s queued %d times", k, n)
				}
			}
		})
	}
}

// A bot that is down over 09:00 sends that morning's digest when it comes
// back at 12:00, once; a later tick sends nothing.
func TestRunDigestTick_CatchUp(t *testing.T) {
	t.Parallel()
	ams := mustLoc(t, "Europe/Amsterdam")
	clk := triagetest.NewClock(time.Date(2026, 3, 4, 8, 0, 0, 0, ams))
	m := newJobMain(t, "[digest]\nschedule = \"0 9 * * 1-5\"\ntimezone = \"Europe/Amsterdam\"\n", clk)
	// At 08:00 yesterday's digest is 23 hours old: past the grace window.
	if sent, err := m.RunDigestTick(t.Context()); err != nil || sent {
		t.Fatalf("08:00 tick: sent %v, %v; want nothing (yesterday's is past the grace window)", sent, err)
	}
	clk.Set(time.Date(2026, 3, 4, 12, 0, 0, 0, ams))
	if sent, err := m.RunDigestTick(t.Context()); err != nil || !sent {
		t.Fatalf("12:00 catch-up: sent %v, %v; want the 09:00 digest", sent, err)
	}
	clk.Set(time.Date(2026, 3, 4, 12, 1, 0, 0, ams))
	if sent, err := m.RunDigestTick(t.Context()); err != nil || sent {
		t.Fatalf("12:01 tick: sent %v, %v; want nothing", sent, err)
	}
	got := digests(t, m)
	if len(got) != 1 || got[0].Key != "digest|2026-03-04T09:00 Europe/Amsterdam" || !got[0].Day.Equal(time.Date(2026, 3, 4, 9, 0, 0, 0, ams)) {
		t.Fatalf("digests = %+v, want the one of Wed 09:00", got)
	}
}

// After three days down only the latest run is sent, not one per missed day.
func TestRunDigestTick_GraceWindow(t *testing.T) {
	t.Parallel()
	ams := mustLoc(t, "Europe/Amsterdam")
	clk := triagetest.NewClock(time.Date(2026, 3, 2, 9, 5, 0, 0, ams)) // Monday
	m := newJobMain(t, "[digest]\nschedule = \"0 9 * * *\"\ntimezone = \"Europe/Amsterdam\"\n", clk)
	if sent, err := m.RunDigestTick(t.Context()); err != nil || !sent {
		t.Fatalf("Monday: %v %v", sent, err)
	}
	clk.Set(time.Date(2026, 3, 5, 10, 0, 0, 0, ams)) // Thursday, three days later
	if sent, err := m.RunDigestTick(t.Context()); err != nil || !sent {
		t.Fatalf("Thursday: %v %v", sent, err)
	}
	var keys []string
	for _, p := range digests(t, m) {
		keys = append(keys, p.Key)
	}
	want := []string{"digest|2026-03-02T09:00 Europe/Amsterdam", "digest|2026-03-05T09:00 Europe/Amsterdam"}
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("runs (-want +got):\n%s", diff)
	}
	// A week later, before that day's 09:00, the day before's run is too old.
	clk.Set(time.Date(2026, 3, 12, 8, 59, 0, 0, ams))
	if sent, err := m.RunDigestTick(t.Context()); err != nil || sent {
		t.Errorf("a 24-hour-old run was sent: %v %v", sent, err)
	}
}

// "@every 10m" digests every ten minutes, one per ten-minute slot however
// the ticks fall.
func TestRunDigestTick_Every(t *testing.T) {
	t.Parallel()
	clk := triagetest.NewClock(time.Time{})
	m := newJobMain(t, "[digest]\nschedule = \"@every 10m\"\ntimezone = \"UTC\"\n", clk)
	base := time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC)
	n := 0
	for _, off := range []time.Duration{3 * time.Minute, 7 * time.Minute, 9*time.Minute + 59*time.Second, 10 * time.Minute, 13 * time.Minute, 31 * time.Minute} {
		clk.Set(base.Add(off))
		sent, err := m.RunDigestTick(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if sent {
			n++
		}
	}
	if n != 3 { // 09:00, 09:10, 09:30
		t.Errorf("%d digests, want 3 (slots 09:00, 09:10, 09:30)", n)
	}
}
