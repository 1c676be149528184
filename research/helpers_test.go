package research_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/leadtriage/leadtriage/research"
	"github.com/leadtriage/leadtriage/triage"
	"github.com/leadtriage/leadtriage/triage/triagetest"
)

// testNow is the fixed "now" of the tests: leads claim to be founded in
// 2023, three years earlier.
var testNow = time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)

// zoneEntry is how the fake DNS server answers for one name.
type zoneEntry struct {
	mx    []string // exchanger host names; "." is a null MX
	a     []string
	rcode int  // a non-zero rcode is answered as is (dns.RcodeServerFailure, …)
	drop  bool // never answer
}

// startZoneServer runs a miekg/dns server on 127.0.0.1 (UDP, and TCP on the
// same port when free) answering from zone; unknown names are NXDOMAIN. It
// returns host:port and a count of queries.
func startZoneServer(t *testing.T, zone map[string]zoneEntry) (string, *atomic.Int64) {
	t.Helper()
	var queries atomic.Int64
	h := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		queries.Add(1)
		m := new(dns.Msg)
		m.SetReply(req)
		// Authoritative, or Go's resolver takes an empty answer for a lame referral.
		m.Authoritative, m.RecursionAvailable = true, true
		if len(req.Question) != 1 {
			m.SetRcode(req, dns.RcodeFormatError)
			_ = w.WriteMsg(m)
			return
		}
		q := req.Question[0]
		e, ok := zone[strings.ToLower(strings.TrimSuffix(q.Name, "."))]
		switch {
		case !ok:
			m.SetRcode(req, dns.RcodeNameError)
		case e.drop:
			return
		case e.rcode != 0:
			m.SetRcode(req, e.rcode)
		case q.Qtype == dns.TypeMX:
			for i, host := range e.mx {
				m.Answer = append(m.Answer, &dns.MX{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeMX, Class: dns.ClassINET, Ttl: 60},
					Preference: uint16(10 * (i + 1)), Mx: dns.Fqdn(host)})
			}
		case q.Qtype == dns.TypeA:
			for _, ip := range e.a {
				m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
					A: net.ParseIP(ip)})
			}
		}
		_ = w.WriteMsg(m)
	})
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening for DNS: %v", err)
	}
	serve := func(srv *dns.Server) {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go func() { _ = srv.ActivateAndServe() }()
		<-started
		t.Cleanup(func() { _ = srv.Shutdown() })
	}
	serve(&dns.Server{PacketConn: pc, Handler: h})
	if ln, err := net.Listen("tcp", pc.LocalAddr().String()); err == nil {
		serve(&dns.Server{Listener: ln, Handler: h})
	}
	return pc.LocalAddr().String(), &queries
}

// defaultZone answers for the domains most tests use.
func defaultZone() map[string]zoneEntry {
	return map[string]zoneEntry{
		"gmail.com":     {mx: []string{"gmail-smtp-in.l.google.com"}},
		"acme.example":  {mx: []string{"mx1.acme.example", "mx2.acme.example"}},
		"young.example": {mx: []string{"mx.young.example"}},
		"acme.nl":       {mx: []string{"mx.acme.nl"}},
		"acme.co.uk":    {mx: []string{"mx.acme.co.uk"}},
	}
}

// rdapFake is an RDAP server: answers per domain, counting requests.
type rdapFake struct {
	srv      *httptest.Server
	requests atomic.Int64
	mu       sync.Mutex
	answers  map[string]func(w http.ResponseWriter, r *http.Request)
}

