package crmfake

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// Pipedrive is a fake of Pipedrive's API v2 persons, organizations and
// deals (with their search) and API v1 notes and users. Shapes: the
// models and API classes of pipedrive/client-nodejs (src/versions/v2 and
// v1) and Pipedrive's docs ("Authentication": the x-api-token header;
// "Rate limiting": the x-ratelimit-* headers).
type Pipedrive struct {
	server
	Token   string
	Company string // the company domain in https://<company>.pipedrive.com

	orgs    map[int64]*PipedriveRecord
	persons map[int64]*PipedriveRecord
	deals   map[int64]*PipedriveRecord
	notes   map[int64]*PipedriveRecord
	users   map[string]int64 // e-mail → user id
}

// PipedriveRecord is one stored record: its fields as sent (numbers as
// int64 or float64) plus "id".
type PipedriveRecord map[string]any

// NewPipedrive starts the fake; the client must send token in x-api-token.
func NewPipedrive(t testing.TB, token string) *Pipedrive {
	f := &Pipedrive{Token: token, Company: "acme-sales",
		orgs: map[int64]*PipedriveRecord{}, persons: map[int64]*PipedriveRecord{},
		deals: map[int64]*PipedriveRecord{}, notes: map[int64]*PipedriveRecord{}, users: map[string]int64{}}
	f.start(t, f.serve)
	return f
}

// AddUser makes a Pipedrive user with the e-mail; it returns the user id.
func (f *Pipedrive) AddUser(email string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.id()
	f.users[lower(email)] = id
	return id
}

// AddOrganization stores an organization as if someone made it in
// Pipedrive; it returns its id.
func (f *Pipedrive) AddOrganization(name string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.id()
	f.orgs[id] = &PipedriveRecord{"id": id, "name": name}
	return id
}

// AddPerson stores a person (org 0: none); it returns its id.
func (f *Pipedrive) AddPerson(name, email string, org int64) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.id()
	p := PipedriveRecord{"id": id, "name": name, "emails": []any{map[string]any{"value": email, "primary": true, "label": "work"}}}
	if org != 0 {
		p["org_id"] = org
	}
	f.persons[id] = &p
	return id
}

// Count is how many records of kind ("organizations", "persons",
// "deals", "notes") exist.
func (f *Pipedrive) Count(kind string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.store(kind))
}

// Get returns a stored record, nil if none.
func (f *Pipedrive) Get(kind string, id int64) PipedriveRecord {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r := f.store(kind)[id]; r != nil {
		return *r
	}
	return nil
}

// SetDeal sets a deal's status ("open", "won", "lost", "deleted") and value.
func (f *Pipedrive) SetDeal(id int64, status string, value float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	(*f.deals[id])["status"] = status
	(*f.deals[id])["value"] = value
}

func (f *Pipedrive) store(kind string) map[int64]*PipedriveRecord {
	switch kind {
	case "organizations":
		return f.orgs
	case "persons":
		return f.persons
	case "deals":
		return f.deals
	case "notes":
		return f.notes
	}
	return nil
}

// pdError is Pipedrive's error body: {"success":false,"error":…,
// "error_info":…,"data":null,"additional_data":null}.
func pdError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"success": false, "error": msg, "error_info": "Please check developers.pipedrive.com for more information about Pipedrive API.", "data": nil, "additional_data": nil})
}

func pdOK(w http.ResponseWriter, status int, data any) {
	writeJSON(w, status, map[string]any{"success": true, "data": data})
}

func (f *Pipedrive) serve(w http.ResponseWriter, r *http.Request, body map[string]any, limited bool) {
	if r.Header.Get("x-api-token") != f.Token || r.URL.Query().Has("api_token") {
		// The token belongs in the header: a query parameter ends up in
		// proxy logs.
		pdError(w, http.StatusUnauthorized, "unauthorized access")
		return
	}
	if limited {
		w.Header().Set("x-ratelimit-limit", "40")
		w.Header().Set("x-ratelimit-remaining", "0")
		w.Header().Set("x-ratelimit-reset", "2")
		pdError(w, http.StatusTooManyRequests, "Request over limit")
		return
	}
	p := r.URL.Path
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodGet && p == "/v1/users/me":
		pdOK(w, 200, map[string]any{"id": 1, "name": "API user", "email": "api@acme.example", "company_id": 77, "company_name": "Acme Sales",
			"company_domain": f.Company, "company_country": "NL", "is_you": true})
	case r.Method == http.MethodGet && p == "/v1/users/find":
		if q.Get("term") == "" || q.Get("search_by_email") != "1" {
			pdError(w, 400, "term is required; search_by_email must be 0 or 1")
			return
		}
		var data []map[string]any
		if id, ok := f.users[lower(q.Get("term"))]; ok {
			data = append(data, map[string]any{"id": id, "name": "Owner", "email": q.Get("term"), "active_flag": true, "is_deleted": false})
		}
		pdOK(w, 200, data)
	case r.Method == http.MethodGet && strings.HasPrefix(p, "/api/v2/") && strings.HasSuffix(p, "/search"):
		f.search(w, strings.TrimSuffix(strings.TrimPrefix(p, "/api/v2/"), "/search"), q)
	case r.Method == http.MethodPost && p == "/api/v2/organizations":
		f.createOrg(w, body)
	case r.Method == http.MethodPost && p == "/api/v2/persons":
		f.createPerson(w, body)
	case r.Method == http.MethodPost && p == "/api/v2/deals":
		f.createDeal(w, body)
	case r.Method == http.MethodGet && p == "/v1/notes":
		f.listNotes(w, q)
	case r.Method == http.MethodPost && p == "/v1/notes":
		f.createNote(w, body)
	case r.Method == http.MethodGet && strings.HasPrefix(p, "/api/v2/deals/"):
		id, _ := strconv.ParseInt(strings.TrimPrefix(p, "/api/v2/deals/"), 10, 64)
		d := f.deals[id]
		if d == nil {
			pdError(w, 404, "Deal not found")
			return
		}
		pdOK(w, 200, *d)
	default:
		pdError(w, 404, "Unknown method "+r.Method+" "+p)
	}
}

