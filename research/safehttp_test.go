package research_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"code.dny.dev/ssrf"
	"github.com/miekg/dns"
	"golang.org/x/net/http/httpproxy"

	"github.com/leadtriage/leadtriage/research"
)

// fakeDNS is a DNS server on loopback UDP. lookup answers a question: the
// addresses, and false for NXDOMAIN.
type fakeDNS struct {
	addr string

	mu      sync.Mutex
	queries map[string]int // "name/A" -> how often asked
	lookup  func(name string, qtype uint16, n int) ([]netip.Addr, bool)
}

// startDNS serves lookup on 127.0.0.1:<free port>. lookup gets the
// lower-case name without the trailing dot and how often this name and
// type were asked before.
func startDNS(t *testing.T, lookup func(name string, qtype uint16, n int) ([]netip.Addr, bool)) *fakeDNS {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeDNS{addr: pc.LocalAddr().String(), queries: map[string]int{}, lookup: lookup}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(f.serve), NotifyStartedFunc: func() { close(started) }}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.ActivateAndServe()
	}()
	<-started
	t.Cleanup(func() {
		_ = srv.Shutdown()
		<-done
	})
	return f
}

func (f *fakeDNS) serve(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	for _, q := range r.Question {
		name := strings.TrimSuffix(strings.ToLower(q.Name), ".")
		key := name + "/" + dns.TypeToString[q.Qtype]
		f.mu.Lock()
		n := f.queries[key]
		f.queries[key]++
		f.mu.Unlock()
		addrs, ok := f.lookup(name, q.Qtype, n)
		if !ok {
			m.Rcode = dns.RcodeNameError
			continue
		}
		for _, a := range addrs {
			hdr := dns.RR_Header{Name: q.Name, Class: dns.ClassINET, Ttl: 0}
			switch {
			case q.Qtype == dns.TypeA && a.Is4():
				hdr.Rrtype = dns.TypeA
				m.Answer = append(m.Answer, &dns.A{Hdr: hdr, A: a.AsSlice()})
			case q.Qtype == dns.TypeAAAA && a.Is6():
				hdr.Rrtype = dns.TypeAAAA
				m.Answer = append(m.Answer, &dns.AAAA{Hdr: hdr, AAAA: a.AsSlice()})
			}
		}
	}
	_ = w.WriteMsg(m)
}

func (f *fakeDNS) asked(name string, qtype uint16) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.queries[name+"/"+dns.TypeToString[qtype]]
}

// resolver sends every query to the fake, never to the system's resolver.
func (f *fakeDNS) resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", f.addr)
	}}
}

// staticZone answers from a fixed table; names not in it do not exist.
func staticZone(zone map[string][]string) func(string, uint16, int) ([]netip.Addr, bool) {
	return func(name string, _ uint16, _ int) ([]netip.Addr, bool) {
		ss, ok := zone[name]
		var out []netip.Addr
		for _, s := range ss {
			out = append(out, netip.MustParseAddr(s))
		}
		return out, ok
	}
}

// countingServer serves h on addr ("127.0.0.1:0", "127.0.0.2:<port>", …)
// and counts the requests that reach it.
type countingServer struct {
	*httptest.Server
	hits atomic.Int64
}

func (s *countingServer) port() string {
	_, p, _ := net.SplitHostPort(s.Listener.Addr().String())
	return p
}

func serveAt(t *testing.T, addr string, h http.Handler) (*countingServer, error) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &countingServer{}
	if h == nil {
		h = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = io.WriteString(w, "<title>internal</title>")
		})
	}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h.ServeHTTP(w, r)
	}))
	_ = s.Listener.Close()
	s.Listener = ln
	s.Start()
	t.Cleanup(s.Close)
	return s, nil
}

