package research_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/leadtriage/leadtriage/research"
	"github.com/leadtriage/leadtriage/triage"
)

const (
	testKvKKey = "kvk-secret-key-123"
	testCHKey  = "ch-secret-key-456"
)

// registryFake serves the KvK and Companies House APIs (only the endpoints
// research calls), checking credentials the way the real ones do.
type registryFake struct {
	srv       *httptest.Server
	kvkCalls  atomic.Int64
	chCalls   atomic.Int64
	kvkStatus atomic.Int64 // non-zero: answer every KvK call with it
	chStatus  atomic.Int64
}

func newRegistryFake(t *testing.T) *registryFake {
	t.Helper()
	f := &registryFake{}
	mux := http.NewServeMux()
	writeJSON := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	kvkAuth := func(w http.ResponseWriter, r *http.Request) bool {
		f.kvkCalls.Add(1)
		if s := f.kvkStatus.Load(); s != 0 {
			w.Header().Set("Retry-After", "60")
			w.WriteHeader(int(s))
			return false
		}
		if r.Header.Get("apikey") != testKvKKey {
			w.WriteHeader(http.StatusUnauthorized)
			return false
		}
		return true
	}
	// developers.kvk.nl, Zoeken API v2.
	mux.HandleFunc("GET /api/v2/zoeken", func(w http.ResponseWriter, r *http.Request) {
		if !kvkAuth(w, r) {
			return
		}
		switch r.URL.Query().Get("naam") {
		case "Acme B.V.":
			writeJSON(w, map[string]any{"pagina": 1, "resultatenPerPagina": 10, "totaal": 2, "resultaten": []map[string]any{
				{"kvkNummer": "11112222", "naam": "Acme Holding B.V.", "type": "hoofdvestiging"},
				{"kvkNummer": "69599084", "naam": "ACME BV", "type": "hoofdvestiging",
					"adres": map[string]any{"binnenlandsAdres": map[string]any{"plaats": "Utrecht"}}},
			}})
		case "Only Similar":
			writeJSON(w, map[string]any{"resultaten": []map[string]any{{"kvkNummer": "33334444", "naam": "Only Similar Things B.V."}}})
		default:
			// The KvK API answers "no results" with 404.
			w.WriteHeader(http.StatusNotFound)
			writeJSON(w, map[string]any{"fout": []map[string]any{{"code": "IPD5200", "omschrijving": "Geen resultaten"}}})
		}
	})
	// Basisprofiel API v1.
	mux.HandleFunc("GET /api/v1/basisprofielen/{nr}", func(w http.ResponseWriter, r *http.Request) {
		if !kvkAuth(w, r) {
			return
		}
		if r.PathValue("nr") != "69599084" {
			http.NotFound(w, r)
			return
		}
		writeJSON(w, map[string]any{"kvkNummer": "69599084", "naam": "Acme B.V.", "formeleRegistratiedatum": "20171023",
			"totaalWerkzamePersonen": 12, "materieleRegistratie": map[string]any{"datumAanvang": "20171020"}})
	})
	// developer.company-information.service.gov.uk, Search companies.
	mux.HandleFunc("GET /search/companies", func(w http.ResponseWriter, r *http.Request) {
		f.chCalls.Add(1)
		if s := f.chStatus.Load(); s != 0 {
			w.WriteHeader(int(s))
			return
		}
		user, pass, ok := r.BasicAuth()
		if !ok || user != testCHKey || pass != "" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.URL.Query().Get("items_per_page") != "5" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		items := []map[string]any{}
		if strings.EqualFold(r.URL.Query().Get("q"), "Acme Ltd") || strings.EqualFold(r.URL.Query().Get("q"), "Acme") {
			items = append(items,
				map[string]any{"company_number": "09999999", "title": "ACME WIDGETS LIMITED", "company_status": "active", "date_of_creation": "2015-01-01"},
				map[string]any{"company_number": "01234567", "title": "ACME LIMITED", "company_status": "active", "date_of_creation": "2001-02-03",
					"links": map[string]any{"self": "/company/01234567"}})
		}
		writeJSON(w, map[string]any{"kind": "search#companies", "total_results": len(items), "items": items})
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (e *env) registryConfig(f *registryFake) research.Config {
	cfg := e.config()
	cfg.KvKKey, cfg.CompaniesHouseKey = testKvKKey, testCHKey
	cfg.KvKURL, cfg.CompaniesHouseURL = f.srv.URL, f.srv.URL+"/"
	return cfg
}

func TestRegistry_KvK(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	reg := newRegistryFake(t)
	r := research.New(e.registryConfig(reg))
	lead := triage.Lead{ID: 1, Company: "Acme B.V.", Email: "jan@acme.nl", Domain: "acme.nl", Founded: 2010}
	f := mustResearch(t, r, lead, false)

	want := &triage.Registry{Source: "kvk", Number: "69599084", Name: "Acme B.V.", Status: "active",
		Incorporated: time.Date(2017, 10, 23, 0, 0, 0, 0, time.UTC), Employees: 12,
		URL: "https://www.kvk.nl/zoeken/?q=69599084&source=all"}
	if diff := cmp.Diff(want, f.Facts.Registry); diff != "" {
		t.Errorf("Registry (-want +got):\n%s", diff)
	}
	if p := provider(t, f, "kvk"); !p.OK {
		t.Errorf("kvk = %+v", p)
	}
	if hasProvider(f, "companies_house") || reg.chCalls.Load() != 0 {
		t.Errorf("Companies House asked about a Dutch lead (%d calls)", reg.chCalls.Load())
	}
	// The registry feeds the claims check.
	res := triage.Compose(lead, f, nil, testNow)
	if fl, ok := findFlag(res.Flags, triage.FlagClaimMismatch); !ok || fl.Source != "kvk" {
		t.Errorf("claim_mismatch = %+v (found %v), want one from kvk", fl, ok)
	}

	// Cached: a second lead from the domain asks nobody.
	calls := reg.kvkCalls.Load()
	mustResearch(t, r, triage.Lead{ID: 2, Company: "Acme B.V.", Email: "piet@acme.nl", Domain: "acme.nl"}, false)
	if n := reg.kvkCalls.Load(); n != calls {
		t.Errorf("KvK calls %d -> %d, want cached", calls, n)
	}
}

func TestRegistry_CompaniesHouse(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	reg := newRegistryFake(t)
	r := research.New(e.registryConfig(reg))
	f := mustResearch(t, r, triage.Lead{ID: 1, Company: "Acme Ltd", Email: "jo@acme.co.uk", Domain: "acme.co.uk"}, false)

	want := &triage.Registry{Source: "companies_house", Number: "01234567", Name: "ACME LIMITED", Status: "active",
		Incorporated: time.Date(2001, 2, 3, 0, 0, 0, 0, time.UTC),
		URL:          "https://find-and-update.company-information.service.gov.uk/company/01234567"}
	if diff := cmp.Diff(want, f.Facts.Registry); diff != "" {
		t.Errorf("Registry (-want +got):\n%s", diff)
	}
	if reg.kvkCalls.Load() != 0 {
		t.Errorf("KvK asked about a UK lead")
	}
}

// Neither Dutch nor British: both are asked, and the match of the one that
// has it is taken.
func TestRegistry_BothAsked(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	reg := newRegistryFake(t)
	r := research.New(e.registryConfig(reg))
	f := mustResearch(t, r, triage.Lead{ID: 1, Company: "Acme", Email: "jo@acme.example", Domain: "acme.example"}, false)
	if p := provider(t, f, "kvk"); !p.OK {
		t.Errorf("kvk = %+v, want OK (nothing found)", p)
	}
	if f.Facts.Registry == nil || f.Facts.Registry.Source != "companies_house" {
		t.Errorf("Registry = %+v, want the Companies House match", f.Facts.Registry)
	}
}

func TestRegistry_NoCloseMatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	reg := newRegistryFake(t)
	r := research.New(e.registryConfig(reg))
	f := mustResearch(t, r, triage.Lead{ID: 1, Company: "Only Similar", Email: "x@acme.nl", Domain: "acme.nl"}, false)
	if f.Facts.Registry != nil {
		t.Errorf("Registry = %+v for a name that only looks alike", f.Facts.Registry)
	}
	if p := provider(t, f, "kvk"); !p.OK {
		t.Errorf("kvk = %+v, want OK (nothing found)", p)
	}
}

func TestRegistry_Failures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		kvkKey    string
		status    int
		wantError string
	}{
		{name: "WrongKey", kvkKey: "wrong-key-789", wantError: "key refused"},
		{name: "Forbidden", kvkKey: testKvKKey, status: http.StatusForbidden, wantError: "key refused"},
		{name: "RateLimited", kvkKey: testKvKKey, status: http.StatusTooManyRequests, wantError: "rate limited"},
		{name: "Outage", kvkKey: testKvKKey, status: http.StatusServiceUnavailable, wantError: "HTTP 503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			reg := newRegistryFake(t)
			reg.kvkStatus.Store(int64(tt.status))
			cfg := e.registryConfig(reg)
			cfg.KvKKey = tt.kvkKey
			var logs strings.Builder
			cfg.Log = newTestLogger(&logs)
			r := research.New(cfg)
			lead := triage.Lead{ID: 1, Company: "Acme B.V.", Email: "jan@acme.nl", Domain: "acme.nl"}
			f := mustResearch(t, r, lead, false)
			if p := provider(t, f, "kvk"); p.OK || p.Error != tt.wantError {
				t.Errorf("kvk = %+v, want failed %q", p, tt.wantError)
			}
			for _, s := range []string{tt.kvkKey, testCHKey} {
				if strings.Contains(logs.String(), s) || strings.Contains(fmtFindings(f), s) {
					t.Errorf("a key leaked into logs or findings")
				}
			}
			if tt.status == http.StatusTooManyRequests {
				calls := reg.kvkCalls.Load()
				f = mustResearch(t, r, triage.Lead{ID: 2, Company: "Acme B.V.", Email: "x@acme.nl", Domain: "acme.nl"}, true)
				if n := reg.kvkCalls.Load(); n != calls {
					t.Errorf("KvK called again within Retry-After (%d -> %d)", calls, n)
				}
				if p := provider(t, f, "kvk"); p.Error != "rate limited" {
					t.Errorf("kvk within Retry-After = %+v", p)
				}
			}
		})
	}
}

