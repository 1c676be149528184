package triage

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// LeadID identifies a lead. Shown as "L-42".
type LeadID uint64

func (id LeadID) String() string { return "L-" + strconv.FormatUint(uint64(id), 10) }

// ParseLeadID accepts "L-42", "l-42" and "42".
func ParseLeadID(s string) (LeadID, error) {
	t := strings.TrimSpace(s)
	if len(t) > 2 && (t[0] == 'L' || t[0] == 'l') && t[1] == '-' {
		t = t[2:]
	}
	n, err := strconv.ParseUint(t, 10, 64)
	if err != nil || n == 0 {
		return 0, &FieldError{Field: "id", Problem: fmt.Sprintf("%q is not a lead id (expected L-<number>)", truncateRunes(s, 40))}
	}
	return LeadID(n), nil
}

// Status is where a lead stands.
type Status string

const (
	StatusPending      Status = "pending"
	StatusQualified    Status = "qualified"
	StatusDisqualified Status = "disqualified"
	StatusReferred     Status = "referred"
)

// Statuses lists every status, in display order.
var Statuses = []Status{StatusPending, StatusQualified, StatusDisqualified, StatusReferred}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	for _, v := range Statuses {
		if s == v {
			return true
		}
	}
	return false
}

// Lead is a company that showed interest, and everything the team found and
// decided about it.
type Lead struct {
	ID     LeadID
	Status Status

	Company   string
	Name      string
	Email     string
	Phone     string
	Website   string // normalised absolute http(s) URL
	Domain    string // the company's domain (from the website, else the e-mail), lowercase ASCII
	Message   string
	Source    string
	Founded   int // claimed founding year; 0 = not given
	Employees int // claimed head count; 0 = not given
	Extra     map[string]string

	CreatedAt time.Time
	CreatedBy string // Slack user id for leads added in Slack, else ""
	Owner     string // Slack user id or ""

	Votes   map[string]Choice // Slack user id -> choice
	Answers map[string]Answer // criterion id -> latest answer (the criterion's value)
	// AnswersBy keeps every person's latest answer: criterion id -> Slack
	// user id -> answer, so disagreement shows.
	AnswersBy map[string]map[string]Answer
	Decision  *Decision
	Research  Research
	Slack     SlackRef
	// Posted are the other messages the bot posted about the lead (thread
	// replies, reminders, direct messages, digest parts that name it), so
	// that an erasure or the retention purge deletes them too (or, for a
	// digest, removes the lead from it).
	Posted   []MessageRef
	Reminder ReminderState
	// Outcome is what became of the lead after the decision (won, lost, no
	// deal); nil until someone or the CRM says.
	Outcome *Outcome
	// Returning links a lead to the earlier decision on a lead with the same
	// domain or e-mail that the team declined: it came back. nil otherwise.
	Returning *PriorDecision
	// CRM lists the records the hand-off made or found for the lead.
	CRM    []CRMRecord
	Events []Event
}

// OutcomeKind is what became of a decided lead.
type OutcomeKind string

// Outcome kinds (DESIGN.md: "won", "lost", "no_deal").
const (
	OutcomeWon    OutcomeKind = "won"
	OutcomeLost   OutcomeKind = "lost"
	OutcomeNoDeal OutcomeKind = "no_deal"
)

// Outcome records what became of a lead: the deal was won or lost, or no deal
// was ever on the table.
type Outcome struct {
	Kind  OutcomeKind
	Value int64  // the deal's value in whole currency units; 0 = not given
	Note  string // the person's own words (optional)
	By    string // a Slack user id, "api", or the CRM ("hubspot", "pipedrive")
	At    time.Time
}

// PriorDecision is the earlier decision a returning lead is linked to.
type PriorDecision struct {
	Lead    LeadID
	Outcome Status // disqualified or referred
	Reason  string
	At      time.Time
}

