package intake

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/leadtriage/leadtriage/leadtext"
	"github.com/leadtriage/leadtriage/triage"
)

// leadJSON is a lead as the API shows it (DESIGN.md "A lead as the API shows
// it"). Empty collections are {} or [], never null, so clients need no
// special case; founded and employees are null when not given.
type leadJSON struct {
	ID        string            `json:"id"`
	Status    string            `json:"status"`
	Company   string            `json:"company"`
	Name      string            `json:"name"`
	Email     string            `json:"email"`
	Phone     string            `json:"phone"`
	Website   string            `json:"website"`
	Domain    string            `json:"domain"`
	Message   string            `json:"message"`
	Source    string            `json:"source"`
	Founded   *int              `json:"founded"`
	Employees *int              `json:"employees"`
	Extra     map[string]string `json:"extra"`
	CreatedAt string            `json:"created_at"`
	CreatedBy string            `json:"created_by"`
	Owner     string            `json:"owner"`
	Votes     map[string]string `json:"votes"`
	Answers   map[string]answer `json:"answers"`
	// AnswersBy is every person's latest answer: criterion id -> Slack user
	// id -> answer; answers holds the latest of anyone's (the value).
	AnswersBy map[string]map[string]answer `json:"answers_by"`
	Decision  *decision                    `json:"decision"`
	Research  research                     `json:"research"`
	Slack     slackRef                     `json:"slack"`
	Timings   timings                      `json:"timings"`
	Reminder  reminder                     `json:"reminder"`
	// Outcome and Returning came with issue 15: null until recorded, and
	// unless the lead came back after an earlier one was declined.
	Outcome   *outcomeJSON   `json:"outcome"`
	Returning *returningJSON `json:"returning"`
	CRM       []crmRecord    `json:"crm"`
	Events    []event        `json:"events"`
}

// timings are the waits of triage.LeadTimings in whole seconds since the
// lead was created (wall time, not business time); null until it happened.
type timings struct {
	FirstVote *int64 `json:"first_vote_s"`
	Claim     *int64 `json:"claim_s"`
	Decision  *int64 `json:"decision_s"`
}

// reminder is the lead's follow-up state (triage.ReminderState); each time
// is null until it happened.
type reminder struct {
	RemindedAt   *string `json:"reminded_at"`
	EscalatedAt  *string `json:"escalated_at"`
	SnoozedUntil *string `json:"snoozed_until"`
	RevisitedAt  *string `json:"revisited_at"`
	// OutcomeAskedAt: when the card asked what became of the lead (issue 15).
	OutcomeAskedAt *string `json:"outcome_asked_at"`
}

// answer is one answer; note (the words after the answer in a thread
// reply) came with issue 9 and is "" when there were none.
type answer struct {
	Value string `json:"value"`
	Note  string `json:"note"`
	By    string `json:"by"`
	At    string `json:"at"`
}

// decision keeps outcome, reason, by and at as the first version of the API
// had them; note and partner came with deliberation and are "" when unset.
type decision struct {
	Outcome string `json:"outcome"`
	Reason  string `json:"reason"`
	By      string `json:"by"`
	At      string `json:"at"`
	Note    string `json:"note"`
	Partner string `json:"partner"`
}

// research keeps summary and flags[].code/detail exactly as the first
// version of the API had them (DESIGN.md); the rest was added with
// pre-research. at is null until research has run.
type research struct {
	Summary   string     `json:"summary"`
	Flags     []flag     `json:"flags"`
	Facts     facts      `json:"facts"`
	Providers []provider `json:"providers"`
	At        *string    `json:"at"`
}

type flag struct {
	Code   string `json:"code"`
	Detail string `json:"detail"`
	Source string `json:"source"`
}

// facts are shown in full even when nothing was found, so clients need no
// special case; dates not found are null.
type facts struct {
	EmailDomain      string    `json:"email_domain"`
	FreeMail         bool      `json:"free_mail"`
	Disposable       bool      `json:"disposable"`
	RoleAddress      bool      `json:"role_address"`
	DomainRegistered *string   `json:"domain_registered"`
	Registrar        string    `json:"registrar"`
	MX               []string  `json:"mx"`
	EmailDomainLive  bool      `json:"email_domain_live"`
	Website          website   `json:"website"`
	Registry         *registry `json:"registry"`
	FirstCertificate *string   `json:"first_certificate"` // crt.sh: earliest certificate for the domain
	FirstCapture     *string   `json:"first_capture"`     // Wayback: earliest capture of the site
	Credit           *credit   `json:"credit"`
}

