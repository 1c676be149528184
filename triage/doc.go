// Package triage is leadtriage's domain: what a lead is, how the team votes
// on it and how a decision is reached. It knows nothing about Slack, bbolt or
// HTTP; adapters (storage, bot, intake) implement or call what it declares.
//
// Vocabulary:
//
//	Lead      a company that showed interest, with the contact's details (L-42).
//	Vote      one teammate's opinion: qualify, disqualify or unsure. One per
//	          person; the latest counts.
//	Quorum    how many votes a lead needs before the vote is revealed and, with
//	          automatic decisions, decided by majority.
//	Decision  the outcome (qualified, disqualified, referred), who took it
//	          ("auto" or a Slack user id) and why.
//	Event     one line of a lead's audit trail.
//	Outbox    messages bound for Slack, stored in the same transaction as the
//	          state change that caused them and delivered later by a worker.
//
// A lead's life:
//
//	pending ──(quorum + majority, or the team lead)──> qualified | disqualified | referred
//
// While pending the team votes (blind until the quorum when configured),
// claims the lead and answers criteria. A decided lead accepts no votes.
package triage
