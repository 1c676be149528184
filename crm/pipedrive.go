package crm

import (
	"context"
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

// Pipedrive: API v2 for persons, organizations, deals and their search
// (the v1 versions are out of support since August 2026: Pipedrive
// changelog, "Deprecation of selected API v1 endpoints"); v1 for notes and
// users, which have no v2 yet. The token goes in the x-api-token header
// (Pipedrive docs, "Authentication").
const PipedriveURL = "https://api.pipedrive.com"

// Pipedrive hands leads to Pipedrive with a user's API token.
type Pipedrive struct {
	c    client
	base string

	mu      sync.Mutex
	users   map[string]int64 // e-mail → user id
	company string           // the company domain in https://<company>.pipedrive.com
}

var _ CRM = (*Pipedrive)(nil)

// NewPipedrive returns the Pipedrive client; base "" is PipedriveURL (the
// paths /api/v2/… and /v1/… hang below it), hc nil a client with a
// 30-second time-out, now nil time.Now.
func NewPipedrive(token, base string, hc *http.Client, now func() time.Time) *Pipedrive {
	return &Pipedrive{
		base:  baseURL(base, PipedriveURL),
		users: map[string]int64{},
		c: newClient(hc, now, pipedriveRetryAfter,
			func(r *http.Request) { r.Header.Set("x-api-token", token) }),
	}
}

func (*Pipedrive) Name() string { return "pipedrive" }

// pipedriveRetryAfter reads x-ratelimit-reset, the seconds left in the
// rate-limit window (Pipedrive docs, "Rate limiting"); its 429 usually
// carries Retry-After too, which wins.
func pipedriveRetryAfter(h http.Header, _ []byte) time.Duration {
	if s, err := strconv.Atoi(strings.TrimSpace(h.Get("x-ratelimit-reset"))); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	return 2 * time.Second // Pipedrive's window
}

// Pipedrive shapes, only the fields we use. Every answer is {"success":
// true,"data":…}; a v2 search answers {"success":true,"data":{"items":
// [{"result_score":…,"item":{…}}]},"additional_data":{"next_cursor":…}}
// (pipedrive/client-nodejs src/versions/v2/models/get-person-search-
// response*.ts, get-organization-search-response*.ts, get-deal-search-
// response*.ts).
type pdID struct {
	ID int64 `json:"id"`
}

type pdSearchItem struct {
	ID           int64    `json:"id"`
	Name         string   `json:"name"`
	Title        string   `json:"title"`
	Emails       []string `json:"emails"`
	Organization *pdID    `json:"organization"`
}

type pdSearch struct {
	Data struct {
		Items []struct {
			Item pdSearchItem `json:"item"`
		} `json:"items"`
	} `json:"data"`
}

func (p *Pipedrive) search(ctx context.Context, kind string, q url.Values) ([]pdSearchItem, error) {
	var res pdSearch
	if err := p.c.do(ctx, http.MethodGet, p.base+"/api/v2/"+kind+"/search?"+q.Encode(), nil, &res); err != nil {
		return nil, fmt.Errorf("searching pipedrive %s: %w", kind, err)
	}
	out := make([]pdSearchItem, 0, len(res.Data.Items))
	for _, it := range res.Data.Items {
		out = append(out, it.Item)
	}
	return out, nil
}

func (p *Pipedrive) create(ctx context.Context, path string, in any) (int64, error) {
	var out struct {
		Data pdID `json:"data"`
	}
	if err := p.c.do(ctx, http.MethodPost, p.base+path, in, &out); err != nil {
		return 0, fmt.Errorf("creating pipedrive %s: %w", path, err)
	}
	if out.Data.ID == 0 {
		return 0, fmt.Errorf("creating pipedrive %s: answer without an id", path)
	}
	return out.Data.ID, nil
}

// link is https://<company>.pipedrive.com/<kind>/<id>; the company domain
// comes from GET /v1/users/me ({"data":{"id":…,"company_domain":"acme",…}},
// client-nodejs v1 get-current-user-response-all-of-data-all-of.ts).
func (p *Pipedrive) link(ctx context.Context, kind string, id int64) string {
	p.mu.Lock()
	company := p.company
	p.mu.Unlock()
	if company == "" {
		var me struct {
			Data struct {
				CompanyDomain string `json:"company_domain"`
			} `json:"data"`
		}
		if err := p.c.do(ctx, http.MethodGet, p.base+"/v1/users/me", nil, &me); err != nil {
			return ""
		}
		company = me.Data.CompanyDomain
		if company == "" || strings.ContainsAny(company, "./?#@:") {
			return ""
		}
		p.mu.Lock()
		p.company = company
		p.mu.Unlock()
	}
	return fmt.Sprintf("https://%s.pipedrive.com/%s/%d", company, kind, id)
}

// user maps an e-mail to a Pipedrive user id, cached; 0 when none has it.
// GET /v1/users/find?term=&search_by_email=1 answers {"data":[{"id":…,
// "email":…,"active_flag":true,…}]} (client-nodejs v1 users-api.ts,
// base-user.ts).
func (p *Pipedrive) user(ctx context.Context, email string) (int64, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return 0, nil
	}
	p.mu.Lock()
	id, ok := p.users[email]
	p.mu.Unlock()
	if ok {
		return id, nil
	}
	var res struct {
		Data []struct {
			ID         int64  `json:"id"`
			Email      string `json:"email"`
			ActiveFlag bool   `json:"active_flag"`
		} `json:"data"`
	}
	if err := p.c.do(ctx, http.MethodGet, p.base+"/v1/users/find?"+url.Values{"term": {email}, "search_by_email": {"1"}}.Encode(), nil, &res); err != nil {
		return 0, fmt.Errorf("looking up pipedrive user: %w", err)
	}
	for _, u := range res.Data {
		if u.ActiveFlag && strings.EqualFold(u.Email, email) && u.ID != 0 {
			p.mu.Lock()
			p.users[email] = u.ID
			p.mu.Unlock()
			return u.ID, nil
		}
	}
	return 0, nil
}

