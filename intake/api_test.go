package intake_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/leadtriage/leadtriage/intake"
	"github.com/leadtriage/leadtriage/triage"
)

var update = flag.Bool("update", os.Getenv("UPDATE_GOLDEN") != "", "rewrite testdata/golden files")

type apiLead struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Email  string `json:"email"`
}

// seed stores three leads and qualifies the second.
func seed(t *testing.T, e *env) {
	t.Helper()
	ctx := context.Background()
	for _, c := range []string{"Alpha", "Beta", "Gamma"} {
		if _, _, err := e.svc.Submit(ctx, triage.LeadInput{Company: c, Email: "info@" + strings.ToLower(c) + ".example"}, triage.Submission{Via: "webhook"}); err != nil {
			t.Fatalf("submitting %s: %v", c, err)
		}
	}
	_, err := e.store.UpdateLead(ctx, 2, func(l *triage.Lead) ([]triage.OutboxItem, error) {
		return nil, triage.Decide(l, triage.StatusQualified, "good fit", "ULEAD", epoch)
	})
	if err != nil {
		t.Fatalf("deciding L-2: %v", err)
	}
}

func TestServer_API(t *testing.T) {
	t.Parallel()
	auth := map[string]string{"Authorization": "Bearer " + apiToken}

	t.Run("Auth", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		seed(t, e)
		for _, tt := range []struct {
			name   string
			header map[string]string
			want   int
		}{
			{"NoToken", nil, 401},
			{"IntakeSecret", map[string]string{"Authorization": "Bearer " + secret}, 401},
			{"WrongToken", map[string]string{"Authorization": "Bearer " + apiToken + "x"}, 401},
			{"TokenWithoutScheme", map[string]string{"Authorization": apiToken}, 401},
			{"Token", auth, 200},
		} {
			for _, path := range []string{"/api/leads", "/api/leads/L-1"} {
				w := e.do(t, request{method: http.MethodGet, path: path, header: tt.header})
				if w.Code != tt.want {
					t.Errorf("%s %s: status = %d, want %d", tt.name, path, w.Code, tt.want)
				}
				if w.Code == 401 {
					if diff := cmp.Diff(errorResponse{Error: "unauthorized"}, decode[errorResponse](t, w)); diff != "" {
						t.Errorf("%s %s: body (-want +got):\n%s", tt.name, path, diff)
					}
				}
			}
		}
	})

	t.Run("Off", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, func(c *intake.Config) { c.APIToken = "" })
		seed(t, e)
		for _, h := range []map[string]string{nil, {"Authorization": "Bearer "}, {"Authorization": "Bearer " + secret}} {
			for _, path := range []string{"/api/leads", "/api/leads/L-1"} {
				w := e.do(t, request{method: http.MethodGet, path: path, header: h})
				if w.Code != http.StatusNotFound {
					t.Errorf("%s with %v: status = %d, want 404", path, h, w.Code)
				}
				decode[errorResponse](t, w)
			}
		}
	})

	t.Run("StatusFilter", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		seed(t, e)
		for _, tt := range []struct {
			query string
			want  []string
		}{
			{"", []string{"L-1", "L-2", "L-3"}},
			{"?status=all", []string{"L-1", "L-2", "L-3"}},
			{"?status=pending", []string{"L-1", "L-3"}},
			{"?status=qualified", []string{"L-2"}},
			{"?status=disqualified", []string{}},
			{"?status=referred", []string{}},
		} {
			w := e.do(t, request{method: http.MethodGet, path: "/api/leads" + tt.query, header: auth})
			if w.Code != 200 {
				t.Fatalf("%q: status %d: %s", tt.query, w.Code, w.Body)
			}
			got := decode[struct {
				Leads []apiLead `json:"leads"`
			}](t, w)
			if got.Leads == nil {
				t.Errorf("%q: leads is null, want an array: %s", tt.query, w.Body)
			}
			ids := []string{}
			for _, l := range got.Leads {
				ids = append(ids, l.ID)
			}
			if diff := cmp.Diff(tt.want, ids); diff != "" {
				t.Errorf("%q: ids (-want +got):\n%s", tt.query, diff)
			}
		}
	})

	t.Run("BadStatus", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		w := e.do(t, request{method: http.MethodGet, path: "/api/leads?status=open", header: auth})
		if w.Code != http.StatusBadRequest {
			t.Fatalf("status = %d, want 400", w.Code)
		}
		got := decode[errorResponse](t, w)
		if got.Field == nil || *got.Field != "status" {
			t.Errorf("body %s does not name the status field", w.Body)
		}
	})

	// Pages through the status index: limit and the opaque cursor from
	// next; next is "" on the last page, and a client that sends neither
	// gets the first page of at most 100.
	t.Run("Paging", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		seed(t, e)
		type page struct {
			Leads []apiLead `json:"leads"`
			Next  *string   `json:"next"`
		}
		get := func(query string) page {
			t.Helper()
			w := e.do(t, request{method: http.MethodGet, path: "/api/leads" + query, header: auth})
			if w.Code != 200 {
				t.Fatalf("%q: status %d: %s", query, w.Code, w.Body)
			}
			p := decode[page](t, w)
			if p.Next == nil {
				t.Fatalf("%q: no next in %s", query, w.Body)
			}
			return p
		}
		var all []string
		query := "?limit=2"
		for pages := 1; ; pages++ {
			p := get(query)
			for _, l := range p.Leads {
				all = append(all, l.ID)
			}
			if *p.Next == "" {
				if pages != 2 {
					t.Errorf("%d pages of at most 2 for 3 leads, want 2", pages)
				}
				break
			}
			query = "?limit=2&cursor=" + url.QueryEscape(*p.Next)
		}
		if diff := cmp.Diff([]string{"L-1", "L-2", "L-3"}, all); diff != "" {
			t.Errorf("paged ids (-want +got):\n%s", diff)
		}
		// The cursor is a position: with a status it pages that status.
		first := get("?status=pending&limit=1")
		if len(first.Leads) != 1 || first.Leads[0].ID != "L-1" || *first.Next == "" {
			t.Fatalf("first pending page = %+v", first)
		}
		if p := get("?status=pending&limit=1&cursor=" + url.QueryEscape(*first.Next)); len(p.Leads) != 1 || p.Leads[0].ID != "L-3" || *p.Next != "" {
			t.Errorf("second pending page = %+v, want L-3 and the end", p)
		}
		if p := get(""); len(p.Leads) != 3 || *p.Next != "" {
			t.Errorf("no limit: %+v, want all three and the end", p)
		}
	})

	t.Run("NoLimitIsEveryLead", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		for i := range 101 {
			if _, _, err := e.svc.Submit(t.Context(), triage.LeadInput{Company: fmt.Sprintf("C%d", i)}, triage.Submission{Via: "webhook"}); err != nil {
				t.Fatal(err)
			}
		}
		w := e.do(t, request{method: http.MethodGet, path: "/api/leads", header: auth})
		p := decode[struct {
			Leads []apiLead `json:"leads"`
			Next  string    `json:"next"`
		}](t, w)
		// DESIGN's contract for clients that do not page: every lead,
		// streamed, and no next page.
		if len(p.Leads) != 101 || p.Next != "" || p.Leads[0].ID != "L-1" || p.Leads[100].ID != "L-101" {
			t.Errorf("without limit: %d leads, next %q; want all 101 in id order and no cursor", len(p.Leads), p.Next)
		}
	})

	t.Run("BadPaging", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		seed(t, e)
		for query, field := range map[string]string{
			"?limit=0":            "limit",
			"?limit=-3":           "limit",
			"?limit=1001":         "limit",
			"?limit=ten":          "limit",
			"?cursor=L-2":         "cursor",
			"?cursor=AAAAAAAAAAA": "cursor", // id 0
			"?cursor=AAAB":        "cursor", // too short
			"?cursor=AAAAAAAAAAE": "limit",  // a cursor without the page size
			"?status=nonsense":    "status", // before the streamed 200
		} {
			w := e.do(t, request{method: http.MethodGet, path: "/api/leads" + query, header: auth})
			if w.Code != http.StatusBadRequest {
				t.Errorf("%s: status = %d, want 400", query, w.Code)
				continue
			}
			if got := decode[errorResponse](t, w); got.Field == nil || *got.Field != field {
				t.Errorf("%s: body %s does not name %s", query, w.Body, field)
			}
		}
	})

	t.Run("OneLead", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		seed(t, e)
		for _, path := range []string{"/api/leads/L-2", "/api/leads/2", "/api/leads/l-2"} {
			w := e.do(t, request{method: http.MethodGet, path: path, header: auth})
			if w.Code != 200 {
				t.Fatalf("%s: status %d: %s", path, w.Code, w.Body)
			}
			want := apiLead{ID: "L-2", Status: "qualified", Email: "info@beta.example"}
			if diff := cmp.Diff(want, decode[apiLead](t, w)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", path, diff)
			}
		}
	})

	t.Run("UnknownLead", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		seed(t, e)
		for _, path := range []string{"/api/leads/L-99", "/api/leads/0", "/api/leads/nope", "/api/leads/L-1/extra"} {
			w := e.do(t, request{method: http.MethodGet, path: path, header: auth})
			if w.Code != http.StatusNotFound {
				t.Errorf("%s: status = %d, want 404", path, w.Code)
			}
			decode[errorResponse](t, w)
		}
	})

	t.Run("MethodNotAllowed", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		for _, path := range []string{"/api/leads", "/api/leads/L-1"} {
			w := e.do(t, request{method: http.MethodPost, path: path, header: auth})
			if w.Code != http.StatusMethodNotAllowed {
				t.Errorf("%s: status = %d, want 405", path, w.Code)
			}
			if got := w.Header().Get("Allow"); got != "GET, HEAD" {
				t.Errorf("%s: Allow = %q", path, got)
			}
		}
	})

	t.Run("StoreFailure", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		seed(t, e)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		r := httpRequest(t, http.MethodGet, "/api/leads", auth).WithContext(ctx)
		w := serve(e, r)
		if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
			t.Errorf("status = %d, Retry-After %q; want 503 with Retry-After", w.Code, w.Header().Get("Retry-After"))
		}
	})
}

