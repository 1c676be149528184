package crmfake

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// HubSpot is a fake of HubSpot's CRM v3 objects, owners and account-info
// APIs. Shapes: HubSpot docs ("CRM search", "Notes", "Associations v4",
// "CRM owners", "Account information", "API usage details") and the
// request models of HubSpot/hubspot-api-nodejs.
type HubSpot struct {
	server
	Token    string
	PortalID int64

	objects map[string]map[string]*HubSpotObject // kind → id → object
	owners  map[string]string                    // e-mail → owner id
	// noOwnersScope: the token lacks crm.objects.owners.read (DenyOwners).
	noOwnersScope bool
	unsearch      map[string]bool // ids the search index does not show yet
}

// HubSpotObject is one stored CRM record.
type HubSpotObject struct {
	ID           string
	Properties   map[string]string
	Associations []HubSpotAssociation
}

// HubSpotAssociation is one association given at creation.
type HubSpotAssociation struct {
	To     string
	TypeID int64
}

// hubSpotTypes are the HUBSPOT_DEFINED association type ids the fake
// accepts, from → to → ids (HubSpot docs, "Associations v4": contact →
// company 1 primary, 279; deal → contact 3; deal → company 5 primary, 341;
// note → company 190, contact 202, deal 214).
var hubSpotTypes = map[string]map[string][]int64{
	"contacts": {"companies": {1, 279}},
	"deals":    {"contacts": {3}, "companies": {5, 341}},
	"notes":    {"companies": {190}, "contacts": {202}, "deals": {214}},
}

var hubSpotOperators = map[string]bool{"EQ": true, "NEQ": true, "LT": true, "LTE": true, "GT": true, "GTE": true,
	"BETWEEN": true, "IN": true, "NOT_IN": true, "HAS_PROPERTY": true, "NOT_HAS_PROPERTY": true,
	"CONTAINS_TOKEN": true, "NOT_CONTAINS_TOKEN": true}

// NewHubSpot starts the fake; the client must send "Bearer "+token.
func NewHubSpot(t testing.TB, token string) *HubSpot {
	f := &HubSpot{Token: token, PortalID: 62515, objects: map[string]map[string]*HubSpotObject{}, owners: map[string]string{}, unsearch: map[string]bool{}}
	for _, k := range []string{"companies", "contacts", "deals", "notes"} {
		f.objects[k] = map[string]*HubSpotObject{}
	}
	f.start(t, f.serve)
	return f
}

// AddOwner makes a HubSpot user with the e-mail; it returns the owner id.
func (f *HubSpot) AddOwner(email string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := strconv.FormatInt(f.id(), 10)
	f.owners[lower(email)] = id
	return id
}

// Add stores a record of kind ("companies", …) as if someone made it in
// HubSpot; it returns its id.
func (f *HubSpot) Add(kind string, props map[string]string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := strconv.FormatInt(f.id(), 10)
	f.objects[kind][id] = &HubSpotObject{ID: id, Properties: props}
	return id
}

// Delete removes a record as someone deleting it in HubSpot would: a
// read of it then answers 404.
func (f *HubSpot) Delete(kind, id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.objects[kind], id)
}

// NotIndexed hides a record from search, as HubSpot's search index does
// for a few seconds after a write ("search results may exclude newly
// created objects").
func (f *HubSpot) NotIndexed(id string) {
	f.mu.Lock()
	f.unsearch[id] = true
	f.mu.Unlock()
}

// Get returns a stored record, nil if none.
func (f *HubSpot) Get(kind, id string) *HubSpotObject {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.objects[kind][id]
}

// Count is how many records of kind exist.
func (f *HubSpot) Count(kind string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.objects[kind])
}

// SetDeal moves a deal to a stage ("closedwon", "closedlost", …) with an
// amount, as a salesperson would.
func (f *HubSpot) SetDeal(id, stage, amount string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := f.objects["deals"][id]
	d.Properties["dealstage"] = stage
	d.Properties["amount"] = amount
}

// hsError is HubSpot's error body: {"status":"error","message":…,
// "correlationId":…,"category":"VALIDATION_ERROR"}.
func hsError(w http.ResponseWriter, status int, category, msg string) {
	writeJSON(w, status, map[string]any{"status": "error", "message": msg, "correlationId": "fa1b2c3d-0000-4000-8000-000000000000", "category": category})
}

