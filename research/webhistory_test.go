package research_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/leadtext"
	"github.com/leadtriage/leadtriage/research"
	"github.com/leadtriage/leadtriage/triage"
)

// webHistoryFake serves crt.sh's JSON API and the Wayback CDX API on
// loopback. Default answers are in the shapes the services document:
// crt.sh (?q=DOMAIN&output=json) an array of certificate entries with
// issuer_ca_id, issuer_name, common_name, name_value, id, entry_timestamp,
// not_before, not_after, serial_number; the CDX server (output=json,
// fl=timestamp, limit=1) rows of strings with the field names first
// (internetarchive/wayback, wayback-cdx-server/README.md).
type webHistoryFake struct {
	srv          *httptest.Server
	crtshCalls   atomic.Int64
	waybackCalls atomic.Int64

	mu      sync.Mutex
	crtsh   func(w http.ResponseWriter, r *http.Request)
	wayback func(w http.ResponseWriter, r *http.Request)
	queries []string
}

const (
	crtshAcme = `[
  {"issuer_ca_id":295815,"issuer_name":"C=US, O=Let's Encrypt, CN=R11","common_name":"acme.example","name_value":"acme.example\nwww.acme.example","id":14123456789,"entry_timestamp":"2025-10-01T09:12:44.511","not_before":"2025-10-01T08:12:44","not_after":"2025-12-30T08:12:43","serial_number":"04a1b2c3d4e5f6","result_count":2},
  {"issuer_ca_id":183267,"issuer_name":"C=US, O=Google Trust Services, CN=WE1","common_name":"acme.example","name_value":"acme.example","id":13987654321,"entry_timestamp":"2025-08-02T11:00:02.123","not_before":"2025-08-02T10:00:01","not_after":"2025-10-31T10:00:00","serial_number":"0bcdef0123","result_count":1},
  {"issuer_ca_id":295815,"issuer_name":"C=US, O=Let's Encrypt, CN=R10","common_name":"shop.acme.example","name_value":"shop.acme.example","id":14000000001,"entry_timestamp":"2025-09-03T07:30:00.5","not_before":"2025-09-03T06:30:00","not_after":"2025-12-02T06:29:59","serial_number":"03ffee","result_count":1}
]`
	waybackAcme = `[["timestamp"],
["20250914083000"]]`
)

