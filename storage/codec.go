package storage

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
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

	Votes    map[string]string       `json:"votes"`
	Answers  map[string]answerRecord `json:"answers"`
	Decision *decisionRecord         `json:"decision"`
	Research researchRecord          `json:"research"`
	Slack    slackRecord             `json:"slack"`
	Events   []eventRecord           `json:"events"`
}

type answerRecord struct {
	Value string    `json:"value"`
	By    string    `json:"by"`
	At    time.Time `json:"at"`
}

type decisionRecord struct {
	Outcome string    `json:"outcome"`
	Reason  string    `json:"reason"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
}

type researchRecord struct {
	Summary string       `json:"summary,omitempty"`
	Flags   []flagRecord `json:"flags"`
	At      time.Time    `json:"at"`
}

type flagRecord struct {
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

type slackRecord struct {
	Channel string `json:"channel,omitempty"`
	TS      string `json:"ts,omitempty"`
}

type eventRecord struct {
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"`
	By     string    `json:"by"`
	Detail string    `json:"detail,omitempty"`
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
		Research: researchRecord{
			Summary: l.Research.Summary,
			At:      l.Research.At,
		},
		Slack: slackRecord{Channel: l.Slack.Channel, TS: l.Slack.TS},
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
			r.Answers[k] = answerRecord{Value: a.Value, By: a.By, At: a.At}
		}
	}
	if d := l.Decision; d != nil {
		r.Decision = &decisionRecord{Outcome: string(d.Outcome), Reason: d.Reason, By: d.By, At: d.At}
	}
	if l.Research.Flags != nil {
		r.Research.Flags = make([]flagRecord, len(l.Research.Flags))
		for i, f := range l.Research.Flags {
			r.Research.Flags[i] = flagRecord{Code: f.Code, Detail: f.Detail}
		}
	}
	if l.Events != nil {
		r.Events = make([]eventRecord, len(l.Events))
		for i, e := range l.Events {
			r.Events[i] = eventRecord{At: e.At, Kind: e.Kind, By: e.By, Detail: e.Detail}
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
		Research:  triage.Research{Summary: r.Research.Summary, At: r.Research.At},
		Slack:     triage.SlackRef{Channel: r.Slack.Channel, TS: r.Slack.TS},
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
			l.Answers[k] = triage.Answer{Value: a.Value, By: a.By, At: a.At}
		}
	}
	if d := r.Decision; d != nil {
		l.Decision = &triage.Decision{Outcome: triage.Status(d.Outcome), Reason: d.Reason, By: d.By, At: d.At}
	}
	if r.Research.Flags != nil {
		l.Research.Flags = make([]triage.Flag, len(r.Research.Flags))
		for i, f := range r.Research.Flags {
			l.Research.Flags[i] = triage.Flag{Code: f.Code, Detail: f.Detail}
		}
	}
	if r.Events != nil {
		l.Events = make([]triage.Event, len(r.Events))
		for i, e := range r.Events {
			l.Events[i] = triage.Event{At: e.At, Kind: e.Kind, By: e.By, Detail: e.Detail}
		}
	}
	return l, nil
}

// outboxRecord is a triage.OutboxItem as stored.
type outboxRecord struct {
	V         int       `json:"v"`
	ID        uint64    `json:"id"`
	Kind      string    `json:"kind"`
	Lead      uint64    `json:"lead,omitempty"`
	Channel   string    `json:"channel,omitempty"`
	User      string    `json:"user,omitempty"`
	Text      string    `json:"text,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	Seq       int       `json:"seq"`
	Attempts  int       `json:"attempts,omitempty"`
	NextAt    time.Time `json:"next_at"`
	LastError string    `json:"last_error,omitempty"`
	Dead      bool      `json:"dead,omitempty"`
}

func encodeOutbox(o triage.OutboxItem) ([]byte, error) {
	b, err := json.Marshal(outboxRecord{
		V:         outboxRecordV,
		ID:        o.ID,
		Kind:      string(o.Kind),
		Lead:      uint64(o.Lead),
		Channel:   o.Channel,
		User:      o.User,
		Text:      o.Text,
		CreatedAt: o.CreatedAt,
		Seq:       o.Seq,
		Attempts:  o.Attempts,
		NextAt:    o.NextAt,
		LastError: o.LastError,
		Dead:      o.Dead,
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
	return triage.OutboxItem{
		ID:        r.ID,
		Kind:      triage.OutboxKind(r.Kind),
		Lead:      triage.LeadID(r.Lead),
		Channel:   r.Channel,
		User:      r.User,
		Text:      r.Text,
		CreatedAt: r.CreatedAt,
		Seq:       r.Seq,
		Attempts:  r.Attempts,
		NextAt:    r.NextAt,
		LastError: r.LastError,
		Dead:      r.Dead,
	}, nil
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
