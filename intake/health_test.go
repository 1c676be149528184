package intake_test

import (
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/leadtriage/leadtriage/storage"
	"github.com/leadtriage/leadtriage/storage/storagetest"
	"github.com/leadtriage/leadtriage/triage/triagetest"
)

// TestServer_Healthz_WriteFailure: while the real store cannot write (an
// injected full disk), /healthz answers 503 naming the cause, and goes back
// to 200 by itself when space returns, without any other write.
func TestServer_Healthz_WriteFailure(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var diskErr error
	setDisk := func(err error) { mu.Lock(); diskErr = err; mu.Unlock() }
	fault := func() error { mu.Lock(); defer mu.Unlock(); return diskErr }

	// The store and the server share the fake clock, as main shares one.
	clock := triagetest.NewClock(epoch)
	db := storagetest.MustOpenWith(t, storage.WithWriteFault(fault), storage.WithClock(clock.Now))
	e := start(t, &env{store: db, clock: clock})
	health := func() (int, string) {
		w := e.do(t, request{method: http.MethodGet, path: "/healthz"})
		return w.Code, w.Body.String()
	}
	if code, body := health(); code != 200 || body != "ok" {
		t.Fatalf("healthy: %d %q", code, body)
	}

	setDisk(syscall.ENOSPC)
	if w := e.postJSON(t, `{"company":"Acme"}`, nil); w.Code != http.StatusServiceUnavailable {
		t.Fatalf("lead on a full disk: status %d, want 503", w.Code)
	}
	code, body := health()
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "no space left on device") {
		t.Errorf("full disk: /healthz %d %s, want 503 naming the cause", code, body)
	}
	if strings.Contains(body, db.Path()) {
		t.Errorf("/healthz names the database file: %s", body)
	}
	if !strings.HasPrefix(body, "store unavailable: ") {
		t.Errorf("full disk: /healthz body %q, want a line starting \"store unavailable: \"", body)
	}

	setDisk(nil)
	e.clock.Advance(storage.ProbeEvery)
	if code, body := health(); code != 200 || body != "ok" {
		t.Errorf("space back: /healthz %d %q, want 200 ok", code, body)
	}
	if w := e.postJSON(t, `{"company":"Acme"}`, nil); w.Code != http.StatusCreated {
		t.Errorf("lead after recovery: status %d, want 201", w.Code)
	}
}
