package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/leadtriage/leadtriage/storage"
	"github.com/leadtriage/leadtriage/triage"
)

// TestEndToEnd_CrashLoop kills the real process (SIGKILL) at random moments
// while three intake clients post leads and a clicker votes on the cards
// Slack has seen (RELIABILITY D1, D11, D12): across 50 kills no lead that got
// a 201 and no vote that got a 200 is lost, and no lead has two cards.
func TestEndToEnd_CrashLoop(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts child processes")
	}
	const kills = 50
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))

	fake := slackfake.New(t)
	// Slack takes every post at once but answers late, so a kill often
	// falls between Slack accepting a card and the bot recording it.
	fake.Fail("chat.postMessage", slackfake.Fault{DelayAfter: 150 * time.Millisecond, Times: 1 << 20})
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "leadtriage.db")
	// A quorum no clicker reaches keeps every lead open to votes.
	cfg := writeTestConfig(t, dir, appOptions{mode: "http", quorum: 100, dbPath: dbPath}, fake.APIURL())

	type vote struct{ lead, user, choice string }
	var (
		mu         sync.Mutex
		ackedLeads []string
		ackedVotes []vote
		clicks     int
		perLead    = map[string]int{} // clicks per lead, kept below the quorum
	)
	choices := []string{"qualify", "disqualify", "unsure"}
	for cycle := range kills {
		base, cmd := startChild(t, cfg)
		var wg sync.WaitGroup
		stop := make(chan struct{})
		stopped := func() bool {
			select {
			case <-stop:
				return true
			default:
				return false
			}
		}
		client := &http.Client{Timeout: 5 * time.Second}
		for w := range 3 {
			// A form tool's pace, not a flood: the loop is about crashes.
			wg.Go(func() {
				pourLeads(base, fmt.Sprintf("Crash %d-%d", cycle, w), 5*time.Millisecond, stop, func(id string) {
					mu.Lock()
					ackedLeads = append(ackedLeads, id)
					mu.Unlock()
				})
			})
		}
		wg.Go(func() {
			for !stopped() {
				posted := cardsByLead(t, fake)
				if len(posted) == 0 {
					time.Sleep(5 * time.Millisecond)
					continue
				}
				mu.Lock()
				n := clicks
				clicks++
				mu.Unlock()
				lead := ""
				for id := range posted {
					// Below the quorum, so no vote meets a decided lead.
					if perLead[id] < 90 {
						lead = id
						break
					}
				}
				if lead == "" {
					time.Sleep(5 * time.Millisecond)
					continue
				}
				perLead[lead]++ // only this goroutine clicks
				ts := posted[lead][0]
				user := fmt.Sprintf("UCLICK%04d", n) // one click per (lead, user): no ordering question
				choice := choices[n%len(choices)]
				form := slackfake.BlockActionForm(user, testChannel, ts, "lead.vote."+choice, lead)
				req := slackfake.NewSignedRequest(t, base+"/slack/interactions", testSigningSecret,
					"application/x-www-form-urlencoded", []byte(form.Encode()))
				resp, err := client.Do(req)
				if err != nil {
					return
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					mu.Lock()
					ackedVotes = append(ackedVotes, vote{lead, user, choice})
					mu.Unlock()
				}
			}
		})
		// A random moment: early (start-up, the first burst of cards) as
		// often as late.
		time.Sleep(time.Duration(rng.IntN(400)) * time.Millisecond)
		killChild(t, cmd)
		close(stop)
		wg.Wait()
	}

	db, err := storage.Open(dbPath)
	if err != nil {
		t.Fatalf("reopening after %d kills: %v", kills, err)
	}
	defer db.Close()
	if err := db.Check(); err != nil {
		t.Fatalf("consistency check after %d kills: %v", kills, err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, s := range ackedLeads {
		id, err := triage.ParseLeadID(s)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Lead(t.Context(), id); err != nil {
			t.Errorf("lead %s got a 201 but is gone: %v", s, err)
		}
	}
	// The inbox may still hold a vote acknowledged just before the last
	// kill: a clean start drains it, as production does.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	base, cmd := startChild(t, cfg)
	defer func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }()
	for _, v := range ackedVotes {
		waitFor(t, "vote "+v.user+" on "+v.lead, 20*time.Second, func() bool {
			return leadVote(t, base, v.lead, v.user) == v.choice
		})
	}
	posted := cardsByLead(t, fake)
	for lead, ts := range posted {
		if len(ts) > 1 {
			t.Errorf("lead %s has %d cards: %v", lead, len(ts), ts)
		}
	}
	if len(ackedVotes) == 0 {
		t.Fatal("no vote was acknowledged: the clicker never found a card, so nothing was tested")
	}
	t.Logf("%d kills: %d acknowledged leads, %d cards, %d acknowledged votes, none lost",
		kills, len(ackedLeads), len(posted), len(ackedVotes))
}

// cardsByLead maps each lead to the ts of the cards Slack holds for it, read
// from the cards' message metadata as the bot wrote it.
func cardsByLead(tb testing.TB, f *slackfake.Server) map[string][]string {
	tb.Helper()
	out := map[string][]string{}
	for _, m := range cards(f) {
		if m.Deleted || len(m.Metadata) == 0 {
			continue
		}
		var md struct {
			EventType    string `json:"event_type"`
			EventPayload struct {
				LeadID string `json:"lead_id"`
			} `json:"event_payload"`
		}
		if err := json.Unmarshal(m.Metadata, &md); err != nil {
			tb.Fatalf("card metadata: %v", err)
		}
		if md.EventType == "leadtriage_lead" {
			out[md.EventPayload.LeadID] = append(out[md.EventPayload.LeadID], m.TS)
		}
	}
	return out
}

// leadVote reads user's vote on lead through the read API ("" when none).
func leadVote(tb testing.TB, base, lead, user string) string {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/api/leads/"+lead, nil)
	req.Header.Set("Authorization", "Bearer "+testAPIToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("GET lead: %v", err)
	}
	defer resp.Body.Close()
	var l struct {
		Votes map[string]string `json:"votes"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&l); err != nil {
		tb.Fatalf("GET lead %s: %v", lead, err)
	}
	return l.Votes[user]
}
