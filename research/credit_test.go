package research_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/leadtriage/leadtriage/leadtext"
	"github.com/leadtriage/leadtriage/research"
	"github.com/leadtriage/leadtriage/triage"
)

const (
	testCSUser = "sales@leadtriage.example"
	testCSPass = "cs-secret-password-789"
)

// creditsafeFake serves the Creditsafe Connect API endpoints research
// calls, in the documented shapes: POST /authenticate {"username",
// "password"} → {"token"}; GET /companies?countries=&regNo=|name= →
// {"totalSize","companies":[{"id","country","regNo","name","status",…}]};
// GET /companies/{id} → {"correlationId","report":{"companyId",
// "companySummary":{…,"companyStatus":{"status","description"}},
// "creditScore":{"currentCreditRating":{"commonValue","commonDescription",
// "creditLimit":{"currency","value"},"providerValue":{"maxValue",
// "minValue","value"},"providerDescription"},"latestRatingChangeDate"}}}
// (report fields as in Creditsafe's Connect sample reports, e.g. the FR
// sample whose creditLimit value is "Credit Limit not applicable").
type creditsafeFake struct {
	srv     *httptest.Server
	calls   atomic.Int64
	logins  atomic.Int64
	status  atomic.Int64 // non-zero: answer every data call with it
	revoked atomic.Bool  // the current token is refused once (it expired)

	mu      sync.Mutex
	token   string
	report  map[string]string // company id → raw report body override
	queries []string
}

func csReportJSON(id, name, number, status, desc, rating, ratingDesc, limit, score, changed string) string {
	return fmt.Sprintf(`{"correlationId":"c85e5f4e-c257-4397-a6bf-2d7adc0aed41","report":{"companyId":%q,"language":"EN",
"companySummary":{"businessName":%q,"country":"NL","companyNumber":"NL001","companyRegistrationNumber":%q,
"companyStatus":{"status":%q,"description":%q},
"creditRating":{"commonValue":%q,"commonDescription":%q}},
"creditScore":{"currentCreditRating":{"commonValue":%q,"commonDescription":%q,"creditLimit":%s,
"providerValue":{"maxValue":"100","minValue":"0","value":%s},"providerDescription":"%s"},
"previousCreditRating":{"commonValue":"B","commonDescription":"Low Risk"},"latestRatingChangeDate":%q}}}`,
		id, name, number, status, desc, rating, ratingDesc, rating, ratingDesc, limit, score, ratingDesc, changed)
}