func newWebHistoryFake(t *testing.T) *webHistoryFake {
	t.Helper()
	f := &webHistoryFake{}
	f.crtsh = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("q") == "acme.example" {
			_, _ = w.Write([]byte(crtshAcme))
			return
		}
		_, _ = w.Write([]byte(`[]`))
	}
	f.wayback = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("url") == "acme.example" {
			_, _ = w.Write([]byte(waybackAcme))
			return
		}
		// No capture: the CDX server answers an empty array.
		_, _ = w.Write([]byte(`[]`))
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		f.crtshCalls.Add(1)
		f.mu.Lock()
		h := f.crtsh
		f.queries = append(f.queries, "crtsh?"+r.URL.RawQuery)
		f.mu.Unlock()
		if r.URL.Query().Get("output") != "json" {
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<html>crt.sh</html>"))
			return
		}
		h(w, r)
	})
	mux.HandleFunc("GET /cdx/search/cdx", func(w http.ResponseWriter, r *http.Request) {
		f.waybackCalls.Add(1)
		f.mu.Lock()
		h := f.wayback
		f.queries = append(f.queries, "wayback?"+r.URL.RawQuery)
		f.mu.Unlock()
		h(w, r)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *webHistoryFake) set(crtsh, wayback func(w http.ResponseWriter, r *http.Request)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if crtsh != nil {
		f.crtsh = crtsh
	}
	if wayback != nil {
		f.wayback = wayback
	}
}

func (e *env) webHistoryConfig(f *webHistoryFake) research.Config {
	cfg := e.config()
	cfg.WebHistory = true
	cfg.CrtshURL, cfg.WaybackURL = f.srv.URL, f.srv.URL+"/"
	return cfg
}

func TestWebHistory_FirstSeenFeedsTheClaim(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	wh := newWebHistoryFake(t)
	r := research.New(e.webHistoryConfig(wh))
	// www. is not the registrable domain: both sources are asked about acme.example.
	lead := triage.Lead{ID: 1, Company: "Acme", Website: "https://www.acme.example", Domain: "www.acme.example", Founded: 2019}
	f := mustResearch(t, r, lead, false)

	for _, name := range []string{"crtsh", "wayback"} {
		if p := provider(t, f, name); !p.OK {
			t.Errorf("%s = %+v", name, p)
		}
	}
	if want := time.Date(2025, 8, 2, 10, 0, 1, 0, time.UTC); !f.Facts.FirstCertificate.Equal(want) {
		t.Errorf("FirstCertificate = %v, want %v (the earliest not_before)", f.Facts.FirstCertificate, want)
	}
	if want := time.Date(2025, 9, 14, 8, 30, 0, 0, time.UTC); !f.Facts.FirstCapture.Equal(want) {
		t.Errorf("FirstCapture = %v, want %v", f.Facts.FirstCapture, want)
	}
	wh.mu.Lock()
	qs := strings.Join(wh.queries, " ")
	wh.mu.Unlock()
	for _, want := range []string{"crtsh?output=json&q=acme.example", "wayback?fl=timestamp&limit=1&output=json&url=acme.example"} {
		if !strings.Contains(qs, want) {
			t.Errorf("queries %q lack %q", qs, want)
		}
	}

	res := triage.Compose(lead, f, nil, testNow)
	mm, ok := findFlag(res.Flags, triage.FlagClaimMismatch)
	if !ok || leadtext.FlagDetail(mm) != "Claims founded 2019; earliest trace online: first certificate 2 August 2025, first archive capture 14 September 2025. Was there an earlier name or site?" {
		t.Errorf("claim_mismatch = %+v (found %v)", mm, ok)
	}

	// Cached per domain: a second lead asks neither source again.
	c, w := wh.crtshCalls.Load(), wh.waybackCalls.Load()
	f = mustResearch(t, r, triage.Lead{ID: 2, Company: "Acme", Domain: "acme.example"}, false)
	if wh.crtshCalls.Load() != c || wh.waybackCalls.Load() != w || f.Facts.FirstCertificate.IsZero() {
		t.Errorf("second lead: crt.sh %d→%d, wayback %d→%d calls, first certificate %v; want the cache",
			c, wh.crtshCalls.Load(), w, wh.waybackCalls.Load(), f.Facts.FirstCertificate)
	}
}

func TestWebHistory_NothingFoundIsAnAnswer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	wh := newWebHistoryFake(t)
	r := research.New(e.webHistoryConfig(wh))
	lead := triage.Lead{ID: 1, Company: "Young", Domain: "young.example", Founded: 2019}
	f := mustResearch(t, r, lead, false)
	for _, name := range []string{"crtsh", "wayback"} {
		if p := provider(t, f, name); !p.OK {
			t.Errorf("%s = %+v, want OK with nothing found", name, p)
		}
	}
	if !f.Facts.FirstCertificate.IsZero() || !f.Facts.FirstCapture.IsZero() {
		t.Errorf("first seen = %v / %v, want none", f.Facts.FirstCertificate, f.Facts.FirstCapture)
	}
}

func TestWebHistory_Off(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	wh := newWebHistoryFake(t)
	cfg := e.webHistoryConfig(wh)
	cfg.WebHistory = false
	f := mustResearch(t, research.New(cfg), triage.Lead{ID: 1, Company: "Acme", Domain: "acme.example"}, false)
	if hasProvider(f, "crtsh") || hasProvider(f, "wayback") || wh.crtshCalls.Load()+wh.waybackCalls.Load() != 0 {
		t.Errorf("web history off, yet asked: %+v", f.Providers)
	}
}

