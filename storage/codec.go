package storage

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	"github.com/leadtriage/leadtriage/triage"
)

// Record versions. Bump one when its shape changes incompatibly and teach
// decode… to read the old shape (or add a migration in storage.go).
const (
	leadRecordV   = 1
	outboxRecordV = 1
	idemRecordV   = 1
)

// leadRecord is a triage.Lead as stored. Maps and slices have no omitempty so
// that nil and empty survive a round trip as they were.
type leadRecord struct {
	V         int               `json:"v"`
	ID        uint64            `json:"id"`
	Status    string            `json:"status"`
	Company   string            `json:"company,omitempty"`
	Name      string            `json:"name,omitempty"`
	Email     string            `json:"email,omitempty"`
	Phone     string            `json:"phone,omitempty"`
	Website   string            `json:"website,omitempty"`
	Domain    string            `json:"domain,omitempty"`
	Message   string            `json:"message,omitempty"`
	Source    string            `json:"source,omitempty"`
	Founded   int               `json:"founded,omitempty"`
	Employees int               `json:"employees,omitempty"`
	Extra     map[string]string `json:"extra"`
	CreatedAt time.Time         `json:"created_at"`
	CreatedBy string            `json:"created_by,omitempty"`
	Owner     string            `json:"owner,omitempty"`

	Votes   map[string]string       `json:"votes"`
	Answers map[string]answerRecord `json:"answers"`
	// AnswersBy came with deliberation (issue 4): absent in older records,
	// it decodes as nil, which is what those leads had.
	AnswersBy map[string]map[string]answerRecord `json:"answers_by"`
	Decision  *decisionRecord                    `json:"decision"`
	Research  researchRecord                     `json:"research"`
	Slack     slackRecord                        `json:"slack"`
	// Posted came with erasure (issue 13); absent in older records.
	Posted []messageRecord `json:"posted,omitempty"`
	// Reminder came with follow-ups (issue 6): absent in older records and
	// left out while all zero, it decodes as the zero state.
	Reminder reminderRecord `json:"reminder,omitzero"`
	// Outcome, Returning and CRM came with the CRM hand-off (issue 15);
	// absent in older records.
	Outcome   *outcomeRecord `json:"outcome,omitempty"`
	Returning *priorRecord   `json:"returning,omitempty"`
	CRM       []crmRecord    `json:"crm,omitempty"`
	Events    []eventRecord  `json:"events"`
}

type outcomeRecord struct {
	Kind  string    `json:"kind"`
	Value int64     `json:"value,omitempty"`
	Note  string    `json:"note,omitempty"`
	By    string    `json:"by"`
	At    time.Time `json:"at"`
}

type priorRecord struct {
	Lead    uint64    `json:"lead"`
	Outcome string    `json:"outcome"`
	Reason  string    `json:"reason,omitempty"`
	At      time.Time `json:"at"`
	Channel string    `json:"channel,omitempty"`
	TS      string    `json:"ts,omitempty"`
}

type crmRecord struct {
	System string     `json:"system"`
	Kind   string     `json:"kind"`
	ID     string     `json:"id"`
	URL    string     `json:"url,omitempty"`
	At     time.Time  `json:"at"`
	Gone   *time.Time `json:"gone,omitempty"` // deleted in the CRM (read-back)
}

// reminderRecord is a triage.ReminderState.
type reminderRecord struct {
	Reminded     time.Time `json:"reminded,omitzero"`
	Escalated    time.Time `json:"escalated,omitzero"`
	SnoozedUntil time.Time `json:"snoozed_until,omitzero"`
	Revisited    time.Time `json:"revisited,omitzero"`
	OutcomeAsked time.Time `json:"outcome_asked,omitzero"`
}

type answerRecord struct {
	Value string `json:"value"`
	// Note came with natural replies (issue 9): absent in older records.
	Note string    `json:"note,omitempty"`
	By   string    `json:"by"`
	At   time.Time `json:"at"`
}