func newCreditsafeFake(t *testing.T) *creditsafeFake {
	t.Helper()
	f := &creditsafeFake{report: map[string]string{}}
	mux := http.NewServeMux()
	authorized := func(w http.ResponseWriter, r *http.Request) bool {
		f.calls.Add(1)
		if s := f.status.Load(); s != 0 {
			w.Header().Set("Retry-After", "60")
			w.WriteHeader(int(s))
			return false
		}
		f.mu.Lock()
		ok := f.token != "" && r.Header.Get("Authorization") == "Bearer "+f.token
		f.queries = append(f.queries, r.URL.Path+"?"+r.URL.RawQuery)
		f.mu.Unlock()
		if ok && f.revoked.CompareAndSwap(true, false) {
			ok = false
		}
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"message":"Unauthorized"}`))
		}
		return ok
	}
	mux.HandleFunc("POST /authenticate", func(w http.ResponseWriter, r *http.Request) {
		f.logins.Add(1)
		var creds struct{ Username, Password string }
		if json.NewDecoder(r.Body).Decode(&creds) != nil || creds.Username != testCSUser || creds.Password != testCSPass {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"message":"Invalid Username or Password"}`))
			return
		}
		f.mu.Lock()
		f.token = fmt.Sprintf("eyJ.token-%d", f.logins.Load())
		tok := f.token
		f.mu.Unlock()
		_, _ = fmt.Fprintf(w, `{"token":%q}`, tok)
	})
	mux.HandleFunc("GET /companies", func(w http.ResponseWriter, r *http.Request) {
		if !authorized(w, r) {
			return
		}
		q := r.URL.Query()
		var companies []string
		switch {
		case q.Get("countries") == "NL" && q.Get("regNo") == "69599084":
			companies = append(companies, `{"id":"NL-X-69599084","country":"NL","regNo":"69599084","safeNo":"NL01234567","name":"ACME B.V.","type":"Ltd","status":"Active","address":{"simpleValue":"Stationsplein 1, Utrecht","city":"Utrecht","postalCode":"3511ED"}}`)
		case q.Get("countries") == "GB" && strings.EqualFold(q.Get("name"), "Acme Ltd"):
			companies = append(companies,
				`{"id":"GB-0-09999999","country":"GB","regNo":"09999999","name":"ACME WIDGETS LIMITED","status":"Active"}`,
				`{"id":"GB-0-01234567","country":"GB","regNo":"01234567","name":"ACME LIMITED","status":"NonActive"}`)
		case q.Get("countries") == "GB" && q.Get("name") == "Garbage Ltd":
			companies = append(companies, `{"id":"GB-0-66666666","country":"GB","regNo":"66666666","name":"GARBAGE LIMITED","status":"Active"}`)
		}
		_, _ = fmt.Fprintf(w, `{"correlationId":"6d1b3c1e","totalSize":%d,"companies":[%s]}`, len(companies), strings.Join(companies, ","))
	})
	mux.HandleFunc("GET /companies/{id}", func(w http.ResponseWriter, r *http.Request) {
		if !authorized(w, r) {
			return
		}
		id := r.PathValue("id")
		f.mu.Lock()
		body, ok := f.report[id]
		f.mu.Unlock()
		switch {
		case ok:
		case id == "NL-X-69599084":
			body = csReportJSON(id, "ACME B.V.", "69599084", "Active", "Active", "D", "High Risk",
				`{"currency":"EUR","value":"5000"}`, `"22"`, "2026-02-20T00:00:00Z")
		case id == "GB-0-01234567":
			body = csReportJSON(id, "ACME LIMITED", "01234567", "NonActive", "In Administration", "E", "Not Scored",
				`{"value":"Credit Limit not applicable"}`, `"Not Rated"`, "")
		case id == "GB-0-66666666":
			body = `<html><body>502 Bad Gateway</body></html>`
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"correlationId":"x","message":"Company not found"}`))
			return
		}
		_, _ = w.Write([]byte(body))
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (e *env) creditConfig(f *creditsafeFake) research.Config {
	cfg := e.config()
	cfg.CreditsafeUsername, cfg.CreditsafePassword = testCSUser, testCSPass
	cfg.CreditsafeURL = f.srv.URL + "/"
	return cfg
}

func TestCreditsafe_ByRegistryNumber(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	reg := newRegistryFake(t)
	cs := newCreditsafeFake(t)
	cfg := e.creditConfig(cs)
	rc := e.registryConfig(reg)
	cfg.KvKKey, cfg.KvKURL = rc.KvKKey, rc.KvKURL
	r := research.New(cfg)
	lead := triage.Lead{ID: 1, Company: "Acme B.V.", Email: "jan@acme.nl", Domain: "acme.nl"}
	f := mustResearch(t, r, lead, false)

	want := &triage.Credit{Source: "creditsafe", Name: "ACME B.V.", Number: "69599084", Rating: "D", Description: "High Risk",
		Score: "22", Limit: 5000, Currency: "EUR", Status: "Active", Date: time.Date(2026, 2, 20, 0, 0, 0, 0, time.UTC), HighRisk: true}
	if diff := cmp.Diff(want, f.Facts.Credit); diff != "" {
		t.Errorf("Credit (-want +got):\n%s", diff)
	}
	cs.mu.Lock()
	qs := strings.Join(cs.queries, " ")
	cs.mu.Unlock()
	// The KvK number found by the registry is what Creditsafe is asked for.
	if !strings.Contains(qs, "/companies?countries=NL&pageSize=5&regNo=69599084") {
		t.Errorf("queries %q: not by registration number", qs)
	}
	res := triage.Compose(lead, f, nil, testNow)
	fl, ok := findFlag(res.Flags, triage.FlagCreditRisk)
	if !ok || fl.Source != "creditsafe" || !strings.Contains(leadtext.FlagDetail(fl), "Creditsafe rates it D (High Risk) as of 20 February 2026") {
		t.Errorf("credit_risk = %+v (found %v)", fl, ok)
	}
	if _, ok := findFlag(res.Flags, triage.FlagInsolvency); ok {
		t.Errorf("an active company flagged insolvent: %+v", res.Flags)
	}

	if !slices.Contains(e.cache.keys(), "research/v1/creditsafe/NL:no:69599084/acme.nl") {
		t.Errorf("cache keys %q: the report is not cached per company and domain", e.cache.keys())
	}
	// Cached per company: a second lead from it costs no lookup, no login.
	calls, logins := cs.calls.Load(), cs.logins.Load()
	f = mustResearch(t, r, triage.Lead{ID: 2, Company: "ACME BV", Domain: "acme.nl"}, false)
	if cs.calls.Load() != calls || cs.logins.Load() != logins || f.Facts.Credit == nil {
		t.Errorf("second lead: %d→%d calls, %d→%d logins, credit %v; want the cache", calls, cs.calls.Load(), logins, cs.logins.Load(), f.Facts.Credit)
	}
}

func TestCreditsafe_ByNameInsolvent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cs := newCreditsafeFake(t)
	r := research.New(e.creditConfig(cs))
	lead := triage.Lead{ID: 1, Company: "Acme Ltd", Email: "jo@acme.co.uk", Domain: "acme.co.uk"}
	f := mustResearch(t, r, lead, false)

	c := f.Facts.Credit
	if c == nil || c.Number != "01234567" || !c.Insolvent || c.HighRisk || c.Limit != 0 || c.Currency != "" ||
		c.Rating != "E" || c.Score != "Not Rated" || c.Status != "In Administration" || !c.Date.Equal(testNow.Truncate(24*time.Hour)) {
		t.Fatalf("Credit = %+v, want the name match (not ACME WIDGETS), insolvent, no limit, dated today", c)
	}
	res := triage.Compose(lead, f, nil, testNow)
	fl, ok := findFlag(res.Flags, triage.FlagInsolvency)
	if !ok || leadtext.FlagDetail(fl) != "Creditsafe lists the company as In Administration. Is there a going concern to do business with?" {
		t.Errorf("insolvency = %+v (found %v)", fl, ok)
	}
}

func TestCreditsafe_Failures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		lead    triage.Lead
		setup   func(cs *creditsafeFake, cfg *research.Config)
		wantErr string // "" = OK
		credit  bool   // a report is expected
	}{
		{name: "wrong password: 401 at login", setup: func(_ *creditsafeFake, cfg *research.Config) { cfg.CreditsafePassword = "wrong" },
			wantErr: "login refused"},
		{name: "429 with Retry-After", setup: func(cs *creditsafeFake, _ *research.Config) { cs.status.Store(http.StatusTooManyRequests) },
			wantErr: "rate limited"},
		{name: "500", setup: func(cs *creditsafeFake, _ *research.Config) { cs.status.Store(http.StatusInternalServerError) },
			wantErr: "HTTP 500"},
		{name: "garbage report", lead: triage.Lead{ID: 1, Company: "Garbage Ltd", Domain: "garbage.co.uk"}, wantErr: "bad answer"},
		{name: "expired token: one new login, then the report",
			setup: func(cs *creditsafeFake, _ *research.Config) { cs.revoked.Store(true) }, credit: true},
		{name: "empty search: no match is an answer", lead: triage.Lead{ID: 1, Company: "Nobody Ltd", Domain: "nobody.co.uk"}},
		{name: "truncated report", setup: func(cs *creditsafeFake, _ *research.Config) {
			cs.report["GB-0-01234567"] = `{"report":{"companyId":"GB-0-01234567","creditScore":{"currentCreditRating":{"commonValue":"A"`
		}, wantErr: "bad answer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			cs := newCreditsafeFake(t)
			cfg := e.creditConfig(cs)
			if tc.setup != nil {
				tc.setup(cs, &cfg)
			}
			lead := tc.lead
			if lead.Company == "" {
				lead = triage.Lead{ID: 1, Company: "Acme Ltd", Domain: "acme.co.uk"}
			}
			f := mustResearch(t, research.New(cfg), lead, false)
			p := provider(t, f, "creditsafe")
			if tc.wantErr == "" {
				if !p.OK {
					t.Fatalf("creditsafe = %+v, want OK", p)
				}
			} else {
				if p.OK || p.Error != tc.wantErr {
					t.Fatalf("creditsafe = %+v, want failed: %s", p, tc.wantErr)
				}
				res := triage.Compose(lead, f, nil, testNow)
				if inc, ok := findFlag(res.Flags, triage.FlagResearchIncomplete); !ok || !strings.Contains(leadtext.FlagDetail(inc), "creditsafe ("+tc.wantErr+")") {
					t.Errorf("research_incomplete = %+v (found %v)", inc, ok)
				}
				if strings.Contains(fmt.Sprint(f), testCSPass) {
					t.Errorf("the password leaked into the findings")
				}
			}
			if (f.Facts.Credit != nil) != tc.credit {
				t.Errorf("Credit = %+v, want present %v", f.Facts.Credit, tc.credit)
			}
		})
	}
}

func TestCreditsafe_RetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cs := newCreditsafeFake(t)
	r := research.New(e.creditConfig(cs))
	cs.status.Store(http.StatusTooManyRequests)
	mustResearch(t, r, triage.Lead{ID: 1, Company: "Acme Ltd", Domain: "acme.co.uk"}, false)
	calls := cs.calls.Load()
	cs.status.Store(0)
	e.clock.Advance(30 * time.Second)
	f := mustResearch(t, r, triage.Lead{ID: 2, Company: "Acme Ltd", Domain: "acme.co.uk"}, true)
	if p := provider(t, f, "creditsafe"); p.Error != "rate limited" || cs.calls.Load() != calls {
		t.Errorf("within Retry-After: creditsafe = %+v, %d→%d calls", p, calls, cs.calls.Load())
	}
	e.clock.Advance(31 * time.Second)
	f = mustResearch(t, r, triage.Lead{ID: 3, Company: "Acme Ltd", Domain: "acme.co.uk"}, true)
	if p := provider(t, f, "creditsafe"); !p.OK || f.Facts.Credit == nil {
		t.Errorf("after Retry-After: creditsafe = %+v, credit %v", p, f.Facts.Credit)
	}
}

func TestCreditsafe_OffCostsNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cs := newCreditsafeFake(t)
	cfg := e.creditConfig(cs)
	cfg.CreditsafePassword = "" // only half the credentials: off
	f := mustResearch(t, research.New(cfg), triage.Lead{ID: 1, Company: "Acme Ltd", Domain: "acme.co.uk"}, false)
	if hasProvider(f, "creditsafe") || cs.calls.Load()+cs.logins.Load() != 0 {
		t.Errorf("credit check off, yet: %+v, %d calls", f.Providers, cs.calls.Load()+cs.logins.Load())
	}
	// On, but the country is unknown: nothing to ask, nothing flagged.
	cfg = e.creditConfig(cs)
	f = mustResearch(t, research.New(cfg), triage.Lead{ID: 2, Company: "Acme", Domain: "acme.example"}, false)
	if p := provider(t, f, "creditsafe"); !p.OK || f.Facts.Credit != nil || cs.calls.Load()+cs.logins.Load() != 0 {
		t.Errorf("unknown country: %+v, %d calls", p, cs.calls.Load()+cs.logins.Load())
	}
}

// fakeBureau is a second, minimal credit bureau: it exercises the
// CreditBureau interface the way Graydon or Altares would plug in.
type fakeBureau struct {
	name  string
	mu    sync.Mutex
	asked []research.CreditQuery
	reply func(q research.CreditQuery) (*triage.Credit, error)
}

func (b *fakeBureau) Name() string { return b.name }

func (b *fakeBureau) Check(ctx context.Context, q research.CreditQuery) (*triage.Credit, error) {
	b.mu.Lock()
	b.asked = append(b.asked, q)
	b.mu.Unlock()
	return b.reply(q)
}

func TestCreditBureau_Interface(t *testing.T) {
	t.Parallel()
	graydon := &fakeBureau{name: "graydon", reply: func(q research.CreditQuery) (*triage.Credit, error) {
		return &triage.Credit{Source: "not trusted", Name: q.Name, Number: q.RegNo, Rating: "D", HighRisk: true,
			Status: "Faillissement", Insolvent: true, Date: testNow}, nil
	}}
	broken := &fakeBureau{name: "altares", reply: func(research.CreditQuery) (*triage.Credit, error) {
		return nil, errors.New("POST https://user:hunter2@api.altares.example: connection reset")
	}}
	limited := &fakeBureau{name: "bureau3", reply: func(research.CreditQuery) (*triage.Credit, error) {
		return nil, research.Fail("rate limited")
	}}
	e := newEnv(t)
	reg := newRegistryFake(t)
	cfg := e.registryConfig(reg)
	cfg.CompaniesHouseKey = ""
	cfg.Bureaus = []research.CreditBureau{graydon, broken, limited}
	r := research.New(cfg)
	lead := triage.Lead{ID: 1, Company: "Acme B.V.", Domain: "acme.nl"}
	f := mustResearch(t, r, lead, false)

	if diff := cmp.Diff([]research.CreditQuery{{Name: "Acme B.V.", Country: "NL", RegNo: "69599084", Domain: "acme.nl"}}, graydon.asked); diff != "" {
		t.Errorf("graydon asked (-want +got):\n%s", diff)
	}
	if c := f.Facts.Credit; c == nil || c.Source != "graydon" || !c.Insolvent {
		t.Errorf("Credit = %+v, want graydon's report, its source named by the provider", c)
	}
	if p := provider(t, f, "altares"); p.OK || p.Error != "failed" {
		t.Errorf("altares = %+v, want failed with no detail", p)
	}
	res := triage.Compose(lead, f, nil, testNow)
	if got := strings.Join(flagCodes(res.Flags), ","); got != "insolvency,credit_risk,research_incomplete" {
		t.Errorf("flags = %s", got)
	}
	inc, _ := findFlag(res.Flags, triage.FlagResearchIncomplete)
	if leadtext.FlagDetail(inc) != "Not checked: altares (failed), bureau3 (rate limited)." {
		t.Errorf("research_incomplete = %q", leadtext.FlagDetail(inc))
	}
	if strings.Contains(fmt.Sprint(res), "hunter2") {
		t.Errorf("a bureau's error text leaked")
	}
}

func TestCreditBureau_RegistryDownFallsBackToName(t *testing.T) {
	t.Parallel()
	b := &fakeBureau{name: "graydon", reply: func(q research.CreditQuery) (*triage.Credit, error) { return nil, nil }}
	e := newEnv(t)
	reg := newRegistryFake(t)
	reg.kvkStatus.Store(http.StatusTooManyRequests)
	cfg := e.registryConfig(reg)
	cfg.Bureaus = []research.CreditBureau{b}
	f := mustResearch(t, research.New(cfg), triage.Lead{ID: 1, Company: "Acme B.V.", Domain: "acme.nl"}, false)
	if p := provider(t, f, "kvk"); p.Error != "rate limited" {
		t.Errorf("kvk = %+v", p)
	}
	if diff := cmp.Diff([]research.CreditQuery{{Name: "Acme B.V.", Country: "NL", Domain: "acme.nl"}}, b.asked); diff != "" {
		t.Errorf("asked (-want +got):\n%s", diff)
	}
	if p := provider(t, f, "graydon"); !p.OK || f.Facts.Credit != nil {
		t.Errorf("graydon = %+v, credit %+v: no match is an answer", p, f.Facts.Credit)
	}
}

func TestEvidence_HangingSourcesTimeOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	wh := newWebHistoryFake(t)
	wh.set(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }, nil)
	cs := newCreditsafeFake(t)
	cfg := e.creditConfig(cs)
	cfg.WebHistory, cfg.CrtshURL, cfg.WaybackURL = true, wh.srv.URL, wh.srv.URL
	cfg.Timeout = 2 * time.Second // the hung crt.sh runs into it; the others finish well within it
	r := research.New(cfg)
	f := mustResearch(t, r, triage.Lead{ID: 1, Company: "Acme Ltd", Domain: "acme.co.uk"}, false)
	if p := provider(t, f, "crtsh"); p.OK || p.Error != "timed out" {
		t.Errorf("crtsh = %+v, want timed out", p)
	}
	for _, name := range []string{"wayback", "creditsafe"} {
		if p := provider(t, f, name); !p.OK {
			t.Errorf("%s = %+v, want OK", name, p)
		}
	}
	if f.Facts.Credit == nil {
		t.Errorf("the credit report was lost to a slow crt.sh")
	}
	waitOrFail(t, r)
}
