package triage_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/leadtext"
	"github.com/leadtriage/leadtriage/triage"
	"github.com/leadtriage/leadtriage/triage/triagetest"
)

func flagCodes(r triage.Research) []string {
	var out []string
	for _, f := range r.Flags {
		out = append(out, f.Code)
	}
	return out
}

func hasCode(r triage.Research, code string) bool {
	for _, f := range r.Flags {
		if f.Code == code {
			return true
		}
	}
	return false
}

func TestCompose(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	lead := triage.Lead{ID: 7, Company: "Young BV", Email: "jan@gmail.com", Domain: "young.example", Founded: 2023}
	disq := triage.Lead{ID: 3, Status: triage.StatusDisqualified, Domain: "young.example",
		Decision: &triage.Decision{Outcome: triage.StatusDisqualified, Reason: "Claims do not hold up", At: at.AddDate(0, -2, 0)}}
	for _, tc := range []struct {
		name    string
		lead    triage.Lead
		f       triage.Findings
		others  []triage.Lead
		want    []string // flag codes, in order
		summary string   // must appear in the summary
		detail  string   // must appear in some flag detail
	}{
		{
			name: "issue scenario: young domain, older claim, gmail",
			lead: lead,
			f: triage.Findings{
				Facts: triage.Facts{EmailDomain: "gmail.com", FreeMail: true, DomainRegistered: at.AddDate(0, 0, -40)},
				Flags: []triage.Flag{{Code: triage.FlagFreeEmail, Source: "email", Detail: "Free-mail address at gmail.com."}},
			},
			want:    []string{triage.FlagClaimMismatch, triage.FlagDomainYoung, triage.FlagFreeEmail},
			summary: "Founding claim does not match · domain registered 2026-10-19 · free-mail address (gmail.com)",
			detail:  "Claims founded 2023; earliest trace online: domain registered 19 October 2026.",
		},
		{
			name: "a year-old domain is not young",
			lead: triage.Lead{ID: 1, Domain: "old.example"},
			f:    triage.Findings{Facts: triage.Facts{DomainRegistered: at.Add(-triage.YoungDomain)}},
			want: nil, summary: "No red flags · domain since 2025",
		},
		{
			name: "founded the year of registration is fine",
			lead: triage.Lead{ID: 1, Domain: "a.example", Founded: 2020},
			f:    triage.Findings{Facts: triage.Facts{DomainRegistered: time.Date(2020, 6, 1, 0, 0, 0, 0, time.UTC)}},
			want: nil,
		},
		{
			name: "registry contradicts the claim",
			lead: triage.Lead{ID: 1, Domain: "a.example", Founded: 2010},
			f: triage.Findings{Facts: triage.Facts{Registry: &triage.Registry{Source: "kvk", Name: "A BV", Status: "active",
				Incorporated: time.Date(2019, 3, 1, 0, 0, 0, 0, time.UTC)}}},
			want: []string{triage.FlagClaimMismatch}, detail: "registry says incorporated 1 March 2019", summary: "KvK: active",
		},
		{
			name:   "history: disqualified before, same domain",
			lead:   triage.Lead{ID: 7, Domain: "young.example"},
			others: []triage.Lead{disq},
			want:   []string{triage.FlagPreviouslyDisq, triage.FlagDuplicate},
			detail: "L-3 was disqualified on 28 September 2026: Claims do not hold up",
		},
		{
			name:   "history: later leads and the lead itself do not count",
			lead:   triage.Lead{ID: 3, Domain: "young.example"},
			others: []triage.Lead{disq, {ID: 9, Domain: "young.example"}},
			want:   nil,
		},
		{
			name: "history: a shared free-mail domain is no duplicate, the same address is",
			lead: triage.Lead{ID: 7, Email: "jan@gmail.com", Domain: "gmail.com"},
			f:    triage.Findings{Facts: triage.Facts{EmailDomain: "gmail.com", FreeMail: true}},
			others: []triage.Lead{
				{ID: 2, Email: "piet@gmail.com", Domain: "gmail.com", Status: triage.StatusPending},
				{ID: 4, Email: "jan@gmail.com", Domain: "gmail.com", Status: triage.StatusQualified},
			},
			want:   []string{triage.FlagDuplicate},
			detail: "L-4 (same e-mail, qualified)",
		},
		{
			name: "failed providers make research incomplete, last",
			lead: triage.Lead{ID: 1},
			f: triage.Findings{
				Flags: []triage.Flag{{Code: triage.FlagNoWebsite, Source: "website", Detail: "No website given."}},
				Providers: []triage.ProviderResult{{Name: "rdap", OK: true}, {Name: "dns", Error: "timed out"},
					{Name: "kvk", Error: "rate limited"}},
			},
			want:   []string{triage.FlagNoWebsite, triage.FlagResearchIncomplete},
			detail: "Not checked: dns (timed out), kvk (rate limited).",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := triage.Compose(tc.lead, tc.f, tc.others, at)
			if got := strings.Join(flagCodes(r), ","); got != strings.Join(tc.want, ",") {
				t.Errorf("flags = %s, want %s", got, strings.Join(tc.want, ","))
			}
			if tc.summary != "" && !strings.Contains(r.Summary, tc.summary) {
				t.Errorf("summary = %q, want it to contain %q", r.Summary, tc.summary)
			}
			if tc.detail != "" {
				found := false
				for _, f := range r.Flags {
					found = found || strings.Contains(leadtext.FlagDetail(f), tc.detail)
				}
				if !found {
					t.Errorf("no flag detail contains %q: %+v", tc.detail, r.Flags)
				}
			}
			if !r.At.Equal(at) {
				t.Errorf("At = %v, want %v", r.At, at)
			}
			for _, f := range r.Flags {
				if f.Source == "" {
					t.Errorf("flag %s has no source", f.Code)
				}
			}
		})
	}
}

