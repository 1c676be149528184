package research_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/leadtriage/leadtriage/leadtext"
	"github.com/leadtriage/leadtriage/research"
	"github.com/leadtriage/leadtriage/triage"
)

// The scenario: a "three-year-old" company with a 40-day-old domain
// and a gmail address.
func TestResearch_YoungDomainFreeMailClaim(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	registered := testNow.AddDate(0, 0, -40)
	e.rdap.registered("young.example", registered)
	r := research.New(e.config())
	lead := triage.Lead{ID: 7, Company: "Young Software", Email: "x@gmail.com",
		Website: "https://young.example", Domain: "young.example", Founded: 2023}

	f := mustResearch(t, r, lead, false)

	if !f.Facts.FreeMail || f.Facts.EmailDomain != "gmail.com" {
		t.Errorf("e-mail facts = free %v domain %q, want free-mail gmail.com", f.Facts.FreeMail, f.Facts.EmailDomain)
	}
	if !f.Facts.DomainRegistered.Equal(registered.Truncate(time.Second)) {
		t.Errorf("DomainRegistered = %v, want %v", f.Facts.DomainRegistered, registered)
	}
	if f.Facts.Registrar != "Example Registrar B.V." {
		t.Errorf("Registrar = %q", f.Facts.Registrar)
	}
	if !f.Facts.Website.Reachable {
		t.Errorf("website not reachable: %+v", f.Facts.Website)
	}
	if !f.Facts.EmailDomainLive || !slices.Equal(f.Facts.MX, []string{"gmail-smtp-in.l.google.com"}) {
		t.Errorf("DNS facts = live %v MX %v", f.Facts.EmailDomainLive, f.Facts.MX)
	}
	free, ok := findFlag(f.Flags, triage.FlagFreeEmail)
	if !ok || free.Detail != "Free-mail address at gmail.com: no company domain behind it." || free.Source != "email" {
		t.Errorf("free_email flag = %+v (found %v)", free, ok)
	}
	for _, p := range f.Providers {
		if !p.OK {
			t.Errorf("provider %s failed: %s", p.Name, p.Error)
		}
	}
	got := map[string]bool{}
	for _, p := range f.Providers {
		got[p.Name] = true
	}
	if diff := cmp.Diff(map[string]bool{"email": true, "rdap": true, "dns": true, "website": true}, got); diff != "" {
		t.Errorf("providers (-want +got):\n%s", diff)
	}

	res := triage.Compose(lead, f, nil, testNow)
	codes := flagCodes(res.Flags)
	for _, want := range []string{triage.FlagDomainYoung, triage.FlagClaimMismatch, triage.FlagFreeEmail} {
		if !slices.Contains(codes, want) {
			t.Errorf("composed flags %v lack %s", codes, want)
		}
	}
	if slices.Contains(codes, triage.FlagResearchIncomplete) {
		t.Errorf("composed flags %v: research incomplete", codes)
	}
	mm, _ := findFlag(res.Flags, triage.FlagClaimMismatch)
	if !strings.Contains(leadtext.FlagDetail(mm), "2023") || !strings.Contains(leadtext.FlagDetail(mm), registered.Format("2 January 2006")) {
		t.Errorf("claim_mismatch detail %q lacks both facts", leadtext.FlagDetail(mm))
	}
}

func TestResearch_SlowProviderTimesOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// The RDAP server holds the request until the client gives up.
	e.rdap.set("acme.example", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	cfg := e.config()
	cfg.Timeout = 2 * time.Second // the deadline the hung RDAP server runs into; the others finish well within it
	r := research.New(cfg)
	lead := triage.Lead{ID: 1, Company: "Acme", Email: "jan@acme.example", Domain: "acme.example", Website: "https://acme.example"}

	f := mustResearch(t, r, lead, false)

	if p := provider(t, f, "rdap"); p.OK || p.Error != "timed out" {
		t.Errorf("rdap = %+v, want failed: timed out", p)
	}
	for _, name := range []string{"email", "dns", "website"} {
		if p := provider(t, f, name); !p.OK {
			t.Errorf("%s = %+v, want OK", name, p)
		}
	}
	res := triage.Compose(lead, f, nil, testNow)
	inc, ok := findFlag(res.Flags, triage.FlagResearchIncomplete)
	if !ok || !strings.Contains(leadtext.FlagDetail(inc), "rdap (timed out)") {
		t.Errorf("research_incomplete = %+v (found %v)", inc, ok)
	}
	// The cut-off provider's goroutine ends: it was cancelled.
	waitOrFail(t, r)
}

