package intake_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/leadtriage/leadtriage/intake"
	"github.com/leadtriage/leadtriage/storage/storagetest"
	"github.com/leadtriage/leadtriage/triage"
)

func TestServer_PostLeads_Rejected(t *testing.T) {
	t.Parallel()
	good := `{"company":"Acme BV","email":"` + canaryPII + `"}`
	bearer := map[string]string{"Authorization": "Bearer " + secret}
	field := func(s string) *string { return &s }
	big := `{"company":"Acme","message":"` + strings.Repeat("x", intake.MaxBody) + `"}`

	tests := []struct {
		name       string
		req        request
		wantStatus int
		wantBody   *errorResponse // nil: only the status and "error" present are checked
		wantField  *string
	}{
		{name: "NoAuth", req: request{body: good, contentType: "application/json"},
			wantStatus: 401, wantBody: &errorResponse{Error: "unauthorized"}},
		{name: "WrongBearer", req: request{body: good, contentType: "application/json", header: map[string]string{"Authorization": "Bearer not-the-secret"}},
			wantStatus: 401, wantBody: &errorResponse{Error: "unauthorized"}},
		{name: "BearerWithoutToken", req: request{body: good, contentType: "application/json", header: map[string]string{"Authorization": "Bearer "}},
			wantStatus: 401, wantBody: &errorResponse{Error: "unauthorized"}},
		{name: "SecretAsBasicAuth", req: request{body: good, contentType: "application/json", header: map[string]string{"Authorization": "Basic " + secret}},
			wantStatus: 401, wantBody: &errorResponse{Error: "unauthorized"}},
		{name: "APITokenAsBearer", req: request{body: good, contentType: "application/json", header: map[string]string{"Authorization": "Bearer " + apiToken}},
			wantStatus: 401, wantBody: &errorResponse{Error: "unauthorized"}},
		{name: "BadSignature", req: signedReq(good, intake.Sign("other-secret", epoch, []byte(good))), wantStatus: 401, wantBody: &errorResponse{Error: "unauthorized"}},
		{name: "SignatureNotHex", req: signedReq(good, "t="+epochUnix+",v1="+strings.Repeat("zz", 32)), wantStatus: 401, wantBody: &errorResponse{Error: "unauthorized"}},
		{name: "SignatureWithoutPrefix", req: signedReq(good, strings.TrimPrefix(validSig(good), "t="+epochUnix+",v1=")), wantStatus: 401, wantBody: &errorResponse{Error: "unauthorized"}},
		{name: "SignatureWithoutTimestamp", req: signedReq(good, strings.TrimPrefix(validSig(good), "t="+epochUnix+",")), wantStatus: 401, wantBody: &errorResponse{Error: "unauthorized"}},
		{name: "SignatureTwoTimestamps", req: signedReq(good, "t="+epochUnix+","+validSig(good)), wantStatus: 401, wantBody: &errorResponse{Error: "unauthorized"}},
		{name: "SignatureSignedTimestampSwapped", req: signedReq(good, strings.Replace(validSig(good), "t="+epochUnix, fmt.Sprint("t=", epoch.Unix()+1), 1)), wantStatus: 401, wantBody: &errorResponse{Error: "unauthorized"}},
		{name: "SignatureTimestampWithSign", req: signedReq(good, strings.Replace(validSig(good), "t=", "t=+", 1)), wantStatus: 401, wantBody: &errorResponse{Error: "unauthorized"}},
		{name: "SignatureUnknownSchemeOnly", req: signedReq(good, strings.Replace(validSig(good), "v1=", "v0=", 1)), wantStatus: 401, wantBody: &errorResponse{Error: "unauthorized"}},
		{name: "SignatureTruncated", req: signedReq(good, validSig(good)[:60]), wantStatus: 401, wantBody: &errorResponse{Error: "unauthorized"}},
		{name: "SignatureOfDifferentBody", req: signedReq(good, intake.Sign(secret, epoch, []byte(good+" "))), wantStatus: 401, wantBody: &errorResponse{Error: "unauthorized"}},
		{name: "SignatureTooOld", req: signedReq(good, intake.Sign(secret, epoch.Add(-intake.SignatureTolerance-time.Second), []byte(good))), wantStatus: 401, wantBody: &errorResponse{Error: "unauthorized"}},
		{name: "SignatureFromTheFuture", req: signedReq(good, intake.Sign(secret, epoch.Add(intake.SignatureTolerance+time.Second), []byte(good))), wantStatus: 401, wantBody: &errorResponse{Error: "unauthorized"}},
		{name: "LegacySignatureNotAccepted", req: signedReq(good, intake.SignLegacy(secret, []byte(good))), wantStatus: 401, wantBody: &errorResponse{Error: "unauthorized"}},
		{name: "TooLargeByContentLength", req: request{body: big, contentType: "application/json", header: bearer},
			wantStatus: 413, wantBody: &errorResponse{Error: "body too large (at most 64 KiB)"}},
		{name: "TooLargeStreamed", req: request{bodyReader: io.MultiReader(strings.NewReader(big)), contentType: "application/json", header: bearer},
			wantStatus: 413, wantBody: &errorResponse{Error: "body too large (at most 64 KiB)"}},
		{name: "TooLargeUnauthenticated", req: request{body: big, contentType: "application/json"},
			wantStatus: 413},
		{name: "TextPlain", req: request{body: good, contentType: "text/plain", header: bearer}, wantStatus: 415},
		{name: "NoContentType", req: request{body: good, header: bearer}, wantStatus: 415},
		{name: "JSONLatin1", req: request{body: good, contentType: "application/json; charset=iso-8859-1", header: bearer}, wantStatus: 415},
		{name: "Multipart", req: request{body: good, contentType: "multipart/form-data; boundary=x", header: bearer}, wantStatus: 415},
		{name: "MalformedJSON", req: request{body: `{"company":`, contentType: "application/json", header: bearer}, wantStatus: 400, wantField: field("")},
		{name: "MalformedJSONSyntax", req: request{body: `{"company" "x"}`, contentType: "application/json", header: bearer}, wantStatus: 400, wantField: field("")},
		{name: "EmptyBody", req: request{body: ``, contentType: "application/json", header: bearer}, wantStatus: 400, wantField: field("")},
		{name: "TrailingData", req: request{body: good + ` {}`, contentType: "application/json", header: bearer}, wantStatus: 400, wantField: field("")},
		{name: "TrailingGarbage", req: request{body: good + `x`, contentType: "application/json", header: bearer}, wantStatus: 400, wantField: field("")},
		{name: "NestedObject", req: request{body: `{"company":"Acme","meta":{"a":1}}`, contentType: "application/json", header: bearer}, wantStatus: 400, wantField: field("meta")},
		{name: "NestedArray", req: request{body: `{"company":"Acme","tags":["a"]}`, contentType: "application/json", header: bearer}, wantStatus: 400, wantField: field("tags")},
		{name: "KnownFieldObject", req: request{body: `{"company":{"name":"Acme"}}`, contentType: "application/json", header: bearer}, wantStatus: 400, wantField: field("company")},
		{name: "ArrayBody", req: request{body: `[{"company":"Acme"}]`, contentType: "application/json", header: bearer}, wantStatus: 400, wantField: field("")},
		{name: "StringBody", req: request{body: `"Acme"`, contentType: "application/json", header: bearer}, wantStatus: 400, wantField: field("")},
		{name: "DuplicateKey", req: request{body: `{"company":"Acme","company":"Evil"}`, contentType: "application/json", header: bearer}, wantStatus: 400, wantField: field("company")},
		{name: "MissingCompanyEmailWebsite", req: request{body: `{"name":"Jan Jansen","phone":"+31 20 123 4567"}`, contentType: "application/json", header: bearer}, wantStatus: 400, wantField: field("company")},
		{name: "BadEmail", req: request{body: `{"email":"jan@"}`, contentType: "application/json", header: bearer}, wantStatus: 400, wantField: field("email")},
		{name: "EmailWithName", req: request{body: `{"email":"Jan <jan@example.com>"}`, contentType: "application/json", header: bearer}, wantStatus: 400, wantField: field("email")},
		{name: "WebsiteJavascript", req: request{body: `{"website":"javascript:alert(1)"}`, contentType: "application/json", header: bearer}, wantStatus: 400, wantField: field("website")},
		{name: "WebsiteFTP", req: request{body: `{"website":"ftp://example.com/"}`, contentType: "application/json", header: bearer}, wantStatus: 400, wantField: field("website")},
		{name: "WebsiteCredentials", req: request{body: `{"website":"https://user:pass@example.com/"}`, contentType: "application/json", header: bearer}, wantStatus: 400, wantField: field("website")},
		{name: "WebsiteIPLiteral", req: request{body: `{"website":"http://127.0.0.1/"}`, contentType: "application/json", header: bearer}, wantStatus: 400, wantField: field("website")},
		{name: "WebsiteDecimalIP", req: request{body: `{"website":"http://2130706433/"}`, contentType: "application/json", header: bearer}, wantStatus: 400, wantField: field("website")},
		{name: "WebsitePort", req: request{body: `{"website":"https://example.com:8443/"}`, contentType: "application/json", header: bearer}, wantStatus: 400, wantField: field("website")},
		{name: "FoundedOutOfRange", req: request{body: `{"company":"Acme","founded":1700}`, contentType: "application/json", header: bearer}, wantStatus: 400, wantField: field("founded")},
		{name: "FoundedInFuture", req: request{body: `{"company":"Acme","founded":"2999"}`, contentType: "application/json", header: bearer}, wantStatus: 400, wantField: field("founded")},
		{name: "FoundedNotANumber", req: request{body: `{"company":"Acme","founded":"last year"}`, contentType: "application/json", header: bearer}, wantStatus: 400, wantField: field("founded")},
		{name: "FoundedFraction", req: request{body: `{"company":"Acme","founded":2015.5}`, contentType: "application/json", header: bearer}, wantStatus: 400, wantField: field("founded")},
		{name: "FoundedBool", req: request{body: `{"company":"Acme","founded":true}`, contentType: "application/json", header: bearer}, wantStatus: 400, wantField: field("founded")},
		{name: "EmployeesNotANumber", req: request{body: `{"company":"Acme","employees":"many"}`, contentType: "application/json", header: bearer}, wantStatus: 400, wantField: field("employees")},
		{name: "MessageTooLong", req: request{body: `{"company":"Acme","message":"` + strings.Repeat("é", triage.MaxMessage+1) + `"}`, contentType: "application/json", header: bearer}, wantStatus: 400, wantField: field("message")},
		{name: "FormRepeatedKey", req: request{body: "company=Acme&email=a%40example.com&email=b%40example.com", contentType: "application/x-www-form-urlencoded", header: bearer}, wantStatus: 400, wantField: field("email")},
		{name: "FormBadEscape", req: request{body: "company=Acme%zz", contentType: "application/x-www-form-urlencoded", header: bearer}, wantStatus: 400, wantField: field("company")},
		{name: "FormMissingRequired", req: request{body: "name=Jan", contentType: "application/x-www-form-urlencoded", header: bearer}, wantStatus: 400, wantField: field("company")},
		{name: "IdempotencyKeyTooLong", req: request{body: good, contentType: "application/json", header: map[string]string{"Authorization": "Bearer " + secret, "Idempotency-Key": strings.Repeat("k", 256)}}, wantStatus: 400, wantField: field("Idempotency-Key")},
	}
	secretHex := regexp.MustCompile(`[0-9a-f]{64}`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			w := e.do(t, tt.req)
			if w.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", w.Code, tt.wantStatus, w.Body)
			}
			got := decode[errorResponse](t, w)
			if got.Error == "" {
				t.Errorf("error body %s has no error text", w.Body)
			}
			if tt.wantBody != nil {
				if diff := cmp.Diff(*tt.wantBody, got); diff != "" {
					t.Errorf("body (-want +got):\n%s", diff)
				}
			}
			if tt.wantField != nil {
				if got.Field == nil {
					t.Errorf("body %s has no field", w.Body)
				} else if *got.Field != *tt.wantField {
					t.Errorf("field = %q, want %q (body %s)", *got.Field, *tt.wantField, w.Body)
				}
			}
			if w.Code == 401 && w.Header().Get("WWW-Authenticate") == "" {
				t.Errorf("401 without WWW-Authenticate")
			}
			for _, leak := range []string{secret, apiToken} {
				if strings.Contains(w.Body.String(), leak) {
					t.Errorf("response echoes a secret: %s", w.Body)
				}
			}
			if secretHex.MatchString(w.Body.String()) {
				t.Errorf("response holds a 64-hex string: %s", w.Body)
			}
			if ls := e.leads(t); len(ls) != 0 {
				t.Errorf("rejected request stored %d leads", len(ls))
			}
			if out := e.outbox(t); len(out) != 0 {
				t.Errorf("rejected request queued %d outbox items", len(out))
			}
		})
	}
}