func (f *HubSpot) serve(w http.ResponseWriter, r *http.Request, body map[string]any, limited bool) {
	if r.Header.Get("Authorization") != "Bearer "+f.Token {
		hsError(w, http.StatusUnauthorized, "INVALID_AUTHENTICATION", "Authentication credentials not found.")
		return
	}
	if limited {
		// HubSpot docs, "API usage details": the 429 body and headers.
		w.Header().Set("X-HubSpot-RateLimit-Interval-Milliseconds", "10000")
		w.Header().Set("X-HubSpot-RateLimit-Max", "100")
		w.Header().Set("X-HubSpot-RateLimit-Remaining", "0")
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"status": "error", "message": "You have reached your ten_secondly_rolling limit.",
			"errorType": "RATE_LIMIT", "correlationId": "c033cdaa-2c40-4a64-ae48-b4cec88dad24", "policyName": "TEN_SECONDLY_ROLLING"})
		return
	}
	path := r.URL.Path
	switch {
	case r.Method == http.MethodGet && path == "/account-info/v3/details":
		writeJSON(w, 200, map[string]any{"portalId": f.PortalID, "accountType": "STANDARD", "timeZone": "Europe/Amsterdam",
			"companyCurrency": "EUR", "additionalCurrencies": []string{}, "utcOffset": "+01:00", "utcOffsetMilliseconds": 3600000,
			"uiDomain": "app-eu1.hubspot.com", "dataHostingLocation": "eu1"})
	case r.Method == http.MethodGet && path == "/crm/v3/owners" && f.noOwnersScope:
		// A private app without crm.objects.owners.read (HubSpot docs, "Error
		// handling": 403 with category MISSING_SCOPES).
		writeJSON(w, http.StatusForbidden, map[string]any{"status": "error",
			"message":       "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
			"correlationId": "1a2b3c4d-0000-4000-8000-000000000403", "category": "MISSING_SCOPES",
			"errors": []any{map[string]any{"message": "One or more of the following scopes are required.",
				"context": map[string]any{"requiredGranularScopes": []string{"crm.objects.owners.read"}}}},
			"links": map[string]any{"scopes": "https://developers.hubspot.com/scopes"}})
	case r.Method == http.MethodGet && path == "/crm/v3/owners":
		var results []map[string]any
		if id, ok := f.owners[lower(r.URL.Query().Get("email"))]; ok {
			results = append(results, map[string]any{"id": id, "email": r.URL.Query().Get("email"), "firstName": "Owner", "lastName": id,
				"userId": 9000, "createdAt": "2026-01-05T10:00:00Z", "updatedAt": "2026-01-05T10:00:00Z", "archived": false})
		}
		writeJSON(w, 200, map[string]any{"results": orEmpty(results)})
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/crm/v4/objects/") && strings.HasSuffix(path, "/associations/notes"):
		f.notesOn(w, strings.Split(strings.TrimPrefix(path, "/crm/v4/objects/"), "/"))
	case r.Method == http.MethodPost && path == "/crm/v3/objects/notes/batch/read":
		f.batchRead(w, body)
	case r.Method == http.MethodPost && strings.HasPrefix(path, "/crm/v3/objects/") && strings.HasSuffix(path, "/search"):
		f.search(w, strings.TrimSuffix(strings.TrimPrefix(path, "/crm/v3/objects/"), "/search"), body)
	case r.Method == http.MethodPost && strings.HasPrefix(path, "/crm/v3/objects/"):
		f.create(w, strings.TrimPrefix(path, "/crm/v3/objects/"), body)
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/crm/v3/objects/deals/"):
		d := f.objects["deals"][strings.TrimPrefix(path, "/crm/v3/objects/deals/")]
		if d == nil {
			hsError(w, 404, "OBJECT_NOT_FOUND", "resource not found")
			return
		}
		props := map[string]string{"dealstage": d.Properties["dealstage"], "amount": d.Properties["amount"],
			"hs_is_closed_won": strconv.FormatBool(d.Properties["dealstage"] == "closedwon"),
			"hs_is_closed":     strconv.FormatBool(d.Properties["dealstage"] == "closedwon" || d.Properties["dealstage"] == "closedlost")}
		writeJSON(w, 200, object(d.ID, props))
	default:
		hsError(w, 404, "OBJECT_NOT_FOUND", "no route for "+r.Method+" "+path)
	}
}

func object(id string, props map[string]string) map[string]any {
	return map[string]any{"id": id, "properties": props, "createdAt": "2026-12-05T09:00:00.000Z", "updatedAt": "2026-12-05T09:00:00.000Z", "archived": false}
}