type decisionRecord struct {
	Outcome string    `json:"outcome"`
	Reason  string    `json:"reason"`
	Note    string    `json:"note,omitempty"`
	Partner string    `json:"partner,omitempty"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
}

// researchRecord is a triage.Research as stored. Facts and Providers came
// after the first files were written: absent, they decode as zero, so old
// records still read and no version bump was needed.
type researchRecord struct {
	Summary   string           `json:"summary,omitempty"`
	Flags     []flagRecord     `json:"flags"`
	Facts     factsRecord      `json:"facts,omitzero"`
	Providers []providerRecord `json:"providers"`
	At        time.Time        `json:"at"`
}

type flagRecord struct {
	Code   string `json:"code"`
	Detail string `json:"detail"`
	Source string `json:"source,omitempty"`
	// Args let bot word the flag in the team's language (issue 12); absent
	// on flags stored before them, which show Detail.
	Args map[string]string `json:"args,omitempty"`
}

// factsRecord is a triage.Facts. Slices and maps have no omitempty, like
// leadRecord's, so nil and empty survive; the whole record is left out when
// nothing was found (omitzero), which keeps un-researched leads small.
type factsRecord struct {
	EmailDomain      string          `json:"email_domain,omitempty"`
	FreeMail         bool            `json:"free_mail,omitempty"`
	Disposable       bool            `json:"disposable,omitempty"`
	RoleAddress      bool            `json:"role_address,omitempty"`
	DomainRegistered time.Time       `json:"domain_registered,omitzero"`
	Registrar        string          `json:"registrar,omitempty"`
	MX               []string        `json:"mx"`
	EmailDomainLive  bool            `json:"email_domain_live,omitempty"`
	Website          websiteRecord   `json:"website,omitzero"`
	Registry         *registryRecord `json:"registry,omitempty"`
	FirstCertificate time.Time       `json:"first_certificate,omitzero"`
	FirstCapture     time.Time       `json:"first_capture,omitzero"`
	Credit           *creditRecord   `json:"credit,omitempty"`
}

type creditRecord struct {
	Source      string    `json:"source,omitempty"`
	Name        string    `json:"name,omitempty"`
	Number      string    `json:"number,omitempty"`
	Rating      string    `json:"rating,omitempty"`
	Description string    `json:"description,omitempty"`
	Score       string    `json:"score,omitempty"`
	Limit       int64     `json:"limit,omitempty"`
	Currency    string    `json:"currency,omitempty"`
	Status      string    `json:"status,omitempty"`
	Date        time.Time `json:"date,omitzero"`
	HighRisk    bool      `json:"high_risk,omitempty"`
	Insolvent   bool      `json:"insolvent,omitempty"`
}

type websiteRecord struct {
	URL            string            `json:"url,omitempty"`
	FinalURL       string            `json:"final_url,omitempty"`
	Status         int               `json:"status,omitempty"`
	Reachable      bool              `json:"reachable,omitempty"`
	Title          string            `json:"title,omitempty"`
	Description    string            `json:"description,omitempty"`
	CopyrightYears []int             `json:"copyright_years"`
	Social         map[string]string `json:"social"`
}

type registryRecord struct {
	Source       string    `json:"source,omitempty"`
	Number       string    `json:"number,omitempty"`
	Name         string    `json:"name,omitempty"`
	Status       string    `json:"status,omitempty"`
	Incorporated time.Time `json:"incorporated,omitzero"`
	Employees    int       `json:"employees,omitempty"`
	URL          string    `json:"url,omitempty"`
}

type providerRecord struct {
	Name  string        `json:"name"`
	OK    bool          `json:"ok,omitempty"`
	Error string        `json:"error,omitempty"`
	Took  time.Duration `json:"took_ns,omitempty"`
}

type slackRecord struct {
	Channel     string `json:"channel,omitempty"`
	TS          string `json:"ts,omitempty"`
	ChecklistTS string `json:"checklist_ts,omitempty"`
}

type eventRecord struct {
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"`
	By     string    `json:"by"`
	Detail string    `json:"detail,omitempty"`
	// Args let bot word the event in the team's language (issue 12).
	Args map[string]string `json:"args,omitempty"`
}