// fakeResearcher returns fixed findings; gate, when set, holds it until
// closed so a test can look at the state while research is running.
type fakeResearcher struct {
	mu       sync.Mutex
	findings triage.Findings
	err      error
	gate     chan struct{}
	panics   bool
	calls    []bool // refresh per call
}

func (f *fakeResearcher) Research(ctx context.Context, l triage.Lead, refresh bool) (triage.Findings, error) {
	f.mu.Lock()
	f.calls = append(f.calls, refresh)
	f.mu.Unlock()
	if f.panics {
		panic("provider bug")
	}
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return triage.Findings{}, ctx.Err()
		}
	}
	return f.findings, f.err
}

func (f *fakeResearcher) refreshes() []bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]bool(nil), f.calls...)
}

func newResearchHarness(t *testing.T, r triage.Researcher) *harness {
	t.Helper()
	h := newHarness(t, blindAuto)
	h.svc.Researcher = r
	t.Cleanup(func() { _ = h.svc.StopResearch(context.Background()) })
	return h
}

func TestService_Research(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	free := triage.Findings{
		Facts: triage.Facts{EmailDomain: "gmail.com", FreeMail: true},
		Flags: []triage.Flag{{Code: triage.FlagFreeEmail, Source: "email", Detail: "Free-mail."}},
	}

	t.Run("card first, research later", func(t *testing.T) {
		t.Parallel()
		r := &fakeResearcher{findings: free, gate: make(chan struct{})}
		h := newResearchHarness(t, r)
		l, _, err := h.svc.Submit(ctx, input(), triage.Submission{Via: "webhook"})
		if err != nil {
			t.Fatal(err)
		}
		// While research runs, the card is already queued and has no research.
		items := h.deliver(t)
		if len(items) != 1 || items[0].Kind != triage.OutboxPostCard {
			t.Fatalf("queued before research = %v, want the card post", kindsOf(items))
		}
		if got, _ := h.store.Lead(ctx, l.ID); !got.Research.At.IsZero() {
			t.Fatal("research recorded before the researcher answered")
		}
		close(r.gate)
		if err := h.svc.StopResearch(ctx); err != nil {
			t.Fatal(err)
		}
		got, _ := h.store.Lead(ctx, l.ID)
		if !hasCode(got.Research, triage.FlagFreeEmail) || got.Research.At.IsZero() {
			t.Fatalf("research = %+v", got.Research)
		}
		if items := h.deliver(t); len(items) != 1 || items[0].Kind != triage.OutboxUpdateCard {
			t.Errorf("queued after research = %v, want one card update", kindsOf(items))
		}
		if got.Events[len(got.Events)-1].Kind != triage.EventResearched {
			t.Errorf("last event = %+v, want researched", got.Events[len(got.Events)-1])
		}
	})

	t.Run("researcher fails: research incomplete", func(t *testing.T) {
		t.Parallel()
		h := newResearchHarness(t, &fakeResearcher{err: errors.New("boom")})
		l, _, _ := h.svc.Submit(ctx, input(), triage.Submission{Via: "webhook"})
		_ = h.svc.StopResearch(ctx)
		got, _ := h.store.Lead(ctx, l.ID)
		if !hasCode(got.Research, triage.FlagResearchIncomplete) {
			t.Errorf("flags = %v, want research_incomplete", flagCodes(got.Research))
		}
	})

	t.Run("researcher too slow: timed out", func(t *testing.T) {
		t.Parallel()
		h := newResearchHarness(t, &fakeResearcher{gate: make(chan struct{})})
		h.svc.ResearchTimeout = 20 * time.Millisecond
		l, _, _ := h.svc.Submit(ctx, input(), triage.Submission{Via: "webhook"})
		got, err := h.svc.RunResearch(ctx, l.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		if !hasCode(got.Research, triage.FlagResearchIncomplete) || !strings.Contains(leadtext.FlagDetail(got.Research.Flags[len(got.Research.Flags)-1]), "timed out") {
			t.Errorf("research = %+v, want research_incomplete naming the time-out", got.Research)
		}
	})

	t.Run("a panicking researcher does not crash", func(t *testing.T) {
		t.Parallel()
		h := newResearchHarness(t, &fakeResearcher{panics: true})
		l, _, _ := h.svc.Submit(ctx, input(), triage.Submission{Via: "webhook"})
		if err := h.svc.StopResearch(ctx); err != nil {
			t.Fatal(err)
		}
		if got, _ := h.store.Lead(ctx, l.ID); !got.Research.At.IsZero() {
			t.Errorf("research recorded from a panic: %+v", got.Research)
		}
	})

	t.Run("re-run refreshes", func(t *testing.T) {
		t.Parallel()
		r := &fakeResearcher{findings: free}
		h := newResearchHarness(t, r)
		l, _, _ := h.svc.Submit(ctx, input(), triage.Submission{Via: "webhook"})
		h.svc.StartResearch(l.ID, true)
		_ = h.svc.StopResearch(ctx)
		calls := r.refreshes()
		if len(calls) != 2 || calls[0] == calls[1] {
			t.Errorf("refresh per call = %v, want one without and one with", calls)
		}
	})

	t.Run("resume researches pending leads without research", func(t *testing.T) {
		t.Parallel()
		store := &triagetest.Store{}
		plain := &triage.Service{Store: store, Channel: channel}
		l, _, err := plain.Submit(ctx, input(), triage.Submission{Via: "webhook"})
		if err != nil {
			t.Fatal(err)
		}
		r := &fakeResearcher{findings: free}
		svc := &triage.Service{Store: store, Channel: channel, Researcher: r}
		if err := svc.ResumeResearch(ctx); err != nil {
			t.Fatal(err)
		}
		_ = svc.StopResearch(ctx)
		if got, _ := store.Lead(ctx, l.ID); got.Research.At.IsZero() {
			t.Error("the pending lead was not researched on resume")
		}
		// A second resume finds nothing to do.
		svc2 := &triage.Service{Store: store, Channel: channel, Researcher: r}
		_ = svc2.ResumeResearch(ctx)
		_ = svc2.StopResearch(ctx)
		if n := len(r.refreshes()); n != 1 {
			t.Errorf("researched %d times, want once", n)
		}
	})

	t.Run("no researcher: nothing runs", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, blindAuto)
		l, _, _ := h.svc.Submit(ctx, input(), triage.Submission{Via: "webhook"})
		if _, err := h.svc.RunResearch(ctx, l.ID, false); !errors.Is(err, triage.ErrNotAllowed) {
			t.Errorf("RunResearch without a researcher = %v, want ErrNotAllowed", err)
		}
	})
}