func TestServer_Healthz(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.do(t, request{method: http.MethodGet, path: "/healthz"})
	if w.Code != 200 || w.Body.String() != "ok" {
		t.Fatalf("healthy: status %d body %q, want 200 ok", w.Code, w.Body)
	}
	e.close()
	w = e.do(t, request{method: http.MethodGet, path: "/healthz"})
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("closed store: status %d, want 503", w.Code)
	}
	if !strings.HasPrefix(w.Body.String(), "store unavailable: ") {
		t.Errorf("closed store: body %q, want the reason", w.Body)
	}
	if w := e.do(t, request{method: http.MethodPost, path: "/healthz"}); w.Code != 405 {
		t.Errorf("POST /healthz: status %d, want 405", w.Code)
	}
}

func TestServer_Metrics(t *testing.T) {
	t.Parallel()

	t.Run("Served", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		if w := e.postJSON(t, `{"company":"Acme"}`, nil); w.Code != 201 {
			t.Fatalf("post: %d", w.Code)
		}
		if w := e.postJSON(t, `{"company":"Acme"}`, nil); w.Code != 200 {
			t.Fatalf("repeat: %d", w.Code)
		}
		if w := e.do(t, request{body: `{}`, contentType: "application/json"}); w.Code != 401 {
			t.Fatalf("unauthorized: %d", w.Code)
		}
		w := e.do(t, request{method: http.MethodGet, path: "/metrics"})
		if w.Code != 200 {
			t.Fatalf("status %d", w.Code)
		}
		for _, line := range []string{
			`leadtriage_intake_requests_total{result="created"} 1`,
			`leadtriage_intake_requests_total{result="repeat"} 1`,
			`leadtriage_intake_requests_total{result="unauthorized"} 1`,
			`leadtriage_intake_requests_total{result="invalid"} 0`,
		} {
			if !strings.Contains(w.Body.String(), line) {
				t.Errorf("metrics lack %q", line)
			}
		}
	})

	t.Run("SharedRegistry", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		// A second server on the same registry must not panic and counts into the same series.
		second := intake.New(intake.Config{IntakeSecrets: []string{secret}, Metrics: e.reg, Store: e.store}, e.svc, nil)
		r := httpRequest(t, http.MethodPost, "/leads", map[string]string{"Authorization": "Bearer " + secret, "Content-Type": "application/json"})
		r.Body = ioNopCloser(`{"company":"Acme"}`)
		if w := serve(&env{h: second.Handler()}, r); w.Code != 201 {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		if got := counter(t, e, "created"); got != 1 {
			t.Errorf("created = %v, want 1", got)
		}
	})

	t.Run("Off", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, func(c *intake.Config) { c.Metrics = nil })
		if w := e.do(t, request{method: http.MethodGet, path: "/metrics"}); w.Code != 404 {
			t.Errorf("status %d, want 404", w.Code)
		}
	})
}

