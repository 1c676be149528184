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
