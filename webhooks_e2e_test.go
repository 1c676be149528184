package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/slackfake"
)

// webhookSecret is a Standard Webhooks secret (whsec_ + base64 of the key).
const webhookSecret = "whsec_ZTJlLXdlYmhvb2stc2VjcmV0LWtleS0wMTIzNDU2Nzg5"

// TestEndToEnd_WebhooksSurviveAKill: the receiver refuses every delivery
// (500) while leads are created and decided; the process is killed (SIGKILL)
// with all of them pending, and restarted. After the restart the receiver
// first rate-limits (429 with Retry-After), then lets one request time out,
// then accepts. Every lead's lead.created and lead.decided then arrive,
// signed, and a receiver deduping on webhook-id sees each event once.
func TestEndToEnd_WebhooksSurviveAKill(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts child processes")
	}
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(webhookSecret, "whsec_"))
	var (
		accept   atomic.Bool
		after    atomic.Int32 // requests since the restart
		mu       sync.Mutex
		attempts = map[string]int{}    // webhook-id -> requests
		accepted = map[string]string{} // webhook-id -> "type lead status"
	)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		id, ts := r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp")
		mac := hmac.New(sha256.New, key)
		fmt.Fprintf(mac, "%s.%s.", id, ts)
		mac.Write(body)
		if r.Header.Get("webhook-signature") != "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
			t.Errorf("delivery %s: signature does not verify", id)
		}
		var ev struct {
			Type string `json:"type"`
			Data struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			} `json:"data"`
		}
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Errorf("delivery %s: %v", id, err)
		}
		if accept.Load() {
			switch after.Add(1) {
			case 1: // rate-limited: come back in a second
				w.Header().Set("Retry-After", "1")
				http.Error(w, "slow down", http.StatusTooManyRequests)
				return
			case 2: // no answer until the sender gives up (its 10 s timeout)
				<-r.Context().Done()
				return
			}
		}
		mu.Lock()
		attempts[id]++
		ok := accept.Load()
		if ok {
			accepted[id] = ev.Type + " " + ev.Data.ID + " " + ev.Data.Status
		}
		mu.Unlock()
		if !ok {
			http.Error(w, "down for maintenance", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rcv.Close()

	fake := slackfake.New(t)
	dir := t.TempDir()
	cfg := writeTestConfig(t, dir, appOptions{mode: "http", quorum: 1, dbPath: filepath.Join(dir, "leadtriage.db"),
		extra: fmt.Sprintf("[[webhooks]]\nurl = %q\nevents = [\"lead.created\", \"lead.decided\"]\n", rcv.URL+"/hooks")}, fake.APIURL())
	secretEnv := "LEADTRIAGE_WEBHOOK_SECRET=" + webhookSecret

	base, cmd := startChild(t, cfg, secretEnv)
	const n = 3
	var leads []string
	for i := range n {
		code, out := postLeadTo(t, base, fmt.Sprintf(`{"company":"Hook %d BV","email":"info@hook%d.example"}`, i, i))
		if code != http.StatusCreated {
			t.Fatalf("POST /leads = %d", code)
		}
		leads = append(leads, out["id"])
	}
	client := &http.Client{Timeout: 5 * time.Second}
	for _, id := range leads {
		waitFor(t, "the card of "+id, 20*time.Second, func() bool { return len(cardsByLead(t, fake)[id]) > 0 })
		form := slackfake.BlockActionForm("UVOTER1", testChannel, cardsByLead(t, fake)[id][0], "lead.vote.qualify", id)
		req := slackfake.NewSignedRequest(t, base+"/slack/interactions", testSigningSecret, "application/x-www-form-urlencoded", []byte(form.Encode()))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("vote on %s = %d", id, resp.StatusCode)
		}
	}
	// Every event has been tried and refused at least once.
	waitFor(t, "a failed attempt of every event", 30*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(attempts) == 2*n
	})
	killChild(t, cmd)

	accept.Store(true)
	base, cmd = startChild(t, cfg, secretEnv)
	defer func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }()
	waitFor(t, "every event delivered after the restart", 90*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(accepted) == 2*n
	})
	// The restarted process counts what it delivered, and holds no dead letter.
	waitFor(t, "the delivery counters", 10*time.Second, func() bool {
		m := metricsText(t, base)
		return strings.Contains(m, `leadtriage_crm_delivered_total{event="lead.created",kind="webhook"} 3`) &&
			strings.Contains(m, `leadtriage_crm_delivered_total{event="lead.decided",kind="webhook"} 3`)
	})
	if m := metricsText(t, base); !strings.Contains(m, `leadtriage_deadletters{lane="crm"} 0`) || !strings.Contains(m, `leadtriage_deadletters{lane="slack"} 0`) {
		t.Errorf("/metrics has no dead-letter gauge of 0 per lane:\n%s", m)
	}
	mu.Lock()
	defer mu.Unlock()
	got := map[string]bool{}
	for _, e := range accepted {
		got[e] = true
	}
	for _, id := range leads {
		for _, want := range []string{"lead.created " + id + " pending", "lead.decided " + id + " qualified"} {
			if !got[want] {
				t.Errorf("the receiver never accepted %q; accepted %v", want, accepted)
			}
		}
	}
}

// postLeadTo posts a lead to a child process's intake.
func postLeadTo(t *testing.T, base, body string) (int, map[string]string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/leads", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+testIntakeSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func metricsText(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