func TestServer_Slack(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, path := range []string{"/slack/events", "/slack/interactions", "/slack/commands"} {
		w := e.do(t, request{path: path, body: "x"})
		if w.Code != 200 || w.Body.String() != "slack:"+path {
			t.Errorf("%s: %d %q, want the Slack handler with the path intact", path, w.Code, w.Body)
		}
	}
	if got := e.slacked.Load(); got != 3 {
		t.Errorf("Slack handler ran %d times, want 3", got)
	}
	off := newEnv(t, func(c *intake.Config) { c.Slack = nil })
	if w := off.do(t, request{path: "/slack/events", body: "x"}); w.Code != 404 {
		t.Errorf("Slack off: status %d, want 404", w.Code)
	}
}

func TestServer_UnknownPath(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, path := range []string{"/", "/leads/1", "/api", "/admin"} {
		w := e.do(t, request{method: http.MethodGet, path: path})
		if w.Code != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", path, w.Code)
		}
		decode[errorResponse](t, w)
	}
}

func TestServer_HTTPServer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	hs := e.srv.HTTPServer("127.0.0.1:0")
	got := map[string]any{
		"Addr":              hs.Addr,
		"ReadHeaderTimeout": hs.ReadHeaderTimeout,
		"ReadTimeout":       hs.ReadTimeout,
		"WriteTimeout":      hs.WriteTimeout,
		"IdleTimeout":       hs.IdleTimeout,
		"MaxHeaderBytes":    hs.MaxHeaderBytes,
		"HasHandler":        hs.Handler != nil,
	}
	want := map[string]any{
		"Addr":              "127.0.0.1:0",
		"ReadHeaderTimeout": 5 * time.Second,
		"ReadTimeout":       15 * time.Second,
		"WriteTimeout":      15 * time.Second,
		"IdleTimeout":       60 * time.Second,
		"MaxHeaderBytes":    64 << 10,
		"HasHandler":        true,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("server (-want +got):\n%s", diff)
	}
}

