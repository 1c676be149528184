package intake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/leadtriage/leadtriage/triage"
)

// outcomeJSON is what became of a lead as the API shows it (DESIGN.md:
// null or {"outcome","value","note","by","at"}).
type outcomeJSON struct {
	Outcome string `json:"outcome"`
	Value   int64  `json:"value"`
	Note    string `json:"note"`
	By      string `json:"by"`
	At      string `json:"at"`
}

// returningJSON is the earlier decision a lead that came back is linked to
// (an addition to DESIGN.md's lead: null or {"lead","outcome","reason","at"}).
type returningJSON struct {
	Lead    string `json:"lead"`
	Outcome string `json:"outcome"`
	Reason  string `json:"reason"`
	At      string `json:"at"`
}

func toOutcomeJSON(o *triage.Outcome) *outcomeJSON {
	if o == nil {
		return nil
	}
	return &outcomeJSON{Outcome: string(o.Kind), Value: o.Value, Note: o.Note, By: o.By, At: timestamp(o.At)}
}

func toReturningJSON(p *triage.PriorDecision) *returningJSON {
	if p == nil {
		return nil
	}
	return &returningJSON{Lead: p.Lead.String(), Outcome: string(p.Outcome), Reason: p.Reason, At: timestamp(p.At)}
}

// outcomeBody is POST /api/leads/{id}/outcome's body. The value is read as
// a json.Number so that 12000.5 or "12k" get an error naming the field.
type outcomeBody struct {
	Outcome string      `json:"outcome"`
	Value   json.Number `json:"value"`
	Note    string      `json:"note"`
}

// handleOutcome is POST /api/leads/{id}/outcome: what became of a decided
// lead, recorded by "api". 200 with the lead; 400 naming the field; 404 for
// no such lead; 409 while the lead is not decided.
func (s *Server) handleOutcome(w http.ResponseWriter, r *http.Request) {
	if !s.adminAccess(w, r, http.MethodPost) {
		return
	}
	raw := r.PathValue("id")
	id, err := triage.ParseLeadID(raw)
	if err != nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no lead %q", truncate(raw, 40)))
		return
	}
	var b outcomeBody
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBody))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(&b); err != nil {
		writeFieldError(w, http.StatusBadRequest, `body: want {"outcome":"won"|"lost"|"no_deal","value":12000,"note":"…"}: `+err.Error(), "body")
		return
	}
	if dec.More() {
		writeFieldError(w, http.StatusBadRequest, "body: one JSON object, nothing after it", "body")
		return
	}
	var value int64
	if b.Value != "" {
		if value, err = strconv.ParseInt(b.Value.String(), 10, 64); err != nil {
			writeFieldError(w, http.StatusBadRequest, fmt.Sprintf("value: %s is not a whole amount", truncate(b.Value.String(), 40)), "value")
			return
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	res, err := s.svc.RecordOutcome(ctx, id, triage.OutcomeInput{Kind: triage.OutcomeKind(b.Outcome), Value: value, Note: b.Note, By: "api"})
	var fe *triage.FieldError
	switch {
	case errors.As(err, &fe):
		writeFieldError(w, http.StatusBadRequest, fe.Error(), fe.Field)
		return
	case errors.Is(err, triage.ErrNotFound):
		writeError(w, http.StatusNotFound, fmt.Sprintf("no lead %s", id))
		return
	case errors.Is(err, triage.ErrNotDecided):
		writeError(w, http.StatusConflict, fmt.Sprintf("%s is not decided yet: an outcome is recorded after the decision", id))
		return
	case err != nil:
		s.apiStoreError(w, "recording the outcome of "+id.String(), err)
		return
	}
	writeJSON(w, http.StatusOK, toLeadJSON(res.Lead))
}

// outcomeColumns are the CSV export's outcome columns (see exportColumns).
func outcomeColumns(j leadJSON) []string {
	var o outcomeJSON
	if j.Outcome != nil {
		o = *j.Outcome
	}
	value, back := "", ""
	if j.Outcome != nil && o.Value > 0 {
		value = strconv.FormatInt(o.Value, 10)
	}
	if j.Returning != nil {
		back = j.Returning.Lead
	}
	return []string{o.Outcome, value, csvSafe(o.Note), o.By, o.At, back}
}
