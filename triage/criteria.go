package triage

// CriterionKind says what answers a criterion takes.
type CriterionKind string

const (
	KindYesNo  CriterionKind = "yesno"  // yes / no / don't know
	KindScale  CriterionKind = "scale"  // 1–5
	KindNumber CriterionKind = "number" // a number (budget, head count)
	KindText   CriterionKind = "text"   // free text
	KindChoice CriterionKind = "choice" // one of Options
)

// Normalised answer values of yes/no criteria.
const (
	AnswerYes     = "yes"
	AnswerNo      = "no"
	AnswerUnknown = "unknown" // "don't know" is an answer too: someone looked
)

// Criterion is one of the team's own qualification criteria (config.toml).
type Criterion struct {
	ID       string
	Question string
	Kind     CriterionKind
	Options  []string // KindChoice only, in order of preference (best first)
	Must     bool     // a "no" blocks automatic qualification
	Weight   int      // counts in the score
	Help     string
}

// ParsedAnswer is one answer read from a thread reply or a checklist click,
// already normalised (NormaliseAnswer).
type ParsedAnswer struct {
	Criterion string // criterion id
	Value     string
	// Note is what the person wrote after the answer ("yes, the CFO signed
	// off": "the CFO signed off"), kept with it; "" for none and for clicks.
	Note string
}

// ReplyProblem is a line that names a known criterion but whose answer does
// not parse; the bot answers it with a hint listing what is accepted.
type ReplyProblem struct {
	Criterion string
	Raw       string // the answer as typed (untrusted)
	Accepted  string // AcceptedForms of the criterion
}

// CriteriaStatus is the one-line state of a lead's criteria.
type CriteriaStatus struct {
	Answered, Total int
	MustNo          []string                 // must-have criteria whose value is "no" (ids, config order)
	MustOpen        []string                 // must-have criteria not answered yet
	Score, MaxScore int                      // weighted; only scored kinds count toward MaxScore
	Disagree        map[string][]AnswerCount // criterion id -> who answered what when people answered differently
}

// AnswerCount is how many people (N) gave one answer (Value, normalised; a
// text answer cut to 40 runes). A criterion's counts come most given first,
// then by value.
type AnswerCount struct {
	Value string
	N     int
}