func TestRegistry_OffWithoutKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	reg := newRegistryFake(t)
	cfg := e.registryConfig(reg)
	cfg.KvKKey, cfg.CompaniesHouseKey = "", ""
	r := research.New(cfg)
	f := mustResearch(t, r, triage.Lead{ID: 1, Company: "Acme B.V.", Email: "jan@acme.nl", Domain: "acme.nl"}, false)
	if hasProvider(f, "kvk") || hasProvider(f, "companies_house") || reg.kvkCalls.Load()+reg.chCalls.Load() != 0 {
		t.Errorf("a registry was asked without a key: %+v", f.Providers)
	}
}

func TestSameCompany(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want bool
	}{
		{"Acme B.V.", "ACME BV", true},
		{"Acme B. V.", "acme", true},
		{"Acme Ltd", "ACME LIMITED", true},
		{"Jansen & Zonen V.O.F.", "Jansen and Zonen", true},
		{"O'Brien Consulting", "OBrien Consulting Ltd.", true},
		{"Acme Holding B.V.", "Acme B.V.", false},
		{"Acme", "Acme Widgets", false},
		{"B.V.", "Ltd", false},
		{"", "", false},
	}
	for _, tt := range tests {
		if got := research.SameCompany(tt.a, tt.b); got != tt.want {
			t.Errorf("SameCompany(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
