package bot

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
)

// nastyText is untrusted text that tries mentions, links and entities, and
// is long in characters that escape to more.
func nastyText(r *rand.Rand, n int) string {
	pieces := []string{"<!channel>", "<@U123ABC>", "<https://evil.example|bank>", "&amp;", "<>", "*bold*", "é", "🚀", "\u202e", "\n", " "}
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

func nastyLeads(r *rand.Rand, n int, now time.Time) []triage.Lead {
	leads := make([]triage.Lead, n)
	for i := range leads {
		votes := map[string]triage.Choice{}
		for v := range r.IntN(40) {
			votes[fmt.Sprintf("U%06d", v)] = triage.ChoiceQualify
		}
		leads[i] = triage.Lead{
			ID: triage.LeadID(r.Uint64()), Status: triage.Statuses[r.IntN(len(triage.Statuses))],
			Company: nastyText(r, r.IntN(400)), Email: nastyText(r, 10),
			CreatedAt: now.Add(-time.Duration(r.IntN(1000)) * time.Hour), Votes: votes,
			Slack: triage.SlackRef{Channel: "C" + strings.Repeat("X", r.IntN(30)), TS: fmt.Sprintf("%d.%06d", 1700000000+r.IntN(1e8), r.IntN(1e6))},
		}
	}
	return leads
}

// TestBot_HomeView_Limits: whatever the leads, the Home is a valid view
// within 100 blocks, and no lead text becomes a mention or a link.
func TestBot_HomeView_Limits(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	b := &homeTab{cfg: &Config{Command: "/qualify"}, svc: &triage.Service{Channel: dispatchChannel}, links: &links{}}
	b.links.url = "https://" + strings.Repeat("a", 60) + ".enterprise.slack.com/"
	for i := range 50 {
		n := []int{0, 1, 9, 10, 11, 16, 200}[i%7]
		h := triage.Home{
			AwaitingVote: nastyLeads(r, n, dispatchNow),
			Owned:        nastyLeads(r, n, dispatchNow),
			Pending:      nastyLeads(r, n*3, dispatchNow),
			Stats:        triage.Stats{Received: r.IntN(1e6), Decided: r.IntN(3), MedianDecision: time.Duration(r.Int64N(int64(1000 * time.Hour)))},
		}
		view := b.view(h, dispatchNow)
		raw, err := json.Marshal(view)
		if err != nil {
			t.Fatal(err)
		}
		if problems := slackfake.ValidateView(raw); len(problems) > 0 {
			t.Fatalf("run %d (%d leads): %v", i, n, problems)
		}
		if nb := len(view.Blocks.BlockSet); nb > 100 {
			t.Fatalf("run %d: %d blocks", i, nb)
		}
		s := string(raw)
		for _, bad := range []string{"<!channel>", "<@U123ABC>", "<https://evil", "\u202e"} {
			if strings.Contains(s, bad) || strings.Contains(s, strings.ReplaceAll(strings.ReplaceAll(bad, "<", `\u003c`), ">", `\u003e`)) {
				t.Fatalf("run %d: unescaped %q in the Home", i, bad)
			}
		}
	}
}

func TestBot_HomeView_Caps(t *testing.T) {
	t.Parallel()
	b := &homeTab{cfg: &Config{Command: "/qualify"}, svc: &triage.Service{Channel: dispatchChannel}, links: &links{}}
	var leads []triage.Lead
	for i := range 30 {
		leads = append(leads, triage.Lead{ID: triage.LeadID(i + 1), Company: "Co", CreatedAt: dispatchNow})
	}
	view := b.view(triage.Home{AwaitingVote: leads, Owned: leads[:3], Pending: leads}, dispatchNow)
	raw, _ := json.Marshal(view)
	s := string(raw)
	for _, want := range []string{"*Waiting for your vote* (30)", "… and 20 more", "… and 15 more", "*L-15* Co", "*Your leads* (3)"} {
		if !strings.Contains(s, want) {
			t.Errorf("home lacks %q", want)
		}
	}
	if strings.Contains(s, "*L-16*") {
		t.Error("home lists more than 15 pending leads")
	}
}

func TestAgeText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Hour, "just now"}, {30 * time.Second, "just now"}, {5 * time.Minute, "5 min ago"},
		{3 * time.Hour, "3 h ago"}, {47 * time.Hour, "47 h ago"}, {72 * time.Hour, "3 d ago"},
	} {
		if got := english.ageText(tc.d); got != tc.want {
			t.Errorf("ageText(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0 min"}, {42 * time.Minute, "42 min"}, {90 * time.Minute, "1.5 h"}, {72 * time.Hour, "3.0 days"},
	} {
		if got := english.durationText(tc.d); got != tc.want {
			t.Errorf("durationText(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestBot_Permalink(t *testing.T) {
	t.Parallel()
	b := &Bot{}
	if got, want := b.links.permalink("C123", "1700000000.000100"), "https://slack.com/app_redirect?channel=C123"; got != want {
		t.Errorf("without a team URL: %q, want %q", got, want)
	}
	b.links.setWorkspaceURL("https://acme.slack.com/")
	if got, want := b.links.permalink("C123", "1700000000.000100"), "https://acme.slack.com/archives/C123/p1700000000000100"; got != want {
		t.Errorf("permalink = %q, want %q", got, want)
	}
	if got := b.links.permalink("not a channel|x", "1.2"); got != "" {
		t.Errorf("bad channel: %q, want none", got)
	}
}

// TestAddLeadModal_Limits: any prefill and metadata fit Block Kit's limits.
func TestAddLeadModal_Limits(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 30 {
		in := triage.LeadInput{
			Company: nastyText(r, r.IntN(5000)), Name: nastyText(r, r.IntN(500)), Email: nastyText(r, r.IntN(300)),
			Website: nastyText(r, r.IntN(3000)), Phone: nastyText(r, r.IntN(100)), Message: nastyText(r, r.IntN(20000)),
			Source: []string{"", "event", "EVENT", "bogus"}[i%4], Founded: []string{"", "1999", "abc", "3000"}[i%4], Employees: []string{"", "12", "-3"}[i%3],
		}
		meta := addLeadMeta{Channel: "C0123", ResponseURL: "https://hooks.slack.com/" + strings.Repeat("x", r.IntN(4000))}
		modal := modalWords{english}.addLeadModal(in, meta, dispatchNow)
		raw, err := json.Marshal(modal)
		if err != nil {
			t.Fatal(err)
		}
		if problems := slackfake.ValidateView(raw); len(problems) > 0 {
			t.Fatalf("run %d: %v", i, problems)
		}
		if m := parseAddLeadMeta(modal.PrivateMetadata); m.Channel != "C0123" || (len(meta.ResponseURL) <= 3000-len(`{"channel":"C0123","response_url":""}`)) != (m.ResponseURL == meta.ResponseURL) {
			t.Errorf("run %d: metadata of %d characters lost the channel, or kept a response URL of %d", i, len(modal.PrivateMetadata), len(m.ResponseURL))
		}
	}
	modal := modalWords{english}.addLeadModal(triage.LeadInput{Website: "acme.example", Source: "referral", Founded: "2015", Employees: "40"}, addLeadMeta{}, dispatchNow)
	raw, _ := json.Marshal(modal)
	for _, want := range []string{`"initial_value":"https://acme.example"`, `"initial_value":"2015"`, `"initial_value":"40"`, `"initial_option":{"text":{"type":"plain_text","text":"Referral"`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("modal lacks %s in %s", want, raw)
		}
	}
}

func TestAddLeadInput(t *testing.T) {
	t.Parallel()
	view := slack.View{State: &slack.ViewState{Values: map[string]map[string]slack.BlockAction{
		"company":   {"company": {Value: "Acme"}},
		"source":    {"source": {SelectedOption: slack.OptionBlockObject{Value: "event"}}},
		"founded":   {"founded": {Value: "2001"}},
		"employees": {"employees": {Value: "7"}},
	}}}
	got := addLeadInput(view)
	if got.Company != "Acme" || got.Source != "event" || got.Founded != "2001" || got.Employees != "7" {
		t.Errorf("input %+v", got)
	}
	view.State.Values["source"]["source"] = slack.BlockAction{SelectedOption: slack.OptionBlockObject{Value: "webhook"}}
	if got := addLeadInput(view); got.Source != "" {
		t.Errorf("source %q from a value the dialog does not offer, want the default", got.Source)
	}
	if got := addLeadInput(slack.View{}); !cmp.Equal(got, triage.LeadInput{}) {
		t.Errorf("no state: %+v", got)
	}
}
