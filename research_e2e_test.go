package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/leadtriage/leadtriage/slackfake"
)

// startDNS serves answers on loopback (UDP) with miekg/dns: name → A
// address, and MX for mxDomains.
func startDNS(t *testing.T, a map[string]string, mxDomains ...string) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := dns.NewServeMux()
	mux.HandleFunc(".", func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		q := r.Question[0]
		name := strings.TrimSuffix(strings.ToLower(q.Name), ".")
		switch q.Qtype {
		case dns.TypeA:
			if ip, ok := a[name]; ok {
				m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.ParseIP(ip)})
			}
		case dns.TypeMX:
			for _, d := range mxDomains {
				if d == name {
					m.Answer = append(m.Answer, &dns.MX{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeMX, Class: dns.ClassINET, Ttl: 60}, Preference: 10, Mx: "mx." + d + "."})
				}
			}
		}
		_ = w.WriteMsg(m)
	})
	srv := &dns.Server{PacketConn: pc, Handler: mux}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().String()
}

// TestEndToEnd_Research is the scenario: a lead that claims to be
// three years old, from a 40-day-old domain and a gmail address. Its card is
// posted at once, before research is done, and then updated with the flags.
func TestEndToEnd_Research(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	now := time.Now().UTC()
	registered := now.AddDate(0, 0, -40)
	release := make(chan struct{})
	rdapSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Hold the answer until the card is in Slack: research must not
		// delay the card.
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		if !strings.HasSuffix(r.URL.Path, "/domain/young.example") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/rdap+json")
		fmt.Fprintf(w, `{"objectClassName":"domain","ldhName":"young.example","rdapConformance":["rdap_level_0"],
			"events":[{"eventAction":"registration","eventDate":%q},{"eventAction":"expiration","eventDate":%q}]}`,
			registered.Format(time.RFC3339), registered.AddDate(1, 0, 0).Format(time.RFC3339))
	}))
	t.Cleanup(rdapSrv.Close)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	dnsAddr := startDNS(t, map[string]string{"young.example": "127.0.0.1"}, "gmail.com")

	app := MustRunMain(t, appOptions{fake: fake, research: fmt.Sprintf(`[research]
enabled = true
timeout = "10s"
rdap_url = %q
dns_server = %q
allow_private_addresses = true
web_history = false
`, rdapSrv.URL+"/", dnsAddr)})

	status, body := app.postLead(t, map[string]any{
		"company": "Young Software BV", "email": "founder@gmail.com", "website": "young.example",
		"founded": now.Year() - 3, "message": "Three years in business, looking for sales outsourcing",
	})
	if status != http.StatusCreated {
		t.Fatalf("POST = %d %v", status, body)
	}
	posts := fake.WaitCalls(t, "chat.postMessage", 1, 10*time.Second)
	if first := blockText(t, []byte(posts[0].Params.Get("blocks"))); !strings.Contains(first, "Research pending") {
		t.Errorf("the first card already has research (it waited for it):\n%s", first)
	}
	close(release)

	var lead map[string]any
	waitFor(t, "research on the lead", 15*time.Second, func() bool {
		lead = app.apiLead(t, "L-1")
		r, _ := lead["research"].(map[string]any)
		return r != nil && r["at"] != nil
	})
	r := lead["research"].(map[string]any)
	codes := map[string]bool{}
	for _, f := range r["flags"].([]any) {
		codes[f.(map[string]any)["code"].(string)] = true
	}
	for _, want := range []string{"domain_young", "claim_mismatch", "free_email"} {
		if !codes[want] {
			t.Errorf("flags %v lack %s", codes, want)
		}
	}
	defer func() {
		if t.Failed() {
			for _, c := range fake.Calls() {
				t.Logf("call %s status=%d err=%s", c.Method, c.Status, c.Error)
			}
			t.Logf("logs:\n%s", app.Logs.String())
		}
	}()
	waitFor(t, "the card to show the flags", 15*time.Second, func() bool {
		// Re-read: research may have finished before the card's ts was recorded.
		m, ok := fake.Message(testChannel, leadTS(app.apiLead(t, "L-1")))
		text := blockText(t, m.Blocks)
		return ok && strings.Contains(text, "domain_young") && strings.Contains(text, "claim_mismatch") && strings.Contains(text, "free_email")
	})
}
