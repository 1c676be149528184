package research_test

import (
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/leadtriage/leadtriage/research"
	"github.com/leadtriage/leadtriage/triage"
)

func TestDNS_MailServers(t *testing.T) {
	t.Parallel()
	zone := map[string]zoneEntry{
		"mx.example":       {mx: []string{"mail1.mx.example", "mail2.mx.example"}},
		"onlya.example":    {a: []string{"192.0.2.10"}},
		"nullmx.example":   {mx: []string{"."}},
		"empty.example":    {},
		"servfail.example": {rcode: dns.RcodeServerFailure},
		"refused.example":  {rcode: dns.RcodeRefused},
		"silent.example":   {drop: true},
	}
	tests := []struct {
		domain    string
		wantOK    bool
		wantError string
		wantLive  bool
		wantMX    []string
		wantFlag  bool
	}{
		{domain: "mx.example", wantOK: true, wantLive: true, wantMX: []string{"mail1.mx.example", "mail2.mx.example"}},
		{domain: "onlya.example", wantOK: true, wantLive: true},
		{domain: "nullmx.example", wantOK: true, wantFlag: true},
		{domain: "empty.example", wantOK: true, wantFlag: true},
		{domain: "voorbeeld.example", wantOK: true, wantFlag: true}, // NXDOMAIN
		{domain: "servfail.example", wantError: "resolver failed"},
		{domain: "refused.example", wantError: "resolver failed"},
		{domain: "silent.example", wantError: "timed out"},
	}
	addr, _ := startZoneServer(t, zone)
	for _, tt := range tests {
		t.Run(tt.domain, func(t *testing.T) {
			t.Parallel()
			cfg := research.Config{DNSServer: addr, Timeout: 30 * time.Second, Now: func() time.Time { return testNow }}
			if tt.domain == "silent.example" {
				cfg.Timeout = 300 * time.Millisecond
			}
			r := research.New(cfg)
			// The lead's e-mail only: no company domain, so no RDAP or website calls.
			f := mustResearch(t, r, triage.Lead{ID: 1, Email: "jan@" + tt.domain}, false)
			p := provider(t, f, "dns")
			if p.OK != tt.wantOK || p.Error != tt.wantError {
				t.Errorf("dns = %+v, want OK %v error %q", p, tt.wantOK, tt.wantError)
			}
			if f.Facts.EmailDomainLive != tt.wantLive || !slices.Equal(f.Facts.MX, tt.wantMX) {
				t.Errorf("facts = live %v MX %v, want live %v MX %v", f.Facts.EmailDomainLive, f.Facts.MX, tt.wantLive, tt.wantMX)
			}
			fl, got := findFlag(f.Flags, triage.FlagInvalidEmailDomain)
			if got != tt.wantFlag {
				t.Errorf("invalid_email_domain flag = %v, want %v (flags %v)", got, tt.wantFlag, flagCodes(f.Flags))
			}
			if got && (fl.Detail != tt.domain+" has no mail servers: mail to it bounces." || fl.Source != "dns") {
				t.Errorf("flag = %+v", fl)
			}
		})
	}
}