func encodeLead(l triage.Lead) ([]byte, error) {
	r := leadRecord{
		V:         leadRecordV,
		ID:        uint64(l.ID),
		Status:    string(l.Status),
		Company:   l.Company,
		Name:      l.Name,
		Email:     l.Email,
		Phone:     l.Phone,
		Website:   l.Website,
		Domain:    l.Domain,
		Message:   l.Message,
		Source:    l.Source,
		Founded:   l.Founded,
		Employees: l.Employees,
		Extra:     l.Extra,
		CreatedAt: l.CreatedAt,
		CreatedBy: l.CreatedBy,
		Owner:     l.Owner,
		Research:  encodeResearch(l.Research),
		Slack:     slackRecord{Channel: l.Slack.Channel, TS: l.Slack.TS, ChecklistTS: l.Slack.ChecklistTS},
		Posted:    toMessageRecords(l.Posted),
		Reminder: reminderRecord{
			Reminded: l.Reminder.Reminded, Escalated: l.Reminder.Escalated,
			SnoozedUntil: l.Reminder.SnoozedUntil, Revisited: l.Reminder.Revisited,
			OutcomeAsked: l.Reminder.OutcomeAsked,
		},
	}
	if l.Votes != nil {
		r.Votes = make(map[string]string, len(l.Votes))
		for u, c := range l.Votes {
			r.Votes[u] = string(c)
		}
	}
	if l.Answers != nil {
		r.Answers = make(map[string]answerRecord, len(l.Answers))
		for k, a := range l.Answers {
			r.Answers[k] = answerRecord{Value: a.Value, Note: a.Note, By: a.By, At: a.At}
		}
	}
	if l.AnswersBy != nil {
		r.AnswersBy = make(map[string]map[string]answerRecord, len(l.AnswersBy))
		for k, byUser := range l.AnswersBy {
			var m map[string]answerRecord
			if byUser != nil {
				m = make(map[string]answerRecord, len(byUser))
				for u, a := range byUser {
					m[u] = answerRecord{Value: a.Value, Note: a.Note, By: a.By, At: a.At}
				}
			}
			r.AnswersBy[k] = m
		}
	}
	if d := l.Decision; d != nil {
		r.Decision = &decisionRecord{Outcome: string(d.Outcome), Reason: d.Reason, Note: d.Note, Partner: d.Partner, By: d.By, At: d.At}
	}
	if o := l.Outcome; o != nil {
		r.Outcome = &outcomeRecord{Kind: string(o.Kind), Value: o.Value, Note: o.Note, By: o.By, At: o.At}
	}
	if p := l.Returning; p != nil {
		r.Returning = &priorRecord{Lead: uint64(p.Lead), Outcome: string(p.Outcome), Reason: p.Reason, At: p.At, Channel: p.Channel, TS: p.TS}
	}
	for _, c := range l.CRM {
		r.CRM = append(r.CRM, crmRecord{System: c.System, Kind: c.Kind, ID: c.ID, URL: c.URL, At: c.At, Gone: optTime(c.Gone)})
	}
	if l.Events != nil {
		r.Events = make([]eventRecord, len(l.Events))
		for i, e := range l.Events {
			r.Events[i] = eventRecord{At: e.At, Kind: e.Kind, By: e.By, Detail: e.Detail, Args: maps.Clone(e.Args)}
		}
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encoding lead %s: %w", l.ID, err)
	}
	return b, nil
}