func orEmpty(v []map[string]any) []map[string]any {
	if v == nil {
		return []map[string]any{}
	}
	return v
}

// search checks {"filterGroups":[{"filters":[{"propertyName","operator",
// "value"}]}],"properties":[…],"limit":n} and answers {"total","results"};
// it matches EQ filters (case-insensitive, as HubSpot does).
func (f *HubSpot) search(w http.ResponseWriter, kind string, body map[string]any) {
	store, ok := f.objects[kind]
	if !ok || kind == "notes" {
		hsError(w, 404, "OBJECT_NOT_FOUND", "unknown object type "+kind)
		return
	}
	bad := func(msg string) { hsError(w, 400, "VALIDATION_ERROR", "Invalid input JSON on line 1: "+msg) }
	groups, msg := objects(body, "filterGroups")
	if msg != "" {
		bad(msg)
		return
	}
	if len(groups) > 5 {
		bad("at most 5 filterGroups")
		return
	}
	if n, _, msg := integer(body, "limit"); msg != "" || n > 200 {
		bad("limit must be an integer up to 200")
		return
	}
	if p, ok := body["properties"]; ok {
		list, ok := p.([]any)
		if !ok {
			bad("properties must be an array of strings")
			return
		}
		for _, e := range list {
			if _, ok := e.(string); !ok {
				bad("properties must be an array of strings")
				return
			}
		}
	}
	type filter struct{ prop, op, value string }
	var ors [][]filter
	for _, g := range groups {
		filters, msg := objects(g, "filters")
		if msg != "" || len(filters) == 0 {
			bad("each filterGroup needs filters")
			return
		}
		var and []filter
		for _, fl := range filters {
			prop, m1 := str(fl, "propertyName", true)
			op, m2 := str(fl, "operator", true)
			val, m3 := str(fl, "value", false)
			if m := m1 + m2 + m3; m != "" {
				bad(m)
				return
			}
			if !hubSpotOperators[op] {
				bad("unknown operator " + op)
				return
			}
			and = append(and, filter{prop, op, val})
		}
		ors = append(ors, and)
	}
	var results []map[string]any
	for _, id := range sortedIDs(store) {
		o := store[id]
		if f.unsearch[id] {
			continue
		}
		match := len(ors) == 0
		for _, and := range ors {
			all := true
			for _, fl := range and {
				if fl.op != "EQ" || lower(o.Properties[fl.prop]) != lower(fl.value) {
					all = false
				}
			}
			match = match || all
		}
		if match {
			results = append(results, object(o.ID, o.Properties))
		}
	}
	writeJSON(w, 200, map[string]any{"total": len(results), "results": orEmpty(results)})
}

// create checks {"properties":{string: string},"associations":[{"to":
// {"id"},"types":[{"associationCategory","associationTypeId"}]}]}.
func (f *HubSpot) create(w http.ResponseWriter, kind string, body map[string]any) {
	store, ok := f.objects[kind]
	if !ok {
		hsError(w, 404, "OBJECT_NOT_FOUND", "unknown object type "+kind)
		return
	}
	bad := func(msg string) { hsError(w, 400, "VALIDATION_ERROR", msg) }
	raw, ok := body["properties"].(map[string]any)
	if !ok {
		bad("properties is required and must be an object")
		return
	}
	props := map[string]string{}
	for k, v := range raw {
		s, ok := v.(string)
		if !ok {
			bad(fmt.Sprintf("Property values were not valid: %s must be a string", k))
			return
		}
		props[k] = s
	}
	switch kind {
	case "notes":
		ts := props["hs_timestamp"]
		if _, err := time.Parse(time.RFC3339, ts); err != nil {
			if _, err := strconv.ParseInt(ts, 10, 64); err != nil {
				bad("Property values were not valid: hs_timestamp is required (ISO 8601 or epoch milliseconds)")
				return
			}
		}
	case "deals":
		if props["dealname"] == "" || props["pipeline"] == "" || props["dealstage"] == "" {
			bad("Property values were not valid: dealname, pipeline and dealstage are required")
			return
		}
	case "contacts":
		if e := lower(props["email"]); e != "" {
			for _, o := range store {
				if lower(o.Properties["email"]) == e {
					hsError(w, http.StatusConflict, "CONFLICT", "Contact already exists. Existing ID: "+o.ID)
					return
				}
			}
		}
	}
	if owner := props["hubspot_owner_id"]; owner != "" {
		known := false
		for _, id := range f.owners {
			known = known || id == owner
		}
		if !known {
			bad(fmt.Sprintf("Property values were not valid: %q is not a valid owner id", owner))
			return
		}
	}
	assocs, msg := objects(body, "associations")
	if msg != "" {
		bad(msg)
		return
	}
	var out []HubSpotAssociation
	for _, a := range assocs {
		to, ok := a["to"].(map[string]any)
		if !ok {
			bad("associations[].to is required")
			return
		}
		toID, msg := str(to, "id", true)
		if msg != "" {
			bad("associations[].to." + msg)
			return
		}
		types, msg := objects(a, "types")
		if msg != "" || len(types) == 0 {
			bad("associations[].types is required")
			return
		}
		for _, ty := range types {
			cat, msg := str(ty, "associationCategory", true)
			typeID, _, msg2 := integer(ty, "associationTypeId")
			if msg+msg2 != "" || cat != "HUBSPOT_DEFINED" {
				bad("associations[].types[] needs associationCategory HUBSPOT_DEFINED and an integer associationTypeId")
				return
			}
			target := ""
			for tk, ids := range hubSpotTypes[kind] {
				for _, id := range ids {
					if id == typeID {
						target = tk
					}
				}
			}
			if target == "" {
				bad(fmt.Sprintf("association type %d is not defined from %s", typeID, kind))
				return
			}
			if f.objects[target][toID] == nil {
				bad(fmt.Sprintf("association to %s %s: no such record", target, toID))
				return
			}
			out = append(out, HubSpotAssociation{To: toID, TypeID: typeID})
		}
	}
	id := strconv.FormatInt(f.id(), 10)
	store[id] = &HubSpotObject{ID: id, Properties: props, Associations: out}
	writeJSON(w, http.StatusCreated, object(id, props))
}