type pdFound struct {
	org, person, deal int64
	dealMade          bool // the deal was created in this call: no note can be on it yet
	records           []triage.CRMRecord
}

func (p *Pipedrive) add(ctx context.Context, f *pdFound, kind, page string, id int64) {
	f.records = append(f.records, triage.CRMRecord{System: p.Name(), Kind: kind, ID: strconv.FormatInt(id, 10), URL: p.link(ctx, page, id), At: p.c.now()})
}

func recordID(h Handoff, system, kind string) int64 {
	if r, ok := h.record(system, kind); ok {
		if id, err := strconv.ParseInt(r.ID, 10, 64); err == nil {
			return id
		}
	}
	return 0
}

// find finds the organization and the person. Pipedrive organizations
// have no domain field, so the domain is matched through the e-mails of
// the people in it: the person with the lead's e-mail, else a colleague at
// the company's domain; last the organization's exact name.
func (p *Pipedrive) find(ctx context.Context, h Handoff) (pdFound, error) {
	l := h.Lead
	f := pdFound{org: recordID(h, p.Name(), "organization"), person: recordID(h, p.Name(), "person")}
	email := strings.ToLower(strings.TrimSpace(l.Email))
	if f.person == 0 && email != "" {
		items, err := p.search(ctx, "persons", url.Values{"term": {email}, "fields": {"email"}, "exact_match": {"true"}})
		if err != nil {
			return f, err
		}
		for _, it := range items {
			if hasEmail(it.Emails, email) {
				f.person = it.ID
				if f.org == 0 && it.Organization != nil {
					f.org = it.Organization.ID
				}
				break
			}
		}
	}
	if d := companyDomain(l); f.org == 0 && d != "" {
		items, err := p.search(ctx, "persons", url.Values{"term": {"@" + d}, "fields": {"email"}})
		if err != nil {
			return f, err
		}
		for _, it := range items {
			if it.Organization != nil && it.Organization.ID != 0 && emailAtDomain(it.Emails, d) {
				f.org = it.Organization.ID
				break
			}
		}
	}
	if n := strings.TrimSpace(l.Company); f.org == 0 && n != "" {
		items, err := p.search(ctx, "organizations", url.Values{"term": {n}, "fields": {"name"}, "exact_match": {"true"}})
		if err != nil {
			return f, err
		}
		for _, it := range items {
			if strings.EqualFold(strings.TrimSpace(it.Name), n) {
				f.org = it.ID
				break
			}
		}
	}
	return f, nil
}

func hasEmail(list []string, email string) bool {
	for _, e := range list {
		if strings.EqualFold(strings.TrimSpace(e), email) {
			return true
		}
	}
	return false
}