func mustServeAt(t *testing.T, addr string, h http.Handler) *countingServer {
	t.Helper()
	s, err := serveAt(t, addr, h)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// internalServer is the target an attacker wants to reach: on 127.0.0.1.
func internalServer(t *testing.T) *countingServer { return mustServeAt(t, "127.0.0.1:0", nil) }

// publicPrefix is what tests treat as the internet: 127.0.0.2, which Linux
// answers on its loopback interface.
var publicPrefix = []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}

func fetch(t *testing.T, c *http.Client, rawURL string) error {
	t.Helper()
	_, err := research.FetchWebsite(t.Context(), c, rawURL)
	return err
}

// wantRefused fails unless err is a refusal with a short message.
func wantRefused(t *testing.T, err error, msg string) {
	t.Helper()
	if err == nil {
		t.Fatal("fetch succeeded, want it refused")
	}
	if !errors.Is(err, research.ErrRefused) {
		t.Fatalf("error %q (%v) is not ErrRefused", err, errors.Unwrap(err))
	}
	if msg != "" && err.Error() != msg {
		t.Fatalf("error = %q, want %q", err, msg)
	}
}

// The addresses of the SSRF table and RELIABILITY E1, as DNS
// answers: the check must hold for the address actually dialled.
var deniedAddrs = []string{
	"127.0.0.1", "10.0.0.1", "172.16.0.1", "192.168.1.1", "169.254.169.254",
	"100.64.0.1", "0.0.0.0", "255.255.255.255", "224.0.0.1", "192.0.2.1", "198.18.0.1",
	"::1", "fc00::1", "fe80::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
	"64:ff9b::7f00:1", "2002:7f00:1::1", "2001:db8::1", "ff02::1",
}

func TestSafeClient_RefusesNonPublicAddressesAtDial(t *testing.T) {
	t.Parallel()
	internal := internalServer(t)
	internal6, err6 := serveAt(t, "[::1]:"+internal.port(), nil)
	zone := map[string][]string{"internal.example": {"127.0.0.1", "10.0.0.5"}}
	for i, a := range deniedAddrs {
		zone[fmt.Sprintf("h%d.example", i)] = []string{a}
	}
	dnsSrv := startDNS(t, staticZone(zone))

	clients := map[string]*http.Client{
		// Production settings: the URL has no port, the dial goes to :80.
		"default": research.NewSafeClient(research.SafeClientOptions{Resolver: dnsSrv.resolver(), Timeout: 2 * time.Second}),
		// Any port, so the dial would reach the loopback servers.
		"any port": research.NewSafeClient(research.SafeClientOptions{Resolver: dnsSrv.resolver(), Timeout: 2 * time.Second, AllowedForTest: publicPrefix}),
	}
	names := []string{"internal.example"}
	for i := range deniedAddrs {
		names = append(names, fmt.Sprintf("h%d.example", i))
	}
	for cname, c := range clients {
		for _, name := range names {
			t.Run(cname+"/"+name+"="+strings.Join(zone[name], ","), func(t *testing.T) {
				t.Parallel()
				u := "http://" + name + "/"
				if cname == "any port" {
					u = "http://" + name + ":" + internal.port() + "/"
				}
				err := fetch(t, c, u)
				wantRefused(t, err, "refused: private address")
				if !errors.Is(err, ssrf.ErrProhibitedIP) {
					t.Errorf("error %v does not come from the dial guard", errors.Unwrap(err))
				}
			})
		}
	}
	t.Cleanup(func() {
		if n := internal.hits.Load(); n != 0 {
			t.Errorf("the 127.0.0.1 server got %d requests, want 0", n)
		}
		if err6 == nil && internal6.hits.Load() != 0 {
			t.Errorf("the ::1 server got %d requests, want 0", internal6.hits.Load())
		}
	})
}