func TestResearch_DeadlineWithStuckProvider(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cfg := e.config()
	cfg.Timeout = 2 * time.Second
	r := research.New(cfg)
	release := make(chan struct{})
	research.SetTestHook(r, func(ctx context.Context, name string) {
		if name == "website" {
			// Ignores its context: the call must return anyway.
			<-release
		}
	})
	lead := triage.Lead{ID: 1, Email: "jan@acme.example", Domain: "acme.example"}
	f := mustResearch(t, r, lead, false)
	// The stuck provider outlives the run, and shutdown's Wait sees it.
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.Wait(cancelled); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait with a provider still running = %v, want context.Canceled", err)
	}
	close(release)
	if p := provider(t, f, "website"); p.OK || p.Error != "timed out" {
		t.Errorf("website = %+v, want timed out", p)
	}
	if p := provider(t, f, "dns"); !p.OK {
		t.Errorf("dns = %+v, want OK", p)
	}
	if _, ok := findFlag(f.Flags, triage.FlagNoWebsite); ok {
		t.Errorf("a late website result leaked into the findings: %v", flagCodes(f.Flags))
	}
	waitOrFail(t, r)
}

func TestResearch_ProviderPanic(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := research.New(e.config())
	research.SetTestHook(r, func(_ context.Context, name string) {
		if name == "rdap" {
			panic("boom")
		}
	})
	lead := triage.Lead{ID: 1, Email: "jan@acme.example", Domain: "acme.example"}
	f := mustResearch(t, r, lead, false)
	if p := provider(t, f, "rdap"); p.OK || p.Error != "internal error" {
		t.Errorf("rdap = %+v, want failed: internal error", p)
	}
	if p := provider(t, f, "dns"); !p.OK {
		t.Errorf("dns = %+v, want OK", p)
	}
}

func TestResearch_CacheAvoidsSecondRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.rdap.registered("acme.example", testNow.AddDate(-5, 0, 0))
	r := research.New(e.config())
	lead := triage.Lead{ID: 1, Email: "jan@acme.example", Domain: "acme.example"}

	first := mustResearch(t, r, lead, false)
	if n := e.rdap.requests.Load(); n != 1 {
		t.Fatalf("RDAP requests after first lead = %d, want 1", n)
	}
	sites, queries := e.sites.requests.Load(), e.dnsQ.Load()
	lead2 := triage.Lead{ID: 2, Email: "piet@acme.example", Domain: "acme.example"}
	second := mustResearch(t, r, lead2, false)
	if n := e.rdap.requests.Load(); n != 1 {
		t.Errorf("RDAP requests after second lead = %d, want 1 (cached)", n)
	}
	if n := e.sites.requests.Load(); n != sites {
		t.Errorf("website requests %d -> %d, want cached", sites, n)
	}
	if n := e.dnsQ.Load(); n != queries {
		t.Errorf("DNS queries %d -> %d, want cached", queries, n)
	}
	if diff := cmp.Diff(first.Facts, second.Facts); diff != "" {
		t.Errorf("cached facts differ (-first +second):\n%s", diff)
	}
	if p := provider(t, second, "rdap"); !p.OK || p.Took != 0 {
		t.Errorf("cached rdap = %+v, want OK with Took 0", p)
	}
	for _, k := range e.cache.keys() {
		if strings.Contains(k, "email") {
			t.Errorf("e-mail result cached under %q", k)
		}
	}

	// refresh bypasses the cache, and writes the new answer.
	newer := testNow.AddDate(0, 0, -10)
	e.rdap.registered("acme.example", newer)
	third := mustResearch(t, r, lead2, true)
	if n := e.rdap.requests.Load(); n != 2 {
		t.Errorf("RDAP requests after refresh = %d, want 2", n)
	}
	if !third.Facts.DomainRegistered.Equal(newer.Truncate(time.Second)) {
		t.Errorf("refreshed DomainRegistered = %v, want %v", third.Facts.DomainRegistered, newer)
	}
	fourth := mustResearch(t, r, lead, false)
	if !fourth.Facts.DomainRegistered.Equal(third.Facts.DomainRegistered) || e.rdap.requests.Load() != 2 {
		t.Errorf("after refresh the cache holds %v (requests %d), want the refreshed answer", fourth.Facts.DomainRegistered, e.rdap.requests.Load())
	}

	// Expired entries are missing: a new request.
	e.clock.Advance(2 * time.Hour)
	mustResearch(t, r, lead, false)
	if n := e.rdap.requests.Load(); n != 3 {
		t.Errorf("RDAP requests after TTL = %d, want 3", n)
	}
}

func TestResearch_FailuresAreNotCached(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.rdap.set("acme.example", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) })
	r := research.New(e.config())
	lead := triage.Lead{ID: 1, Domain: "acme.example"}
	f := mustResearch(t, r, lead, false)
	if p := provider(t, f, "rdap"); p.OK || p.Error != "HTTP 502" {
		t.Errorf("rdap = %+v, want failed HTTP 502", p)
	}
	mustResearch(t, r, lead, false)
	if n := e.rdap.requests.Load(); n != 2 {
		t.Errorf("RDAP requests = %d, want 2: a failure must not be cached", n)
	}
}