func emailAtDomain(list []string, domain string) bool {
	for _, e := range list {
		if strings.HasSuffix(strings.ToLower(strings.TrimSpace(e)), "@"+domain) {
			return true
		}
	}
	return false
}

// Qualify: search → create organization → create person (in it) → user →
// find or create the deal → note.
func (p *Pipedrive) Qualify(ctx context.Context, h Handoff) (recs []triage.CRMRecord, err error) {
	l := h.Lead
	f, err := p.find(ctx, h)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil { // what exists already is kept, so a retry builds on it
			recs = madeSoFar(p.Name(), p.c.now(), [2]string{"organization", idString(f.org)}, [2]string{"person", idString(f.person)}, [2]string{"deal", idString(f.deal)})
		}
	}()
	owner, err := p.user(ctx, h.OwnerEmail)
	if err != nil {
		return nil, err
	}
	if f.org == 0 && companyName(l) != "" {
		// POST /api/v2/organizations {name, owner_id?} (client-nodejs v2
		// add-organization-request.ts).
		in := map[string]any{"name": companyName(l)}
		if owner != 0 {
			in["owner_id"] = owner
		}
		if f.org, err = p.create(ctx, "/api/v2/organizations", in); err != nil {
			return nil, err
		}
	}
	if f.person == 0 && l.Email != "" {
		// POST /api/v2/persons {name, emails:[{value, primary, label}],
		// phones, org_id, owner_id} (client-nodejs v2 add-person-request.ts).
		name := strings.TrimSpace(l.Name)
		if name == "" {
			name = strings.ToLower(l.Email)
		}
		in := map[string]any{
			"name":   truncate(name, 200),
			"emails": []map[string]any{{"value": strings.ToLower(l.Email), "primary": true, "label": "work"}},
		}
		if l.Phone != "" {
			in["phones"] = []map[string]any{{"value": l.Phone, "primary": true, "label": "work"}}
		}
		if f.org != 0 {
			in["org_id"] = f.org
		}
		if owner != 0 {
			in["owner_id"] = owner
		}
		if f.person, err = p.create(ctx, "/api/v2/persons", in); err != nil {
			return nil, err
		}
	}
	if f.org != 0 {
		p.add(ctx, &f, "organization", "organization", f.org)
	}
	if f.person != 0 {
		p.add(ctx, &f, "person", "person", f.person)
	}
	if f.deal = recordID(h, p.Name(), "deal"); f.deal == 0 {
		name := DealName(l)
		items, err := p.search(ctx, "deals", url.Values{"term": {name}, "fields": {"title"}, "exact_match": {"true"}})
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			if strings.EqualFold(strings.TrimSpace(it.Title), name) {
				f.deal = it.ID
				break
			}
		}
	}
	if f.deal == 0 {
		// POST /api/v2/deals {title, owner_id, person_id, org_id}
		// (client-nodejs v2 add-deal-request.ts).
		in := map[string]any{"title": DealName(l)}
		if owner != 0 {
			in["owner_id"] = owner
		}
		if f.org != 0 {
			in["org_id"] = f.org
		}
		if f.person != 0 {
			in["person_id"] = f.person
		}
		if f.deal, err = p.create(ctx, "/api/v2/deals", in); err != nil {
			return nil, err
		}
		f.dealMade = true
	}
	p.add(ctx, &f, "deal", "deal", f.deal)
	if !h.noted(p.Name()) {
		id, err := p.note(ctx, h, f)
		if err != nil {
			return nil, err
		}
		f.records = append(f.records, triage.CRMRecord{System: p.Name(), Kind: "note", ID: strconv.FormatInt(id, 10), At: p.c.now()})
	}
	return f.records, nil
}

// Note puts the note on the existing organization and person only.
func (p *Pipedrive) Note(ctx context.Context, h Handoff) ([]triage.CRMRecord, error) {
	f, err := p.find(ctx, h)
	if err != nil {
		return nil, err
	}
	if f.org == 0 && f.person == 0 {
		return nil, nil
	}
	if f.org != 0 {
		p.add(ctx, &f, "organization", "organization", f.org)
	}
	if f.person != 0 {
		p.add(ctx, &f, "person", "person", f.person)
	}
	if !h.noted(p.Name()) {
		id, err := p.note(ctx, h, f)
		if err != nil {
			return nil, err
		}
		f.records = append(f.records, triage.CRMRecord{System: p.Name(), Kind: "note", ID: strconv.FormatInt(id, 10), At: p.c.now()})
	}
	return f.records, nil
}