// The control: without the guard the same request does reach the server,
// so the test above measures the guard, not a broken setup.
func TestSafeClient_AllowPrivateReachesLoopback(t *testing.T) {
	t.Parallel()
	internal := internalServer(t)
	dnsSrv := startDNS(t, staticZone(map[string][]string{"internal.example": {"127.0.0.1"}}))
	c := research.NewSafeClient(research.SafeClientOptions{AllowPrivate: true, Resolver: dnsSrv.resolver()})
	for _, u := range []string{"http://internal.example:" + internal.port() + "/", internal.URL} {
		w, err := research.FetchWebsite(t.Context(), c, u)
		if err != nil || w.Title != "internal" {
			t.Fatalf("FetchWebsite(%s) = %+v, %v; want the internal page", u, w, err)
		}
	}
	if n := internal.hits.Load(); n != 2 {
		t.Fatalf("internal server got %d requests, want 2", n)
	}
}

// E4 and the literal forms of the SSRF table: refused before anything is
// resolved or dialled.
func TestSafeClient_RefusesURLsBeforeDialling(t *testing.T) {
	t.Parallel()
	internal := internalServer(t)
	p := internal.port()
	dnsSrv := startDNS(t, staticZone(map[string][]string{"acme.example": {"127.0.0.2"}}))
	plain := research.NewSafeClient(research.SafeClientOptions{Resolver: dnsSrv.resolver()})
	anyPort := research.NewSafeClient(research.SafeClientOptions{Resolver: dnsSrv.resolver(), AllowedForTest: publicPrefix})

	tests := []struct {
		url    string
		client *http.Client
		want   string
	}{
		{"file:///etc/passwd", plain, "refused: not http or https"},
		{"gopher://acme.example/", plain, "refused: not http or https"},
		{"ftp://acme.example/", plain, "refused: not http or https"},
		{"javascript://acme.example/", plain, "refused: not http or https"},
		{"http://user:pass@acme.example/", plain, "refused: credentials in URL"},
		{"http://user@acme.example/", plain, "refused: credentials in URL"},
		{"http://acme.example:8080/", plain, "refused: port 8080"},
		{"https://acme.example:22/", plain, "refused: port 22"},
		{"acme.example:" + p, plain, "refused: port " + p},
		{"http:///nohost", plain, ""},
		{"", plain, "refused: no URL"},
	}
	// IP literals in every form, aimed at the loopback server's port with a
	// client that would allow the port: only the literal check stands.
	for _, host := range []string{
		"127.0.0.1", "10.0.0.1", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
		"[::1]", "[fc00::1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "0.0.0.0", "2130706433",
		"0177.0.0.1", "0x7f.0.0.1", "0x7f000001", "127.1", "127.0.1", "0", "017700000001",
		"8.8.8.8", "[2606:4700::1111]", "127.0.0.1.", "foo.127", "foo.0x7f",
	} {
		tests = append(tests, struct {
			url    string
			client *http.Client
			want   string
		}{"http://" + host + ":" + p + "/", anyPort, "refused: IP address"},
			struct {
				url    string
				client *http.Client
				want   string
			}{"http://" + host + "/", plain, "refused: IP address"})
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			wantRefused(t, fetch(t, tt.client, tt.url), tt.want)
		})
	}
	t.Cleanup(func() {
		if n := internal.hits.Load(); n != 0 {
			t.Errorf("the loopback server got %d requests, want 0", n)
		}
		if n := dnsSrv.asked("acme.example", dns.TypeA); n != 0 {
			t.Errorf("acme.example was resolved %d times, want 0: refusals must come before the dial", n)
		}
	})
}

