package crmfake_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/leadtriage/leadtriage/crm/crmfake"
)

// TestFakes_RejectWrongShapes: a fake that accepted anything would let a
// client bug through; each answers 400 (or 401) as the real API does.
func TestFakes_RejectWrongShapes(t *testing.T) {
	t.Parallel()
	hs := crmfake.NewHubSpot(t, "tok")
	pd := crmfake.NewPipedrive(t, "tok")
	for _, tc := range []struct {
		name, method, url, auth, value, body string
		want                                 int
	}{
		{"HubSpotNoToken", "POST", hs.URL + "/crm/v3/objects/companies", "", "", `{"properties":{"name":"A"}}`, 401},
		{"HubSpotNumberProperty", "POST", hs.URL + "/crm/v3/objects/companies", "Authorization", "Bearer tok", `{"properties":{"name":5}}`, 400},
		{"HubSpotNoteWithoutTimestamp", "POST", hs.URL + "/crm/v3/objects/notes", "Authorization", "Bearer tok", `{"properties":{"hs_note_body":"x"}}`, 400},
		{"HubSpotWrongAssociationType", "POST", hs.URL + "/crm/v3/objects/notes", "Authorization", "Bearer tok",
			`{"properties":{"hs_timestamp":"2026-12-05T09:00:00Z"},"associations":[{"to":{"id":"1"},"types":[{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":5}]}]}`, 400},
		{"HubSpotAssociationIDNotString", "POST", hs.URL + "/crm/v3/objects/deals", "Authorization", "Bearer tok",
			`{"properties":{"dealname":"d","pipeline":"default","dealstage":"appointmentscheduled"},"associations":[{"to":{"id":1},"types":[{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":5}]}]}`, 400},
		{"HubSpotSearchBadOperator", "POST", hs.URL + "/crm/v3/objects/contacts/search", "Authorization", "Bearer tok",
			`{"filterGroups":[{"filters":[{"propertyName":"email","operator":"EQUALS","value":"a@b.c"}]}]}`, 400},
		{"PipedriveTokenInQuery", "GET", pd.URL + "/api/v2/persons/search?term=ab&api_token=tok", "", "", "", 401},
		{"PipedriveShortTerm", "GET", pd.URL + "/api/v2/persons/search?term=a", "x-api-token", "tok", "", 400},
		{"PipedriveUnsearchableField", "GET", pd.URL + "/api/v2/organizations/search?term=acme&fields=email", "x-api-token", "tok", "", 400},
		{"PipedriveDealWithoutTitle", "POST", pd.URL + "/api/v2/deals", "x-api-token", "tok", `{"value":5}`, 400},
		{"PipedriveOrgIDAsString", "POST", pd.URL + "/api/v2/persons", "x-api-token", "tok", `{"name":"Ada","org_id":"7"}`, 400},
		{"PipedriveNoteOnNothing", "POST", pd.URL + "/v1/notes", "x-api-token", "tok", `{"content":"x"}`, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, tc.url, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.auth != "" {
				req.Header.Set(tc.auth, tc.value)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
	if hs.Count("companies")+hs.Count("notes")+hs.Count("deals")+pd.Count("deals")+pd.Count("persons")+pd.Count("notes") != 0 {
		t.Error("a rejected request stored a record")
	}
}
