package crm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/leadtriage/leadtriage/triage"
)

// HubSpot CRM v3 (https://developers.hubspot.com/docs/api/crm/understanding-the-crm).
const (
	HubSpotURL = "https://api.hubapi.com"

	// HUBSPOT_DEFINED association type ids (HubSpot docs, "Associations
	// v4": association type ids): contact → company (primary) 1, deal →
	// contact 3, deal → company (primary) 5, note → company 190, note →
	// contact 202, note → deal 214.
	hsContactToCompany = 1
	hsDealToContact    = 3
	hsDealToCompany    = 5
	hsNoteToCompany    = 190
	hsNoteToContact    = 202
	hsNoteToDeal       = 214

	// A new deal starts in the first stage of the default pipeline, as in a
	// new HubSpot account ("default", "appointmentscheduled").
	hsPipeline = "default"
	hsStage    = "appointmentscheduled"
)

// HubSpot hands leads to HubSpot with a private app's access token
// (scopes: crm.objects.companies/contacts/deals read+write,
// crm.objects.owners.read; notes ride on the object scopes).
type HubSpot struct {
	c    client
	base string

	mu      sync.Mutex
	owners  map[string]string // e-mail → owner id
	account *hsAccount
}

var _ CRM = (*HubSpot)(nil)

// NewHubSpot returns the HubSpot client; base "" is HubSpotURL, hc nil is
// a client with a 30-second time-out, now nil is time.Now.
func NewHubSpot(token, base string, hc *http.Client, now func() time.Time) *HubSpot {
	return &HubSpot{
		base:   baseURL(base, HubSpotURL),
		owners: map[string]string{},
		c: newClient(hc, now, hubSpotRetryAfter,
			func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }),
	}
}

func (*HubSpot) Name() string { return "hubspot" }

// hubSpotRetryAfter reads HubSpot's rate-limit answer when it sends no
// Retry-After: the ten-second window's length when it is used up
// (X-HubSpot-RateLimit-Remaining 0, -Interval-Milliseconds), one second
// for the per-second limit, an hour for the daily limit (it resets at
// midnight in the account's zone; the worker's backoff covers the rest).
// The 429 body is {"status":"error","errorType":"RATE_LIMIT","policyName":
// "DAILY"|"TEN_SECONDLY_ROLLING"|…} (HubSpot docs, "API usage details").
func hubSpotRetryAfter(h http.Header, body []byte) time.Duration {
	var e struct {
		PolicyName string `json:"policyName"`
	}
	_ = json.Unmarshal(body, &e) // an unreadable body leaves the headers to decide
	if e.PolicyName == "DAILY" || h.Get("X-HubSpot-RateLimit-Daily-Remaining") == "0" {
		return time.Hour
	}
	if h.Get("X-HubSpot-RateLimit-Remaining") == "0" {
		if ms, err := strconv.Atoi(h.Get("X-HubSpot-RateLimit-Interval-Milliseconds")); err == nil && ms > 0 {
			return time.Duration(ms) * time.Millisecond
		}
	}
	if e.PolicyName == "SECONDLY" || h.Get("X-HubSpot-RateLimit-Secondly-Remaining") == "0" {
		return time.Second
	}
	return 10 * time.Second // HubSpot's burst window
}

// HubSpot shapes, only the fields we use. A CRM object is {"id":"512",
// "properties":{…},"createdAt":…,"updatedAt":…,"archived":false}; a search
// answers {"total":n,"results":[objects]} (HubSpot docs, "CRM search").
type hsObject struct {
	ID         string            `json:"id"`
	Properties map[string]string `json:"properties"`
	Archived   bool              `json:"archived"`
}

type hsSearchResult struct {
	Total   int        `json:"total"`
	Results []hsObject `json:"results"`
}

type hsFilter struct {
	PropertyName string `json:"propertyName"`
	Operator     string `json:"operator"`
	Value        string `json:"value"`
}

type hsFilterGroup struct {
	Filters []hsFilter `json:"filters"`
}

type hsSearch struct {
	FilterGroups []hsFilterGroup `json:"filterGroups"`
	Properties   []string        `json:"properties"`
	Limit        int             `json:"limit"`
}