// decodeLead copies everything out of b, which may be bbolt memory that is
// only valid during the transaction.
func decodeLead(b []byte) (triage.Lead, error) {
	var r leadRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return triage.Lead{}, fmt.Errorf("decoding lead record: %w", err)
	}
	if r.V > leadRecordV {
		return triage.Lead{}, fmt.Errorf("decoding lead %s: record version %d is newer than %d", triage.LeadID(r.ID), r.V, leadRecordV)
	}
	l := triage.Lead{
		ID:        triage.LeadID(r.ID),
		Status:    triage.Status(r.Status),
		Company:   r.Company,
		Name:      r.Name,
		Email:     r.Email,
		Phone:     r.Phone,
		Website:   r.Website,
		Domain:    r.Domain,
		Message:   r.Message,
		Source:    r.Source,
		Founded:   r.Founded,
		Employees: r.Employees,
		Extra:     r.Extra,
		CreatedAt: r.CreatedAt,
		CreatedBy: r.CreatedBy,
		Owner:     r.Owner,
		Research:  decodeResearch(r.Research),
		Slack:     triage.SlackRef{Channel: r.Slack.Channel, TS: r.Slack.TS, ChecklistTS: r.Slack.ChecklistTS},
		Posted:    fromMessageRecords(r.Posted),
		Reminder: triage.ReminderState{
			Reminded: r.Reminder.Reminded, Escalated: r.Reminder.Escalated,
			SnoozedUntil: r.Reminder.SnoozedUntil, Revisited: r.Reminder.Revisited,
			OutcomeAsked: r.Reminder.OutcomeAsked,
		},
	}
	if r.Votes != nil {
		l.Votes = make(map[string]triage.Choice, len(r.Votes))
		for u, c := range r.Votes {
			l.Votes[u] = triage.Choice(c)
		}
	}
	if r.Answers != nil {
		l.Answers = make(map[string]triage.Answer, len(r.Answers))
		for k, a := range r.Answers {
			l.Answers[k] = triage.Answer{Value: a.Value, Note: a.Note, By: a.By, At: a.At}
		}
	}
	if r.AnswersBy != nil {
		l.AnswersBy = make(map[string]map[string]triage.Answer, len(r.AnswersBy))
		for k, byUser := range r.AnswersBy {
			var m map[string]triage.Answer
			if byUser != nil {
				m = make(map[string]triage.Answer, len(byUser))
				for u, a := range byUser {
					m[u] = triage.Answer{Value: a.Value, Note: a.Note, By: a.By, At: a.At}
				}
			}
			l.AnswersBy[k] = m
		}
	}
	if d := r.Decision; d != nil {
		l.Decision = &triage.Decision{Outcome: triage.Status(d.Outcome), Reason: d.Reason, Note: d.Note, Partner: d.Partner, By: d.By, At: d.At}
	}
	if o := r.Outcome; o != nil {
		l.Outcome = &triage.Outcome{Kind: triage.OutcomeKind(o.Kind), Value: o.Value, Note: o.Note, By: o.By, At: o.At}
	}
	if p := r.Returning; p != nil {
		l.Returning = &triage.PriorDecision{Lead: triage.LeadID(p.Lead), Outcome: triage.Status(p.Outcome), Reason: p.Reason, At: p.At, Channel: p.Channel, TS: p.TS}
	}
	for _, c := range r.CRM {
		l.CRM = append(l.CRM, triage.CRMRecord{System: c.System, Kind: c.Kind, ID: c.ID, URL: c.URL, At: c.At, Gone: derefTime(c.Gone)})
	}
	if r.Events != nil {
		l.Events = make([]triage.Event, len(r.Events))
		for i, e := range r.Events {
			l.Events[i] = triage.Event{At: e.At, Kind: e.Kind, By: e.By, Detail: e.Detail, Args: maps.Clone(e.Args)}
		}
	}
	return l, nil
}

func encodeResearch(res triage.Research) researchRecord {
	r := researchRecord{Summary: res.Summary, At: res.At}
	if res.Flags != nil {
		r.Flags = make([]flagRecord, len(res.Flags))
		for i, f := range res.Flags {
			r.Flags[i] = flagRecord{Code: f.Code, Detail: f.Detail, Source: f.Source, Args: maps.Clone(f.Args)}
		}
	}
	if res.Providers != nil {
		r.Providers = make([]providerRecord, len(res.Providers))
		for i, p := range res.Providers {
			r.Providers[i] = providerRecord{Name: p.Name, OK: p.OK, Error: p.Error, Took: p.Took}
		}
	}
	f := res.Facts
	r.Facts = factsRecord{
		EmailDomain:      f.EmailDomain,
		FreeMail:         f.FreeMail,
		Disposable:       f.Disposable,
		RoleAddress:      f.RoleAddress,
		DomainRegistered: f.DomainRegistered,
		Registrar:        f.Registrar,
		MX:               f.MX,
		EmailDomainLive:  f.EmailDomainLive,
		Website: websiteRecord{
			URL:            f.Website.URL,
			FinalURL:       f.Website.FinalURL,
			Status:         f.Website.Status,
			Reachable:      f.Website.Reachable,
			Title:          f.Website.Title,
			Description:    f.Website.Description,
			CopyrightYears: f.Website.CopyrightYears,
			Social:         f.Website.Social,
		},
	}
	if g := f.Registry; g != nil {
		r.Facts.Registry = &registryRecord{
			Source: g.Source, Number: g.Number, Name: g.Name, Status: g.Status,
			Incorporated: g.Incorporated, Employees: g.Employees, URL: g.URL,
		}
	}
	r.Facts.FirstCertificate, r.Facts.FirstCapture = f.FirstCertificate, f.FirstCapture
	if c := f.Credit; c != nil {
		cr := creditRecord(*c)
		r.Facts.Credit = &cr
	}
	return r
}

