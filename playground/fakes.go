package playground

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// researchFakes serve what pre-research asks the internet, on loopback:
// RDAP (registration dates), DNS (MX and A) and the leads' websites. Domains
// the samples do not know look like a plain, five-year-old company, so a
// lead typed into the form gets sensible research too.
type researchFakes struct {
	now     func() time.Time
	mu      sync.Mutex
	domains map[string]Domain

	rdap *httptest.Server
	web  *httptest.Server
	dns  *dns.Server
	dnsA string
}

func startResearchFakes(now func() time.Time) (*researchFakes, error) {
	f := &researchFakes{now: now, domains: map[string]Domain{}}
	for _, d := range domains(now()) {
		f.domains[d.Name] = d
	}
	f.rdap = httptest.NewServer(http.HandlerFunc(f.serveRDAP))
	f.web = httptest.NewTLSServer(http.HandlerFunc(f.serveWeb))
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		f.close()
		return nil, fmt.Errorf("listening for dns: %w", err)
	}
	mux := dns.NewServeMux()
	mux.HandleFunc(".", f.serveDNS)
	f.dns = &dns.Server{PacketConn: pc, Handler: mux}
	f.dnsA = pc.LocalAddr().String()
	go func() { _ = f.dns.ActivateAndServe() }()
	return f, nil
}

func (f *researchFakes) close() {
	if f.rdap != nil {
		f.rdap.Close()
	}
	if f.web != nil {
		f.web.Close()
	}
	if f.dns != nil {
		_ = f.dns.Shutdown()
	}
}

// domain returns what the fakes know about name (a made-up default for
// names the samples do not have).
func (f *researchFakes) domain(name string) Domain {
	name = strings.TrimPrefix(strings.ToLower(strings.TrimSuffix(name, ".")), "www.")
	f.mu.Lock()
	defer f.mu.Unlock()
	if d, ok := f.domains[name]; ok {
		return d
	}
	return Domain{Name: name, Registered: 5 * year, Registrar: "Playground Registrar", Title: name, Copyright: f.now().Year()}
}

// serveRDAP answers /domain/<name> in RFC 9083's shape (as the research
// package's tests serve it): registration and expiration events and the
// registrar entity.
func (f *researchFakes) serveRDAP(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, "/domain/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	d := f.domain(name)
	if d.NoDNS {
		w.Header().Set("Content-Type", "application/rdap+json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"errorCode":404,"title":"Not Found"}`)
		return
	}
	reg := f.now().Add(-d.Registered).UTC()
	w.Header().Set("Content-Type", "application/rdap+json")
	fmt.Fprintf(w, `{"objectClassName":"domain","ldhName":%q,"rdapConformance":["rdap_level_0"],
"events":[{"eventAction":"registration","eventDate":%q},{"eventAction":"expiration","eventDate":%q}],
"entities":[{"objectClassName":"entity","roles":["registrar"],"vcardArray":["vcard",[["version",{},"text","4.0"],["fn",{},"text",%q]]]}]}`,
		d.Name, reg.Format(time.RFC3339), reg.AddDate(d.years()+1, 0, 0).Format(time.RFC3339), d.Registrar)
}

func (d Domain) years() int { return int(d.Registered / year) }

// serveDNS answers MX and A for every domain but the ones marked NoDNS.
// Addresses are from TEST-NET-1: the website client below never dials them.
func (f *researchFakes) serveDNS(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	if len(r.Question) == 0 {
		_ = w.WriteMsg(m)
		return
	}
	q := r.Question[0]
	d := f.domain(q.Name)
	hdr := dns.RR_Header{Name: q.Name, Class: dns.ClassINET, Ttl: 60}
	switch {
	case d.NoDNS:
		m.Rcode = dns.RcodeNameError
	case q.Qtype == dns.TypeMX:
		hdr.Rrtype = dns.TypeMX
		m.Answer = append(m.Answer, &dns.MX{Hdr: hdr, Preference: 10, Mx: "mx." + d.Name + "."})
	case q.Qtype == dns.TypeA:
		hdr.Rrtype = dns.TypeA
		m.Answer = append(m.Answer, &dns.A{Hdr: hdr, A: net.IPv4(192, 0, 2, 10)})
	}
	_ = w.WriteMsg(m)
}

// serveWeb is every lead's website: the page for the Host asked for.
func (f *researchFakes) serveWeb(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	d := f.domain(host)
	if d.Down || d.NoDNS {
		http.Error(w, "service unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, d.page())
}

// websiteClient fetches every website from the loopback web fake, whatever
// the host: the research code asks for https://<domain>/ as it would in
// production. Certificates are not checked: the fake's is self-signed and
// nothing leaves the machine.
func (f *researchFakes) websiteClient() *http.Client {
	addr := f.web.Listener.Addr().String()
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, network, addr)
			},
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // loopback fake, see above
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
