package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/slackfake"
)

// get reads path with the API token and returns status and body.
func (a *testApp) get(tb testing.TB, path string) (int, string) {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodGet, a.Base+path, nil)
	req.Header.Set("Authorization", "Bearer "+testAPIToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// blockedIDs lists the blocked items' causes through GET /api/deadletters.
func (a *testApp) blockedCauses(tb testing.TB) []string {
	tb.Helper()
	status, body := a.get(tb, "/api/deadletters")
	if status != http.StatusOK {
		tb.Fatalf("GET /api/deadletters = %d %s", status, body)
	}
	var list struct {
		DeadLetters []json.RawMessage `json:"deadletters"`
		Blocked     []struct {
			Cause string `json:"cause"`
		} `json:"blocked"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		tb.Fatal(err)
	}
	if len(list.DeadLetters) != 0 {
		tb.Errorf("dead letters = %s, want none: a person can fix this", list.DeadLetters)
	}
	var out []string
	for _, b := range list.Blocked {
		out = append(out, b.Cause)
	}
	return out
}

// TestBlocked_NotInChannel_EndToEnd is the first-day mistake of issue 17:
// the app was never invited into the triage channel. Leads are accepted and
// kept, nobody loops, /healthz, /metrics and the admin API say why, the team
// lead is told once; after /invite @leadtriage every card goes out exactly
// once, in order, without a restart (the member_joined_channel event) and
// with one.
func TestBlocked_NotInChannel_EndToEnd(t *testing.T) {
	t.Parallel()
	for _, restart := range []bool{false, true} {
		t.Run(fmt.Sprintf("restart=%v", restart), func(t *testing.T) {
			t.Parallel()
			fake := slackfake.New(t)
			fake.AddUser(testTeamLead, "lead")
			fake.RemoveBot(testChannel)
			dbPath := filepath.Join(t.TempDir(), "leadtriage.db")
			app := MustRunMain(t, appOptions{fake: fake, dbPath: dbPath})

			companies := []string{"Alpha BV", "Bravo BV", "Charlie BV"}
			for _, c := range companies {
				if status, body := app.postLead(t, map[string]any{"company": c}); status != http.StatusCreated {
					t.Fatalf("POST /leads = %d %v, want 201 while Slack refuses", status, body)
				}
			}
			waitFor(t, "three blocked card posts", 10*time.Second, func() bool { return len(app.blockedCauses(t)) == 3 })
			for _, c := range app.blockedCauses(t) {
				if c != "not_in_channel" {
					t.Errorf("blocked on %q, want not_in_channel", c)
				}
			}
			if status, body := app.get(t, "/api/leads?status=pending"); status != 200 || strings.Count(body, `"id":"L-`) != 3 {
				t.Errorf("GET /api/leads = %d %s, want the three leads", status, body)
			}
			status, body := app.get(t, "/healthz")
			if status != http.StatusServiceUnavailable || !strings.Contains(body, "not_in_channel") ||
				!strings.Contains(body, testChannel) || !strings.Contains(body, "/invite @leadtriage") {
				t.Errorf("GET /healthz = %d %q, want 503 naming the cause, the channel and the fix", status, body)
			}
			if _, metrics := app.get(t, "/metrics"); !strings.Contains(metrics, `leadtriage_outbox_blocked{cause="not_in_channel"} 3`) {
				t.Errorf("/metrics has no gauge of 3 items blocked on not_in_channel")
			}
			dm := "D" + testTeamLead
			waitFor(t, "the team lead's DM", 10*time.Second, func() bool { return len(fake.Messages(dm)) == 1 })
			if !strings.Contains(app.Logs.String(), "invite the app to channel "+testChannel) {
				t.Errorf("no log line naming the channel and the fix:\n%s", app.Logs.String())
			}
			// One refused call found the cause; the other cards were parked
			// without asking Slack again.
			if n := len(fake.Calls("chat.postMessage", "conversations.history")) - 1; n > 2 {
				t.Errorf("%d calls about the triage channel while blocked, want no more than 2 (no loop)", n)
			}

			fake.InviteBot(testChannel)
			if restart {
				if err := app.Close(); err != nil {
					t.Fatal(err)
				}
				app = MustRunMain(t, appOptions{fake: fake, dbPath: dbPath})
			} else {
				app.event(t, "EvJoined1", slackfake.MemberJoinedChannelEvent(slackfake.BotUserID, testChannel, "UANNA"))
			}
			waitFor(t, "the three cards", 10*time.Second, func() bool { return len(cards(fake)) == 3 })
			for i, m := range cards(fake) {
				if !strings.Contains(blockText(t, m.Blocks), companies[i]) {
					t.Errorf("card %d is not %s: cards went out of order", i+1, companies[i])
				}
			}
			waitFor(t, "/healthz to be ok again", 10*time.Second, func() bool {
				status, _ := app.get(t, "/healthz")
				return status == http.StatusOK
			})
			if c := app.blockedCauses(t); len(c) != 0 {
				t.Errorf("still blocked: %v", c)
			}
			if n := len(fake.Messages(dm)); n != 1 {
				t.Errorf("DMs to the team lead = %d, want 1", n)
			}
			if n := len(cards(fake)); n != 3 {
				t.Errorf("cards = %d, want exactly 3", n)
			}
		})
	}
}