// search checks term (at least 2 characters, 1 with exact_match), fields
// (each allowed for the kind), exact_match (true|false), and answers
// {"data":{"items":[{"result_score","item"}]},"additional_data":{"next_cursor":null}}.
func (f *Pipedrive) search(w http.ResponseWriter, kind string, q map[string][]string) {
	allowed := map[string][]string{
		"persons":       {"custom_fields", "email", "notes", "phone", "name"},
		"organizations": {"address", "custom_fields", "notes", "name"},
		"deals":         {"custom_fields", "notes", "title"},
	}[kind]
	if allowed == nil {
		pdError(w, 404, "Unknown search "+kind)
		return
	}
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	exact := get("exact_match")
	if exact != "" && exact != "true" && exact != "false" {
		pdError(w, 400, "exact_match must be a boolean")
		return
	}
	term := get("term")
	if len([]rune(term)) < 2 && !(exact == "true" && term != "") {
		pdError(w, 400, "term must be at least 2 characters (1 with exact_match)")
		return
	}
	fields := allowed
	if v := get("fields"); v != "" {
		fields = strings.Split(v, ",")
		for _, fl := range fields {
			ok := false
			for _, a := range allowed {
				ok = ok || a == fl
			}
			if !ok {
				pdError(w, 400, fmt.Sprintf("fields: %q is not searchable on %s", fl, kind))
				return
			}
		}
	}
	matches := func(s string) bool {
		if exact == "true" {
			return lower(s) == lower(term)
		}
		return strings.Contains(lower(s), lower(term))
	}
	var items []map[string]any
	store := f.store(kind)
	for _, id := range sortedInt(store) {
		rec := *store[id]
		hit := false
		for _, fl := range fields {
			switch fl {
			case "name":
				hit = hit || matches(asString(rec["name"]))
			case "title":
				hit = hit || matches(asString(rec["title"]))
			case "email":
				for _, e := range emails(rec) {
					hit = hit || matches(e)
				}
			}
		}
		if !hit {
			continue
		}
		item := map[string]any{"id": id, "type": strings.TrimSuffix(kind, "s"), "visible_to": 3, "custom_fields": []string{}, "notes": []string{}}
		switch kind {
		case "persons":
			item["name"] = rec["name"]
			item["emails"] = emails(rec)
			item["phones"] = []string{}
			if org, ok := rec["org_id"].(int64); ok {
				item["organization"] = map[string]any{"id": org, "name": asString((*f.orgs[org])["name"]), "address": nil}
			} else {
				item["organization"] = nil
			}
		case "organizations":
			item["name"] = rec["name"]
			item["address"] = nil
		case "deals":
			item["title"] = rec["title"]
			item["status"] = rec["status"]
			item["value"] = rec["value"]
			item["currency"] = "EUR"
		}
		items = append(items, map[string]any{"result_score": 1.0, "item": item})
	}
	writeJSON(w, 200, map[string]any{"success": true, "data": map[string]any{"items": orEmpty(items)}, "additional_data": map[string]any{"next_cursor": nil}})
}

func asString(v any) string {
	s, _ := v.(string)
	return s
}

func emails(rec PipedriveRecord) []string {
	var out []string
	list, _ := rec["emails"].([]any)
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			out = append(out, asString(m["value"]))
		}
	}
	return out
}

// ref checks an optional integer id field that must name a record in
// store (nil store: a user id).
func (f *Pipedrive) ref(body map[string]any, key string, store map[int64]*PipedriveRecord) (int64, string) {
	id, ok, msg := integer(body, key)
	if msg != "" || !ok {
		return 0, msg
	}
	if store == nil {
		for _, u := range f.users {
			if u == id {
				return id, ""
			}
		}
		return 0, fmt.Sprintf("%s %d: no such user", key, id)
	}
	if store[id] == nil {
		return 0, fmt.Sprintf("%s %d: no such record", key, id)
	}
	return id, ""
}