func TestLeadJSON(t *testing.T) {
	t.Parallel()
	at := func(min int) time.Time { return epoch.Add(time.Duration(min) * time.Minute) }

	t.Run("Full", func(t *testing.T) {
		t.Parallel()
		l := triage.Lead{
			ID: 42, Status: triage.StatusDisqualified,
			Company: "Acme BV", Name: "Jan Jansen", Email: canaryPII, Phone: "+31 20 123 4567",
			Website: "https://acme.example", Domain: "acme.example", Message: "We need <help> & more.",
			Source: "website", Founded: 2015, Employees: 12,
			Extra:     map[string]string{"utm_campaign": "spring", "budget_k": "40"},
			CreatedAt: epoch.In(time.FixedZone("CET", 3600)), CreatedBy: "", Owner: "UOWNER",
			Votes:   map[string]triage.Choice{"U1": triage.ChoiceQualify, "U2": triage.ChoiceDisqualify, "U3": triage.ChoiceDisqualify},
			Answers: map[string]triage.Answer{"budget": {Value: "yes", Note: "the CFO signed off", By: "U1", At: at(5)}},
			AnswersBy: map[string]map[string]triage.Answer{"budget": {
				"U1": {Value: "yes", Note: "the CFO signed off", By: "U1", At: at(5)},
				"U2": {Value: "no", By: "U2", At: at(4)},
			}},
			Decision: &triage.Decision{Outcome: triage.StatusDisqualified, Reason: "disqualified by vote (1 qualify, 2 disqualify, 0 unsure)", By: "auto", At: at(30)},
			Research: triage.Research{Summary: "Domain registered 2 months ago.", Flags: []triage.Flag{
				{Code: "domain_young", Detail: "registered 2026-01-02", Source: "rdap"}, {Code: "claim_mismatch", Detail: "founded 2015, domain 2026", Source: "claims"}},
				Facts: triage.Facts{
					EmailDomain: "voorbeeld.nl", FreeMail: false, Disposable: false, RoleAddress: true,
					DomainRegistered: time.Date(2026, 1, 2, 0, 30, 0, 0, time.FixedZone("CET", 3600)), Registrar: "Example Registrar B.V.",
					MX: []string{"mx1.voorbeeld.nl.", "mx2.voorbeeld.nl."}, EmailDomainLive: true,
					Website: triage.Website{
						URL: "https://acme.example/", FinalURL: "https://www.acme.example/en/", Status: 200, Reachable: true,
						Title: "Acme <Software>", Description: "We build & ship.", CopyrightYears: []int{2025, 2026},
						Social: map[string]string{"x": "https://x.com/acme", "linkedin": "https://www.linkedin.com/company/acme"},
					},
					Registry: &triage.Registry{Source: "kvk", Number: "12345678", Name: "Acme B.V.", Status: "active",
						Incorporated: time.Date(2025, 11, 3, 0, 0, 0, 0, time.UTC), Employees: 8, URL: "https://www.kvk.nl/zoeken/?source=all&q=12345678"},
					FirstCertificate: time.Date(2025, 8, 2, 10, 0, 1, 0, time.UTC),
					FirstCapture:     time.Date(2025, 9, 14, 8, 30, 0, 0, time.UTC),
					Credit: &triage.Credit{Source: "creditsafe", Name: "ACME B.V.", Number: "12345678", Rating: "D", Description: "High Risk",
						Score: "22", Limit: 5000, Currency: "EUR", Status: "Active", Date: time.Date(2026, 2, 20, 0, 0, 0, 0, time.UTC), HighRisk: true},
				},
				Providers: []triage.ProviderResult{
					{Name: "email", OK: true, Took: 250 * time.Microsecond},
					{Name: "rdap", OK: true, Took: 812 * time.Millisecond},
					{Name: "website", OK: false, Error: "timeout", Took: 10 * time.Second},
				},
				At: at(1)},
			Slack:     triage.SlackRef{Channel: "CTRIAGE", TS: "1772445600.000100", ChecklistTS: "1772445600.000200"},
			Posted:    []triage.MessageRef{{Channel: "CTRIAGE", TS: "1772445600.000300"}},
			Reminder:  triage.ReminderState{Reminded: at(240), SnoozedUntil: at(240 + 24*60), Revisited: at(90 * 24 * 60), OutcomeAsked: at(30 * 24 * 60)},
			Outcome:   &triage.Outcome{Kind: triage.OutcomeNoDeal, Note: "never replied <again>", By: "api", At: at(31 * 24 * 60)},
			Returning: &triage.PriorDecision{Lead: 7, Outcome: triage.StatusReferred, Reason: "referred to Smith & Co", At: at(-60 * 24 * 60)},
			Events: []triage.Event{
				{At: epoch, Kind: triage.EventCreated, By: "webhook", Detail: "via webhook"},
				{At: at(1).Add(250 * time.Millisecond), Kind: triage.EventCardPosted, By: "auto", Detail: ""},
				{At: at(4), Kind: triage.EventAnswered, By: "U2", Detail: "budget: no"},
				{At: at(5), Kind: triage.EventAnswered, By: "U1", Detail: "budget: yes"},
				{At: at(6), Kind: triage.EventVoted, By: "U1", Detail: "qualify"},
				{At: at(7), Kind: triage.EventUnvoted, By: "U1", Detail: "qualify"},
				{At: at(8), Kind: triage.EventVoted, By: "U1", Detail: "qualify"},
				{At: at(9), Kind: triage.EventClaimed, By: "UOWNER", Detail: ""},
				{At: at(30), Kind: triage.EventDissent, By: "auto", Detail: ""},
				{At: at(30), Kind: triage.EventDecided, By: "auto", Detail: "disqualified: by vote"},
			},
		}
		golden(t, "lead.json", intake.LeadJSON(l))
	})

	t.Run("Empty", func(t *testing.T) {
		t.Parallel()
		l := triage.Lead{ID: 1, Status: triage.StatusPending, Website: "https://acme.example", Domain: "acme.example", CreatedAt: epoch}
		b, err := json.Marshal(intake.LeadJSON(l))
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{
			"id": "L-1", "status": "pending", "company": "", "name": "", "email": "", "phone": "",
			"website": "https://acme.example", "domain": "acme.example", "message": "", "source": "",
			"founded": nil, "employees": nil, "extra": map[string]any{}, "created_at": "2026-03-02T10:00:00Z",
			"created_by": "", "owner": "", "votes": map[string]any{}, "answers": map[string]any{}, "answers_by": map[string]any{}, "decision": nil,
			"research": map[string]any{
				"summary": "", "flags": []any{}, "providers": []any{}, "at": nil,
				"facts": map[string]any{
					"email_domain": "", "free_mail": false, "disposable": false, "role_address": false,
					"domain_registered": nil, "registrar": "", "mx": []any{}, "email_domain_live": false,
					"website": map[string]any{
						"url": "", "final_url": "", "status": float64(0), "reachable": false, "title": "", "description": "",
						"copyright_years": []any{}, "social": map[string]any{},
					},
					"registry": nil, "first_certificate": nil, "first_capture": nil, "credit": nil,
				},
			},
			"slack":    map[string]any{"channel": "", "ts": "", "checklist_ts": "", "messages": []any{}},
			"timings":  map[string]any{"first_vote_s": nil, "claim_s": nil, "decision_s": nil},
			"reminder": map[string]any{"reminded_at": nil, "escalated_at": nil, "snoozed_until": nil, "revisited_at": nil, "outcome_asked_at": nil},
			"outcome":  nil, "returning": nil,
			"events": []any{},
			"crm":    []any{},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("empty lead JSON (-want +got):\n%s", diff)
		}
	})
}