func TestServer_PostLeads_Accepted(t *testing.T) {
	t.Parallel()

	t.Run("JSONBearerWithExtras", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		body := `{"company":"Acme BV","name":"Jan Jansen","email":"` + canaryPII + `","phone":"+31 20 123 4567",
			"website":"www.acme.example","message":"We need help.","source":"website","founded":2015,"employees":"12",
			"utm_campaign":"spring","budget_k":40,"newsletter":true,"empty":null}`
		w := e.postJSON(t, body, nil)
		if w.Code != http.StatusCreated {
			t.Fatalf("status = %d, want 201; body %s", w.Code, w.Body)
		}
		if diff := cmp.Diff(submitResponse{ID: "L-1", Status: "pending"}, decode[submitResponse](t, w)); diff != "" {
			t.Errorf("answer (-want +got):\n%s", diff)
		}
		if got := w.Header().Get("Location"); got != "/api/leads/L-1" {
			t.Errorf("Location = %q", got)
		}
		ls := e.leads(t)
		if len(ls) != 1 {
			t.Fatalf("stored %d leads, want 1", len(ls))
		}
		l := ls[0]
		got := triage.Lead{Company: l.Company, Name: l.Name, Email: l.Email, Phone: l.Phone, Website: l.Website,
			Domain: l.Domain, Message: l.Message, Source: l.Source, Founded: l.Founded, Employees: l.Employees, Extra: l.Extra}
		want := triage.Lead{Company: "Acme BV", Name: "Jan Jansen", Email: canaryPII, Phone: "+31 20 123 4567",
			Website: "https://www.acme.example", Domain: "acme.example", Message: "We need help.", Source: "website",
			Founded: 2015, Employees: 12, Extra: map[string]string{"utm_campaign": "spring", "budget_k": "40", "newsletter": "true"}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("stored lead (-want +got):\n%s", diff)
		}
		out := e.outbox(t)
		if len(out) != 1 || out[0].Kind != triage.OutboxPostCard || out[0].Lead != l.ID {
			t.Errorf("outbox = %+v, want one post_card for %s", out, l.ID)
		}
	})

	t.Run("FormHMAC", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		form := url.Values{"company": {"Acme & Co"}, "email": {"info@acme.example"}, "founded": {"1999"}, "gclid": {"abc"}}.Encode()
		w := e.do(t, request{body: form, contentType: "application/x-www-form-urlencoded",
			header: map[string]string{intake.SignatureHeader: intake.Sign(secret, epoch, []byte(form))}})
		if w.Code != http.StatusCreated {
			t.Fatalf("status = %d, want 201; body %s", w.Code, w.Body)
		}
		ls := e.leads(t)
		if len(ls) != 1 {
			t.Fatalf("stored %d leads, want 1", len(ls))
		}
		if ls[0].Company != "Acme & Co" || ls[0].Founded != 1999 || ls[0].Source != "webhook" {
			t.Errorf("stored %+v", ls[0])
		}
		if diff := cmp.Diff(map[string]string{"gclid": "abc"}, ls[0].Extra); diff != "" {
			t.Errorf("extras (-want +got):\n%s", diff)
		}
	})

	t.Run("JSONWithCharset", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		w := e.do(t, request{body: `{"website":"acme.example"}`, contentType: "application/json; charset=UTF-8",
			header: map[string]string{"Authorization": "bearer " + secret}})
		if w.Code != http.StatusCreated {
			t.Fatalf("status = %d, want 201; body %s", w.Code, w.Body)
		}
	})

	t.Run("RotatedSecrets", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, func(c *intake.Config) { c.IntakeSecrets = []string{secret, secret2} })
		for i, sec := range []string{secret, secret2} {
			body := fmt.Sprintf(`{"company":"Acme %d"}`, i)
			if w := e.do(t, request{body: body, contentType: "application/json", header: map[string]string{"Authorization": "Bearer " + sec}}); w.Code != 201 {
				t.Errorf("bearer secret %d: status %d", i, w.Code)
			}
			body = fmt.Sprintf(`{"company":"Signed %d"}`, i)
			if w := e.do(t, request{body: body, contentType: "application/json", header: map[string]string{intake.SignatureHeader: intake.Sign(sec, epoch, []byte(body))}}); w.Code != 201 {
				t.Errorf("signed with secret %d: status %d", i, w.Code)
			}
		}
		if n := len(e.leads(t)); n != 4 {
			t.Errorf("stored %d leads, want 4", n)
		}
	})

	t.Run("LogsNoPII", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		w := e.postJSON(t, `{"company":"Acme CANARY","name":"Jan CANARY","email":"`+canaryPII+`","phone":"+31 6 1234 5678","source":"form"}`, nil)
		if w.Code != 201 {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		logs := e.logs.String()
		if !strings.Contains(logs, `"lead_id":"L-1"`) || !strings.Contains(logs, `"source":"form"`) {
			t.Errorf("log lacks lead_id/source: %s", logs)
		}
		for _, pii := range []string{"CANARY", "1234", secret} {
			if strings.Contains(logs, pii) {
				t.Errorf("log holds %q: %s", pii, logs)
			}
		}
	})
}