type hsAssociationType struct {
	Category string `json:"associationCategory"`
	TypeID   int    `json:"associationTypeId"`
}

type hsAssociation struct {
	To struct {
		ID string `json:"id"`
	} `json:"to"`
	Types []hsAssociationType `json:"types"`
}

type hsCreate struct {
	Properties   map[string]string `json:"properties"`
	Associations []hsAssociation   `json:"associations,omitempty"`
}

// hsAccount is GET /account-info/v3/details: {"portalId":62515,
// "uiDomain":"app.hubspot.com","timeZone":…,"companyCurrency":…,
// "dataHostingLocation":…} (HubSpot docs, "Account information").
type hsAccount struct {
	PortalID int64  `json:"portalId"`
	UIDomain string `json:"uiDomain"`
}

func assoc(id string, typeID int) hsAssociation {
	a := hsAssociation{Types: []hsAssociationType{{Category: "HUBSPOT_DEFINED", TypeID: typeID}}}
	a.To.ID = id
	return a
}

// search finds the first object of kind ("companies", …) whose property
// equals value.
func (s *HubSpot) search(ctx context.Context, kind, property, value string) (*hsObject, error) {
	var res hsSearchResult
	q := hsSearch{
		FilterGroups: []hsFilterGroup{{Filters: []hsFilter{{PropertyName: property, Operator: "EQ", Value: value}}}},
		Properties:   []string{property},
		Limit:        10,
	}
	if err := s.c.do(ctx, http.MethodPost, s.base+"/crm/v3/objects/"+kind+"/search", q, &res); err != nil {
		return nil, fmt.Errorf("searching hubspot %s by %s: %w", kind, property, err)
	}
	for _, r := range res.Results {
		if !r.Archived && strings.EqualFold(strings.TrimSpace(r.Properties[property]), value) {
			return &r, nil
		}
	}
	return nil, nil
}

func (s *HubSpot) create(ctx context.Context, kind string, in hsCreate) (string, error) {
	var out hsObject
	if err := s.c.do(ctx, http.MethodPost, s.base+"/crm/v3/objects/"+kind, in, &out); err != nil {
		return "", fmt.Errorf("creating hubspot %s: %w", kind, err)
	}
	if out.ID == "" {
		return "", fmt.Errorf("creating hubspot %s: answer without an id", kind)
	}
	return out.ID, nil
}

// link is where a person opens a record: https://<uiDomain>/contacts/
// <portal>/record/<object type id>/<id> (0-1 contact, 0-2 company, 0-3
// deal). "" when the account details are not readable.
func (s *HubSpot) link(ctx context.Context, objectType, id string) string {
	s.mu.Lock()
	acc := s.account
	s.mu.Unlock()
	if acc == nil {
		var a hsAccount
		if err := s.c.do(ctx, http.MethodGet, s.base+"/account-info/v3/details", nil, &a); err != nil || a.PortalID == 0 {
			return ""
		}
		if a.UIDomain == "" || strings.ContainsAny(a.UIDomain, "/?#@") {
			a.UIDomain = "app.hubspot.com"
		}
		s.mu.Lock()
		s.account = &a
		s.mu.Unlock()
		acc = &a
	}
	return fmt.Sprintf("https://%s/contacts/%d/record/%s/%s", acc.UIDomain, acc.PortalID, objectType, url.PathEscape(id))
}

// owner maps an e-mail to a HubSpot owner id, cached; "" when no owner has
// that e-mail (the deal stays unowned: not an error).
func (s *HubSpot) owner(ctx context.Context, email string) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return "", nil
	}
	s.mu.Lock()
	id, ok := s.owners[email]
	s.mu.Unlock()
	if ok {
		return id, nil
	}
	// GET /crm/v3/owners?email= answers {"results":[{"id":"41629779",
	// "email":…,"firstName":…,"lastName":…,"userId":…,"archived":false}]}
	// (HubSpot docs, "CRM owners").
	var res struct {
		Results []struct {
			ID       string `json:"id"`
			Email    string `json:"email"`
			Archived bool   `json:"archived"`
		} `json:"results"`
	}
	if err := s.c.do(ctx, http.MethodGet, s.base+"/crm/v3/owners?"+url.Values{"email": {email}, "limit": {"1"}}.Encode(), nil, &res); err != nil {
		var se *StatusError
		if errors.As(err, &se) && se.Status == http.StatusForbidden {
			// The token lacks crm.objects.owners.read: a deal without an
			// owner beats no deal (`leadtriage check` names the scope).
			return "", nil
		}
		return "", fmt.Errorf("looking up hubspot owner: %w", err)
	}
	for _, o := range res.Results {
		if !o.Archived && strings.EqualFold(o.Email, email) && o.ID != "" {
			s.mu.Lock()
			s.owners[email] = o.ID
			s.mu.Unlock()
			return o.ID, nil
		}
	}
	return "", nil
}

