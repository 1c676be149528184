package intake_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/intake"
)

type deadLetterList struct {
	DeadLetters []struct {
		ID    uint64  `json:"id"`
		Kind  string  `json:"kind"`
		Lead  *string `json:"lead"`
		Error string  `json:"error"`
	} `json:"deadletters"`
	Blocked []struct {
		ID        uint64 `json:"id"`
		Cause     string `json:"cause"`
		BlockedOn string `json:"blocked_on"`
	} `json:"blocked"`
}

func TestServer_DeadLetters(t *testing.T) {
	t.Parallel()
	auth := map[string]string{"Authorization": "Bearer " + apiToken}
	e := newEnv(t)
	ctx := context.Background()
	seed(t, e) // L-1..L-3, each with its post_card item 1..3
	if err := e.store.DeadLetter(ctx, 1, "slack refused it: msg_too_long"); err != nil {
		t.Fatal(err)
	}
	if err := e.store.BlockOutbox(ctx, 2, "not_in_channel", "CTRIAGE", epoch.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	list := func() deadLetterList {
		t.Helper()
		w := e.do(t, request{method: http.MethodGet, path: "/api/deadletters", header: auth})
		if w.Code != 200 {
			t.Fatalf("GET /api/deadletters = %d %s", w.Code, w.Body)
		}
		var got deadLetterList
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		return got
	}
	got := list()
	if len(got.DeadLetters) != 1 || got.DeadLetters[0].ID != 1 || got.DeadLetters[0].Kind != "post_card" ||
		got.DeadLetters[0].Lead == nil || *got.DeadLetters[0].Lead != "L-1" || !strings.Contains(got.DeadLetters[0].Error, "msg_too_long") {
		t.Errorf("dead letters = %+v", got.DeadLetters)
	}
	if len(got.Blocked) != 1 || got.Blocked[0].ID != 2 || got.Blocked[0].Cause != "not_in_channel" || got.Blocked[0].BlockedOn != "CTRIAGE" {
		t.Errorf("blocked = %+v", got.Blocked)
	}

	for _, tt := range []struct {
		name   string
		method string
		path   string
		header map[string]string
		want   int
	}{
		{"NoToken", http.MethodPost, "/api/deadletters/1/retry", nil, 401},
		{"Get", http.MethodGet, "/api/deadletters/1/retry", auth, 405},
		{"NotDead", http.MethodPost, "/api/deadletters/2/retry", auth, 404},
		{"NotANumber", http.MethodPost, "/api/deadletters/L-1/retry", auth, 404},
		{"ListNoToken", http.MethodGet, "/api/deadletters", nil, 401},
	} {
		if w := e.do(t, request{method: tt.method, path: tt.path, header: tt.header}); w.Code != tt.want {
			t.Errorf("%s: %s %s = %d, want %d", tt.name, tt.method, tt.path, w.Code, tt.want)
		}
	}
	if got := list(); len(got.DeadLetters) != 1 {
		t.Fatalf("refused retries changed the dead letters: %+v", got.DeadLetters)
	}

	w := e.do(t, request{method: http.MethodPost, path: "/api/deadletters/1/retry", header: auth})
	if w.Code != 200 {
		t.Fatalf("retry = %d %s", w.Code, w.Body)
	}
	if got := list(); len(got.DeadLetters) != 0 {
		t.Errorf("dead letters after the retry = %+v, want none", got.DeadLetters)
	}
	due, err := e.store.DueOutbox(ctx, epoch, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) == 0 || due[0].ID != 1 || due[0].Dead {
		t.Errorf("due after the retry = %+v, want item 1 first", due)
	}
	if w := e.do(t, request{method: http.MethodPost, path: "/api/deadletters/1/retry", header: auth}); w.Code != 404 {
		t.Errorf("second retry = %d, want 404", w.Code)
	}
}

// problems is a HealthReporter with fixed problems.
type problems []string

func (p problems) HealthProblems(context.Context) []string { return p }

func TestServer_HealthNamesTheCause(t *testing.T) {
	t.Parallel()
	var reporter problems
	e := newEnv(t, func(c *intake.Config) { c.Health = []intake.HealthReporter{&reporter} })
	if w := e.do(t, request{method: http.MethodGet, path: "/healthz"}); w.Code != 200 {
		t.Fatalf("healthz without problems = %d", w.Code)
	}
	reporter = problems{"slack deliveries blocked: not_in_channel for channel CTRIAGE (2 waiting); fix: invite the app"}
	w := e.do(t, request{method: http.MethodGet, path: "/healthz"})
	if w.Code != 503 || !strings.Contains(w.Body.String(), "not_in_channel") || !strings.Contains(w.Body.String(), "invite the app") {
		t.Errorf("healthz while blocked = %d %q, want 503 naming the cause and the fix", w.Code, w.Body)
	}
	reporter = nil
	if w := e.do(t, request{method: http.MethodGet, path: "/healthz"}); w.Code != 200 {
		t.Errorf("healthz once the cause is gone = %d, want 200", w.Code)
	}
}
