package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/slackfake"
)

// TestEndToEnd_CreditAndFirstSeen runs issue 16 through the real bot: a UK
// lead claiming to be founded in 2019, whose domain's registry publishes no
// date (RDAP without a registration event), first seen online in 2025
// (crt.sh and Wayback fakes), and whom Creditsafe rates D while in
// administration. The API and the card show the evidence and both flags.
func TestEndToEnd_CreditAndFirstSeen(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	const domain = "acme-widgets.co.uk"

	rdapSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rdap+json")
		// Nominet-style: the domain object, but no registration event.
		fmt.Fprintf(w, `{"objectClassName":"domain","ldhName":%q,"rdapConformance":["rdap_level_0"],
			"events":[{"eventAction":"last changed","eventDate":"2025-10-01T00:00:00Z"}]}`, domain)
	}))
	t.Cleanup(rdapSrv.Close)

	// crt.sh (?q=&output=json) and the Wayback CDX API (output=json, fl=timestamp),
	// in their documented shapes.
	webSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/" && r.URL.Query().Get("q") == domain:
			fmt.Fprintf(w, `[{"issuer_ca_id":295815,"issuer_name":"C=US, O=Let's Encrypt, CN=R11","common_name":%q,"name_value":%q,
				"id":13987654321,"entry_timestamp":"2025-08-02T11:00:02.123","not_before":"2025-08-02T10:00:01","not_after":"2025-10-31T10:00:00","serial_number":"0bcdef"}]`, domain, domain)
		case r.URL.Path == "/cdx/search/cdx" && r.URL.Query().Get("url") == domain:
			_, _ = w.Write([]byte(`[["timestamp"],["20250914083000"]]`))
		default:
			_, _ = w.Write([]byte(`[]`))
		}
	}))
	t.Cleanup(webSrv.Close)

	// Creditsafe Connect: /authenticate, /companies, /companies/{id}.
	csSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/v1/authenticate":
			var c struct{ Username, Password string }
			if json.NewDecoder(r.Body).Decode(&c) != nil || c.Username != "sales@example.com" || c.Password != "cs-password" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			_, _ = w.Write([]byte(`{"token":"eyJ.e2e"}`))
		case r.Header.Get("Authorization") != "Bearer eyJ.e2e":
			w.WriteHeader(http.StatusUnauthorized)
		case r.URL.Path == "/v1/companies" && r.URL.Query().Get("countries") == "GB":
			_, _ = w.Write([]byte(`{"totalSize":1,"companies":[{"id":"GB-0-01234567","country":"GB","regNo":"01234567","name":"ACME WIDGETS LIMITED","status":"NonActive"}]}`))
		case r.URL.Path == "/v1/companies/GB-0-01234567":
			_, _ = w.Write([]byte(`{"correlationId":"e2e","report":{"companyId":"GB-0-01234567","companySummary":{"businessName":"ACME WIDGETS LIMITED",
				"companyRegistrationNumber":"01234567","companyStatus":{"status":"NonActive","description":"In Administration"}},
				"creditScore":{"currentCreditRating":{"commonValue":"D","commonDescription":"High Risk","creditLimit":{"currency":"GBP","value":"2500"},
				"providerValue":{"maxValue":"100","minValue":"0","value":"12"},"providerDescription":"High Risk"},"latestRatingChangeDate":"2026-02-20T00:00:00Z"}}}`))
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(csSrv.Close)
	dnsAddr := startDNS(t, map[string]string{domain: "127.0.0.1"}, domain)

	app := MustRunMain(t, appOptions{fake: fake,
		env: map[string]string{"CREDITSAFE_USERNAME": "sales@example.com", "CREDITSAFE_PASSWORD": "cs-password"},
		research: fmt.Sprintf(`[research]
enabled = true
timeout = "10s"
rdap_url = %q
dns_server = %q
allow_private_addresses = true
web_history = true
crtsh_url = %q
wayback_url = %q
creditsafe_url = %q
`, rdapSrv.URL+"/", dnsAddr, webSrv.URL, webSrv.URL, csSrv.URL+"/v1")})
	defer func() {
		if t.Failed() {
			t.Logf("logs:\n%s", app.Logs.String())
		}
	}()

	status, body := app.postLead(t, map[string]any{
		"company": "Acme Widgets Ltd", "email": "jo@" + domain, "founded": 2019, "message": "Six years in business",
	})
	if status != http.StatusCreated {
		t.Fatalf("POST = %d %v", status, body)
	}
	var lead map[string]any
	waitFor(t, "research on the lead", 15*time.Second, func() bool {
		lead = app.apiLead(t, "L-1")
		r, _ := lead["research"].(map[string]any)
		return r != nil && r["at"] != nil
	})
	r := lead["research"].(map[string]any)
	facts := r["facts"].(map[string]any)
	if facts["first_certificate"] != "2025-08-02" || facts["first_capture"] != "2025-09-14" {
		t.Errorf("first seen = %v / %v", facts["first_certificate"], facts["first_capture"])
	}
	if c, _ := facts["credit"].(map[string]any); c == nil || c["rating"] != "D" || c["limit"] != float64(2500) || c["insolvent"] != true {
		t.Errorf("credit = %v", facts["credit"])
	}
	details := map[string]string{}
	for _, f := range r["flags"].([]any) {
		m := f.(map[string]any)
		details[m["code"].(string)] = m["detail"].(string)
	}
	if d := details["claim_mismatch"]; !strings.Contains(d, "earliest trace online: first certificate 2 August 2025, first archive capture 14 September 2025") {
		t.Errorf("claim_mismatch = %q (flags %v)", d, details)
	}
	for _, want := range []string{"credit_risk", "insolvency"} {
		if details[want] == "" {
			t.Errorf("flags %v lack %s", details, want)
		}
	}
	waitFor(t, "the card to show the credit line", 15*time.Second, func() bool {
		m, ok := fake.Message(testChannel, leadTS(app.apiLead(t, "L-1")))
		text := blockText(t, m.Blocks)
		return ok && strings.Contains(text, "Credit (Creditsafe, 20 February 2026): rating D High Risk, score 12, limit GBP 2,500, In Administration") &&
			strings.Contains(text, "`insolvency`") && strings.Contains(text, "`credit_risk`")
	})
}