// hsFound is what a hand-off found or made; "" ids are absent.
type hsFound struct {
	company, contact, deal string
	dealMade               bool // the deal was created in this call: no note can be on it yet
	records                []triage.CRMRecord
}

func (s *HubSpot) add(ctx context.Context, f *hsFound, kind, objectType, id string) {
	f.records = append(f.records, triage.CRMRecord{System: s.Name(), Kind: kind, ID: id, URL: s.link(ctx, objectType, id), At: s.c.now()})
}

// find finds the company and the contact: the lead's records first, then
// a search by domain (else name) and by e-mail.
func (s *HubSpot) find(ctx context.Context, h Handoff) (hsFound, error) {
	var f hsFound
	l := h.Lead
	if r, ok := h.record(s.Name(), "company"); ok {
		f.company = r.ID
	} else if d := companyDomain(l); d != "" {
		o, err := s.search(ctx, "companies", "domain", d)
		if err != nil {
			return f, err
		}
		if o != nil {
			f.company = o.ID
		}
	} else if n := strings.TrimSpace(l.Company); n != "" {
		o, err := s.search(ctx, "companies", "name", n)
		if err != nil {
			return f, err
		}
		if o != nil {
			f.company = o.ID
		}
	}
	if r, ok := h.record(s.Name(), "contact"); ok {
		f.contact = r.ID
	} else if e := strings.ToLower(l.Email); e != "" {
		o, err := s.search(ctx, "contacts", "email", e)
		if err != nil {
			return f, err
		}
		if o != nil {
			f.contact = o.ID
		}
	}
	return f, nil
}

// Qualify: search → create company → create contact (associated with the
// company) → owner → find or create the deal → note.
func (s *HubSpot) Qualify(ctx context.Context, h Handoff) (recs []triage.CRMRecord, err error) {
	l := h.Lead
	f, err := s.find(ctx, h)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil { // what exists already is kept, so a retry builds on it
			recs = madeSoFar(s.Name(), s.c.now(), [2]string{"company", f.company}, [2]string{"contact", f.contact}, [2]string{"deal", f.deal})
		}
	}()
	if f.company == "" && companyName(l) != "" {
		props := map[string]string{"name": companyName(l)}
		if d := companyDomain(l); d != "" {
			props["domain"] = d
		}
		if f.company, err = s.create(ctx, "companies", hsCreate{Properties: props}); err != nil {
			return nil, err
		}
	}
	if f.contact == "" && l.Email != "" {
		props := map[string]string{"email": strings.ToLower(l.Email)}
		first, last := splitName(l.Name)
		setIf(props, "firstname", first)
		setIf(props, "lastname", last)
		setIf(props, "phone", l.Phone)
		setIf(props, "company", l.Company)
		in := hsCreate{Properties: props}
		if f.company != "" {
			in.Associations = []hsAssociation{assoc(f.company, hsContactToCompany)}
		}
		id, err := s.create(ctx, "contacts", in)
		var se *StatusError
		if errors.As(err, &se) && se.Status == http.StatusConflict {
			// HubSpot keeps e-mails unique: a contact the search index
			// did not show yet. Its answer names it: "Contact already
			// exists. Existing ID: 123".
			id = existingID(se.Body)
			if id == "" {
				return nil, err
			}
		} else if err != nil {
			return nil, err
		}
		f.contact = id
	}
	if f.company != "" {
		s.add(ctx, &f, "company", "0-2", f.company)
	}
	if f.contact != "" {
		s.add(ctx, &f, "contact", "0-1", f.contact)
	}
	if r, ok := h.record(s.Name(), "deal"); ok {
		f.deal = r.ID
	} else {
		o, err := s.search(ctx, "deals", "dealname", DealName(l))
		if err != nil {
			return nil, err
		}
		if o != nil {
			f.deal = o.ID
		}
	}
	owner, err := s.owner(ctx, h.OwnerEmail)
	if err != nil {
		return nil, err
	}
	if f.deal == "" {
		props := map[string]string{"dealname": DealName(l), "pipeline": hsPipeline, "dealstage": hsStage}
		setIf(props, "hubspot_owner_id", owner)
		in := hsCreate{Properties: props}
		if f.company != "" {
			in.Associations = append(in.Associations, assoc(f.company, hsDealToCompany))
		}
		if f.contact != "" {
			in.Associations = append(in.Associations, assoc(f.contact, hsDealToContact))
		}
		if f.deal, err = s.create(ctx, "deals", in); err != nil {
			return nil, err
		}
		f.dealMade = true
	}
	s.add(ctx, &f, "deal", "0-3", f.deal)
	if !h.noted(s.Name()) {
		id, err := s.note(ctx, h, f, owner)
		if err != nil {
			return nil, err
		}
		f.records = append(f.records, triage.CRMRecord{System: s.Name(), Kind: "note", ID: id, At: s.c.now()})
	}
	return f.records, nil
}