// A decision by hand keeps the first version's four fields and adds the
// decider's note and the partner; the audit trail keeps the decision that a
// reopen undid.
func TestLeadJSON_DecisionByHand(t *testing.T) {
	t.Parallel()
	at := epoch.Add(time.Hour)
	l := triage.Lead{ID: 3, Status: triage.StatusReferred, CreatedAt: epoch,
		Decision: &triage.Decision{Outcome: triage.StatusReferred, Reason: "referred to Partner & Co", Note: "Too small <for us>.",
			Partner: "Partner & Co", By: "ULEAD", At: at},
		Events: []triage.Event{
			{At: epoch, Kind: triage.EventDecided, By: "auto", Detail: "qualified: by vote"},
			{At: epoch.Add(time.Minute), Kind: triage.EventReopened, By: "ULEAD", Detail: "was qualified by auto"},
			{At: at, Kind: triage.EventDecided, By: "ULEAD", Detail: "referred: referred to Partner & Co"},
		},
	}
	b, err := json.Marshal(intake.LeadJSON(l))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Decision map[string]any   `json:"decision"`
		Events   []map[string]any `json:"events"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"outcome": "referred", "reason": "referred to Partner & Co", "by": "ULEAD", "at": "2026-03-02T11:00:00Z",
		"note": "Too small <for us>.", "partner": "Partner & Co"}
	if diff := cmp.Diff(want, got.Decision); diff != "" {
		t.Errorf("decision (-want +got):\n%s", diff)
	}
	wantEvents := []map[string]any{
		{"at": "2026-03-02T10:00:00Z", "kind": "decided", "by": "auto", "detail": "qualified: by vote"},
		{"at": "2026-03-02T10:01:00Z", "kind": "reopened", "by": "ULEAD", "detail": "was qualified by auto"},
		{"at": "2026-03-02T11:00:00Z", "kind": "decided", "by": "ULEAD", "detail": "referred: referred to Partner & Co"},
	}
	if diff := cmp.Diff(wantEvents, got.Events); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestLeadJSON_RegistryUnknowns(t *testing.T) {
	t.Parallel()
	l := triage.Lead{ID: 2, Status: triage.StatusPending, CreatedAt: epoch, Research: triage.Research{
		Facts: triage.Facts{Registry: &triage.Registry{Source: "companies_house", Number: "01234567", Name: "Acme Ltd"}},
	}}
	b, err := json.Marshal(intake.LeadJSON(l))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Research struct {
			Facts struct {
				Registry map[string]any `json:"registry"`
			} `json:"facts"`
		} `json:"research"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"source": "companies_house", "number": "01234567", "name": "Acme Ltd", "status": "",
		"incorporated": nil, "employees": nil, "url": ""}
	if diff := cmp.Diff(want, got.Research.Facts.Registry); diff != "" {
		t.Errorf("registry without date or head count (-want +got):\n%s", diff)
	}
}

// golden compares v, as indented JSON, with testdata/golden/name; -update
// rewrites it. On a mismatch the actual output lands next to it as name.act.
func golden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run go test ./intake -update): %v", err)
	}
	if !bytes.Equal(want, got) {
		_ = os.WriteFile(path+".act", got, 0o644)
		t.Errorf("%s differs (-want +got):\n%s", path, cmp.Diff(string(want), string(got)))
	}
}
