package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/crm/crmfake"
	"github.com/leadtriage/leadtriage/slackfake"
)

// TestEndToEnd_CRMHandoffSurvivesAKill: a lead qualified in Slack is handed
// to HubSpot (the crmfake, which checks the documented shapes). HubSpot
// refuses the note (503) until the bot has been killed mid-hand-off, with
// the company, contact and deal already made; the restarted bot finishes
// the hand-off without a second company, contact or deal and links the
// deal in the thread and on the card; the start-up read-back asks about the
// deal after a second kill and restart, which again makes nothing twice.
func TestEndToEnd_CRMHandoffSurvivesAKill(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts child processes")
	}
	const token = "pat-eu1-00000000-1111-2222-3333-444444444444"
	hs := crmfake.NewHubSpot(t, token)
	hs.AddOwner("owner@sales.example")
	var notesOK, noteRefused atomic.Bool
	target, _ := url.Parse(hs.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/crm/v3/objects/notes" && !notesOK.Load() {
			noteRefused.Store(true)
			// HubSpot's 5xx body (HubSpot docs, "Error handling").
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":"error","message":"Service Unavailable","correlationId":"0b1c2d3e-0000-4000-8000-000000000000","category":"SERVICE_UNAVAILABLE"}`))
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()

	fake := slackfake.New(t)
	fake.AddUser("UVOTER1", "Vera Voter")
	dir := t.TempDir()
	cfg := writeTestConfig(t, dir, appOptions{mode: "http", quorum: 1, dbPath: filepath.Join(dir, "leadtriage.db"),
		extra: fmt.Sprintf("[crm]\nhubspot = true\napi_url = %q\nowners = { %q = \"owner@sales.example\" }\n", front.URL, "UVOTER1")}, fake.APIURL())
	tokenEnv := "HUBSPOT_TOKEN=" + token

	base, cmd := startChild(t, cfg, tokenEnv)
	code, out := postLeadTo(t, base, `{"company":"Acme B.V.","name":"Ada Lovelace","email":"ada@acme.example","website":"https://acme.example/"}`)
	if code != http.StatusCreated {
		t.Fatalf("POST /leads = %d", code)
	}
	id := out["id"]
	waitFor(t, "the card of "+id, 20*time.Second, func() bool { return len(cardsByLead(t, fake)[id]) > 0 })
	cardTS := cardsByLead(t, fake)[id][0]
	form := slackfake.BlockActionForm("UVOTER1", testChannel, cardTS, "lead.vote.qualify", id)
	req := slackfake.NewSignedRequest(t, base+"/slack/interactions", testSigningSecret, "application/x-www-form-urlencoded", []byte(form.Encode()))
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("vote = %d", resp.StatusCode)
	}
	// Killed mid-hand-off: company, contact and deal made, the note refused.
	waitFor(t, "the hand-off up to the note", 30*time.Second, func() bool {
		return noteRefused.Load() && hs.Count("deals") == 1
	})
	killChild(t, cmd)

	notesOK.Store(true)
	base, cmd = startChild(t, cfg, tokenEnv)
	defer func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }()
	waitFor(t, "the note after the restart", 60*time.Second, func() bool { return hs.Count("notes") == 1 })
	waitFor(t, "the deal recorded on the lead", 20*time.Second, func() bool {
		lead := apiLeadAt(t, base, id)
		recs, _ := lead["crm"].([]any)
		return len(recs) == 4
	})
	for kind, want := range map[string]int{"companies": 1, "contacts": 1, "deals": 1, "notes": 1} {
		if got := hs.Count(kind); got != want {
			t.Errorf("HubSpot has %d %s, want %d", got, kind, want)
		}
	}
	var dealID string
	for _, r := range hs.Requests() {
		if r.Method == http.MethodPost && r.Path == "/crm/v3/objects/notes" {
			props, _ := r.Body["properties"].(map[string]any)
			body, _ := props["hs_note_body"].(string)
			if !strings.Contains(body, "/archives/"+testChannel+"/p") {
				t.Errorf("the note does not link the Slack thread: %s", body)
			}
			// A <@U…> mention means nothing in HubSpot: the voter by name.
			if !strings.Contains(body, "Vera Voter") || strings.Contains(body, "UVOTER1") {
				t.Errorf("the note does not name the voter (users.info): %s", body)
			}
		}
	}
	lead := apiLeadAt(t, base, id)
	for _, x := range lead["crm"].([]any) {
		if r, _ := x.(map[string]any); r["kind"] == "deal" {
			dealID, _ = r["id"].(string)
		}
	}
	if hs.Get("deals", dealID) == nil {
		t.Fatalf("the lead's deal %q is not in HubSpot", dealID)
	}
	dealURL := "https://app-eu1.hubspot.com/contacts/"
	waitFor(t, "the deal's link in the thread", 20*time.Second, func() bool {
		for _, m := range fake.Messages(testChannel) {
			if m.ThreadTS == cardTS && m.TS != cardTS && strings.Contains(m.Text+blockText(t, m.Blocks), "|Deal in HubSpot>") &&
				strings.Contains(m.Text+blockText(t, m.Blocks), dealURL) {
				return true
			}
		}
		return false
	})
	waitFor(t, "the deal's link on the card", 20*time.Second, func() bool {
		m, ok := fake.Message(testChannel, cardTS)
		return ok && strings.Contains(blockText(t, m.Blocks), "|Deal in HubSpot>")
	})
	countNotices := func() int {
		n := 0
		for _, m := range fake.Messages(testChannel) {
			if m.ThreadTS == cardTS && m.TS != cardTS && strings.Contains(m.Text+blockText(t, m.Blocks), "|Deal in HubSpot>") {
				n++
			}
		}
		return n
	}
	if n := countNotices(); n != 1 {
		t.Errorf("%d thread messages link the deal, want 1", n)
	}

	// Slack delivery is at least once: a kill between posting the notice and
	// recording it would post it again. Wait until it is recorded.
	var noticeTS string
	for _, m := range fake.Messages(testChannel) {
		if m.ThreadTS == cardTS && m.TS != cardTS && strings.Contains(m.Text+blockText(t, m.Blocks), "|Deal in HubSpot>") {
			noticeTS = m.TS
		}
	}
	waitFor(t, "the notice recorded on the lead", 20*time.Second, func() bool {
		slack, _ := apiLeadAt(t, base, id)["slack"].(map[string]any)
		msgs, _ := slack["messages"].([]any)
		for _, x := range msgs {
			if m, _ := x.(map[string]any); m["ts"] == noticeTS {
				return true
			}
		}
		return false
	})

	// Killed once more; meanwhile the deal is won in HubSpot. Restarted: the
	// start-up read-back asks about the deal, records the outcome it finds,
	// and nothing is made twice.
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	hs.SetDeal(dealID, "closedwon", "12000")
	hs.ResetLog()
	base, cmd = startChild(t, cfg, tokenEnv)
	waitFor(t, "the read-back", 20*time.Second, func() bool {
		return slices.Contains(hs.Sequence(), "GET /crm/v3/objects/deals/"+dealID)
	})
	for _, r := range hs.Sequence() {
		if strings.HasPrefix(r, "POST") {
			t.Errorf("after the second restart HubSpot got %s", r)
		}
	}
	for kind, want := range map[string]int{"companies": 1, "contacts": 1, "deals": 1, "notes": 1} {
		if got := hs.Count(kind); got != want {
			t.Errorf("after the second restart HubSpot has %d %s, want %d", got, kind, want)
		}
	}
	if n := countNotices(); n != 1 {
		t.Errorf("after the second restart %d thread messages link the deal, want 1", n)
	}
	waitFor(t, "the won deal recorded as the lead's outcome", 20*time.Second, func() bool {
		o, _ := apiLeadAt(t, base, id)["outcome"].(map[string]any)
		return o != nil
	})
	o := apiLeadAt(t, base, id)["outcome"].(map[string]any)
	if o["outcome"] != "won" || o["value"] != float64(12000) || o["by"] != "hubspot" {
		t.Errorf("outcome read back = %v, want won, 12000, by hubspot", o)
	}
}

// apiLeadAt reads one lead through a child process's read API.
func apiLeadAt(t *testing.T, base, id string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/api/leads/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+testAPIToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}