func TestWebHistory_Failures(t *testing.T) {
	t.Parallel()
	status := func(code int) func(w http.ResponseWriter, r *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) {
			if code == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", "120")
			}
			w.WriteHeader(code)
		}
	}
	body := func(s string) func(w http.ResponseWriter, r *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(s)) }
	}
	huge := func(w http.ResponseWriter, r *http.Request) {
		// A well-formed list past the 8 MiB cap: read no further, claim nothing.
		entry := `{"issuer_ca_id":1,"issuer_name":"CN=x","common_name":"acme.example","name_value":"acme.example","id":1,"entry_timestamp":"2020-01-01T00:00:00.000","not_before":"2020-01-01T00:00:00","not_after":"2020-04-01T00:00:00","serial_number":"01"}`
		_, _ = w.Write([]byte("["))
		for i := 0; i < 9<<20/len(entry)+1; i++ {
			_, _ = w.Write([]byte(entry + ","))
		}
		_, _ = w.Write([]byte(entry + "]"))
	}
	for _, tc := range []struct {
		name           string
		crtsh, wayback func(w http.ResponseWriter, r *http.Request)
		provider, want string
	}{
		{"crt.sh 429", status(http.StatusTooManyRequests), nil, "crtsh", "rate limited"},
		{"wayback 429", nil, status(http.StatusTooManyRequests), "wayback", "rate limited"},
		{"crt.sh overloaded", status(http.StatusBadGateway), nil, "crtsh", "HTTP 502"},
		{"wayback 503", nil, status(http.StatusServiceUnavailable), "wayback", "HTTP 503"},
		{"crt.sh garbage", body("<html><body>Sorry, something went wrong</body></html>"), nil, "crtsh", "bad answer"},
		{"wayback garbage", nil, body("com,acme)/ 20260914083000"), "wayback", "bad answer"},
		{"wayback wrong fields", nil, body(`[["original"],["http://acme.example/"]]`), "wayback", "bad answer"},
		{"wayback bad timestamp", nil, body(`[["timestamp"],["yesterday"]]`), "wayback", "bad answer"},
		{"crt.sh too large", huge, nil, "crtsh", "answer too large"},
		{"wayback too large", nil, body(`[["timestamp"],["` + strings.Repeat("2", 70<<10) + `"]]`), "wayback", "answer too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			wh := newWebHistoryFake(t)
			wh.set(tc.crtsh, tc.wayback)
			r := research.New(e.webHistoryConfig(wh))
			lead := triage.Lead{ID: 1, Company: "Acme", Domain: "acme.example", Founded: 2019}
			f := mustResearch(t, r, lead, false)
			if p := provider(t, f, tc.provider); p.OK || p.Error != tc.want {
				t.Errorf("%s = %+v, want failed: %s", tc.provider, p, tc.want)
			}
			res := triage.Compose(lead, f, nil, testNow)
			inc, ok := findFlag(res.Flags, triage.FlagResearchIncomplete)
			if !ok || !strings.Contains(leadtext.FlagDetail(inc), tc.provider+" ("+tc.want+")") {
				t.Errorf("research_incomplete = %+v (found %v), want it to name %s", inc, ok, tc.provider)
			}
			// The other source still counts.
			if tc.provider == "crtsh" && f.Facts.FirstCapture.IsZero() || tc.provider == "wayback" && f.Facts.FirstCertificate.IsZero() {
				t.Errorf("the working source was lost: %+v", f.Facts)
			}
		})
	}
}

func TestWebHistory_RetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	wh := newWebHistoryFake(t)
	wh.set(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusTooManyRequests)
	}, nil)
	r := research.New(e.webHistoryConfig(wh))
	mustResearch(t, r, triage.Lead{ID: 1, Company: "A", Domain: "a.example"}, false)
	if n := wh.crtshCalls.Load(); n != 1 {
		t.Fatalf("crt.sh calls = %d, want 1", n)
	}
	// Within the two minutes crt.sh is left alone, even for another domain.
	e.clock.Advance(time.Minute)
	f := mustResearch(t, r, triage.Lead{ID: 2, Company: "B", Domain: "b.example"}, false)
	if n := wh.crtshCalls.Load(); n != 1 {
		t.Errorf("crt.sh asked again within Retry-After (%d calls)", n)
	}
	if p := provider(t, f, "crtsh"); p.Error != "rate limited" {
		t.Errorf("crtsh = %+v, want rate limited", p)
	}
	wh.set(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`[]`)) }, nil)
	e.clock.Advance(61 * time.Second)
	f = mustResearch(t, r, triage.Lead{ID: 3, Company: "C", Domain: "c.example"}, false)
	if p := provider(t, f, "crtsh"); !p.OK || wh.crtshCalls.Load() != 2 {
		t.Errorf("after Retry-After: crtsh = %+v, %d calls", p, wh.crtshCalls.Load())
	}
}
