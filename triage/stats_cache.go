package triage

import (
	"slices"
	"sync"
	"time"
)

// StatsCacheTTL is how long Service.DecisionStats serves a report again
// instead of reading its period anew: the App Home's "Did we decide well?"
// may be this much behind the latest decisions and outcomes.
const StatsCacheTTL = 10 * time.Minute

// statsKey is a report's bounds by UTC day: the App Home's windows end now
// and so move with every opening, but stay on the same days for a while.
type statsKey struct{ from, to int64 }

func dayOf(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	y, m, d := t.UTC().Date()
	return int64(y)*10000 + int64(m)*100 + int64(d)
}

type cachedReport struct {
	r  DecisionReport
	at time.Time // when it was gathered, by the Service's clock
}

// statsCache holds recent reports; its zero value is empty and ready. It
// holds a handful of entries (one per period and day pair) and drops the
// expired ones whenever it stores one.
type statsCache struct {
	mu      sync.Mutex
	reports map[statsKey]cachedReport
}

// get returns the report for from and to's days if it was gathered less
// than StatsCacheTTL before now.
func (c *statsCache) get(from, to, now time.Time) (DecisionReport, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.reports[statsKey{dayOf(from), dayOf(to)}]
	if !ok || !fresh(e.at, now) {
		return DecisionReport{}, false
	}
	return cloneReport(e.r), true
}

func (c *statsCache) put(from, to, now time.Time, r DecisionReport) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reports == nil {
		c.reports = map[statsKey]cachedReport{}
	}
	for k, e := range c.reports {
		if !fresh(e.at, now) {
			delete(c.reports, k)
		}
	}
	c.reports[statsKey{dayOf(from), dayOf(to)}] = cachedReport{r: cloneReport(r), at: now}
}

// fresh reports whether a report gathered at is still served at now (not
// when the clock went back before it).
func fresh(at, now time.Time) bool {
	return !now.Before(at) && now.Sub(at) < StatsCacheTTL
}

// cloneReport copies r's one slice, so that no caller changes another's.
func cloneReport(r DecisionReport) DecisionReport {
	r.Criteria = slices.Clone(r.Criteria)
	return r
}