func TestCompose_SummaryNamesEachKindOnce(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	r := triage.Compose(triage.Lead{ID: 1, Domain: "a.example", Founded: 2001}, triage.Findings{Facts: triage.Facts{
		DomainRegistered: time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC),
		Registry:         &triage.Registry{Source: "kvk", Incorporated: time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC)},
		Credit:           &triage.Credit{Source: "creditsafe", Rating: "D", HighRisk: true, Insolvent: true, Status: "Bankrupt"},
	}}, nil, at)
	if got := strings.Join(flagCodes(r), ","); got != "insolvency,claim_mismatch,credit_risk" {
		t.Fatalf("flags = %s, want insolvency,claim_mismatch,credit_risk", got)
	}
	if c := strings.Count(r.Summary, "does not match"); c != 1 {
		t.Errorf("summary %q names the claim %d times", r.Summary, c)
	}
	if !strings.HasPrefix(r.Summary, "Insolvent or dissolved · founding claim does not match · high credit risk") {
		t.Errorf("summary = %q", r.Summary)
	}
}

// TestCompose_ClaimEvidence is the claim check's evidence table: the
// registry outranks the web traces; without it the earliest of domain,
// certificate and archive capture counts, each missing in turn; no date at
// all is research_incomplete, never a red flag.
func TestCompose_ClaimEvidence(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	day := func(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }
	reg := &triage.Registry{Source: "companies_house", Name: "Acme Ltd", Status: "active", Incorporated: day(2018, 5, 1)}
	webOK := []triage.ProviderResult{{Name: "crtsh", OK: true}, {Name: "wayback", OK: true}}
	for _, tc := range []struct {
		name     string
		founded  int
		facts    triage.Facts
		prov     []triage.ProviderResult
		want     string // flag codes
		source   string // of claim_mismatch
		detail   string // exact claim_mismatch or research_incomplete detail
		notInDet string
	}{
		{
			name: "registry outranks an older domain: the claim predates the company", founded: 2015,
			facts: triage.Facts{Registry: reg, DomainRegistered: day(2009, 1, 1), FirstCertificate: day(2014, 1, 1)}, prov: webOK,
			want: "claim_mismatch", source: "companies_house",
			detail: "Claims founded 2015; registry says incorporated 1 May 2018. A predecessor company?",
		},
		{
			name: "registry outranks young web traces: the claim holds", founded: 2018,
			facts: triage.Facts{Registry: reg, DomainRegistered: day(2026, 8, 1), FirstCertificate: day(2026, 8, 2)}, prov: webOK,
			want: "domain_young",
		},
		{
			name: "no registry: all three traces, the earliest counts", founded: 2019,
			facts: triage.Facts{DomainRegistered: day(2025, 1, 10), FirstCertificate: day(2024, 6, 3), FirstCapture: day(2024, 9, 14)}, prov: webOK,
			want: "claim_mismatch", source: "claims",
			detail: "Claims founded 2019; earliest trace online: domain registered 10 January 2025, first certificate 3 June 2024, first archive capture 14 September 2024. Was there an earlier name or site?",
		},
		{
			name: "registry without a date falls back to the web", founded: 2019,
			facts: triage.Facts{Registry: &triage.Registry{Source: "kvk", Status: "active"}, FirstCertificate: day(2026, 8, 2)},
			prov:  webOK, want: "claim_mismatch", source: "claims",
			detail: "Claims founded 2019; earliest trace online: first certificate 2 August 2026, no archive capture. Was there an earlier name or site?",
		},
		{
			name: "no domain date (a ccTLD that publishes none): certificate and archive", founded: 2019,
			facts: triage.Facts{FirstCertificate: day(2026, 8, 2), FirstCapture: day(2026, 9, 20)}, prov: webOK,
			want: "claim_mismatch", source: "claims",
			detail: "Claims founded 2019; earliest trace online: first certificate 2 August 2026, first archive capture 20 September 2026. Was there an earlier name or site?",
		},
		{
			name: "no certificate: domain and archive", founded: 2019,
			facts: triage.Facts{DomainRegistered: day(2021, 3, 1), FirstCapture: day(2022, 1, 1)}, prov: webOK,
			want: "claim_mismatch", source: "claims",
			detail: "Claims founded 2019; earliest trace online: domain registered 1 March 2021, no certificate, first archive capture 1 January 2022. Was there an earlier name or site?",
		},
		{
			name: "no archive capture: an old archive-less domain backs the claim", founded: 2019,
			facts: triage.Facts{DomainRegistered: day(2012, 3, 1), FirstCertificate: day(2026, 8, 2)}, prov: webOK,
			want: "",
		},
		{
			name: "an old archive capture backs the claim despite a young domain", founded: 2019,
			facts: triage.Facts{DomainRegistered: day(2026, 2, 1), FirstCapture: day(2016, 4, 4)}, prov: webOK,
			want: "domain_young",
		},
		{
			name: "web history off: only the domain, and nothing said about certificates", founded: 2019,
			facts: triage.Facts{DomainRegistered: day(2021, 3, 1)},
			want:  "claim_mismatch", source: "claims",
			detail:   "Claims founded 2019; earliest trace online: domain registered 1 March 2021. Was there an earlier name or site?",
			notInDet: "certificate",
		},
		{
			name: "no trace at all: research incomplete, no red flag", founded: 2019,
			prov: webOK, want: "research_incomplete",
			detail: "Not checked: founding claim 2019 (no registry, domain, certificate or archive date).",
		},
		{
			name: "web history failed: the failure is named too", founded: 2019,
			prov:   []triage.ProviderResult{{Name: "crtsh", Error: "rate limited"}, {Name: "wayback", OK: true}},
			want:   "research_incomplete",
			detail: "Not checked: founding claim 2019 (no registry, domain, certificate or archive date), crtsh (rate limited).",
		},
		{
			name: "no claim, nothing to check", founded: 0, prov: webOK, want: "",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := triage.Lead{ID: 1, Domain: "acme.example", Founded: tc.founded}
			r := triage.Compose(l, triage.Findings{Facts: tc.facts, Providers: tc.prov}, nil, at)
			if got := strings.Join(flagCodes(r), ","); got != tc.want {
				t.Fatalf("flags = %q, want %q: %+v", got, tc.want, r.Flags)
			}
			for _, f := range r.Flags {
				if f.Code != triage.FlagClaimMismatch && f.Code != triage.FlagResearchIncomplete {
					continue
				}
				if tc.source != "" && f.Code == triage.FlagClaimMismatch && f.Source != tc.source {
					t.Errorf("source = %q, want %q", f.Source, tc.source)
				}
				if tc.detail != "" && leadtext.FlagDetail(f) != tc.detail {
					t.Errorf("detail = %q\nwant     %q", leadtext.FlagDetail(f), tc.detail)
				}
				if tc.notInDet != "" && strings.Contains(leadtext.FlagDetail(f), tc.notInDet) {
					t.Errorf("detail %q mentions %q", leadtext.FlagDetail(f), tc.notInDet)
				}
			}
		})
	}
}