func TestResearch_CacheErrorsIgnored(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.cache.fail = errors.New("disk on fire")
	e.rdap.registered("acme.example", testNow.AddDate(-5, 0, 0))
	r := research.New(e.config())
	f := mustResearch(t, r, triage.Lead{ID: 1, Email: "jan@acme.example", Domain: "acme.example"}, false)
	for _, p := range f.Providers {
		if !p.OK {
			t.Errorf("provider %s failed (%s) because of the cache", p.Name, p.Error)
		}
	}
	if f.Facts.DomainRegistered.IsZero() {
		t.Error("no registration date")
	}
	if e.cache.gets == 0 || e.cache.puts == 0 {
		t.Errorf("cache not used: %d gets, %d puts", e.cache.gets, e.cache.puts)
	}
}

func TestResearch_NoCompanyDomain(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := research.New(e.config())
	lead := triage.Lead{ID: 1, Company: "Acme", Email: "acme@gmail.com", Domain: "gmail.com"}
	f := mustResearch(t, r, lead, false)
	if n := e.rdap.requests.Load(); n != 0 {
		t.Errorf("RDAP asked %d times about a free-mail domain", n)
	}
	if n := e.sites.requests.Load(); n != 0 {
		t.Errorf("website fetched %d times for a free-mail domain", n)
	}
	if hasProvider(f, "rdap") || hasProvider(f, "website") {
		t.Errorf("providers %+v include rdap or website", f.Providers)
	}
	if p := provider(t, f, "dns"); !p.OK || !f.Facts.EmailDomainLive {
		t.Errorf("dns = %+v live %v: the e-mail domain is still checked", p, f.Facts.EmailDomainLive)
	}
	nw, ok := findFlag(f.Flags, triage.FlagNoWebsite)
	if !ok || nw.Detail != "No website given and only a free-mail address." {
		t.Errorf("no_website = %+v (found %v)", nw, ok)
	}
}

func TestResearch_Website(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		lead       triage.Lead
		wantCode   string // "" = no website flag
		wantDetail string
		reachable  bool
	}{
		{name: "GivenAndUp", lead: triage.Lead{Website: "https://acme.example", Domain: "acme.example"}, reachable: true},
		{name: "GivenAndDown", lead: triage.Lead{Website: "https://down.example/about", Domain: "down.example"},
			wantCode: triage.FlagWebsiteUnreachable, wantDetail: "The website down.example does not work: HTTP 503."},
		{name: "GivenNoAnswer", lead: triage.Lead{Website: "https://gone.example", Domain: "gone.example"},
			wantCode: triage.FlagWebsiteUnreachable, wantDetail: "The website gone.example does not work: no answer."},
		{name: "FromDomainUp", lead: triage.Lead{Email: "jan@acme.example", Domain: "acme.example"}, reachable: true},
		{name: "FromDomainNothing", lead: triage.Lead{Email: "jan@gone.example", Domain: "gone.example"},
			wantCode: triage.FlagNoWebsite, wantDetail: "No website given, and nothing answers at https://gone.example."},
		{name: "CompanyOnly", lead: triage.Lead{Company: "Acme"},
			wantCode: triage.FlagNoWebsite, wantDetail: "No website or e-mail domain given."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			r := research.New(e.config())
			tt.lead.ID = 1
			f := mustResearch(t, r, tt.lead, false)
			var got []triage.Flag
			for _, fl := range f.Flags {
				if fl.Code == triage.FlagNoWebsite || fl.Code == triage.FlagWebsiteUnreachable {
					got = append(got, fl)
				}
			}
			var want []triage.Flag
			if tt.wantCode != "" {
				want = []triage.Flag{{Code: tt.wantCode, Detail: tt.wantDetail, Source: "website"}}
			}
			// Args are what bot words the flag from; TestRenderFlags (bot)
			// covers them.
			if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(triage.Flag{}, "Args")); diff != "" {
				t.Errorf("website flags (-want +got):\n%s", diff)
			}
			if f.Facts.Website.Reachable != tt.reachable {
				t.Errorf("Reachable = %v, want %v (%+v)", f.Facts.Website.Reachable, tt.reachable, f.Facts.Website)
			}
			if hasProvider(f, "website") {
				if p := provider(t, f, "website"); !p.OK {
					t.Errorf("website provider = %+v: an unreachable site is a finding, not a failure", p)
				}
			}
		})
	}
}

func TestResearch_ContextDoneBeforeStart(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := research.New(e.config())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Research(ctx, triage.Lead{ID: 1, Email: "a@acme.example", Domain: "acme.example"}, false); !errors.Is(err, context.Canceled) {
		t.Errorf("Research on a done context = %v, want context.Canceled", err)
	}
	if n := e.rdap.requests.Load(); n != 0 {
		t.Errorf("%d RDAP requests on a done context", n)
	}
}

// waitOrFail fails the test if r's provider goroutines do not end in time.
func waitOrFail(t *testing.T, r *research.Researcher) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.Wait(ctx); err != nil {
		t.Fatalf("provider goroutines still running 10 s after the deadline: %v", err)
	}
}