func newRDAPFake(t *testing.T) *rdapFake {
	t.Helper()
	f := &rdapFake{answers: map[string]func(http.ResponseWriter, *http.Request){}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.requests.Add(1)
		name, ok := strings.CutPrefix(r.URL.Path, "/domain/")
		f.mu.Lock()
		h := f.answers[strings.ToLower(name)]
		f.mu.Unlock()
		if !ok || h == nil {
			w.Header().Set("Content-Type", "application/rdap+json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"errorCode":404,"title":"Not Found"}`))
			return
		}
		h(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *rdapFake) set(domain string, h func(http.ResponseWriter, *http.Request)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answers[domain] = h
}

// registered answers with an RFC 9083 domain object registered at reg.
func (f *rdapFake) registered(domain string, reg time.Time) {
	body := rdapDomainJSON(domain, reg)
	f.set(domain, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/rdap+json")
		_, _ = w.Write([]byte(body))
	})
}

// rdapDomainJSON is a domain object in the shape of RFC 9083 §5.3's example.
func rdapDomainJSON(domain string, reg time.Time) string {
	return `{
  "objectClassName": "domain",
  "rdapConformance": ["rdap_level_0", "icann_rdap_response_profile_0"],
  "handle": "XXXX-EXAMPLE",
  "ldhName": "` + domain + `",
  "status": ["client transfer prohibited"],
  "events": [
    {"eventAction": "registration", "eventDate": "` + reg.UTC().Format(time.RFC3339) + `"},
    {"eventAction": "last changed", "eventDate": "` + reg.Add(24*time.Hour).UTC().Format(time.RFC3339) + `"},
    {"eventAction": "expiration", "eventDate": "` + reg.AddDate(1, 0, 0).UTC().Format(time.RFC3339) + `"}
  ],
  "entities": [
    {"objectClassName": "entity", "handle": "1234", "roles": ["registrar"],
     "publicIds": [{"type": "IANA Registrar ID", "identifier": "1234"}],
     "vcardArray": ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", "Example Registrar B.V."]]]},
    {"objectClassName": "entity", "handle": "XXXX", "roles": ["registrant"],
     "vcardArray": ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", "REDACTED FOR PRIVACY"]]]}
  ],
  "nameservers": [{"objectClassName": "nameserver", "ldhName": "ns1.` + domain + `"}]
}`
}

// siteFake is a set of websites on one TLS server: the client dials it for
// every host except those in dead, which refuse the connection.
type siteFake struct {
	client   *http.Client
	requests atomic.Int64
}

func newSiteFake(t *testing.T, pages map[string]int, dead ...string) *siteFake {
	t.Helper()
	f := &siteFake{}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.requests.Add(1)
		status, ok := pages[r.Host]
		if !ok {
			status = http.StatusNotFound
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`<!doctype html><html><head><title>` + r.Host + ` home</title></head><body>© 2024</body></html>`))
	}))
	t.Cleanup(srv.Close)
	deadSet := map[string]bool{}
	for _, d := range dead {
		deadSet[d] = true
	}
	tr := &http.Transport{
		// The certificate is httptest's: only trust matters here, not the name.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // test server
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, _ := net.SplitHostPort(addr)
			if deadSet[host] {
				return nil, errors.New("connection refused")
			}
			var d net.Dialer
			return d.DialContext(ctx, network, srv.Listener.Addr().String())
		},
	}
	t.Cleanup(tr.CloseIdleConnections)
	f.client = &http.Client{Transport: tr}
	return f
}

// memCache is an in-memory research.Cache with optional failures.
type memCache struct {
	mu      sync.Mutex
	entries map[string]memEntry
	gets    int
	puts    int
	fail    error
}

type memEntry struct {
	val     []byte
	expires time.Time
}

var _ research.Cache = (*memCache)(nil)

func newMemCache() *memCache { return &memCache{entries: map[string]memEntry{}} }

func (c *memCache) GetCache(_ context.Context, key string, now time.Time) ([]byte, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gets++
	if c.fail != nil {
		return nil, false, c.fail
	}
	e, ok := c.entries[key]
	if !ok || !now.Before(e.expires) {
		return nil, false, nil
	}
	return append([]byte(nil), e.val...), true, nil
}

func (c *memCache) PutCache(_ context.Context, key string, val []byte, expires time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.puts++
	if c.fail != nil {
		return c.fail
	}
	c.entries[key] = memEntry{val: append([]byte(nil), val...), expires: expires}
	return nil
}

func (c *memCache) keys() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for k := range c.entries {
		out = append(out, k)
	}
	return out
}

// env is a complete loopback research setup: DNS, RDAP and websites.
type env struct {
	dnsAddr string
	dnsQ    *atomic.Int64
	rdap    *rdapFake
	sites   *siteFake
	cache   *memCache
	clock   *triagetest.Clock
}

func newEnv(t *testing.T) *env {
	t.Helper()
	addr, q := startZoneServer(t, defaultZone())
	e := &env{dnsAddr: addr, dnsQ: q, rdap: newRDAPFake(t), cache: newMemCache(), clock: triagetest.NewClock(testNow)}
	e.sites = newSiteFake(t, map[string]int{"acme.example": 200, "young.example": 200, "acme.nl": 200, "acme.co.uk": 200, "down.example": 503}, "gone.example")
	return e
}

// config returns a Config using only e's loopback fakes: no test ever
// reaches the internet (RDAPURL and DNSServer are always set).
func (e *env) config() research.Config {
	return research.Config{
		Timeout:       30 * time.Second, // generous: only the time-out tests rely on a deadline
		CacheTTL:      time.Hour,
		Cache:         e.cache,
		RDAPURL:       e.rdap.srv.URL,
		DNSServer:     e.dnsAddr,
		WebsiteClient: e.sites.client,
		Now:           e.clock.Now,
	}
}

// provider returns the named provider's result, failing the test when absent.
func provider(t *testing.T, f triage.Findings, name string) triage.ProviderResult {
	t.Helper()
	for _, p := range f.Providers {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no %s provider result in %+v", name, f.Providers)
	return triage.ProviderResult{}
}

func hasProvider(f triage.Findings, name string) bool {
	for _, p := range f.Providers {
		if p.Name == name {
			return true
		}
	}
	return false
}

func flagCodes(flags []triage.Flag) []string {
	var out []string
	for _, f := range flags {
		out = append(out, f.Code)
	}
	return out
}

func findFlag(flags []triage.Flag, code string) (triage.Flag, bool) {
	for _, f := range flags {
		if f.Code == code {
			return f, true
		}
	}
	return triage.Flag{}, false
}

func mustResearch(t *testing.T, r *research.Researcher, l triage.Lead, refresh bool) triage.Findings {
	t.Helper()
	f, err := r.Research(context.Background(), l, refresh)
	if err != nil {
		t.Fatalf("Research: %v", err)
	}
	return f
}
