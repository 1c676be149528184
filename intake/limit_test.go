package intake_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/intake"
)

// TestServer_PostLeads_AuthenticatedBacklog is a form tool catching up on a
// backlog: 300 leads pushed at once from one address over real HTTP, half
// with the bearer secret and half signed. Where a client gets a 429 it waits
// what Retry-After says (on the server's injected clock, not in real time)
// and sends the same request again. Every lead is stored.
func TestServer_PostLeads_AuthenticatedBacklog(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	srv := httptest.NewServer(e.h) // 127.0.0.1: every client is the same address
	t.Cleanup(srv.Close)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 300}}
	t.Cleanup(client.CloseIdleConnections)

	// sleepUntil is a client waiting for Retry-After: the fake clock moves
	// to the latest time any client waits for, never back.
	var clockMu sync.Mutex
	sleepUntil := func(at time.Time) {
		clockMu.Lock()
		defer clockMu.Unlock()
		if at.After(e.clock.Now()) {
			e.clock.Set(at)
		}
	}

	const n = 300
	var firstTry, limited, noRetryAfter atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			body := fmt.Sprintf(`{"company":"Backlog %d","email":"lead%d@acme.example"}`, i, i)
			header := map[string]string{"Authorization": "Bearer " + secret}
			if i%2 == 1 {
				header = map[string]string{intake.SignatureHeader: intake.Sign(secret, epoch, []byte(body))}
			}
			<-start
			for attempt := 0; ; attempt++ {
				if attempt == 20 {
					t.Errorf("lead %d: still refused after %d attempts", i, attempt)
					return
				}
				req, err := http.NewRequest(http.MethodPost, srv.URL+"/leads", strings.NewReader(body))
				if err != nil {
					t.Error(err)
					return
				}
				req.Header.Set("Content-Type", "application/json")
				for k, v := range header {
					req.Header.Set(k, v)
				}
				sent := e.clock.Now()
				resp, err := client.Do(req)
				if err != nil {
					t.Errorf("lead %d: %v", i, err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				switch resp.StatusCode {
				case http.StatusCreated:
					if attempt == 0 {
						firstTry.Add(1)
					}
					return
				case http.StatusTooManyRequests:
					limited.Add(1)
					secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
					if err != nil || secs < 1 {
						noRetryAfter.Add(1)
						secs = 1
					}
					sleepUntil(sent.Add(time.Duration(secs) * time.Second))
				default:
					t.Errorf("lead %d: status %d", i, resp.StatusCode)
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()

	if got := len(e.leads(t)); got != n {
		t.Errorf("stored %d leads, want %d", got, n)
	}
	if noRetryAfter.Load() > 0 {
		t.Errorf("%d of %d answers 429 came without a usable Retry-After", noRetryAfter.Load(), limited.Load())
	}
	// The burst (4 × 50) goes through at once; a stranger's budget is 10.
	if got := firstTry.Load(); got < 4*int32(intake.DefaultIntakeRate) {
		t.Errorf("%d leads accepted at the first try, want at least the burst of %d", got, 4*int(intake.DefaultIntakeRate))
	}
	// The other 100 at 50 a second: all stored within a few seconds of the
	// server's clock.
	if waited := e.clock.Now().Sub(epoch); waited > 3*time.Second {
		t.Errorf("the backlog took %v of waiting for Retry-After, want at most 3s", waited)
	}
	if got := counter(t, e, "rate_limited"); got != float64(limited.Load()) {
		t.Errorf("rate_limited count = %v, clients saw %d", got, limited.Load())
	}
}

// TestServer_PostLeads_BadSecretLimited is someone guessing the secret from
// one address: 30 attempts at once are refused (401) until the address is
// out of tries, and limited (429) after that, even with the right secret.
func TestServer_PostLeads_BadSecretLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	srv := httptest.NewServer(e.h)
	t.Cleanup(srv.Close)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 30}}
	t.Cleanup(client.CloseIdleConnections)

	const n = 30
	statuses := make([]int, n)
	retryAfter := make([]string, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			body := `{"company":"Acme"}`
			req, err := http.NewRequest(http.MethodPost, srv.URL+"/leads", strings.NewReader(body))
			if err != nil {
				t.Error(err)
				return
			}
			req.Header.Set("Content-Type", "application/json")
			if i%2 == 0 {
				req.Header.Set("Authorization", fmt.Sprintf("Bearer guess-%04d-0123456789", i))
			} else {
				req.Header.Set(intake.SignatureHeader, intake.Sign(fmt.Sprintf("guess-%04d-0123456789", i), epoch, []byte(body)))
			}
			<-start
			resp, err := client.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses[i], retryAfter[i] = resp.StatusCode, resp.Header.Get("Retry-After")
		})
	}
	close(start)
	wg.Wait()

	refused, limited := 0, 0
	for i, s := range statuses {
		switch s {
		case http.StatusUnauthorized:
			refused++
		case http.StatusTooManyRequests:
			limited++
			if secs, err := strconv.Atoi(retryAfter[i]); err != nil || secs < 1 {
				t.Errorf("attempt %d: 429 with Retry-After %q", i, retryAfter[i])
			}
		default:
			t.Errorf("attempt %d: status %d", i, s)
		}
	}
	// Concurrency buys no extra guesses: exactly the budget is evaluated.
	if refused != intake.FailureBurst || limited != n-intake.FailureBurst {
		t.Errorf("%d refused and %d limited, want %d and %d", refused, limited, intake.FailureBurst, n-intake.FailureBurst)
	}
	if n := len(e.leads(t)); n != 0 {
		t.Errorf("stored %d leads", n)
	}

	var posted atomic.Int32
	post := func(remote, auth string) *httptest.ResponseRecorder {
		body := fmt.Sprintf(`{"company":"Acme %d"}`, posted.Add(1))
		return e.do(t, request{body: body, contentType: "application/json", remote: remote,
			header: map[string]string{"Authorization": auth}})
	}
	// Out of tries, even the right secret is refused: otherwise a guesser
	// would learn which guess was right from the one 201.
	w := post("127.0.0.1:50000", "Bearer "+secret)
	if w.Code != http.StatusTooManyRequests {
		t.Errorf("right secret from the blocked address: status %d, want 429", w.Code)
	}
	if got := w.Header().Get("Retry-After"); got != strconv.Itoa(int(intake.FailureEvery/time.Second)) {
		t.Errorf("Retry-After = %q, want %v", got, intake.FailureEvery)
	}
	// Another address is not affected.
	if w := post("127.0.0.2:50000", "Bearer "+secret); w.Code != http.StatusCreated {
		t.Errorf("another address: status %d, want 201", w.Code)
	}
	// One try comes back every FailureEvery.
	e.clock.Advance(intake.FailureEvery)
	if w := post("127.0.0.1:50000", "Bearer "+secret); w.Code != http.StatusCreated {
		t.Errorf("right secret after the wait: status %d, want 201", w.Code)
	}
	if w := post("127.0.0.1:50000", "Bearer wrong-again-0123456789"); w.Code != http.StatusUnauthorized {
		t.Errorf("a wrong secret with the try that came back: status %d, want 401", w.Code)
	}
	if w := post("127.0.0.1:50000", "Bearer wrong-once-more-0123456789"); w.Code != http.StatusTooManyRequests {
		t.Errorf("a wrong secret with no try left: status %d, want 429", w.Code)
	}
}

// TestServer_PostLeads_OversizedStranger: a body too large without the
// secret costs a try like a wrong secret does; with the secret it does not.
func TestServer_PostLeads_OversizedStranger(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *intake.Config) { c.FailureBurst = 2 })
	big := `{"company":"Acme","message":"` + strings.Repeat("x", intake.MaxBody) + `"}`
	for i := range 3 {
		if w := e.do(t, request{body: big, contentType: "application/json", header: map[string]string{"Authorization": "Bearer " + secret}}); w.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("authenticated oversized %d: status %d, want 413", i, w.Code)
		}
	}
	for i, want := range []int{413, 413, 429} {
		if w := e.do(t, request{body: big, contentType: "application/json"}); w.Code != want {
			t.Errorf("unauthenticated oversized %d: status %d, want %d", i, w.Code, want)
		}
	}
}