// publicSite is a "public" server on 127.0.0.2 whose handler redirects by
// host name.
func publicSite(t *testing.T, internalPort string) *countingServer {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		host, port, _ := net.SplitHostPort(r.Host)
		switch host {
		case "lit.example":
			http.Redirect(w, r, "http://127.0.0.1:"+internalPort+"/", http.StatusFound)
		case "name.example":
			http.Redirect(w, r, "http://internal.example:"+internalPort+"/", http.StatusFound)
		case "v6.example":
			http.Redirect(w, r, "http://[::1]:"+internalPort+"/", http.StatusMovedPermanently)
		case "cred.example":
			http.Redirect(w, r, "http://user:pass@acme.example:"+port+"/", http.StatusFound)
		case "ftp.example":
			http.Redirect(w, r, "ftp://acme.example/", http.StatusFound)
		case "file.example":
			http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
		case "three.example", "four.example":
			limit := 3
			if host == "four.example" {
				limit = 4
			}
			k, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/hop/"))
			if k < limit {
				http.Redirect(w, r, fmt.Sprintf("/hop/%d", k+1), http.StatusFound)
				return
			}
			w.Header().Set("Content-Type", "text/html")
			_, _ = fmt.Fprintf(w, "<title>hop %d</title>", k)
		default:
			http.NotFound(w, r)
		}
	})
	return mustServeAt(t, "127.0.0.2:0", mux)
}

// E2: every hop is checked, and there are at most three.
func TestSafeClient_Redirects(t *testing.T) {
	t.Parallel()
	internal := internalServer(t)
	dnsSrv := startDNS(t, func(name string, qtype uint16, _ int) ([]netip.Addr, bool) {
		switch {
		case name == "internal.example" && qtype == dns.TypeA:
			return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, true
		case strings.HasSuffix(name, ".example") && qtype == dns.TypeA:
			return []netip.Addr{netip.MustParseAddr("127.0.0.2")}, true
		case strings.HasSuffix(name, ".example"):
			return nil, true
		}
		return nil, false
	})
	public := publicSite(t, internal.port())
	c := research.NewSafeClient(research.SafeClientOptions{Resolver: dnsSrv.resolver(), AllowedForTest: publicPrefix, Timeout: 5 * time.Second})
	at := func(host string) string { return "http://" + host + ":" + public.port() + "/" }

	refused := []struct{ host, want string }{
		{"lit.example", "refused: IP address"},
		{"name.example", "refused: private address"},
		{"v6.example", "refused: IP address"},
		{"cred.example", "refused: credentials in URL"},
		{"ftp.example", "refused: not http or https"},
		{"file.example", "refused: not http or https"},
		{"four.example", "too many redirects"},
	}
	for _, tt := range refused {
		t.Run(tt.host, func(t *testing.T) {
			t.Parallel()
			w, err := research.FetchWebsite(t.Context(), c, at(tt.host))
			wantRefused(t, err, tt.want)
			if w.Reachable {
				t.Errorf("Reachable = true after a refused redirect")
			}
		})
	}
	t.Run("three.example", func(t *testing.T) {
		t.Parallel()
		w, err := research.FetchWebsite(t.Context(), c, at("three.example"))
		if err != nil {
			t.Fatalf("three redirects: %v", err)
		}
		if want := at("three.example") + "hop/3"; w.FinalURL != want || w.Title != "hop 3" || !w.Reachable {
			t.Fatalf("got FinalURL %q title %q reachable %v, want %q, \"hop 3\", true", w.FinalURL, w.Title, w.Reachable, want)
		}
	})
	t.Cleanup(func() {
		if n := internal.hits.Load(); n != 0 {
			t.Errorf("the 127.0.0.1 server got %d requests, want 0", n)
		}
		if public.hits.Load() == 0 {
			t.Error("the public server got no requests: the test did not test redirects")
		}
	})
}