// save stores the record with its checked fields and answers 201 with
// {"success":true,"data":{…,"id":n}} (client-nodejs test/functional/v2/
// deal.test.ts, "should create a deal").
func (f *Pipedrive) save(w http.ResponseWriter, store map[int64]*PipedriveRecord, rec PipedriveRecord) {
	id := f.id()
	rec["id"] = id
	store[id] = &rec
	pdOK(w, http.StatusCreated, rec)
}

// createOrg checks AddOrganizationRequest: name (string, required),
// owner_id (integer, a user).
func (f *Pipedrive) createOrg(w http.ResponseWriter, body map[string]any) {
	name, msg := str(body, "name", true)
	owner, msg2 := f.ref(body, "owner_id", nil)
	if m := msg + msg2; m != "" || strings.TrimSpace(name) == "" {
		pdError(w, 400, "Validation failed: "+m)
		return
	}
	rec := PipedriveRecord{"name": name}
	if owner != 0 {
		rec["owner_id"] = owner
	}
	f.save(w, f.orgs, rec)
}

// createPerson checks AddPersonRequest: name (string, required), emails
// [{value string, primary bool, label string}], phones (same), org_id
// (an organization), owner_id (a user).
func (f *Pipedrive) createPerson(w http.ResponseWriter, body map[string]any) {
	name, msg := str(body, "name", true)
	org, msg2 := f.ref(body, "org_id", f.orgs)
	owner, msg3 := f.ref(body, "owner_id", nil)
	m := msg + msg2 + msg3
	rec := PipedriveRecord{"name": name}
	for _, key := range []string{"emails", "phones"} {
		list, msg := objects(body, key)
		m += msg
		var out []any
		for _, e := range list {
			v, msg := str(e, "value", true)
			_, msg2 := str(e, "label", false)
			m += msg + msg2 + boolean(e, "primary")
			out = append(out, map[string]any{"value": v, "primary": e["primary"], "label": e["label"]})
		}
		if out != nil {
			rec[key] = out
		}
	}
	if m != "" || strings.TrimSpace(name) == "" {
		pdError(w, 400, "Validation failed: "+m)
		return
	}
	if org != 0 {
		rec["org_id"] = org
	}
	if owner != 0 {
		rec["owner_id"] = owner
	}
	f.save(w, f.persons, rec)
}

// createDeal checks AddDealRequest: title (string, required), owner_id,
// person_id, org_id (integers naming records); a new deal is open.
func (f *Pipedrive) createDeal(w http.ResponseWriter, body map[string]any) {
	title, msg := str(body, "title", true)
	owner, msg2 := f.ref(body, "owner_id", nil)
	person, msg3 := f.ref(body, "person_id", f.persons)
	org, msg4 := f.ref(body, "org_id", f.orgs)
	if m := msg + msg2 + msg3 + msg4; m != "" || strings.TrimSpace(title) == "" {
		pdError(w, 400, "Validation failed: "+m)
		return
	}
	rec := PipedriveRecord{"title": title, "status": "open", "value": 0.0, "currency": "EUR", "is_deleted": false, "is_archived": false}
	for k, v := range map[string]int64{"owner_id": owner, "person_id": person, "org_id": org} {
		if v != 0 {
			rec[k] = v
		}
	}
	f.save(w, f.deals, rec)
}

// createNote checks AddNoteRequest: content (string, required) and at
// least one of deal_id, person_id, org_id naming a record.
func (f *Pipedrive) createNote(w http.ResponseWriter, body map[string]any) {
	content, msg := str(body, "content", true)
	deal, m1 := f.ref(body, "deal_id", f.deals)
	person, m2 := f.ref(body, "person_id", f.persons)
	org, m3 := f.ref(body, "org_id", f.orgs)
	if m := msg + m1 + m2 + m3; m != "" || content == "" || deal+person+org == 0 {
		pdError(w, 400, "Validation failed: content and one of deal_id, person_id, org_id are required. "+m)
		return
	}
	rec := PipedriveRecord{"content": content}
	for k, v := range map[string]int64{"deal_id": deal, "person_id": person, "org_id": org} {
		if v != 0 {
			rec[k] = v
		}
	}
	f.save(w, f.notes, rec)
}

func sortedInt(m map[int64]*PipedriveRecord) []int64 {
	ids := make([]int64, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	for i := 1; i < len(ids); i++ {
		for j := i; j > 0 && ids[j] < ids[j-1]; j-- {
			ids[j], ids[j-1] = ids[j-1], ids[j]
		}
	}
	return ids
}

// listNotes answers GET /v1/notes?deal_id=|person_id=|org_id= with
// {"success":true,"data":[notes]} (client-nodejs v1 notes-api.ts getNotes).
func (f *Pipedrive) listNotes(w http.ResponseWriter, q map[string][]string) {
	var data []map[string]any
	for _, id := range sortedInt(f.notes) {
		n := *f.notes[id]
		match := true
		for _, key := range []string{"deal_id", "person_id", "org_id"} {
			if v := q[key]; len(v) > 0 {
				want, err := strconv.ParseInt(v[0], 10, 64)
				if err != nil {
					pdError(w, 400, key+" must be an integer")
					return
				}
				match = match && n[key] == want
			}
		}
		if match {
			data = append(data, map[string]any(n))
		}
	}
	pdOK(w, 200, data)
}