func decodeResearch(r researchRecord) triage.Research {
	res := triage.Research{Summary: r.Summary, At: r.At}
	if r.Flags != nil {
		res.Flags = make([]triage.Flag, len(r.Flags))
		for i, f := range r.Flags {
			res.Flags[i] = triage.Flag{Code: f.Code, Detail: f.Detail, Source: f.Source, Args: maps.Clone(f.Args)}
		}
	}
	if r.Providers != nil {
		res.Providers = make([]triage.ProviderResult, len(r.Providers))
		for i, p := range r.Providers {
			res.Providers[i] = triage.ProviderResult{Name: p.Name, OK: p.OK, Error: p.Error, Took: p.Took}
		}
	}
	f := r.Facts
	res.Facts = triage.Facts{
		EmailDomain:      f.EmailDomain,
		FreeMail:         f.FreeMail,
		Disposable:       f.Disposable,
		RoleAddress:      f.RoleAddress,
		DomainRegistered: f.DomainRegistered,
		Registrar:        f.Registrar,
		MX:               f.MX,
		EmailDomainLive:  f.EmailDomainLive,
		Website: triage.Website{
			URL:            f.Website.URL,
			FinalURL:       f.Website.FinalURL,
			Status:         f.Website.Status,
			Reachable:      f.Website.Reachable,
			Title:          f.Website.Title,
			Description:    f.Website.Description,
			CopyrightYears: f.Website.CopyrightYears,
			Social:         f.Website.Social,
		},
	}
	if g := f.Registry; g != nil {
		res.Facts.Registry = &triage.Registry{
			Source: g.Source, Number: g.Number, Name: g.Name, Status: g.Status,
			Incorporated: g.Incorporated, Employees: g.Employees, URL: g.URL,
		}
	}
	res.Facts.FirstCertificate, res.Facts.FirstCapture = f.FirstCertificate, f.FirstCapture
	if c := f.Credit; c != nil {
		tc := triage.Credit(*c)
		res.Facts.Credit = &tc
	}
	return res
}

