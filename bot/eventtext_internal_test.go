package bot

import (
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/triage"
)

// Every event kind triage declares is a word from the catalogue in both
// languages, never its code (card_posted); a kind added to triage without
// a word fails here.
func TestEventKind_EveryKindWorded(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("../triage/lead.go")
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, m := range regexp.MustCompile(`(?m)^\s+Event[A-Za-z]+\s+= "([a-z_]+)"`).FindAllSubmatch(src, -1) {
		kinds = append(kinds, string(m[1]))
	}
	if len(kinds) < 19 {
		t.Fatalf("found %d event kinds in triage/lead.go: has the declaration moved?", len(kinds))
	}
	// Words that are the same as the code in a language.
	same := map[string]bool{"en:" + triage.EventCreated: true, "en:" + triage.EventVoted: true, "en:" + triage.EventUnvoted: true,
		"en:" + triage.EventClaimed: true, "en:" + triage.EventDecided: true, "en:" + triage.EventQuorum: true, "en:" + triage.EventTie: true,
		"en:" + triage.EventResearched: true, "en:" + triage.EventAnswered: true, "en:" + triage.EventReopened: true,
		"en:" + triage.EventVetoed: true, "en:" + triage.EventDissent: true, "en:" + triage.EventReminded: true,
		"en:" + triage.EventEscalated: true, "en:" + triage.EventSnoozed: true, "en:" + triage.EventRevisit: true,
		"en:" + triage.EventOutcome: true, "nl:" + triage.EventQuorum: true}
	for _, w := range []words{english, newWords(LangDutch)} {
		for _, k := range kinds {
			got := eventWords{w}.kind(k)
			if got == k && !same[string(w.lang)+":"+k] || regexp.MustCompile(`_`).MatchString(got) {
				t.Errorf("%s: event kind %q is shown as %q", w.lang, k, got)
			}
		}
	}
}

// Outcome, CRM and found-card events are worded from their Args in the
// team's language; lead text in them is escaped; without Args they show
// their recorded detail.
func TestEventLine_OutcomeCRMCard(t *testing.T) {
	t.Parallel()
	nl := newWords(LangDutch)
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		w    words
		e    triage.Event
		want string
	}{
		{nl, triage.Event{At: at, Kind: triage.EventOutcome, By: "UANNA", Detail: "lost (was won 12000: signed)",
			Args: map[string]string{triage.EvResult: "lost", triage.EvWas: "won", triage.EvWasValue: "12000", triage.EvWasNote: "signed <b>"}},
			"2026-03-02 10:00 · <@UANNA> · uitkomst · verloren (eerder gewonnen, waarde 12.000: signed &lt;b&gt;)"},
		{english, triage.Event{At: at, Kind: triage.EventOutcome, By: "api",
			Args: map[string]string{triage.EvResult: "no_deal", triage.EvNote: "budget frozen"}},
			"2026-03-02 10:00 · api · outcome · no deal: budget frozen"},
		{nl, triage.Event{At: at, Kind: triage.EventOutcome, By: "UANNA", Detail: "won 12000"},
			"2026-03-02 10:00 · <@UANNA> · uitkomst · won 12000"},
		{nl, triage.Event{At: at, Kind: triage.EventCardPosted, By: "bot", Detail: "found in channel history after an unfinished attempt",
			Args: map[string]string{triage.EvFound: triage.FoundInHistory}},
			"2026-03-02 10:00 · bot · kaart geplaatst · teruggevonden in het kanaal na een onderbroken poging"},
		{english, triage.Event{At: at, Kind: triage.EventCardPosted, By: "bot"},
			"2026-03-02 10:00 · bot · card posted"},
		{nl, triage.Event{At: at, Kind: triage.EventCRM, By: "hubspot", Detail: "hubspot company 101, hubspot deal 103 link",
			Args: map[string]string{triage.EvRecords: "hubspot company 101; hubspot deal 103 link; pipedrive person 7 deleted; hubspot <!x> 9"}},
			"2026-03-02 10:00 · hubspot · CRM · hubspot bedrijf 101 gekoppeld, hubspot deal 103: link bijgewerkt, pipedrive persoon 7 verwijderd in het CRM, hubspot &lt;!x&gt; 9 gekoppeld"},
		{nl, triage.Event{At: at, Kind: triage.EventCRM, By: "hubspot", Detail: "hubspot deal 103"},
			"2026-03-02 10:00 · hubspot · CRM · hubspot deal 103"},
	}
	for _, tc := range cases {
		if got := (eventWords{tc.w}).line(tc.e); got != tc.want {
			t.Errorf("line(%+v) in %s =\n%q, want\n%q", tc.e, tc.w.lang, got, tc.want)
		}
	}
}
