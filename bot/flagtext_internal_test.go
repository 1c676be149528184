package bot

import (
	"strings"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/triage"
)

// Flags with typed arguments are worded in the team's language, dates and
// plurals included; lead and web text in them is escaped; a flag stored
// before Args shows its English Detail (issue 12).
func TestFlagDetail(t *testing.T) {
	t.Parallel()
	nl := newWords(LangDutch)
	young := func(days string) triage.Flag {
		return triage.Flag{Code: triage.FlagDomainYoung, Detail: "ignored", Args: map[string]string{
			triage.ArgDomain: "acme.nl", triage.ArgDate: "2026-03-12", triage.ArgDays: days}}
	}
	cases := []struct {
		name string
		w    words
		flag triage.Flag
		want string
	}{
		{"young, Dutch, many days", nl, young("40"), "acme.nl is pas geregistreerd op 12 maart 2026, 40 dagen geleden."},
		{"young, Dutch, one day", nl, young("1"), "acme.nl is pas geregistreerd op 12 maart 2026, 1 dag geleden."},
		{"young, English, one day", english, young("1"), "acme.nl was registered on 12 March 2026, 1 day ago."},
		{"young, English, thousands", english, young("1200"), "acme.nl was registered on 12 March 2026, 1,200 days ago."},
		{"stored before Args: Detail, escaped", nl, triage.Flag{Code: triage.FlagFreeEmail, Detail: "Free-mail <!here> & co."},
			"Free-mail &lt;!here&gt; &amp; co."},
		{"lead text in an argument is escaped", nl, triage.Flag{Code: triage.FlagFreeEmail, Args: map[string]string{triage.ArgDomain: "<!channel>&co"}},
			"Freemailadres bij &lt;!channel&gt;&amp;co: geen bedrijfsdomein erachter."},
		{"claim against the registry: a year is not a number", nl, triage.Flag{Code: triage.FlagClaimMismatch,
			Args: map[string]string{triage.ArgFounded: "2019", triage.ArgDate: "2021-05-01"}},
			"Zegt opgericht in 2019, maar staat pas sinds 1 mei 2021 ingeschreven. Een voorganger?"},
		{"claim against the web, what was looked at", nl, triage.Flag{Code: triage.FlagClaimMismatch,
			Args: map[string]string{triage.ArgFounded: "2019", triage.ArgRegistered: "2021-03-01", triage.ArgCertificate: triage.ArgNone, triage.ArgCapture: "2022-01-01"}},
			"Zegt opgericht in 2019; vroegste spoor online: domein geregistreerd 1 maart 2021, geen certificaat, eerste archiefopname 1 januari 2022. Eerder een andere naam of site?"},
		{"previously disqualified, status in words", nl, triage.Flag{Code: triage.FlagPreviouslyDisq,
			Args: map[string]string{triage.ArgLead: "L-3", triage.ArgStatus: "disqualified", triage.ArgDate: "2026-09-28", triage.ArgReason: "Te klein <b>"}},
			"L-3 is op 28 september 2026 afgewezen: Te klein &lt;b&gt;"},
		{"previously disqualified, nothing recorded", english, triage.Flag{Code: triage.FlagPreviouslyDisq,
			Args: map[string]string{triage.ArgLead: "L-3", triage.ArgStatus: "referred"}},
			"L-3 was referred on an unknown date: no reason recorded"},
		{"seen before, more than five", nl, triage.Flag{Code: triage.FlagDuplicate,
			Args: map[string]string{triage.ArgSeen: "L-1 email qualified; L-2 domain pending", triage.ArgMore: "3"}},
			"Eerder gezien: L-1 (zelfde e-mailadres, gekwalificeerd); L-2 (zelfde domein, open); en nog 3."},
		{"research incomplete", nl, triage.Flag{Code: triage.FlagResearchIncomplete,
			Args: map[string]string{triage.ArgFounded: "2019", triage.ArgFailed: "dns (timed out); kvk (rate limited)"}},
			"Niet gecontroleerd: oprichtingsjaar 2019 (geen datum van register, domein, certificaat of archief), dns (timed out), kvk (rate limited)."},
		{"insolvent, no status from the bureau", nl, triage.Flag{Code: triage.FlagInsolvency,
			Args: map[string]string{triage.ArgBureau: "creditsafe"}},
			"Volgens Creditsafe is het bedrijf niet actief. Valt er nog zaken mee te doen?"},
		{"unreachable site, no answer", nl, triage.Flag{Code: triage.FlagWebsiteUnreachable,
			Args: map[string]string{triage.ArgHost: "acme.nl"}},
			"De website acme.nl doet het niet: geen antwoord."},
		{"a code this bot does not know: Detail", nl, triage.Flag{Code: "new_code", Detail: "New.", Args: map[string]string{"x": "y"}}, "New."},
	}
	for _, tc := range cases {
		if got := (researchWords{tc.w}).flagDetail(tc.flag); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

// Every flag Compose writes is worded from its Args in both languages:
// nothing falls back to an empty Detail.
func TestFlagDetail_EveryComposedFlag(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	l := triage.Lead{ID: 5, Email: "jan@acme.nl", Domain: "acme.nl", Founded: 2001}
	earlier := triage.Lead{ID: 2, Email: "piet@acme.nl", Domain: "acme.nl", Status: triage.StatusDisqualified,
		Decision: &triage.Decision{Outcome: triage.StatusDisqualified, Reason: "too small", At: now.AddDate(0, -1, 0)}}
	f := triage.Findings{
		Facts: triage.Facts{DomainRegistered: now.AddDate(0, 0, -30), Credit: &triage.Credit{Source: "creditsafe", Rating: "D",
			Date: now, HighRisk: true, Insolvent: true}},
		Providers: []triage.ProviderResult{{Name: "kvk", Error: "timeout"}},
	}
	r := triage.Compose(l, f, []triage.Lead{earlier}, now)
	if len(r.Flags) < 6 {
		t.Fatalf("composed flags %+v: the fixture should raise six kinds", r.Flags)
	}
	for _, w := range []words{english, newWords(LangDutch)} {
		for _, fl := range r.Flags {
			if fl.Detail != "" || fl.Args == nil {
				t.Errorf("%s: Compose wrote Detail %q / Args %v; want Args only", fl.Code, fl.Detail, fl.Args)
			}
			if got := (researchWords{w}).flagDetail(fl); got == "" || strings.Contains(got, "%!") {
				t.Errorf("%s in %s: %q", fl.Code, w.lang, got)
			}
		}
		if s := (researchWords{w}).summary(r); s == "" || s == r.Summary && w.lang == LangDutch {
			t.Errorf("summary in %s = %q", w.lang, s)
		}
	}
	if got := (researchWords{newWords(LangDutch)}).summary(r); !strings.HasPrefix(got, "Failliet of opgeheven · ") {
		t.Errorf("Dutch summary = %q", got)
	}
}

// A validation problem is said in the team's language, the typed value
// escaped; one without a reason shows its English Problem.
func TestFieldProblem(t *testing.T) {
	t.Parallel()
	nl := newWords(LangDutch)
	cases := []struct {
		w    words
		err  error
		want string
	}{
		{nl, &triage.FieldError{Field: "email", Problem: "x", Reason: triage.ReasonNotEmail, Value: "<!here>@"}, "email: \"&lt;!here&gt;@\" is geen e-mailadres"},
		{nl, &triage.FieldError{Field: "founded", Reason: triage.ReasonYearRange, N: 2031, Max: 2026}, "founded: 2031 kan geen oprichtingsjaar zijn (1800–2026)"},
		{nl, &triage.FieldError{Field: "company", Reason: triage.ReasonTooLong, N: 1200, Max: 200}, "company: te lang (1.200 tekens, max. 200)"},
		{english, &triage.FieldError{Field: "company", Reason: triage.ReasonTooLong, N: 1200, Max: 200}, "company: too long (1,200 characters, at most 200)"},
		{nl, &triage.FieldError{Field: "limit", Problem: "0 is not <a> page size"}, "limit: 0 is not &lt;a&gt; page size"},
	}
	for _, tc := range cases {
		if got := (errorWords{tc.w}).text(tc.err); got != tc.want {
			t.Errorf("text(%+v) in %s =\n%q, want\n%q", tc.err, tc.w.lang, got, tc.want)
		}
	}
	// Every reason NewLead gives is worded (none falls back to English).
	for _, in := range []triage.LeadInput{
		{}, {Email: "nope"}, {Website: "ftp://acme.nl"}, {Website: "https://u:p@acme.nl"}, {Website: "acme.nl:8080"},
		{Website: "10.0.0.1"}, {Website: "acme"}, {Company: "A", Phone: "abc"}, {Company: "A", Phone: "12"},
		{Company: "A", Founded: "soon"}, {Company: "A", Founded: "1700"}, {Company: "A", Employees: "many"}, {Company: "A", Employees: "-1"},
	} {
		_, err := triage.NewLead(in, time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
		fe, ok := err.(*triage.FieldError)
		if !ok || fe.Reason == "" {
			t.Errorf("NewLead(%+v) = %v: want a FieldError with a reason", in, err)
			continue
		}
		if got := (errorWords{nl}).fieldProblem(fe); got == fe.Problem {
			t.Errorf("NewLead(%+v): %q is not worded in Dutch", in, got)
		}
	}
}

// The audit trail is said in the team's language from the events' Args;
// an event stored before them shows its recorded detail.
func TestEventLine_Dutch(t *testing.T) {
	t.Parallel()
	nl := newWords(LangDutch)
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		e    triage.Event
		want string
	}{
		{triage.Event{At: at, Kind: triage.EventVoted, By: "UANNA", Detail: "disqualify (was qualify)",
			Args: map[string]string{triage.EvChoice: "disqualify", triage.EvWas: "qualify"}},
			"2026-03-02 10:00 · <@UANNA> · gestemd · afwijzen (eerst kwalificeren)"},
		{triage.Event{At: at, Kind: triage.EventQuorum, By: "auto", Args: map[string]string{triage.EvQualify: "2", triage.EvUnsure: "1"}},
			"2026-03-02 10:00 · auto · quorum · " + nl.tally(triage.Tally{Qualify: 2, Unsure: 1})},
		{triage.Event{At: at, Kind: triage.EventResearched, By: "research", Args: map[string]string{triage.EvFlags: "1"}},
			"2026-03-02 10:00 · research · onderzocht · 1 signaal"},
		{triage.Event{At: at, Kind: triage.EventReminded, By: "auto", Args: map[string]string{triage.EvNotVoted: "UANNA; UBEN"}},
			"2026-03-02 10:00 · auto · herinnerd · nog niet gestemd: <@UANNA>, <@UBEN>"},
		{triage.Event{At: at, Kind: triage.EventReopened, By: "ULEAD", Args: map[string]string{triage.EvOutcome: "disqualified",
			triage.EvBy: "auto", triage.EvAt: "2026-03-01T09:00:00Z", triage.EvReason: "te <klein>", triage.EvVotes: "UANNA=disqualify"}},
			"2026-03-02 10:00 · <@ULEAD> · heropend · was afgewezen door " + nl.t("card.decided_by_vote") + " op 1 maart 2026: te &lt;klein&gt;; stemmen waren <@UANNA> afwijzen"},
		{triage.Event{At: at, Kind: triage.EventCreated, By: "webhook", Detail: "via <webhook>"},
			"2026-03-02 10:00 · webhook · aangemaakt · via &lt;webhook&gt;"},
		{triage.Event{At: at, Kind: "future_kind", By: "auto", Detail: "something"},
			"2026-03-02 10:00 · auto · future_kind · something"},
	}
	for _, tc := range cases {
		if got := (eventWords{nl}).line(tc.e); got != tc.want {
			t.Errorf("line(%+v) =\n%q, want\n%q", tc.e, got, tc.want)
		}
	}
}
