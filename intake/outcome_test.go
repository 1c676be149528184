package intake_test

import (
	"encoding/csv"
	"net/http"
	"testing"

	"github.com/leadtriage/leadtriage/triage"
)

func TestServer_Outcome(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	seed(t, e) // L-2 is qualified, L-1 and L-3 pending
	post := func(path, body string, header map[string]string) *http.Response {
		t.Helper()
		return e.do(t, request{path: path, body: body, contentType: "application/json", header: header}).Result()
	}

	w := e.do(t, request{path: "/api/leads/L-2/outcome", body: `{"outcome":"won","value":12000,"note":"signed <b>"}`, contentType: "application/json", header: adminAuth})
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	type leadOut struct {
		ID      string `json:"id"`
		Outcome *struct {
			Outcome string `json:"outcome"`
			Value   int64  `json:"value"`
			Note    string `json:"note"`
			By      string `json:"by"`
			At      string `json:"at"`
		} `json:"outcome"`
	}
	got := decode[leadOut](t, w)
	if got.ID != "L-2" || got.Outcome == nil || got.Outcome.Outcome != "won" || got.Outcome.Value != 12000 ||
		got.Outcome.Note != "signed <b>" || got.Outcome.By != "api" || got.Outcome.At != "2026-03-02T10:00:00Z" {
		t.Errorf("answer = %+v", got.Outcome)
	}
	stored, err := e.store.Lead(t.Context(), 2)
	if err != nil || stored.Outcome == nil || stored.Outcome.Kind != triage.OutcomeWon {
		t.Fatalf("stored = %+v, %v", stored.Outcome, err)
	}
	told := false // the card update coalesces into the card's post, not yet delivered here
	for _, it := range e.outbox(t) {
		if it.Lead == 2 && it.Kind == triage.OutboxThreadReply && it.Notice != nil && it.Notice.Kind == triage.NoticeOutcome {
			told = true
		}
	}
	if !told {
		t.Error("no thread notice queued for L-2")
	}

	for _, tc := range []struct {
		name, path, body string
		header           map[string]string
		status           int
		field            string
	}{
		{"no token", "/api/leads/L-2/outcome", `{"outcome":"lost"}`, nil, 401, ""},
		{"unknown outcome", "/api/leads/L-2/outcome", `{"outcome":"maybe"}`, adminAuth, 400, "outcome"},
		{"negative", "/api/leads/L-2/outcome", `{"outcome":"won","value":-5}`, adminAuth, 400, "value"},
		{"fraction", "/api/leads/L-2/outcome", `{"outcome":"won","value":12000.5}`, adminAuth, 400, "value"},
		{"no deal with value", "/api/leads/L-2/outcome", `{"outcome":"no_deal","value":5}`, adminAuth, 400, "value"},
		{"unknown field", "/api/leads/L-2/outcome", `{"outcome":"won","amount":5}`, adminAuth, 400, "body"},
		{"not JSON", "/api/leads/L-2/outcome", `won`, adminAuth, 400, "body"},
		{"unknown lead", "/api/leads/L-99/outcome", `{"outcome":"won"}`, adminAuth, 404, ""},
		{"not an id", "/api/leads/xyz/outcome", `{"outcome":"won"}`, adminAuth, 404, ""},
		{"pending", "/api/leads/L-1/outcome", `{"outcome":"won"}`, adminAuth, 409, ""},
	} {
		w := e.do(t, request{path: tc.path, body: tc.body, contentType: "application/json", header: tc.header})
		if w.Code != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.name, w.Code, tc.status, w.Body)
			continue
		}
		if tc.field != "" {
			if b := decode[struct {
				Error string  `json:"error"`
				Field *string `json:"field"`
			}](t, w); b.Field == nil || *b.Field != tc.field || b.Error == "" {
				t.Errorf("%s: body %+v, want field %q", tc.name, b, tc.field)
			}
		}
	}
	if r := post("/api/leads/L-2/outcome", `{"outcome":"won"}`, adminAuth); r.StatusCode != 200 {
		t.Fatalf("correction: %d", r.StatusCode)
	}
	if w := e.do(t, request{method: http.MethodGet, path: "/api/leads/L-2/outcome", header: adminAuth}); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: status %d, want 405", w.Code)
	}
	stored, _ = e.store.Lead(t.Context(), 2)
	if stored.Outcome.Value != 0 || len(stored.Events) == 0 || stored.Events[len(stored.Events)-1].Detail != "won (was won 12000: signed <b>)" {
		t.Errorf("after the refused requests and the correction: %+v", stored.Outcome)
	}
	if l, _ := e.store.Lead(t.Context(), 1); l.Outcome != nil {
		t.Errorf("a refused request stored an outcome on L-1: %+v", l.Outcome)
	}

	// The CSV export carries it.
	if _, err := e.svc.RecordOutcome(t.Context(), 2, triage.OutcomeInput{Kind: triage.OutcomeLost, Value: 9000, Note: "=cheaper elsewhere", By: "UBOB"}); err != nil {
		t.Fatal(err)
	}
	w = serve(e, httpRequest(t, http.MethodGet, "/api/export?format=csv", adminAuth))
	recs, err := csv.NewReader(w.Body).ReadAll()
	if err != nil || len(recs) != 4 {
		t.Fatalf("export: %d rows, %v", len(recs), err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	row := recs[2]
	if row[col["outcome"]] != "lost" || row[col["outcome_value"]] != "9000" || row[col["outcome_note"]] != "'=cheaper elsewhere" || row[col["outcome_by"]] != "UBOB" {
		t.Errorf("L-2 outcome columns = %v", row)
	}
	if recs[1][col["outcome"]] != "" || recs[1][col["outcome_value"]] != "" {
		t.Errorf("L-1 without outcome = %v", recs[1])
	}
}
