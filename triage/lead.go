package triage

import (
	"fmt"
	"maps"
	"slices"
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
		return 0, &FieldError{Field: "id", Problem: fmt.Sprintf("%q is not a lead id (expected L-<number>)", truncateRunes(s, 40)), Reason: ReasonNotLeadID, Value: truncateRunes(s, 40)}
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
	// Channel and TS are the earlier lead's card, for a link; "" when it
	// had none.
	Channel, TS string
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
	OutcomeAsked time.Time // the card asked what became of the decided lead
}

// Answer is one answer to a qualification criterion.
type Answer struct {
	Value string
	Note  string // the words after the answer in a thread reply (ParsedAnswer.Note)
	By    string
	At    time.Time
}

// Decision records how a lead was decided.
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
	Code string
	// Detail is a provider's English sentence (research writes one; flags
	// the domain composes have none, and flags stored before Args have
	// only this). bot words a flag from Args when it has them, and the API
	// in English. It may quote lead or web text (escape before display).
	Detail string
	Source string // the provider that found it: "email", "rdap", "dns", "website", "history", "kvk", "companies_house", "claims"
	// Args are the flag's data, keyed by the Arg* names (which keys a code
	// carries is listed beside them), so that bot can say it in the team's
	// language: dates as 2006-01-02, numbers in decimal. Nil on flags
	// stored before issue 12.
	Args map[string]string
}

// Keys of Flag.Args, and the codes that carry them.
const (
	ArgDomain       = "domain"      // free_email, disposable_email, invalid_email_domain, domain_young
	ArgHost         = "host"        // website_unreachable (the site given), no_website (the address tried)
	ArgWhy          = "why"         // website_unreachable: the error, in the words of the network ("" = no answer)
	ArgVariant      = "variant"     // no_website: VariantFreeMail, VariantNothing, VariantNoAnswer
	ArgDate         = "date"        // domain_young (registered), claim_mismatch (incorporated), credit_risk (rated), previously_disqualified (decided; "" = unknown)
	ArgDays         = "days"        // domain_young
	ArgFounded      = "founded"     // claim_mismatch; research_incomplete (a founding claim nothing could check)
	ArgRegistered   = "registered"  // claim_mismatch online: domain registration date
	ArgCertificate  = "certificate" // claim_mismatch online: first certificate's date, or ArgNone (looked, found none)
	ArgCapture      = "capture"     // claim_mismatch online: first archive capture's date, or ArgNone
	ArgBureau       = "bureau"      // credit_risk, insolvency: the bureau's source name ("creditsafe")
	ArgStatus       = "status"      // insolvency (the bureau's words; "" = not active), previously_disqualified (a Status)
	ArgRating       = "rating"      // credit_risk
	ArgRatingText   = "rating_text" // credit_risk: the bureau's description of the rating
	ArgLead         = "lead"        // previously_disqualified: the earlier lead's id
	ArgReason       = "reason"      // previously_disqualified: its decision's reason ("" = none recorded)
	ArgSeen         = "seen"        // duplicate: "L-3 domain qualified; L-5 email pending", at most 5
	ArgMore         = "more"        // duplicate: how many more earlier leads ("" = none)
	ArgFailed       = "failed"      // research_incomplete: "email (timeout); dns (http 500)"
	ArgNone         = "none"
	VariantFreeMail = "free_mail" // no website, only a free-mail address
	VariantNothing  = "nothing"   // no website and no e-mail domain
	VariantNoAnswer = "no_answer" // no website given, and nothing answers at the company's domain
	SameDomain      = "domain"
	SameEmail       = "email"
	// ArgSep separates list items in an arg (seen, failed).
	ArgSep = "; "
)

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
	Detail string // in English, for the API and for events stored before Args
	// Args are the event's data, keyed by the Ev* names, so that bot can
	// word it in the team's language; nil on events without data and on
	// events stored before issue 12.
	Args map[string]string
}