// Note puts the note on the existing company and contact only.
func (s *HubSpot) Note(ctx context.Context, h Handoff) ([]triage.CRMRecord, error) {
	f, err := s.find(ctx, h)
	if err != nil {
		return nil, err
	}
	if f.company == "" && f.contact == "" {
		return nil, nil
	}
	if f.company != "" {
		s.add(ctx, &f, "company", "0-2", f.company)
	}
	if f.contact != "" {
		s.add(ctx, &f, "contact", "0-1", f.contact)
	}
	if !h.noted(s.Name()) {
		id, err := s.note(ctx, h, f, "")
		if err != nil {
			return nil, err
		}
		f.records = append(f.records, triage.CRMRecord{System: s.Name(), Kind: "note", ID: id, At: s.c.now()})
	}
	return f.records, nil
}

// note creates the note associated with whatever was found: POST
// /crm/v3/objects/notes with hs_note_body and hs_timestamp (required)
// (HubSpot docs, "Notes").
func (s *HubSpot) note(ctx context.Context, h Handoff, f hsFound, owner string) (string, error) {
	if !f.dealMade {
		kind, id := "deals", f.deal
		switch {
		case id != "":
		case f.contact != "":
			kind, id = "contacts", f.contact
		default:
			kind, id = "companies", f.company
		}
		existing, err := s.existingNote(ctx, kind, id, noteKey(h))
		if err != nil || existing != "" {
			return existing, err
		}
	}
	props := map[string]string{
		"hs_note_body": NoteHTML(h),
		"hs_timestamp": s.c.now().UTC().Format("2006-01-02T15:04:05.000Z"),
	}
	setIf(props, "hubspot_owner_id", owner)
	in := hsCreate{Properties: props}
	if f.deal != "" {
		in.Associations = append(in.Associations, assoc(f.deal, hsNoteToDeal))
	}
	if f.company != "" {
		in.Associations = append(in.Associations, assoc(f.company, hsNoteToCompany))
	}
	if f.contact != "" {
		in.Associations = append(in.Associations, assoc(f.contact, hsNoteToContact))
	}
	return s.create(ctx, "notes", in)
}