// CRMRecord is one record in a CRM that stands for (part of) the lead.
type CRMRecord struct {
	System string // "hubspot" or "pipedrive"
	Kind   string // "company", "contact", "deal", "lead", "organization", "person", "note"
	ID     string
	URL    string // where a person opens it; "" if the CRM has no page for it
	At     time.Time
	// Gone is when the read-back found the record deleted in the CRM; zero
	// while it exists. Nothing more is asked about a gone record.
	Gone time.Time
}

// ReminderState records which follow-up stages a lead has had, so that each
// happens once, also across restarts.
type ReminderState struct {
	Reminded     time.Time // the reminder in the thread was queued
	Escalated    time.Time // the team lead was told
	SnoozedUntil time.Time // no reminder or escalation before this
	Revisited    time.Time // a disqualified lead was shown for a second look
}

// Answer is one answer to a qualification criterion.
type Answer struct {
	Value string
	Note  string // the words after the answer in a thread reply (ParsedAnswer.Note)
	By    string
	At    time.Time
}

// Decision records how a lead was settled.
type Decision struct {
	Outcome Status
	Reason  string // for disqualify: one of the configured reasons
	Note    string // the decider's own words (optional)
	Partner string // for refer: the partner's name
	By      string // "auto" or a Slack user id
	At      time.Time
}

// DecidedByPolicy is Decision.By for decisions the voting policy took.
const DecidedByPolicy = "auto"

// Research is what pre-research found out about a lead: the flags worth the
// team's attention, the facts behind them, and how each provider fared.
// A zero At means research has not run (yet).
type Research struct {
	Summary   string
	Flags     []Flag
	Facts     Facts
	Providers []ProviderResult
	At        time.Time
}

// Flag is one finding worth the team's attention. Codes are stable (DESIGN.md).
type Flag struct {
	Code   string
	Detail string // a sentence for people; may quote lead or web text (escape before display)
	Source string // the provider that found it: "email", "rdap", "dns", "website", "history", "kvk", "companies_house", "claims"
}

// SlackRef locates a lead's card and its checklist (a reply in the card's thread).
type SlackRef struct {
	Channel     string
	TS          string
	ChecklistTS string
}

// MessageRef is where a message is in Slack.
type MessageRef struct {
	Channel string
	TS      string
	// Digest marks a digest part that names the lead among others: an
	// erasure re-renders it without the lead (OutboxRedactDigest) rather
	// than delete what it says about the other leads.
	Digest bool
}

// Event is one line of a lead's audit trail.
type Event struct {
	At     time.Time
	Kind   string
	By     string // Slack user id, "auto", or the intake source
	Detail string
}

// Event kinds.
const (
	EventCreated    = "created"
	EventVoted      = "voted"
	EventClaimed    = "claimed"
	EventDecided    = "decided"
	EventQuorum     = "quorum"
	EventTie        = "tie"
	EventCardPosted = "card_posted"
	EventResearched = "researched"
	EventAnswered   = "answered"
	EventUnvoted    = "unvoted"
	EventReopened   = "reopened"
	EventVetoed     = "vetoed"  // a must-have answered no stopped an automatic qualification
	EventDissent    = "dissent" // the dissent prompt was posted
	EventReminded   = "reminded"
	EventEscalated  = "escalated"
	EventSnoozed    = "snoozed"
	EventRevisit    = "revisit" // shown in a digest for a second look
	EventOutcome    = "outcome" // what became of the lead was recorded
	EventCRM        = "crm"     // the lead was handed to (or noted in) a CRM
)

func (l *Lead) addEvent(at time.Time, kind, by, detail string) {
	l.Events = append(l.Events, Event{At: at, Kind: kind, By: by, Detail: detail})
}

// Label is how the lead is named in short texts: the company, else the domain,
// else the e-mail, else the id.
func (l *Lead) Label() string {
	for _, s := range []string{l.Company, l.Domain, l.Email, l.Name} {
		if s != "" {
			return s
		}
	}
	return l.ID.String()
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
