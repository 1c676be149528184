package intake

import "github.com/leadtriage/leadtriage/triage"

// crmRecord is one record the CRM hand-off made or found for a lead
// (DESIGN.md: `crm`, links to the CRM records); gone is when the read-back
// found it deleted in the CRM, null while it exists.
type crmRecord struct {
	System string  `json:"system"`
	Kind   string  `json:"kind"`
	ID     string  `json:"id"`
	URL    string  `json:"url"`
	At     string  `json:"at"`
	Gone   *string `json:"gone"`
}

// toCRMRecords is never nil: a lead without records shows [].
func toCRMRecords(recs []triage.CRMRecord) []crmRecord {
	out := make([]crmRecord, 0, len(recs))
	for _, r := range recs {
		out = append(out, crmRecord{System: r.System, Kind: r.Kind, ID: r.ID, URL: r.URL, At: timestamp(r.At), Gone: optionalTimestamp(r.Gone)})
	}
	return out
}
