package triage

import "time"

// NoticeKind says what a notice tells people. The domain decides that
// something must be said and with which data; the bot words it, in the
// configured language, with its own escaping (see Notice).
type NoticeKind string

const (
	// NoticeVoted confirms User's Choice; Blind with Votes of Quorum while
	// the votes stay hidden.
	NoticeVoted NoticeKind = "voted"
	// NoticeAlreadyVoted tells User that voting Choice again changed nothing.
	NoticeAlreadyVoted NoticeKind = "already_voted"
	// NoticeClaimed confirms that User owns the lead now.
	NoticeClaimed NoticeKind = "claimed"
	// NoticeAutoDecided says the team's vote (Tally) decided Status.
	NoticeAutoDecided NoticeKind = "auto_decided"
	// NoticeVetoed says the vote (Tally) says qualify but the must-haves in
	// Criteria are answered no; TeamLead decides.
	NoticeVetoed NoticeKind = "vetoed"
	// NoticeTie says the quorum (Tally) has no majority; TeamLead decides.
	NoticeTie NoticeKind = "tie"
	// NoticeDecideNow asks TeamLead to decide (decide = "lead"): Tally, the
	// vote's majority in Status ("" = none) and must-haves answered no in
	// Criteria.
	NoticeDecideNow NoticeKind = "decide_now"
	// NoticeDissent asks a unanimous no without a red flag to think again.
	NoticeDissent NoticeKind = "dissent"
	// NoticeDecided says User decided Status: with Owner (qualified), Reason
	// (disqualified) or Partner (referred).
	NoticeDecided NoticeKind = "decided"
	// NoticeReopened says User reopened the lead, which was Status.
	NoticeReopened NoticeKind = "reopened"
	// NoticeAnswerHint tells User which answers in Problems could not be read.
	NoticeAnswerHint NoticeKind = "answer_hint"
	// NoticeDeclineDraft offers a decline of DraftFacts (to Partner when
	// set), or Draft as an older version worded it.
	NoticeDeclineDraft NoticeKind = "decline_draft"
	// NoticeReferralDraft offers an introduction to Partner of DraftFacts,
	// or Draft as an older version worded it.
	NoticeReferralDraft NoticeKind = "referral_draft"
	// NoticeReminder says the lead has waited Waited (BusinessHours: counted
	// in business hours) without a claim or decision; Team says whether a team
	// is configured, Users who of it has not voted.
	NoticeReminder NoticeKind = "reminder"
	// NoticeEscalation tells the team lead the same, directly, with Label,
	// the votes so far (Votes; Tally once Revealed) and Users not voted.
	NoticeEscalation NoticeKind = "escalation"
	// NoticeSnoozed confirms a snooze until Until.
	NoticeSnoozed NoticeKind = "snoozed"
	// NoticeAlreadySnoozed says the lead is snoozed until Until already.
	NoticeAlreadySnoozed NoticeKind = "already_snoozed"
	// NoticeImported tells the channel that an import from Source ("" =
	// unnamed) created Count leads, found Repeats already there and skipped
	// Rejected bad rows, and that the cards follow at Slack's pace: one
	// message instead of a flood of unannounced cards.
	NoticeImported NoticeKind = "imported"
	// NoticeOutcome says User (a Slack user id or "api") recorded Outcome,
	// Corrected when it replaces an earlier one.
	NoticeOutcome NoticeKind = "outcome"
	// NoticeOutcomeRecorded confirms to User that Outcome is recorded;
	// Corrected as above, Repeat when it was recorded already.
	NoticeOutcomeRecorded NoticeKind = "outcome_recorded"
)

// Notice is something the domain wants said, as data: ids, counts, choices
// and the lead's own words, never mrkdwn or sentences. An OutboxItem
// carries it; the bot renders it.
type Notice struct {
	Kind NoticeKind
	Lead LeadID
	// User is who acted or is addressed; Owner the lead's owner; TeamLead
	// who decides when the vote does not ("" = no one configured).
	User, Owner, TeamLead string
	Choice                Choice
	Status                Status
	Reason, Partner       string // configured or typed text: the bot escapes it
	Label                 string // the lead's label (lead text: the bot escapes it)
	Tally                 Tally
	// Votes and Quorum count the votes while they are hidden; Blind says
	// they are.
	Votes, Quorum int
	Blind         bool
	Criteria      []string       // criterion ids
	Users         []string       // user ids, e.g. who has not voted
	Team          bool           // a team is configured (reminders)
	Problems      []ReplyProblem // answers that could not be read
	Waited        time.Duration
	BusinessHours bool
	Until         time.Time
	// DraftFacts is what a draft says (NoticeDeclineDraft,
	// NoticeReferralDraft); the bot words it in DraftFacts.Language. Draft
	// is a draft worded by a version before that, stored so: shown as it is.
	DraftFacts *DraftFacts
	Draft      *Draft
	// Count, Repeats and Rejected count an import's rows (NoticeImported);
	// Source is its source as the caller named it (text: the bot escapes it).
	Count, Repeats, Rejected int
	Source                   string
	// Outcome is what became of the lead (NoticeOutcome*); Corrected says it
	// replaced a different one, Repeat that it was recorded already.
	Outcome           *Outcome
	Corrected, Repeat bool
	// System and URL name a CRM record (NoticeCRM): our link, not lead text.
	System, URL string
}