// Keys of Event.Args. User ids are Slack user ids; lists are joined by
// ArgSep; dates are RFC 3339.
const (
	EvVia        = "via"        // created
	EvChoice     = "choice"     // voted, unvoted: a Choice
	EvWas        = "was"        // voted: the choice it replaced
	EvOutcome    = "outcome"    // decided, reopened: a Status
	EvReason     = "reason"     // decided, reopened
	EvOwner      = "owner"      // claimed by a decision: user id
	EvQualify    = "qualify"    // quorum, tie: the tally
	EvDisqualify = "disqualify" // quorum, tie
	EvUnsure     = "unsure"     // quorum, tie
	EvFlags      = "flags"      // researched: how many flags
	EvCriteria   = "criteria"   // vetoed: criterion ids
	EvBy         = "by"         // reopened: who had decided
	EvAt         = "at"         // reopened: when; snoozed: until when
	EvNote       = "note"       // reopened
	EvVotes      = "votes"      // reopened: "U1=qualify; U2=unsure"
	EvTold       = "told"       // escalated: user id
	EvNotVoted   = "not_voted"  // reminded, escalated: user ids
	EvDigest     = "digest"     // revisit: the digest's key
)

// More keys of Event.Args: outcome, card_posted and crm. An outcome event
// also uses EvNote (its note) and EvWas (the kind of the outcome it
// corrected).
const (
	EvResult   = "result"    // outcome: an OutcomeKind
	EvValue    = "value"     // outcome: whole currency units ("" = not given)
	EvWasValue = "was_value" // outcome: the corrected outcome's value
	EvWasNote  = "was_note"  // outcome: the corrected outcome's note
	EvFound    = "found"     // card_posted: FoundInHistory when an unfinished attempt had posted the card
	EvRecords  = "records"   // crm: what changed, "hubspot deal 103; hubspot company 101 link"

	// FoundInHistory: the card was found in the channel's history.
	FoundInHistory = "history"
	// What changed on a CRM record already known, after its "system kind
	// id" in EvRecords; nothing after it is a new record.
	CRMLinkChanged = "link"
	CRMGone        = "deleted"
)

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

// addEvent records an event; kv are Args as key, value pairs, of which
// empty values are left out.
func (l *Lead) addEvent(at time.Time, kind, by, detail string, kv ...string) {
	var args map[string]string
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			continue
		}
		if args == nil {
			args = map[string]string{}
		}
		args[kv[i]] = kv[i+1]
	}
	l.Events = append(l.Events, Event{At: at, Kind: kind, By: by, Detail: detail, Args: args})
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

// Clone copies l deeply: maps (AnswersBy's inner maps too), slices and
// pointers, so that a change of the copy never shows in l (a store's copy,
// an event's snapshot).
func (l Lead) Clone() Lead {
	l.Extra = maps.Clone(l.Extra)
	l.Votes = maps.Clone(l.Votes)
	l.Answers = maps.Clone(l.Answers)
	if l.AnswersBy != nil {
		by := make(map[string]map[string]Answer, len(l.AnswersBy))
		for c, m := range l.AnswersBy {
			by[c] = maps.Clone(m)
		}
		l.AnswersBy = by
	}
	if l.Decision != nil {
		d := *l.Decision
		l.Decision = &d
	}
	l.Research.Flags = slices.Clone(l.Research.Flags)
	l.Posted = slices.Clone(l.Posted)
	l.Research.Providers = slices.Clone(l.Research.Providers)
	l.Research.Facts.MX = slices.Clone(l.Research.Facts.MX)
	l.Research.Facts.Website.CopyrightYears = slices.Clone(l.Research.Facts.Website.CopyrightYears)
	l.Research.Facts.Website.Social = maps.Clone(l.Research.Facts.Website.Social)
	if r := l.Research.Facts.Registry; r != nil {
		c := *r
		l.Research.Facts.Registry = &c
	}
	if o := l.Outcome; o != nil {
		c := *o
		l.Outcome = &c
	}
	if p := l.Returning; p != nil {
		c := *p
		l.Returning = &c
	}
	l.CRM = slices.Clone(l.CRM)
	l.Events = slices.Clone(l.Events)
	// l.Reminder holds only times: copied with l.
	return l
}