// noteTypes is the note → kind association type, to list a record's notes.
var noteTypes = map[string]int64{"deals": 214, "companies": 190, "contacts": 202}

// notesOn answers GET /crm/v4/objects/{kind}/{id}/associations/notes:
// {"results":[{"toObjectId":n,"associationTypes":[{"category",
// "typeId","label"}]}]} (HubSpot docs, "Associations v4"; the note → record
// types read in reverse).
func (f *HubSpot) notesOn(w http.ResponseWriter, parts []string) {
	if len(parts) != 4 || noteTypes[parts[0]] == 0 || f.objects[parts[0]][parts[1]] == nil {
		hsError(w, 404, "OBJECT_NOT_FOUND", "resource not found")
		return
	}
	var results []map[string]any
	for _, id := range sortedIDs(f.objects["notes"]) {
		for _, a := range f.objects["notes"][id].Associations {
			if a.To == parts[1] && a.TypeID == noteTypes[parts[0]] {
				n, _ := strconv.ParseInt(id, 10, 64)
				results = append(results, map[string]any{"toObjectId": n,
					"associationTypes": []map[string]any{{"category": "HUBSPOT_DEFINED", "typeId": a.TypeID, "label": nil}}})
			}
		}
	}
	writeJSON(w, 200, map[string]any{"results": orEmpty(results)})
}

// batchRead checks {"properties":[…],"inputs":[{"id":"…"}]} and answers
// {"status":"COMPLETE","results":[objects]} (HubSpot docs, "Notes",
// batch read).
func (f *HubSpot) batchRead(w http.ResponseWriter, body map[string]any) {
	inputs, msg := objects(body, "inputs")
	if msg != "" || len(inputs) == 0 || len(inputs) > 100 {
		hsError(w, 400, "VALIDATION_ERROR", "inputs must hold 1 to 100 {\"id\": string}")
		return
	}
	var results []map[string]any
	for _, in := range inputs {
		id, msg := str(in, "id", true)
		if msg != "" {
			hsError(w, 400, "VALIDATION_ERROR", "inputs[]."+msg)
			return
		}
		if n := f.objects["notes"][id]; n != nil {
			results = append(results, object(id, n.Properties))
		}
	}
	writeJSON(w, 200, map[string]any{"status": "COMPLETE", "results": orEmpty(results),
		"startedAt": "2026-12-05T09:00:00.000Z", "completedAt": "2026-12-05T09:00:00.100Z"})
}

// DenyOwners makes the owners endpoint answer as HubSpot does for a token
// without the crm.objects.owners.read scope: 403 MISSING_SCOPES.
func (f *HubSpot) DenyOwners() {
	f.mu.Lock()
	f.noOwnersScope = true
	f.mu.Unlock()
}