func TestCompose_CreditFlags(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		credit *triage.Credit
		want   string
		detail string
	}{
		{"no bureau", nil, "", ""},
		{"low risk", &triage.Credit{Source: "creditsafe", Rating: "A", Description: "Very Low Risk", Status: "Active"}, "", ""},
		{"high risk", &triage.Credit{Source: "creditsafe", Rating: "D", Description: "High Risk", Status: "Active", HighRisk: true, Date: at.AddDate(0, -1, 0)},
			"credit_risk", "Creditsafe rates it D (High Risk) as of 28 October 2026. Can they pay — payment up front, or a smaller first order?"},
		{"insolvent", &triage.Credit{Source: "graydon", Rating: "E", Status: "In Administration", Insolvent: true},
			"insolvency", "graydon lists the company as In Administration. Is there a going concern to do business with?"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := triage.Compose(triage.Lead{ID: 1, Domain: "a.example"}, triage.Findings{Facts: triage.Facts{Credit: tc.credit}}, nil, at)
			if got := strings.Join(flagCodes(r), ","); got != tc.want {
				t.Fatalf("flags = %q, want %q", got, tc.want)
			}
			if tc.detail != "" && leadtext.FlagDetail(r.Flags[0]) != tc.detail {
				t.Errorf("detail = %q, want %q", leadtext.FlagDetail(r.Flags[0]), tc.detail)
			}
		})
	}
}
