package triage

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// BusinessHours says when the team works: the clock of reminders and
// escalations runs only then. The zero value is around the clock, every
// day, in UTC.
type BusinessHours struct {
	Location *time.Location // nil = UTC
	// Open and Close are wall-clock times of day, as durations since local
	// midnight (Close may be 24h). Both 0 = around the clock. A local day's
	// open hours are computed with time.Date in Location, so 09:00 stays
	// 09:00 on the days the clocks change.
	Open, Close time.Duration
	// Workdays is indexed by time.Weekday; all false = every day.
	Workdays [7]bool
}

// ParseBusinessHours reads config.toml's business_hours ("09:00-17:30", ""
// = around the clock), workdays ("Mon-Fri", "Mon,Wed,Fri", "Sun-Thu", "" =
// every day) and timezone ("Europe/Amsterdam", "" = UTC). Wrong input is a
// *FieldError naming business_hours, workdays or timezone.
func ParseBusinessHours(hours, workdays, tz string) (BusinessHours, error) {
	var b BusinessHours
	loc, err := time.LoadLocation(strings.TrimSpace(tz))
	if err != nil {
		return BusinessHours{}, &FieldError{Field: "timezone", Problem: fmt.Sprintf("%q is not a known time zone (e.g. Europe/Amsterdam)", truncateRunes(tz, 60))}
	}
	b.Location = loc
	if h := strings.TrimSpace(hours); h != "" {
		from, to, ok := strings.Cut(h, "-")
		open, err1 := parseClock(from)
		closing, err2 := parseClock(to)
		switch {
		case !ok || err1 != nil || err2 != nil:
			return BusinessHours{}, &FieldError{Field: "business_hours", Problem: fmt.Sprintf("%q is not HH:MM-HH:MM (e.g. 09:00-17:30)", truncateRunes(hours, 60))}
		case open >= closing:
			return BusinessHours{}, &FieldError{Field: "business_hours", Problem: fmt.Sprintf("%q closes before it opens (hours over midnight are not supported)", truncateRunes(hours, 60))}
		case open == 0 && closing == 24*time.Hour:
			// 00:00-24:00 is around the clock.
		default:
			b.Open, b.Close = open, closing
		}
	}
	if w := strings.TrimSpace(workdays); w != "" {
		for part := range strings.SplitSeq(w, ",") {
			first, last, isRange := strings.Cut(part, "-")
			d1, ok1 := parseWeekday(first)
			d2, ok2 := d1, ok1
			if isRange {
				d2, ok2 = parseWeekday(last)
			}
			if !ok1 || !ok2 {
				return BusinessHours{}, &FieldError{Field: "workdays", Problem: fmt.Sprintf("%q is not a list of days (e.g. Mon-Fri or Mon,Wed,Fri)", truncateRunes(workdays, 60))}
			}
			for d := d1; ; d = (d + 1) % 7 {
				b.Workdays[d] = true
				if d == d2 {
					break
				}
			}
		}
	}
	return b, nil
}

// parseClock reads "HH:MM" (00:00 to 24:00).
func parseClock(s string) (time.Duration, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	return time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute, nil
}

func parseWeekday(s string) (time.Weekday, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) < 3 {
		return 0, false
	}
	for d := time.Sunday; d <= time.Saturday; d++ {
		name := strings.ToLower(d.String())
		if s == name || s == name[:3] {
			return d, true
		}
	}
	return 0, false
}

func (b BusinessHours) loc() *time.Location {
	if b.Location == nil {
		return time.UTC
	}
	return b.Location
}

// aroundTheClock reports whether every hour of a workday counts. Open and
// Close that make no window (Close not after Open) count as around the
// clock too, so a hand-built value can never stop the clock for good.
func (b BusinessHours) aroundTheClock() bool {
	return (b.Open == 0 && b.Close == 0) || b.Close <= b.Open || b.Open < 0 || b.Close > 24*time.Hour
}

func (b BusinessHours) everyDay() bool {
	return b.Workdays == [7]bool{}
}

// Always reports whether business time is plain wall time: around the
// clock, every day.
func (b BusinessHours) Always() bool {
	return b.aroundTheClock() && b.everyDay()
}

// window returns the open hours of the local day that is offset days after
// (y, m, d); ok is false on a day off.
func (b BusinessHours) window(y int, m time.Month, d, offset int) (open, closing time.Time, ok bool) {
	loc := b.loc()
	if !b.everyDay() && !b.Workdays[time.Date(y, m, d+offset, 12, 0, 0, 0, loc).Weekday()] {
		return time.Time{}, time.Time{}, false
	}
	if b.aroundTheClock() {
		return time.Date(y, m, d+offset, 0, 0, 0, 0, loc), time.Date(y, m, d+offset+1, 0, 0, 0, 0, loc), true
	}
	at := func(c time.Duration) time.Time {
		return time.Date(y, m, d+offset, int(c/time.Hour), int(c%time.Hour/time.Minute), int(c%time.Minute/time.Second), int(c%time.Second), loc)
	}
	return at(b.Open), at(b.Close), true
}

// Elapsed is the business time between from and to: the open hours of
// workdays only; 0 when to is not after from.
func (b BusinessHours) Elapsed(from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	if b.Always() {
		return to.Sub(from)
	}
	y, m, d := from.In(b.loc()).Date()
	var total time.Duration
	for i := 0; ; i++ {
		if time.Date(y, m, d+i, 0, 0, 0, 0, b.loc()).After(to) {
			return total
		}
		open, closing, ok := b.window(y, m, d, i)
		if !ok {
			continue
		}
		start, end := later(open, from), earlier(closing, to)
		if end.After(start) {
			total += end.Sub(start)
		}
	}
}

// Add returns the instant at which d of business time has passed since
// from: Friday 17:00 plus one hour, with 09:00-17:30 on Mon-Fri, is Monday
// 09:30. d <= 0 returns from.
func (b BusinessHours) Add(from time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return from
	}
	if b.Always() {
		return from.Add(d)
	}
	y, m, day := from.In(b.loc()).Date()
	for i := 0; ; i++ {
		open, closing, ok := b.window(y, m, day, i)
		if !ok {
			continue
		}
		start := later(open, from)
		if !closing.After(start) {
			continue
		}
		avail := closing.Sub(start)
		if avail >= d {
			return start.Add(d)
		}
		d -= avail
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
