package intake

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

const (
	// limiterSweepEvery is how often idle buckets are dropped.
	limiterSweepEvery = time.Minute
	// limiterMaxEntries caps the map: a spray of addresses cannot grow it
	// without bound.
	limiterMaxEntries = 50_000
)

// ipLimiter is a token bucket per client address. A bucket that has refilled
// completely is indistinguishable from a new one, so sweeping drops exactly
// those, and memory follows the number of recently active clients.
type ipLimiter struct {
	limit rate.Limit
	burst int

	mu        sync.Mutex
	buckets   map[string]*rate.Limiter
	lastSweep time.Time
}

func newIPLimiter(limit rate.Limit, burst int) *ipLimiter {
	return &ipLimiter{limit: limit, burst: burst, buckets: map[string]*rate.Limiter{}}
}

// allow takes a token for ip at now. When none is left it returns how long
// until one will be.
func (l *ipLimiter) allow(ip string, now time.Time) (time.Duration, bool) {
	if l.limit == rate.Inf {
		return 0, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) >= limiterSweepEvery || len(l.buckets) >= limiterMaxEntries {
		l.sweep(now)
	}
	b, ok := l.buckets[ip]
	if !ok {
		b = rate.NewLimiter(l.limit, l.burst)
		l.buckets[ip] = b
	}
	res := b.ReserveN(now, 1)
	if !res.OK() {
		return time.Second, false
	}
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return max(d, time.Second), false
	}
	return 0, true
}

func (l *ipLimiter) sweep(now time.Time) {
	l.lastSweep = now
	for ip, b := range l.buckets {
		if b.TokensAt(now) >= float64(l.burst) {
			delete(l.buckets, ip)
		}
	}
	// Under a spray of busy addresses, forget some rather than grow: each
	// forgotten address merely gets a fresh burst.
	for ip := range l.buckets {
		if len(l.buckets) < limiterMaxEntries*3/4 {
			break
		}
		delete(l.buckets, ip)
	}
}

func (l *ipLimiter) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// clientIP is the address the request came from. It trusts only the
// connection (RemoteAddr), never X-Forwarded-For, which any client can set.
// IPv6 clients are grouped by /64, the block one subscriber usually holds.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	a = a.Unmap()
	if a.Is6() {
		if p, err := a.Prefix(64); err == nil {
			return p.String()
		}
	}
	return a.String()
}

// tryLimiter counts failed authentication attempts per client address: a
// bucket of tries that refills at one per every. A client with no try left is
// refused before its request is even read, and every failed attempt costs a
// try. Authenticating happens under the client's own lock, so concurrent
// requests cannot evaluate more guesses than the client has tries left.
type tryLimiter struct {
	every time.Duration
	burst int

	mu        sync.Mutex
	entries   map[string]*tries
	lastSweep time.Time
}

type tries struct {
	mu   sync.Mutex
	left float64   // tries left at `at`
	at   time.Time // when left was last computed
}

func newTryLimiter(every time.Duration, burst int) *tryLimiter {
	return &tryLimiter{every: every, burst: burst, entries: map[string]*tries{}}
}

// leftAt is the number of tries the client has at now; t.mu must be held.
func (t *tries) leftAt(now time.Time, every time.Duration, burst int) float64 {
	left := t.left
	if d := now.Sub(t.at); d > 0 {
		left += float64(d) / float64(every)
	}
	return min(left, float64(burst))
}

// waitFor is how long until a client with left tries has one again.
func (l *tryLimiter) waitFor(left float64) time.Duration {
	return max(time.Duration((1-left)*float64(l.every)), time.Second)
}

// blocked reports whether ip has no try left, and for how long, without
// taking one: the cheap refusal before a request's body is read.
func (l *tryLimiter) blocked(ip string, now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	t := l.entries[ip]
	l.mu.Unlock()
	if t == nil {
		return 0, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if left := t.leftAt(now, l.every, l.burst); left < 1 {
		return l.waitFor(left), true
	}
	return 0, false
}

// attempt runs verify for ip if ip has a try left; a false verify costs one.
// It returns verify's answer, or limited with the wait when no try was left
// (verify did not run).
func (l *tryLimiter) attempt(ip string, now time.Time, verify func() bool) (ok bool, wait time.Duration, limited bool) {
	t := l.entry(ip, now)
	t.mu.Lock()
	defer t.mu.Unlock()
	left := t.leftAt(now, l.every, l.burst)
	if left < 1 {
		return false, l.waitFor(left), true
	}
	if verify() {
		return true, 0, false
	}
	t.left, t.at = left-1, now
	return false, 0, false
}

// fail costs ip one try (a failure found outside attempt, e.g. a replay).
func (l *tryLimiter) fail(ip string, now time.Time) {
	l.attempt(ip, now, func() bool { return false })
}

func (l *tryLimiter) entry(ip string, now time.Time) *tries {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) >= limiterSweepEvery || len(l.entries) >= limiterMaxEntries {
		l.sweep(now)
	}
	t := l.entries[ip]
	if t == nil {
		t = &tries{left: float64(l.burst), at: now}
		l.entries[ip] = t
	}
	return t
}

// sweep drops clients whose tries are back to the full burst (they are
// indistinguishable from new ones) and, under a spray of addresses, forgets
// some rather than grow. An entry busy in attempt is skipped, so that no
// failure is counted on an entry already forgotten.
func (l *tryLimiter) sweep(now time.Time) {
	l.lastSweep = now
	for ip, t := range l.entries {
		if !t.mu.TryLock() {
			continue
		}
		if t.leftAt(now, l.every, l.burst) >= float64(l.burst) {
			delete(l.entries, ip)
		}
		t.mu.Unlock()
	}
	for ip := range l.entries {
		if len(l.entries) < limiterMaxEntries*3/4 {
			break
		}
		delete(l.entries, ip)
	}
}

func (l *tryLimiter) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}