func TestServer_PostLeads_Idempotency(t *testing.T) {
	t.Parallel()

	t.Run("RepeatReturnsFirst", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		key := map[string]string{"Idempotency-Key": "order-42"}
		first := e.postJSON(t, `{"company":"Acme"}`, key)
		again := e.postJSON(t, `{"company":"Acme"}`, key)
		if first.Code != 201 || again.Code != 200 {
			t.Fatalf("statuses %d, %d; want 201, 200", first.Code, again.Code)
		}
		if diff := cmp.Diff(decode[submitResponse](t, first), decode[submitResponse](t, again)); diff != "" {
			t.Errorf("repeat answer differs (-first +again):\n%s", diff)
		}
		if n := len(e.leads(t)); n != 1 {
			t.Errorf("stored %d leads, want 1", n)
		}
	})

	t.Run("SameKeyDifferentBody", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		key := map[string]string{"Idempotency-Key": "order-42"}
		if w := e.postJSON(t, `{"company":"Acme"}`, key); w.Code != 201 {
			t.Fatalf("first: status %d", w.Code)
		}
		w := e.postJSON(t, `{"company":"Other"}`, key)
		if w.Code != http.StatusUnprocessableEntity {
			t.Fatalf("status = %d, want 422; body %s", w.Code, w.Body)
		}
		if n := len(e.leads(t)); n != 1 {
			t.Errorf("stored %d leads, want 1", n)
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		srv := httptest.NewServer(e.h)
		t.Cleanup(srv.Close)
		const n = 10
		body := `{"company":"Acme","email":"info@acme.example"}`
		type result struct {
			status int
			id     string
		}
		results := make([]result, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				req, err := http.NewRequest(http.MethodPost, srv.URL+"/leads", strings.NewReader(body))
				if err != nil {
					t.Error(err)
					return
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+secret)
				req.Header.Set("Idempotency-Key", "same-key")
				resp, err := srv.Client().Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				var sr submitResponse
				if resp.StatusCode < 300 {
					if err := json.Unmarshal(b, &sr); err != nil {
						t.Error(err)
					}
				}
				results[i] = result{resp.StatusCode, sr.ID}
			})
		}
		wg.Wait()
		created := 0
		for i, r := range results {
			if r.status == 201 {
				created++
			} else if r.status != 200 {
				t.Errorf("request %d: status %d", i, r.status)
			}
			if r.id != "L-1" {
				t.Errorf("request %d: id %q, want L-1", i, r.id)
			}
		}
		if created != 1 {
			t.Errorf("%d requests got 201, want exactly 1", created)
		}
		if ls := e.leads(t); len(ls) != 1 {
			t.Errorf("stored %d leads, want 1", len(ls))
		}
	})
}