// credit is a credit bureau's report; dates and a limit not given are null.
type credit struct {
	Source      string  `json:"source"`
	Name        string  `json:"name"`
	Number      string  `json:"number"`
	Rating      string  `json:"rating"`
	Description string  `json:"description"`
	Score       string  `json:"score"`
	Limit       *int64  `json:"limit"`
	Currency    string  `json:"currency"`
	Status      string  `json:"status"`
	Date        *string `json:"date"`
	HighRisk    bool    `json:"high_risk"`
	Insolvent   bool    `json:"insolvent"`
}

type website struct {
	URL            string            `json:"url"`
	FinalURL       string            `json:"final_url"`
	Status         int               `json:"status"` // 0 = no HTTP answer
	Reachable      bool              `json:"reachable"`
	Title          string            `json:"title"`
	Description    string            `json:"description"`
	CopyrightYears []int             `json:"copyright_years"`
	Social         map[string]string `json:"social"`
}

type registry struct {
	Source       string  `json:"source"`
	Number       string  `json:"number"`
	Name         string  `json:"name"`
	Status       string  `json:"status"`
	Incorporated *string `json:"incorporated"`
	Employees    *int    `json:"employees"` // null when the registry does not say, like a lead's employees
	URL          string  `json:"url"`
}

type provider struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Error  string `json:"error"`
	TookMS int64  `json:"took_ms"`
}

type slackRef struct {
	Channel     string `json:"channel"`
	TS          string `json:"ts"`
	ChecklistTS string `json:"checklist_ts"` // the checklist reply in the card's thread
	// Messages are the bot's other messages about the lead (thread
	// replies, reminders, direct messages), deleted with it, and the digest
	// parts that name it (Digest), re-rendered without it.
	Messages []messageRef `json:"messages"`
}

type messageRef struct {
	Channel string `json:"channel"`
	TS      string `json:"ts"`
	Digest  bool   `json:"digest,omitempty"`
}

type event struct {
	At     string `json:"at"`
	Kind   string `json:"kind"`
	By     string `json:"by"`
	Detail string `json:"detail"`
}

// LeadJSON returns l in the API's JSON shape, ready for json.Marshal. Other
// parts (an export command) can reuse it so that every JSON view of a lead
// agrees.
func LeadJSON(l triage.Lead) any {
	return toLeadJSON(l)
}

func toLeadJSON(l triage.Lead) leadJSON {
	j := leadJSON{
		ID:        l.ID.String(),
		Status:    string(l.Status),
		Company:   l.Company,
		Name:      l.Name,
		Email:     l.Email,
		Phone:     l.Phone,
		Website:   l.Website,
		Domain:    l.Domain,
		Message:   l.Message,
		Source:    l.Source,
		Founded:   optionalInt(l.Founded),
		Employees: optionalInt(l.Employees),
		Extra:     map[string]string{},
		CreatedAt: timestamp(l.CreatedAt),
		CreatedBy: l.CreatedBy,
		Owner:     l.Owner,
		Votes:     map[string]string{},
		Answers:   map[string]answer{},
		AnswersBy: map[string]map[string]answer{},
		Research:  toResearch(l.Research),
		Slack:     slackRef{Channel: l.Slack.Channel, TS: l.Slack.TS, ChecklistTS: l.Slack.ChecklistTS, Messages: []messageRef{}},
		Timings:   toTimings(triage.LeadTimings(l)),
		Reminder: reminder{
			RemindedAt:   optionalTimestamp(l.Reminder.Reminded),
			EscalatedAt:  optionalTimestamp(l.Reminder.Escalated),
			SnoozedUntil: optionalTimestamp(l.Reminder.SnoozedUntil),
			RevisitedAt:  optionalTimestamp(l.Reminder.Revisited),

			OutcomeAskedAt: optionalTimestamp(l.Reminder.OutcomeAsked),
		},
		Outcome:   toOutcomeJSON(l.Outcome),
		Returning: toReturningJSON(l.Returning),
		Events:    []event{},
	}
	for k, v := range l.Extra {
		j.Extra[k] = v
	}
	for _, m := range l.Posted {
		j.Slack.Messages = append(j.Slack.Messages, messageRef{Channel: m.Channel, TS: m.TS, Digest: m.Digest})
	}
	for user, c := range l.Votes {
		j.Votes[user] = string(c)
	}
	for id, a := range l.Answers {
		j.Answers[id] = answer{Value: a.Value, Note: a.Note, By: a.By, At: timestamp(a.At)}
	}
	for id, byUser := range l.AnswersBy {
		m := make(map[string]answer, len(byUser))
		for user, a := range byUser {
			m[user] = answer{Value: a.Value, Note: a.Note, By: a.By, At: timestamp(a.At)}
		}
		j.AnswersBy[id] = m
	}
	if d := l.Decision; d != nil {
		j.Decision = &decision{Outcome: string(d.Outcome), Reason: d.Reason, By: d.By, At: timestamp(d.At), Note: d.Note, Partner: d.Partner}
	}
	for _, e := range l.Events {
		j.Events = append(j.Events, event{At: timestamp(e.At), Kind: e.Kind, By: e.By, Detail: e.Detail})
	}
	j.CRM = toCRMRecords(l.CRM)
	return j
}

