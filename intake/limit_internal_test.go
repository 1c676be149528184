package intake

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func TestIPLimiter_Sweep(t *testing.T) {
	t.Parallel()
	l := newIPLimiter(rate.Every(limiterSweepEvery), 5) // one token back per sweep period
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for i := range 1000 {
		if _, ok := l.allow(fmt.Sprintf("10.0.%d.%d", i/256, i%256), now); !ok {
			t.Fatalf("first request of client %d refused", i)
		}
	}
	if n := l.len(); n != 1000 {
		t.Fatalf("%d buckets, want 1000", n)
	}
	// One client drains its bucket; everyone else (one token used) refills
	// by the next sweep and is forgotten, the busy client is not.
	for range 5 {
		l.allow("192.0.2.1", now)
	}
	later := now.Add(limiterSweepEvery)
	if _, ok := l.allow("192.0.2.1", later); !ok {
		t.Fatalf("the busy client got no token back after a period")
	}
	if n := l.len(); n != 1 {
		t.Errorf("after a sweep %d buckets, want 1 (the busy client)", n)
	}
	if _, ok := l.allow("192.0.2.1", later); ok {
		t.Errorf("the busy client's bucket was reset by the sweep")
	}
}

func TestIPLimiter_Bounded(t *testing.T) {
	t.Parallel()
	l := newIPLimiter(0.001, 1) // every bucket stays drained: nothing refills
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for i := range limiterMaxEntries + 100 {
		l.allow(fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), now)
	}
	if n := l.len(); n > limiterMaxEntries {
		t.Errorf("%d buckets, more than the cap %d", n, limiterMaxEntries)
	}
}

func TestClientIP(t *testing.T) {
	t.Parallel()
	for remote, want := range map[string]string{
		"127.0.0.2:1234":              "127.0.0.2",
		"[::ffff:127.0.0.2]:1234":     "127.0.0.2",
		"[2001:db8:1:2:3:4:5:6]:443":  "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::1]:8443": "2001:db8:1:2::/64",
		"garbage":                     "garbage",
	} {
		r := httptest.NewRequest("POST", "/leads", nil)
		r.RemoteAddr = remote
		r.Header.Set("X-Forwarded-For", "203.0.113.9")
		if got := clientIP(r); got != want {
			t.Errorf("clientIP(%q) = %q, want %q", remote, got, want)
		}
	}
}

func TestTryLimiter_SweepAndBound(t *testing.T) {
	t.Parallel()
	l := newTryLimiter(limiterSweepEvery/2, 3) // two tries back per sweep period
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	fail := func() bool { return false }
	for i := range 1000 {
		if _, _, limited := l.attempt(fmt.Sprintf("10.0.%d.%d", i/256, i%256), now, fail); limited {
			t.Fatalf("first failure of client %d limited", i)
		}
	}
	for range 3 {
		l.fail("192.0.2.1", now)
	}
	// Everyone else has their one try back by the next sweep and is
	// forgotten; the guesser has two of three back and is remembered.
	later := now.Add(limiterSweepEvery)
	l.blocked("192.0.2.1", later) // no sweep: blocked only looks
	if _, _, limited := l.attempt("192.0.2.1", later, fail); limited {
		t.Fatalf("the guesser got no try back after a minute")
	}
	if n := l.len(); n != 1 {
		t.Errorf("after a sweep %d entries, want 1 (the guesser)", n)
	}

	bounded := newTryLimiter(time.Hour, 1) // nothing refills
	for i := range limiterMaxEntries + 100 {
		bounded.fail(fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), now)
	}
	if n := bounded.len(); n > limiterMaxEntries {
		t.Errorf("%d entries, more than the cap %d", n, limiterMaxEntries)
	}
}
