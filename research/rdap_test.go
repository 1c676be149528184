package research_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/research"
	"github.com/leadtriage/leadtriage/triage"
)

func TestRDAP_Answers(t *testing.T) {
	t.Parallel()
	reg := time.Date(2019, 6, 1, 8, 30, 0, 0, time.UTC)
	tests := []struct {
		name      string
		handler   func(w http.ResponseWriter, r *http.Request) // nil: the documented domain object
		wantOK    bool
		wantError string
		wantReg   time.Time
	}{
		{name: "Documented", wantOK: true, wantReg: reg},
		{name: "NotFound", handler: func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusNotFound)
		}, wantOK: true},
		{name: "Garbage", handler: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/rdap+json")
			_, _ = w.Write([]byte(`{"objectClassName": "domain", "events": [{"eventAction": 42`))
		}, wantError: "bad answer"},
		{name: "WrongObject", handler: func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(`{"objectClassName": "entity", "handle": "X"}`))
		}, wantError: "bad answer"},
		{name: "ErrorObject", handler: func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(`{"errorCode": 400, "title": "bad"}`))
		}, wantError: "bad answer"},
		{name: "NotJSON", handler: func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte("<html>maintenance</html>"))
		}, wantError: "bad answer"},
		{name: "ServerError", handler: func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
		}, wantError: "HTTP 500"},
		{name: "NoRegistrationEvent", handler: func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(`{"objectClassName":"domain","ldhName":"acme.example","events":[{"eventAction":"registration","eventDate":"not a date"}],"entities":[{"roles":["registrar"]}]}`))
		}, wantOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			if tt.handler == nil {
				e.rdap.registered("acme.example", reg)
			} else {
				e.rdap.set("acme.example", tt.handler)
			}
			r := research.New(e.config())
			f := mustResearch(t, r, triage.Lead{ID: 1, Domain: "acme.example"}, false)
			p := provider(t, f, "rdap")
			if p.OK != tt.wantOK || p.Error != tt.wantError {
				t.Errorf("rdap = %+v, want OK %v error %q", p, tt.wantOK, tt.wantError)
			}
			if !f.Facts.DomainRegistered.Equal(tt.wantReg) {
				t.Errorf("DomainRegistered = %v, want %v", f.Facts.DomainRegistered, tt.wantReg)
			}
		})
	}
}

// A subdomain is looked up as its registrable domain.
func TestRDAP_RegistrableDomain(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.rdap.registered("acme.co.uk", time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC))
	r := research.New(e.config())
	f := mustResearch(t, r, triage.Lead{ID: 1, Domain: "shop.acme.co.uk"}, false)
	if f.Facts.DomainRegistered.Year() != 2001 {
		t.Errorf("DomainRegistered = %v, want 2001 (asked for acme.co.uk)", f.Facts.DomainRegistered)
	}
}

func TestRDAP_RateLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.rdap.set("acme.example", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	r := research.New(e.config())
	lead := triage.Lead{ID: 1, Domain: "acme.example"}
	f := mustResearch(t, r, lead, false)
	if p := provider(t, f, "rdap"); p.OK || p.Error != "rate limited" {
		t.Fatalf("rdap = %+v, want failed: rate limited", p)
	}
	// Until Retry-After has passed, no lead asks that server again.
	e.rdap.registered("acme.example", testNow.AddDate(-3, 0, 0))
	e.clock.Advance(29 * time.Second)
	f = mustResearch(t, r, lead, false)
	if p := provider(t, f, "rdap"); p.OK || p.Error != "rate limited" {
		t.Errorf("rdap within Retry-After = %+v, want rate limited", p)
	}
	if n := e.rdap.requests.Load(); n != 1 {
		t.Errorf("RDAP requests within Retry-After = %d, want 1", n)
	}
	e.clock.Advance(2 * time.Second)
	f = mustResearch(t, r, lead, false)
	if p := provider(t, f, "rdap"); !p.OK || f.Facts.DomainRegistered.IsZero() {
		t.Errorf("rdap after Retry-After = %+v registered %v, want OK with a date", p, f.Facts.DomainRegistered)
	}
}

// Without rdap_url, the IANA bootstrap file says which server to ask.
func TestRDAP_Bootstrap(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.rdap.registered("acme.example", time.Date(2010, 5, 4, 0, 0, 0, 0, time.UTC))
	iana := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/dns.json" {
			http.NotFound(w, r)
			return
		}
		// The shape of https://data.iana.org/rdap/dns.json (RFC 9224).
		_ = json.NewEncoder(w).Encode(map[string]any{
			"version": "1.0", "publication": "2026-03-01T00:00:00Z", "description": "test",
			"services": [][][]string{{{"example"}, {e.rdap.srv.URL + "/"}}},
		})
	}))
	t.Cleanup(iana.Close)
	cfg := e.config()
	cfg.RDAPURL = ""
	r := research.New(cfg)
	u, _ := url.Parse(iana.URL + "/")
	research.SetBootstrapURL(r, u)

	f := mustResearch(t, r, triage.Lead{ID: 1, Domain: "acme.example"}, false)
	if p := provider(t, f, "rdap"); !p.OK || f.Facts.DomainRegistered.Year() != 2010 {
		t.Errorf("rdap = %+v registered %v, want OK 2010", p, f.Facts.DomainRegistered)
	}
	f = mustResearch(t, r, triage.Lead{ID: 2, Domain: "acme.nope"}, false)
	if p := provider(t, f, "rdap"); p.OK || p.Error != "bootstrap failed" && p.Error != "no RDAP server for this TLD" {
		t.Errorf("rdap for an unknown TLD = %+v, want failed", p)
	}
}
