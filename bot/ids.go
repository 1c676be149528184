package bot

// Action ids of the card's buttons. They are part of the interface contract
// (DESIGN.md): workflows and tests depend on them; each button's value is the
// lead id ("L-42").
const (
	actionVoteQualify    = "lead.vote.qualify"
	actionVoteDisqualify = "lead.vote.disqualify"
	actionVoteUnsure     = "lead.vote.unsure"
	actionClaim          = "lead.claim"
	actionDecide         = "lead.decide"
	actionResearch       = "lead.research"
)

// Snooze buttons on a reminder in a card's thread; each value is the lead id.
const (
	actionSnoozePrefix = "lead.snooze."
	actionSnoozeDay    = actionSnoozePrefix + "day"  // 24 hours
	actionSnoozeWeek   = actionSnoozePrefix + "week" // 7 × 24 hours
)

// Checklist answers (a reply in the card's thread): buttons
// "lead.answer.<yes|no|unknown|1…5>" whose value is "<lead id> <criterion
// id>", and a select "lead.answer.choice" whose option values are "<lead id>
// <criterion id> <option index>". The block carrying a criterion's elements
// has block_id "crit.<criterion id>", with ".<hash of the answer shown>"
// after it once answered (criterionBlockID); dispatch accepts both forms.
const (
	actionAnswerPrefix   = "lead.answer."
	actionAnswerYes      = actionAnswerPrefix + "yes"
	actionAnswerNo       = actionAnswerPrefix + "no"
	actionAnswerUnknown  = actionAnswerPrefix + "unknown"
	actionAnswerChoice   = actionAnswerPrefix + "choice"
	blockCriterionPrefix = "crit."
)

// callbackDecide is the decide dialog's callback_id.
const callbackDecide = actionDecide

// Outcome buttons on the card of a decided lead once the outcome check has
// asked what became of it (outcomes.ask_after); each value is the lead id.
const (
	actionOutcomePrefix = "lead.outcome."
	actionOutcomeWon    = actionOutcomePrefix + "won"
	actionOutcomeLost   = actionOutcomePrefix + "lost"
	actionOutcomeNoDeal = actionOutcomePrefix + "no_deal"
)