// E3: the name answers with a public address first and with loopback
// after; the second connection is checked against what it dials.
func TestSafeClient_DNSRebinding(t *testing.T) {
	t.Parallel()
	internal := internalServer(t)
	public, err := serveAt(t, "127.0.0.2:"+internal.port(), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			http.Redirect(w, r, "/again", http.StatusFound)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, "<title>public</title>")
	}))
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.2 with the same port: %v", err)
	}
	dnsSrv := startDNS(t, func(name string, qtype uint16, n int) ([]netip.Addr, bool) {
		if name != "rebind.example" {
			return nil, false
		}
		if qtype != dns.TypeA {
			return nil, true
		}
		if n == 0 {
			return []netip.Addr{netip.MustParseAddr("127.0.0.2")}, true
		}
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, true
	})
	c := research.NewSafeClient(research.SafeClientOptions{Resolver: dnsSrv.resolver(), AllowedForTest: publicPrefix})

	err = fetch(t, c, "http://rebind.example:"+internal.port()+"/")
	wantRefused(t, err, "refused: private address")
	if n := public.hits.Load(); n != 1 {
		t.Errorf("public server got %d requests, want 1 (the first answer)", n)
	}
	if n := dnsSrv.asked("rebind.example", dns.TypeA); n < 2 {
		t.Errorf("rebind.example resolved %d times, want 2: the second hop must resolve again", n)
	}
	if n := internal.hits.Load(); n != 0 {
		t.Errorf("the 127.0.0.1 server got %d requests, want 0", n)
	}
}

// E5: proxy variables are ignored. Not parallel: t.Setenv.
func TestSafeClient_IgnoresProxyEnvironment(t *testing.T) {
	proxy := mustServeAt(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, "<title>proxy</title>")
	}))
	target := mustServeAt(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, "<title>target</title>")
	}))
	for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"} {
		t.Setenv(k, proxy.URL)
	}
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")
	dnsSrv := startDNS(t, staticZone(map[string][]string{"site.example": {"127.0.0.1"}}))
	u := "http://site.example:" + target.port() + "/"

	// The environment is set up so that an environment-aware client would
	// use the proxy for this URL.
	pu, _ := url.Parse(u)
	if got, err := httpproxy.FromEnvironment().ProxyFunc()(pu); err != nil || got == nil {
		t.Fatalf("environment proxy for %s = %v, %v; want the proxy", u, got, err)
	}

	c := research.NewSafeClient(research.SafeClientOptions{AllowPrivate: true, Resolver: dnsSrv.resolver()})
	w, err := research.FetchWebsite(t.Context(), c, u)
	if err != nil || w.Title != "target" {
		t.Fatalf("FetchWebsite = %+v, %v; want the target's page", w, err)
	}
	if n := proxy.hits.Load(); n != 0 {
		t.Fatalf("the proxy got %d requests, want 0", n)
	}
	if n := target.hits.Load(); n != 1 {
		t.Fatalf("the target got %d requests, want 1", n)
	}
}

func TestSafeClient_ErrorMessages(t *testing.T) {
	t.Parallel()
	dnsSrv := startDNS(t, staticZone(map[string][]string{"closed.example": {"127.0.0.1"}}))
	// A port with nothing listening: bind, note, close.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	_ = ln.Close()
	c := research.NewSafeClient(research.SafeClientOptions{AllowPrivate: true, Resolver: dnsSrv.resolver()})

	tests := []struct{ url, want string }{
		{"http://nxdomain.example/", "no such host"},
		{"http://closed.example:" + closedPort + "/", "no answer"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			err := fetch(t, c, tt.url)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
			if errors.Is(err, research.ErrRefused) {
				t.Fatalf("%v is ErrRefused; it is a failure, not a refusal", err)
			}
		})
	}
	t.Run("untrusted certificate", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewUnstartedServer(http.NotFoundHandler())
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshake is the point
		srv.StartTLS()
		t.Cleanup(srv.Close)
		err := fetch(t, c, srv.URL)
		if err == nil || err.Error() != "TLS error" {
			t.Fatalf("error = %v, want \"TLS error\"", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := research.FetchWebsite(ctx, c, "http://closed.example:"+closedPort+"/")
		if err == nil || err.Error() != "cancelled" || !errors.Is(err, context.Canceled) {
			t.Fatalf("error = %v, want \"cancelled\" wrapping context.Canceled", err)
		}
	})
}
