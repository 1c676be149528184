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