// note: POST /v1/notes {content (HTML), deal_id, org_id, person_id}, at
// least one id (client-nodejs v1 add-note-request-all-of.ts).
func (p *Pipedrive) note(ctx context.Context, h Handoff, f pdFound) (int64, error) {
	if !f.dealMade {
		existing, err := p.existingNote(ctx, f, noteKey(h))
		if err != nil || existing != 0 {
			return existing, err
		}
	}
	in := map[string]any{"content": NoteHTML(h)}
	if f.deal != 0 {
		in["deal_id"] = f.deal
	}
	if f.org != 0 {
		in["org_id"] = f.org
	}
	if f.person != 0 {
		in["person_id"] = f.person
	}
	return p.create(ctx, "/v1/notes", in)
}

// existingNote finds this decision's note on the deal (else the person,
// else the organization): GET /v1/notes?deal_id= answers {"data":[{"id":…,
// "content":…,"deal_id":…}]} (client-nodejs v1 notes-api.ts getNotes).
func (p *Pipedrive) existingNote(ctx context.Context, f pdFound, key string) (int64, error) {
	if key == "" {
		return 0, nil
	}
	q := url.Values{"limit": {"500"}}
	switch {
	case f.deal != 0:
		q.Set("deal_id", strconv.FormatInt(f.deal, 10))
	case f.person != 0:
		q.Set("person_id", strconv.FormatInt(f.person, 10))
	default:
		q.Set("org_id", strconv.FormatInt(f.org, 10))
	}
	var res struct {
		Data []struct {
			ID      int64  `json:"id"`
			Content string `json:"content"`
		} `json:"data"`
	}
	if err := p.c.do(ctx, http.MethodGet, p.base+"/v1/notes?"+q.Encode(), nil, &res); err != nil {
		return 0, fmt.Errorf("listing pipedrive notes: %w", err)
	}
	for _, n := range res.Data {
		if hasKey(n.Content, key) {
			return n.ID, nil
		}
	}
	return 0, nil
}

// DealState reads GET /api/v2/deals/{id}: status open|won|lost|deleted and
// value (client-nodejs v2 deal.ts).
func (p *Pipedrive) DealState(ctx context.Context, rec triage.CRMRecord) (triage.OutcomeKind, int64, error) {
	id, err := strconv.ParseInt(rec.ID, 10, 64)
	if rec.System != p.Name() || rec.Kind != "deal" || err != nil || id <= 0 {
		return "", 0, fmt.Errorf("reading pipedrive deal: %s %s %q is not a pipedrive deal", rec.System, rec.Kind, rec.ID)
	}
	var res struct {
		Data struct {
			Status    string  `json:"status"`
			Value     float64 `json:"value"`
			IsDeleted bool    `json:"is_deleted"`
		} `json:"data"`
	}
	if err := p.c.do(ctx, http.MethodGet, fmt.Sprintf("%s/api/v2/deals/%d", p.base, id), nil, &res); err != nil {
		var se *StatusError
		if errors.As(err, &se) && se.Status == http.StatusNotFound {
			return "", 0, fmt.Errorf("reading pipedrive deal %d: %w", id, ErrGone)
		}
		return "", 0, fmt.Errorf("reading pipedrive deal %d: %w", id, err)
	}
	d := res.Data
	var value int64
	if d.Value > 0 && d.Value < 1e15 {
		value = int64(math.Round(d.Value))
	}
	switch {
	case d.IsDeleted || d.Status == "deleted":
		return "", 0, fmt.Errorf("reading pipedrive deal %d: %w", id, ErrGone)
	case d.Status == "won":
		return triage.OutcomeWon, value, nil
	case d.Status == "lost":
		return triage.OutcomeLost, value, nil
	}
	return "", value, nil
}

// Ping implements CRM: GET /v1/users/me, the token's own user.
func (p *Pipedrive) Ping(ctx context.Context) error {
	var me struct{}
	return p.c.do(ctx, http.MethodGet, p.base+"/v1/users/me", nil, &me)
}

// idString is a Pipedrive id as a record's ID; "" for none.
func idString(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}
