package triage_test

import (
	"errors"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/triage"
)

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("LoadLocation(%q): %v", name, err)
	}
	return loc
}

func mustHours(t testing.TB, hours, workdays, tz string) triage.BusinessHours {
	t.Helper()
	b, err := triage.ParseBusinessHours(hours, workdays, tz)
	if err != nil {
		t.Fatalf("ParseBusinessHours(%q, %q, %q): %v", hours, workdays, tz, err)
	}
	return b
}

func TestParseBusinessHours(t *testing.T) {
	t.Parallel()
	ams := mustLoad(t, "Europe/Amsterdam")
	weekdays := [7]bool{false, true, true, true, true, true, false}
	tests := []struct {
		name                string
		hours, workdays, tz string
		wantOpen, wantClose time.Duration
		wantDays            [7]bool
		wantLoc             *time.Location
		wantField           string // "" = no error
	}{
		{name: "config default", hours: "09:00-17:30", workdays: "Mon-Fri", tz: "Europe/Amsterdam",
			wantOpen: 9 * time.Hour, wantClose: 17*time.Hour + 30*time.Minute, wantDays: weekdays, wantLoc: ams},
		{name: "all empty: around the clock in UTC", wantLoc: time.UTC},
		{name: "list of days", workdays: "Mon,Wed,Fri", tz: "UTC", wantDays: [7]bool{1: true, 3: true, 5: true}, wantLoc: time.UTC},
		{name: "range over the weekend, full names", workdays: "sunday-Thursday", wantDays: [7]bool{true, true, true, true, true, false, false}, wantLoc: time.UTC},
		{name: "ranges and days mixed", workdays: " Mon-Tue , Sat ", wantDays: [7]bool{1: true, 2: true, 6: true}, wantLoc: time.UTC},
		{name: "till midnight", hours: "08:00-24:00", wantOpen: 8 * time.Hour, wantClose: 24 * time.Hour, wantLoc: time.UTC},
		{name: "00:00-24:00 is around the clock", hours: "00:00-24:00", wantLoc: time.UTC},
		{name: "unknown zone", tz: "Europe/Atlantis", wantField: "timezone"},
		{name: "no range", hours: "09:00", wantField: "business_hours"},
		{name: "bad minutes", hours: "09:0-17:00", wantField: "business_hours"},
		{name: "hour 25", hours: "09:00-25:00", wantField: "business_hours"},
		{name: "closes before it opens", hours: "17:00-09:00", wantField: "business_hours"},
		{name: "empty window", hours: "09:00-09:00", wantField: "business_hours"},
		{name: "unknown day", workdays: "Mon-Fry", wantField: "workdays"},
		{name: "one letter", workdays: "M", wantField: "workdays"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := triage.ParseBusinessHours(tt.hours, tt.workdays, tt.tz)
			if tt.wantField != "" {
				var fe *triage.FieldError
				if !errors.As(err, &fe) || fe.Field != tt.wantField {
					t.Fatalf("err = %v, want a FieldError on %s", err, tt.wantField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.Open != tt.wantOpen || b.Close != tt.wantClose || b.Workdays != tt.wantDays || b.Location.String() != tt.wantLoc.String() {
				t.Errorf("got %v-%v %v %v; want %v-%v %v %v", b.Open, b.Close, b.Workdays, b.Location, tt.wantOpen, tt.wantClose, tt.wantDays, tt.wantLoc)
			}
		})
	}
}

func TestBusinessHours_AddAndElapsed(t *testing.T) {
	t.Parallel()
	ams := mustLoad(t, "Europe/Amsterdam")
	nyc := mustLoad(t, "America/New_York")
	office := mustHours(t, "09:00-17:30", "Mon-Fri", "Europe/Amsterdam")
	at := func(loc *time.Location, y int, m time.Month, d, hh, mm int) time.Time {
		return time.Date(y, m, d, hh, mm, 0, 0, loc)
	}
	tests := []struct {
		name  string
		hours triage.BusinessHours
		from  time.Time
		d     time.Duration
		want  time.Time
	}{
		{"zero value: wall time", triage.BusinessHours{}, at(time.UTC, 2026, 11, 28, 23, 0), 4 * time.Hour, at(time.UTC, 2026, 11, 29, 3, 0)},
		{"around the clock across the spring DST change: 4h of real time", mustHours(t, "", "", "Europe/Amsterdam"),
			at(ams, 2026, 3, 29, 0, 0), 4 * time.Hour, at(ams, 2026, 3, 29, 5, 0)},
		{"within a day", office, at(ams, 2026, 11, 30, 10, 0), 4 * time.Hour, at(ams, 2026, 11, 30, 14, 0)},
		{"ends exactly at closing", office, at(ams, 2026, 11, 30, 13, 30), 4 * time.Hour, at(ams, 2026, 11, 30, 17, 30)},
		{"into the next day", office, at(ams, 2026, 11, 30, 16, 0), 4 * time.Hour, at(ams, 2026, 12, 1, 11, 30)},
		{"Friday 17:00 + 1h is Monday 09:30", office, at(ams, 2026, 11, 27, 17, 0), time.Hour, at(ams, 2026, 11, 30, 9, 30)},
		{"weekend start waits for Monday", office, at(ams, 2026, 11, 28, 12, 0), time.Hour, at(ams, 2026, 11, 30, 10, 0)},
		{"before opening starts at opening", office, at(ams, 2026, 11, 30, 6, 15), 2 * time.Hour, at(ams, 2026, 11, 30, 11, 0)},
		{"after closing starts next morning", office, at(ams, 2026, 11, 30, 20, 0), 2 * time.Hour, at(ams, 2026, 12, 1, 11, 0)},
		{"24h of business time is almost three days", office, at(ams, 2026, 11, 30, 9, 0), 24 * time.Hour, at(ams, 2026, 12, 2, 16, 0)},
		{"Amsterdam spring forward: opens 09:00 CEST on Monday", office, at(ams, 2026, 3, 27, 17, 0), time.Hour, at(ams, 2026, 3, 30, 9, 30)},
		{"Amsterdam spring forward, every day: Sunday 29 March keeps 09:00", mustHours(t, "09:00-17:30", "", "Europe/Amsterdam"),
			at(ams, 2026, 3, 28, 17, 0), time.Hour, at(ams, 2026, 3, 29, 9, 30)},
		{"Amsterdam fall back, every day: Sunday 25 October keeps 09:00", mustHours(t, "09:00-17:30", "", "Europe/Amsterdam"),
			at(ams, 2026, 10, 24, 17, 0), time.Hour, at(ams, 2026, 10, 25, 9, 30)},
		{"Amsterdam fall back: the 25-hour day counts 25 hours", mustHours(t, "", "Sun", "Europe/Amsterdam"),
			at(ams, 2026, 10, 25, 0, 0), 25 * time.Hour, at(ams, 2026, 10, 26, 0, 0)},
		{"Amsterdam spring forward: the 23-hour day counts 23 hours", mustHours(t, "", "Sun", "Europe/Amsterdam"),
			at(ams, 2026, 3, 29, 0, 0), 23 * time.Hour, at(ams, 2026, 3, 30, 0, 0)},
		{"New York: its own office hours", mustHours(t, "08:00-16:00", "Mon-Fri", "America/New_York"),
			at(nyc, 2026, 11, 27, 15, 0), 2 * time.Hour, at(nyc, 2026, 11, 30, 9, 0)},
		{"New York spring forward (8 March 2026)", mustHours(t, "08:00-16:00", "Mon-Fri", "America/New_York"),
			at(nyc, 2026, 3, 6, 15, 0), 2 * time.Hour, at(nyc, 2026, 3, 9, 9, 0)},
		{"from given in another zone", office, at(nyc, 2026, 11, 30, 3, 0), time.Hour, at(ams, 2026, 11, 30, 10, 0)},
		{"zero duration", office, at(ams, 2026, 11, 28, 12, 0), 0, at(ams, 2026, 11, 28, 12, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.hours.Add(tt.from, tt.d)
			if !got.Equal(tt.want) {
				t.Errorf("Add(%v, %v) = %v, want %v", tt.from, tt.d, got, tt.want)
			}
			if e := tt.hours.Elapsed(tt.from, tt.want); e != tt.d {
				t.Errorf("Elapsed(%v, %v) = %v, want %v", tt.from, tt.want, e, tt.d)
			}
		})
	}
}

func TestBusinessHours_Elapsed(t *testing.T) {
	t.Parallel()
	ams := mustLoad(t, "Europe/Amsterdam")
	office := mustHours(t, "09:00-17:30", "Mon-Fri", "Europe/Amsterdam")
	mon := time.Date(2026, 11, 30, 9, 0, 0, 0, ams)
	tests := []struct {
		name     string
		from, to time.Time
		want     time.Duration
	}{
		{"to before from", mon.Add(time.Hour), mon, 0},
		{"same instant", mon, mon, 0},
		{"a working day", mon, mon.Add(8*time.Hour + 30*time.Minute), 8*time.Hour + 30*time.Minute},
		{"night does not count", mon.Add(8 * time.Hour), mon.Add(25 * time.Hour), 90 * time.Minute},
		{"a whole week", mon, mon.Add(7 * 24 * time.Hour), 5 * (8*time.Hour + 30*time.Minute)},
		{"weekend only", mon.Add(-2 * 24 * time.Hour), mon, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := office.Elapsed(tt.from, tt.to); got != tt.want {
				t.Errorf("Elapsed = %v, want %v", got, tt.want)
			}
		})
	}
}

// Elapsed(x, Add(x, d)) == d, and Add never lands in closed time, for many
// starts (every 37 minutes over a year, both DST changes included) and
// durations.
func TestBusinessHours_AddElapsedProperty(t *testing.T) {
	t.Parallel()
	hours := []triage.BusinessHours{
		mustHours(t, "09:00-17:30", "Mon-Fri", "Europe/Amsterdam"),
		mustHours(t, "", "Mon-Fri", "Europe/Amsterdam"),
		mustHours(t, "01:30-03:30", "", "Europe/Amsterdam"), // covers the DST hour itself
		mustHours(t, "08:00-16:00", "Sun-Thu", "America/New_York"),
		{},
	}
	durations := []time.Duration{time.Minute, time.Hour, 4 * time.Hour, 24 * time.Hour, 61 * time.Hour}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, b := range hours {
		for x := start; x.Before(start.AddDate(1, 0, 0)); x = x.Add(37*time.Minute + 24*time.Hour) {
			for _, d := range durations {
				end := b.Add(x, d)
				if e := b.Elapsed(x, end); e != d {
					t.Fatalf("%+v: Elapsed(%v, Add(%v, %v) = %v) = %v", b, x, x, d, end, e)
				}
				if !end.After(x) {
					t.Fatalf("%+v: Add(%v, %v) = %v is not later", b, x, d, end)
				}
				// Nothing of d is left before end: the last minute counts.
				if e := b.Elapsed(x, end.Add(-time.Minute)); e >= d {
					t.Fatalf("%+v: Elapsed up to a minute before Add(%v, %v) = %v is already %v", b, x, d, end, e)
				}
			}
		}
	}
}