func TestServer_PostLeads_StoreFailure(t *testing.T) {
	t.Parallel()
	e := newFakeEnv(t)
	e.fake.CreateLeadFn = func(context.Context, triage.Lead, triage.Idempotency, []triage.OutboxItem) error {
		return errors.New("write /data/leadtriage.db: no space left on device")
	}
	w := e.postJSON(t, `{"company":"Acme"}`, nil)
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("status = %d, want 503; body %s", w.Code, w.Body)
	}
	if got := w.Header().Get("Retry-After"); got != "5" {
		t.Errorf("Retry-After = %q, want 5", got)
	}
	want := errorResponse{Error: "temporarily unable to store the lead, please retry"}
	if diff := cmp.Diff(want, decode[errorResponse](t, w)); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
	if got := counter(t, e, "store_error"); got != 1 {
		t.Errorf("store_error count = %v, want 1", got)
	}
}

func TestServer_PostLeads_ClosedStore(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.close()
	w := e.postJSON(t, `{"company":"Acme"}`, nil)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "5" {
		t.Fatalf("status = %d, Retry-After %q; want 503 with Retry-After 5; body %s", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	if strings.Contains(w.Body.String(), "database") {
		t.Errorf("the answer leaks the store's error: %s", w.Body)
	}
}

func TestServer_PostLeads_DurableBeforeAnswer(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	e := start(t, &env{store: db})
	w := e.postJSON(t, `{"company":"Acme","email":"`+canaryPII+`"}`, nil)
	if w.Code != http.StatusCreated {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	id, err := triage.ParseLeadID(decode[submitResponse](t, w).ID)
	if err != nil {
		t.Fatal(err)
	}
	// A restart right after the answer still finds the lead and its card job.
	db = storagetest.MustReopen(t, db)
	l, err := db.Lead(context.Background(), id)
	if err != nil {
		t.Fatalf("lead %s after reopening: %v", id, err)
	}
	if l.Email != canaryPII {
		t.Errorf("email = %q after reopening", l.Email)
	}
	out, err := db.DueOutbox(context.Background(), epoch.Add(time.Hour), 0)
	if err != nil || len(out) != 1 || out[0].Lead != id {
		t.Errorf("outbox after reopening = %+v, %v; want the card for %s", out, err, id)
	}
}

func TestServer_PostLeads_NotConfigured(t *testing.T) {
	t.Parallel()
	for name, secrets := range map[string][]string{"None": nil, "OnlyEmpty": {""}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(c *intake.Config) { c.IntakeSecrets = secrets })
			w := e.do(t, request{body: `{"company":"Acme"}`, contentType: "application/json",
				header: map[string]string{"Authorization": "Bearer ", intake.SignatureHeader: intake.Sign("", epoch, []byte(`{"company":"Acme"}`))}})
			if w.Code != http.StatusServiceUnavailable {
				t.Fatalf("status = %d, want 503", w.Code)
			}
			if diff := cmp.Diff(errorResponse{Error: "intake not configured"}, decode[errorResponse](t, w)); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
			if n := len(e.leads(t)); n != 0 {
				t.Errorf("stored %d leads", n)
			}
		})
	}
}