// existingNote finds this decision's note among the notes on a record:
// GET /crm/v4/objects/{kind}/{id}/associations/notes answers {"results":
// [{"toObjectId":123,"associationTypes":[…]}]} (HubSpot docs,
// "Associations v4"), then POST /crm/v3/objects/notes/batch/read with
// {"properties":["hs_note_body"],"inputs":[{"id":"123"}]} answers
// {"status":"COMPLETE","results":[objects]} (HubSpot docs, "Notes").
// Neither depends on the search index, which lags behind writes.
func (s *HubSpot) existingNote(ctx context.Context, kind, id, key string) (string, error) {
	if key == "" {
		return "", nil
	}
	var assocs struct {
		Results []struct {
			ToObjectID json.Number `json:"toObjectId"`
		} `json:"results"`
	}
	if err := s.c.do(ctx, http.MethodGet, s.base+"/crm/v4/objects/"+kind+"/"+url.PathEscape(id)+"/associations/notes?limit=500", nil, &assocs); err != nil {
		return "", fmt.Errorf("listing hubspot notes: %w", err)
	}
	if len(assocs.Results) == 0 {
		return "", nil
	}
	type input struct {
		ID string `json:"id"`
	}
	in := struct {
		Properties []string `json:"properties"`
		Inputs     []input  `json:"inputs"`
	}{Properties: []string{"hs_note_body"}}
	for _, a := range assocs.Results {
		in.Inputs = append(in.Inputs, input{ID: a.ToObjectID.String()})
	}
	var notes hsSearchResult
	if err := s.c.do(ctx, http.MethodPost, s.base+"/crm/v3/objects/notes/batch/read", in, &notes); err != nil {
		return "", fmt.Errorf("reading hubspot notes: %w", err)
	}
	for _, n := range notes.Results {
		if hasKey(n.Properties["hs_note_body"], key) {
			return n.ID, nil
		}
	}
	return "", nil
}

// DealState reads hs_is_closed_won and hs_is_closed, HubSpot's own
// reading of the deal's stage (true for any pipeline's won or lost
// stage), and amount.
func (s *HubSpot) DealState(ctx context.Context, rec triage.CRMRecord) (triage.OutcomeKind, int64, error) {
	if rec.System != s.Name() || rec.Kind != "deal" || rec.ID == "" {
		return "", 0, fmt.Errorf("reading hubspot deal: %s %s %q is not a hubspot deal", rec.System, rec.Kind, rec.ID)
	}
	var o hsObject
	u := s.base + "/crm/v3/objects/deals/" + url.PathEscape(rec.ID) + "?properties=dealstage,amount,hs_is_closed_won,hs_is_closed"
	if err := s.c.do(ctx, http.MethodGet, u, nil, &o); err != nil {
		var se *StatusError
		if errors.As(err, &se) && se.Status == http.StatusNotFound {
			return "", 0, fmt.Errorf("reading hubspot deal %s: %w", rec.ID, ErrGone)
		}
		return "", 0, fmt.Errorf("reading hubspot deal %s: %w", rec.ID, err)
	}
	if o.Archived {
		return "", 0, fmt.Errorf("reading hubspot deal %s: %w", rec.ID, ErrGone)
	}
	value := wholeUnits(o.Properties["amount"])
	switch {
	case o.Properties["hs_is_closed_won"] == "true":
		return triage.OutcomeWon, value, nil
	case o.Properties["hs_is_closed"] == "true":
		return triage.OutcomeLost, value, nil
	}
	return "", value, nil
}

// wholeUnits reads an amount ("12000.50") as whole currency units.
func wholeUnits(s string) int64 {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || v < 0 || v > 1e15 || math.IsNaN(v) {
		return 0
	}
	return int64(math.Round(v))
}

// existingID reads the id from HubSpot's 409 "… Existing ID: 123".
func existingID(body string) string {
	const marker = "Existing ID: "
	i := strings.Index(body, marker)
	if i < 0 {
		return ""
	}
	rest := body[i+len(marker):]
	n := 0
	for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
		n++
	}
	return rest[:n]
}

func splitName(name string) (first, last string) {
	f := strings.Fields(name)
	switch len(f) {
	case 0:
		return "", ""
	case 1:
		return f[0], ""
	}
	return f[0], strings.Join(f[1:], " ")
}

func setIf(m map[string]string, k, v string) {
	if v = strings.TrimSpace(v); v != "" {
		m[k] = v
	}
}

// Ping implements CRM: GET /account-info/v3/details (the question link
// asks), then one page of owners, which a token without
// crm.objects.owners.read is refused (403).
func (s *HubSpot) Ping(ctx context.Context) error {
	var a hsAccount
	if err := s.c.do(ctx, http.MethodGet, s.base+"/account-info/v3/details", nil, &a); err != nil {
		return err
	}
	var owners struct{}
	return s.c.do(ctx, http.MethodGet, s.base+"/crm/v3/owners?limit=1", nil, &owners)
}