// outboxRecord is a triage.OutboxItem as stored.
type outboxRecord struct {
	V       int    `json:"v"`
	ID      uint64 `json:"id"`
	Kind    string `json:"kind"`
	Lead    uint64 `json:"lead,omitempty"`
	Channel string `json:"channel,omitempty"`
	User    string `json:"user,omitempty"`
	Text    string `json:"text,omitempty"`
	Plain   string `json:"plain,omitempty"`
	// Notice came with issue 12 (before it, the domain stored Text); absent
	// means an item of the old form, which still reads and delivers.
	Notice *noticeRecord `json:"notice,omitempty"`
	// Payload came with the digest (issue 6); base64 in JSON. An empty
	// payload is stored as none and reads back as nil.
	Payload []byte `json:"payload,omitempty"`
	// Snapshot came with outgoing webhooks (issue 15): the lead as it was at
	// a domain event, in the lead's own record form.
	Snapshot  json.RawMessage `json:"snapshot,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
	Seq       int             `json:"seq"`
	Attempts  int             `json:"attempts,omitempty"`
	NextAt    time.Time       `json:"next_at"`
	LastError string          `json:"last_error,omitempty"`
	Dead      bool            `json:"dead,omitempty"`
	// Attempted came with issue 10; absent means no post outstanding.
	Attempted *time.Time `json:"attempted,omitempty"`
	// Blocked and BlockedOn came with issue 17; absent means not blocked.
	Blocked   string `json:"blocked,omitempty"`
	BlockedOn string `json:"blocked_on,omitempty"`
	// Requeued came with issue 15; absent means never sent again by hand.
	Requeued *time.Time `json:"requeued,omitempty"`
}

func encodeOutbox(o triage.OutboxItem) ([]byte, error) {
	var snap json.RawMessage
	if o.Snapshot != nil {
		var err error
		if snap, err = encodeLead(*o.Snapshot); err != nil {
			return nil, fmt.Errorf("encoding outbox item %d: %w", o.ID, err)
		}
	}
	b, err := json.Marshal(outboxRecord{
		Snapshot:  snap,
		V:         outboxRecordV,
		ID:        o.ID,
		Kind:      string(o.Kind),
		Lead:      uint64(o.Lead),
		Channel:   o.Channel,
		User:      o.User,
		Text:      o.Text,
		Plain:     o.Plain,
		Notice:    encodeNotice(o.Notice),
		Payload:   o.Payload,
		CreatedAt: o.CreatedAt,
		Seq:       o.Seq,
		Attempts:  o.Attempts,
		NextAt:    o.NextAt,
		LastError: o.LastError,
		Dead:      o.Dead,
		Attempted: optTime(o.Attempted),
		Blocked:   o.Blocked,
		BlockedOn: o.BlockedOn,
		Requeued:  optTime(o.Requeued),
	})
	if err != nil {
		return nil, fmt.Errorf("encoding outbox item %d: %w", o.ID, err)
	}
	return b, nil
}

func decodeOutbox(b []byte) (triage.OutboxItem, error) {
	var r outboxRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return triage.OutboxItem{}, fmt.Errorf("decoding outbox record: %w", err)
	}
	if r.V > outboxRecordV {
		return triage.OutboxItem{}, fmt.Errorf("decoding outbox item %d: record version %d is newer than %d", r.ID, r.V, outboxRecordV)
	}
	var snap *triage.Lead
	if len(r.Snapshot) > 0 {
		l, err := decodeLead(r.Snapshot)
		if err != nil {
			return triage.OutboxItem{}, fmt.Errorf("decoding outbox item %d: %w", r.ID, err)
		}
		snap = &l
	}
	return triage.OutboxItem{
		Snapshot:  snap,
		ID:        r.ID,
		Kind:      triage.OutboxKind(r.Kind),
		Lead:      triage.LeadID(r.Lead),
		Channel:   r.Channel,
		User:      r.User,
		Text:      r.Text,
		Plain:     r.Plain,
		Notice:    r.Notice.decode(),
		Payload:   r.Payload,
		CreatedAt: r.CreatedAt,
		Seq:       r.Seq,
		Attempts:  r.Attempts,
		NextAt:    r.NextAt,
		LastError: r.LastError,
		Dead:      r.Dead,
		Attempted: derefTime(r.Attempted),
		Blocked:   r.Blocked,
		BlockedOn: r.BlockedOn,
		Requeued:  derefTime(r.Requeued),
	}, nil
}

// optTime stores a zero time as absent.
func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func derefTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// idemRecord remembers which lead an idempotency key produced.
type idemRecord struct {
	V           int       `json:"v"`
	Lead        uint64    `json:"lead"`
	Fingerprint string    `json:"fingerprint"`
	Expires     time.Time `json:"expires"`
}

func encodeIdem(r idemRecord) ([]byte, error) {
	r.V = idemRecordV
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encoding idempotency record: %w", err)
	}
	return b, nil
}

func decodeIdem(b []byte) (idemRecord, error) {
	var r idemRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return idemRecord{}, fmt.Errorf("decoding idempotency record: %w", err)
	}
	return r, nil
}

// u64 is an 8-byte big-endian key: byte order equals numeric order.
func u64(n uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, n)
	return b
}

func fromU64(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

// timeKey is t as 8-byte big-endian Unix nanoseconds; times before 1970
// (never written by leadtriage) sort first.
func timeKey(t time.Time) []byte {
	n := t.UnixNano()
	if n < 0 {
		n = 0
	}
	return u64(uint64(n))
}

// join builds a composite key: the parts separated by "|".
func join(parts ...[]byte) []byte {
	n := len(parts) - 1
	for _, p := range parts {
		n += len(p)
	}
	k := make([]byte, 0, n)
	for i, p := range parts {
		if i > 0 {
			k = append(k, '|')
		}
		k = append(k, p...)
	}
	return k
}

// noticeRecord is a triage.Notice as stored: data, never words.
type noticeRecord struct {
	Kind          string            `json:"kind"`
	Lead          uint64            `json:"lead,omitempty"`
	User          string            `json:"user,omitempty"`
	Owner         string            `json:"owner,omitempty"`
	TeamLead      string            `json:"team_lead,omitempty"`
	Choice        string            `json:"choice,omitempty"`
	Status        string            `json:"status,omitempty"`
	Reason        string            `json:"reason,omitempty"`
	Partner       string            `json:"partner,omitempty"`
	Label         string            `json:"label,omitempty"`
	Tally         [3]int            `json:"tally"` // qualify, disqualify, unsure
	Votes         int               `json:"votes,omitempty"`
	Quorum        int               `json:"quorum,omitempty"`
	Blind         bool              `json:"blind,omitempty"`
	Criteria      []string          `json:"criteria,omitempty"`
	Users         []string          `json:"users,omitempty"`
	Team          bool              `json:"team,omitempty"`
	Problems      []problemRecord   `json:"problems,omitempty"`
	Waited        time.Duration     `json:"waited,omitempty"`
	BusinessHours bool              `json:"business_hours,omitempty"`
	Until         *time.Time        `json:"until,omitempty"`
	Draft         *draftRecord      `json:"draft,omitempty"` // worded by a version before draft_facts
	DraftFacts    *draftFactsRecord `json:"draft_facts,omitempty"`
	// An import's summary (issue 13).
	Count    int    `json:"count,omitempty"`
	Repeats  int    `json:"repeats,omitempty"`
	Rejected int    `json:"rejected,omitempty"`
	Source   string `json:"source,omitempty"`
	// An outcome (issue 15).
	Outcome   *outcomeRecord `json:"outcome,omitempty"`
	Corrected bool           `json:"corrected,omitempty"`
	Repeat    bool           `json:"repeat,omitempty"`
	// A CRM record's link (issue 15).
	System string `json:"system,omitempty"`
	URL    string `json:"url,omitempty"`
}

type problemRecord struct {
	Criterion string `json:"criterion"`
	Raw       string `json:"raw,omitempty"`
	Accepted  string `json:"accepted,omitempty"`
}

type draftRecord struct {
	Language string `json:"language,omitempty"`
	Subject  string `json:"subject,omitempty"`
	Body     string `json:"body"`
}

// draftFactsRecord is what a draft says (triage.DraftFacts): the bot words
// it when it delivers the notice.
type draftFactsRecord struct {
	Language string         `json:"language,omitempty"`
	Name     string         `json:"name,omitempty"`
	FullName string         `json:"full_name,omitempty"`
	Company  string         `json:"company,omitempty"`
	Label    string         `json:"label,omitempty"`
	Email    string         `json:"email,omitempty"`
	Phone    string         `json:"phone,omitempty"`
	Website  string         `json:"website,omitempty"`
	Message  string         `json:"message,omitempty"`
	Reason   string         `json:"reason,omitempty"`
	Partner  *partnerRecord `json:"partner,omitempty"`
}

type partnerRecord struct {
	Name    string `json:"name"`
	Fits    string `json:"fits,omitempty"`
	Contact string `json:"contact,omitempty"`
}

func encodeNotice(n *triage.Notice) *noticeRecord {
	if n == nil {
		return nil
	}
	r := &noticeRecord{
		Kind: string(n.Kind), Lead: uint64(n.Lead), User: n.User, Owner: n.Owner, TeamLead: n.TeamLead,
		Choice: string(n.Choice), Status: string(n.Status), Reason: n.Reason, Partner: n.Partner, Label: n.Label,
		Tally: [3]int{n.Tally.Qualify, n.Tally.Disqualify, n.Tally.Unsure}, Votes: n.Votes, Quorum: n.Quorum,
		Blind: n.Blind, Criteria: n.Criteria, Users: n.Users, Team: n.Team, Waited: n.Waited,
		BusinessHours: n.BusinessHours, Until: optTime(n.Until),
		Count: n.Count, Repeats: n.Repeats, Rejected: n.Rejected, Source: n.Source,
		Corrected: n.Corrected, Repeat: n.Repeat,
		System: n.System, URL: n.URL,
	}
	if o := n.Outcome; o != nil {
		r.Outcome = &outcomeRecord{Kind: string(o.Kind), Value: o.Value, Note: o.Note, By: o.By, At: o.At}
	}
	for _, p := range n.Problems {
		r.Problems = append(r.Problems, problemRecord{Criterion: p.Criterion, Raw: p.Raw, Accepted: p.Accepted})
	}
	if d := n.Draft; d != nil {
		r.Draft = &draftRecord{Language: d.Language, Subject: d.Subject, Body: d.Body}
	}
	if f := n.DraftFacts; f != nil {
		r.DraftFacts = &draftFactsRecord{Language: f.Language, Name: f.Name, FullName: f.FullName, Company: f.Company, Label: f.Label,
			Email: f.Email, Phone: f.Phone, Website: f.Website, Message: f.Message, Reason: f.Reason}
		if p := f.Partner; p != nil {
			r.DraftFacts.Partner = &partnerRecord{Name: p.Name, Fits: p.Fits, Contact: p.Contact}
		}
	}
	return r
}

func (r *noticeRecord) decode() *triage.Notice {
	if r == nil {
		return nil
	}
	n := &triage.Notice{
		Kind: triage.NoticeKind(r.Kind), Lead: triage.LeadID(r.Lead), User: r.User, Owner: r.Owner, TeamLead: r.TeamLead,
		Choice: triage.Choice(r.Choice), Status: triage.Status(r.Status), Reason: r.Reason, Partner: r.Partner, Label: r.Label,
		Tally: triage.Tally{Qualify: r.Tally[0], Disqualify: r.Tally[1], Unsure: r.Tally[2]}, Votes: r.Votes, Quorum: r.Quorum,
		Blind: r.Blind, Criteria: r.Criteria, Users: r.Users, Team: r.Team, Waited: r.Waited,
		BusinessHours: r.BusinessHours, Until: derefTime(r.Until),
		Count: r.Count, Repeats: r.Repeats, Rejected: r.Rejected, Source: r.Source,
		Corrected: r.Corrected, Repeat: r.Repeat,
		System: r.System, URL: r.URL,
	}
	if o := r.Outcome; o != nil {
		n.Outcome = &triage.Outcome{Kind: triage.OutcomeKind(o.Kind), Value: o.Value, Note: o.Note, By: o.By, At: o.At}
	}
	for _, p := range r.Problems {
		n.Problems = append(n.Problems, triage.ReplyProblem{Criterion: p.Criterion, Raw: p.Raw, Accepted: p.Accepted})
	}
	if d := r.Draft; d != nil {
		n.Draft = &triage.Draft{Language: d.Language, Subject: d.Subject, Body: d.Body}
	}
	if f := r.DraftFacts; f != nil {
		n.DraftFacts = &triage.DraftFacts{Language: f.Language, Name: f.Name, FullName: f.FullName, Company: f.Company, Label: f.Label,
			Email: f.Email, Phone: f.Phone, Website: f.Website, Message: f.Message, Reason: f.Reason}
		if p := f.Partner; p != nil {
			n.DraftFacts.Partner = &triage.Partner{Name: p.Name, Fits: p.Fits, Contact: p.Contact}
		}
	}
	return n
}

type messageRecord struct {
	Channel string `json:"channel"`
	TS      string `json:"ts"`
	Digest  bool   `json:"digest,omitempty"`
}

func toMessageRecords(ms []triage.MessageRef) []messageRecord {
	if len(ms) == 0 {
		return nil
	}
	out := make([]messageRecord, len(ms))
	for i, m := range ms {
		out[i] = messageRecord{Channel: m.Channel, TS: m.TS, Digest: m.Digest}
	}
	return out
}

func fromMessageRecords(ms []messageRecord) []triage.MessageRef {
	if len(ms) == 0 {
		return nil
	}
	out := make([]triage.MessageRef, len(ms))
	for i, m := range ms {
		out[i] = triage.MessageRef{Channel: m.Channel, TS: m.TS, Digest: m.Digest}
	}
	return out
}