func TestServer_PostLeads_RateLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *intake.Config) { c.IntakeRate = 1; c.IntakeBurst = 2 })
	post := func(remote, company string, hdr map[string]string) *httptest.ResponseRecorder {
		h := map[string]string{"Authorization": "Bearer " + secret}
		for k, v := range hdr {
			h[k] = v
		}
		return e.do(t, request{body: `{"company":"` + company + `"}`, contentType: "application/json", remote: remote, header: h})
	}
	const a, b = "127.0.0.2:40000", "127.0.0.3:40000"
	for i := range 2 {
		if w := post(a, fmt.Sprint("A", i), nil); w.Code != 201 {
			t.Fatalf("A request %d: status %d", i, w.Code)
		}
	}
	w := post(a, "A2", nil)
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("A over the burst: status = %d, want 429", w.Code)
	}
	if got := w.Header().Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After = %q, want 1", got)
	}
	decode[errorResponse](t, w)
	// Another port of the same address is the same client; a forged
	// X-Forwarded-For does not make it another one.
	if w := post("127.0.0.2:40001", "A3", map[string]string{"X-Forwarded-For": "127.0.0.9"}); w.Code != 429 {
		t.Errorf("same IP, other port, forged X-Forwarded-For: status %d, want 429", w.Code)
	}
	if w := post(b, "B0", nil); w.Code != 201 {
		t.Errorf("second IP: status %d, want 201", w.Code)
	}
	e.clock.Advance(time.Second)
	if w := post(a, "A4", nil); w.Code != 201 {
		t.Errorf("A after a second: status %d, want 201", w.Code)
	}
	if n := len(e.leads(t)); n != 4 {
		t.Errorf("stored %d leads, want 4", n)
	}
	if got := counter(t, e, "rate_limited"); got != 2 {
		t.Errorf("rate_limited count = %v, want 2", got)
	}
}

func TestServer_PostLeads_MethodNotAllowed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.do(t, request{method: http.MethodGet})
	if w.Code != http.StatusMethodNotAllowed {
		t.Fatalf("status = %d, want 405", w.Code)
	}
	if got := w.Header().Get("Allow"); got != "POST" {
		t.Errorf("Allow = %q, want POST", got)
	}
	decode[errorResponse](t, w)
}

// epochUnix is the tests' "now" as a signature timestamp.
var epochUnix = fmt.Sprint(epoch.Unix())

// validSig is body's signature under the intake secret at the tests' now.
func validSig(body string) string { return intake.Sign(secret, epoch, []byte(body)) }

// signedReq is a JSON POST /leads carrying signature sig.
func signedReq(body, sig string) request {
	return request{body: body, contentType: "application/json", header: map[string]string{intake.SignatureHeader: sig}}
}

// counter reads leadtriage_intake_requests_total{result=…} from the registry.
func counter(t *testing.T, e *env, result string) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatalf("gathering metrics: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "leadtriage_intake_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "result" && lp.GetValue() == result {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no leadtriage_intake_requests_total{result=%q}", result)
	return 0
}