func toTimings(t triage.Timings) timings {
	secs := func(d time.Duration, ok bool) *int64 {
		if !ok {
			return nil
		}
		n := int64(d / time.Second)
		return &n
	}
	return timings{
		FirstVote: secs(t.FirstVote, t.HasFirstVote),
		Claim:     secs(t.Claim, t.HasClaim),
		Decision:  secs(t.Decision, t.HasDecision),
	}
}

func toResearch(r triage.Research) research {
	f := r.Facts
	j := research{
		Summary:   r.Summary,
		Flags:     []flag{},
		Providers: []provider{},
		At:        optionalTimestamp(r.At),
		Facts: facts{
			EmailDomain:      f.EmailDomain,
			FreeMail:         f.FreeMail,
			Disposable:       f.Disposable,
			RoleAddress:      f.RoleAddress,
			DomainRegistered: optionalDate(f.DomainRegistered),
			Registrar:        f.Registrar,
			MX:               append([]string{}, f.MX...),
			EmailDomainLive:  f.EmailDomainLive,
			Website: website{
				URL:            f.Website.URL,
				FinalURL:       f.Website.FinalURL,
				Status:         f.Website.Status,
				Reachable:      f.Website.Reachable,
				Title:          f.Website.Title,
				Description:    f.Website.Description,
				CopyrightYears: append([]int{}, f.Website.CopyrightYears...),
				Social:         map[string]string{},
			},
		},
	}
	for _, fl := range r.Flags {
		j.Flags = append(j.Flags, flag{Code: fl.Code, Detail: leadtext.FlagDetail(fl), Source: fl.Source})
	}
	for _, p := range r.Providers {
		j.Providers = append(j.Providers, provider{Name: p.Name, OK: p.OK, Error: p.Error, TookMS: p.Took.Milliseconds()})
	}
	for network, u := range f.Website.Social {
		j.Facts.Website.Social[network] = u
	}
	if g := f.Registry; g != nil {
		j.Facts.Registry = &registry{
			Source: g.Source, Number: g.Number, Name: g.Name, Status: g.Status,
			Incorporated: optionalDate(g.Incorporated), Employees: optionalInt(g.Employees), URL: g.URL,
		}
	}
	j.Facts.FirstCertificate, j.Facts.FirstCapture = optionalDate(f.FirstCertificate), optionalDate(f.FirstCapture)
	if c := f.Credit; c != nil {
		j.Facts.Credit = &credit{Source: c.Source, Name: c.Name, Number: c.Number, Rating: c.Rating,
			Description: c.Description, Score: c.Score, Currency: c.Currency, Status: c.Status,
			Date: optionalDate(c.Date), HighRisk: c.HighRisk, Insolvent: c.Insolvent}
		if c.Limit > 0 {
			limit := c.Limit
			j.Facts.Credit.Limit = &limit
		}
	}
	return j
}

// optionalDate is t's calendar date, or nil for the zero time. It is read in
// t's own zone, not UTC, so that it agrees with the date the flags' details
// (triage.Compose) and the card show.
func optionalDate(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.Format(time.DateOnly)
	return &s
}

func optionalTimestamp(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := timestamp(t)
	return &s
}

func optionalInt(n int) *int {
	if n == 0 {
		return nil
	}
	return &n
}

// timestamp formats t as RFC 3339 in UTC, keeping sub-second precision so
// that events within one second still sort.
func timestamp(t time.Time) string {
	return t.UTC().Format(time.RFC3339Nano)
}

type leadList struct {
	Leads []leadJSON `json:"leads"`
	// Next is the cursor of the next page; "" at the end.
	Next string `json:"next"`
}

// handleListLeads is GET /api/leads?status=…&limit=…&cursor=…: with
// limit, one page of leads, oldest first, read through the status index,
// and the cursor of the next; without, every lead (DESIGN's contract for
// clients that do not page), streamed a page at a time.
func (s *Server) handleListLeads(w http.ResponseWriter, r *http.Request) {
	if !s.apiAccess(w, r) {
		return
	}
	q := r.URL.Query()
	status := triage.Status(q.Get("status"))
	if status == "all" {
		status = ""
	}
	after, ok := parseCursor(q.Get("cursor"))
	if !ok {
		writeFieldError(w, http.StatusBadRequest, "cursor is not the next value of a previous page", "cursor")
		return
	}
	v := q.Get("limit")
	if v == "" {
		if after != 0 {
			writeFieldError(w, http.StatusBadRequest, "a cursor needs the limit of its pages", "limit")
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), adminTimeout)
		defer cancel()
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(adminTimeout))
		_, err := s.svc.LeadsPage(ctx, status, 0, 1) // a bad status is said before the 200
		if s.listError(w, "listing leads", err) {
			return
		}
		s.streamLeadsJSON(ctx, w, status, `,"next":""`)
		return
	}
	limit, err := strconv.Atoi(v)
	if err != nil || limit < 1 || limit > triage.MaxPage {
		writeFieldError(w, http.StatusBadRequest, fmt.Sprintf("limit %q is not a number from 1 to %d", truncate(v, 20), triage.MaxPage), "limit")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	page, err := s.svc.LeadsPage(ctx, status, after, limit)
	if s.listError(w, "listing leads", err) {
		return
	}
	out := leadList{Leads: make([]leadJSON, 0, len(page.Leads)), Next: formatCursor(page.Next)}
	for _, l := range page.Leads {
		out.Leads = append(out.Leads, toLeadJSON(l))
	}
	writeJSON(w, http.StatusOK, out)
}

// formatCursor makes the opaque cursor of the page after lead id ("" for
// 0: no next page). It is the id, base64url-encoded, so that clients treat
// it as a token rather than build one; a later version may put more in it.
func formatCursor(id triage.LeadID) string {
	if id == 0 {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(binary.BigEndian.AppendUint64(nil, uint64(id)))
}

// parseCursor reads a cursor formatCursor made; "" is the first page.
func parseCursor(c string) (triage.LeadID, bool) {
	if c == "" {
		return 0, true
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) != 8 || binary.BigEndian.Uint64(b) == 0 {
		return 0, false
	}
	return triage.LeadID(binary.BigEndian.Uint64(b)), true
}

// handleGetLead is GET /api/leads/{id}.
func (s *Server) handleGetLead(w http.ResponseWriter, r *http.Request) {
	if !s.apiAccess(w, r) {
		return
	}
	raw := r.PathValue("id")
	id, err := triage.ParseLeadID(raw)
	if err != nil {
		// Not a lead id means no such lead: the path names nothing.
		writeError(w, http.StatusNotFound, fmt.Sprintf("no lead %q", truncate(raw, 40)))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	lead, err := s.svc.Lead(ctx, id)
	switch {
	case errors.Is(err, triage.ErrNotFound):
		writeError(w, http.StatusNotFound, fmt.Sprintf("no lead %s", id))
		return
	case err != nil:
		s.apiStoreError(w, "reading lead "+id.String(), err)
		return
	}
	writeJSON(w, http.StatusOK, toLeadJSON(lead))
}

// apiAccess answers 404 when the API is off, 405 for other methods and 401
// without the API token. The intake secret does not open the API: a web form
// that holds it must not be able to read every lead.
func (s *Server) apiAccess(w http.ResponseWriter, r *http.Request) bool {
	return s.adminAccess(w, r, http.MethodGet, http.MethodHead)
}

func (s *Server) apiStoreError(w http.ResponseWriter, doing string, err error) {
	s.log.Error(doing, "error", err)
	w.Header().Set("Retry-After", storeRetryAfter)
	writeError(w, http.StatusServiceUnavailable, "temporarily unable to read leads, please retry")
}
