package triage

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MinForPercent is the least denominator a figure needs before it is shown
// as a percentage: below it a rate of 2 of 3 says more honestly what is
// known than "67%" does.
const MinForPercent = 10

// PredictGap is how many percentage points the win rates after "yes" and
// after "no" must differ, with at least MinForPercent leads on each side,
// before a criterion is said to predict. A rule of thumb, not a test of
// significance: with tens of leads a smaller gap is chance as often as not.
const PredictGap = 20

// Fraction is k of n, e.g. 3 won of 5 won or lost.
type Fraction struct{ K, N int }

// Percent is 100·K/N rounded half up, and whether it may be shown:
// only when N ≥ MinForPercent.
func (f Fraction) Percent() (int, bool) {
	if f.N < MinForPercent {
		return 0, false
	}
	return (200*f.K + f.N) / (2 * f.N), true
}

// Signal is what the outcomes say about a criterion.
type Signal string

const (
	// SignalTooFew: fewer than MinForPercent won-or-lost leads on one side.
	SignalTooFew Signal = "too_few"
	// SignalPredicts: the win rates after yes and no differ by at least PredictGap points.
	SignalPredicts Signal = "predicts"
	// SignalNoise: enough leads on both sides, and the win rates differ by less.
	SignalNoise Signal = "noise"
)

// CriterionStats is the win rate of qualified leads by their answer to one
// criterion. Yes and No are won of (won + lost) among the qualified leads
// whose latest answer was on that side: for a yes/no criterion "yes" and
// "no"; for a scale 4–5 and 1–2 (3 is neither); for a choice the first
// (best) option and any other. Number and text criteria have no sides and
// are left out.
type CriterionStats struct {
	ID      string
	Kind    CriterionKind
	Yes, No Fraction
	Signal  Signal
}

// DecisionReport answers "did we decide well?" for the leads decided in
// [From, To). Every figure carries its count; none is a percentage by
// itself (Fraction.Percent decides when one may be shown).
type DecisionReport struct {
	From, To time.Time
	Decided  int // leads decided in the period (any status but pending)

	// Qualified leads decided in the period, how many have an outcome, and
	// which. WinRate is won of (won + lost): "no deal" means no deal was on
	// the table, so it counts neither way.
	Qualified, WithOutcome int
	Won, Lost, NoDeal      int
	WinRate                Fraction

	// Declined (disqualified or referred) leads decided in the period, and
	// of those the ones that came back: another lead, created any time
	// later, links to them (Lead.Returning). Returns are those returning
	// leads; of them, how many were qualified and how many won.
	Declined         int
	CameBack         Fraction // K declined leads came back, of N declined
	Returns          int
	ReturnsQualified Fraction // of N returning leads
	ReturnsWon       Fraction // of N returning leads

	Criteria []CriterionStats // in config order; number and text criteria left out

	// Herding: of the decided leads whose first vote (in the round that
	// led to the decision: votes before a reopen do not count) was qualify
	// or disqualify, how many were decided that way (disqualify matches
	// disqualified and referred). A first "unsure" takes no side and is
	// not counted.
	Herding Fraction

	// Dissent: of the decided leads where the dissent prompt was posted and
	// the votes cast until then had a majority, how many were decided
	// against that majority (qualified after a majority for disqualify,
	// declined after one for qualify), read from the audit trail.
	Dissent Fraction

	// Time from creation to decision over the Decided leads; 0 when none.
	// P90 is the nearest-rank 90th percentile: 9 in 10 were decided within it.
	MedianDecision, P90Decision time.Duration
}

// declined reports whether s is a "no": disqualified or referred.
func declined(s Status) bool { return s == StatusDisqualified || s == StatusReferred }

// DecisionStats computes the report over the leads decided in [from, to)
// (a zero from: since the beginning). leads may hold others too: those
// outside the period or undecided are not counted, but any lead whose
// Returning links to a declined lead of the period counts as its return,
// so pass the leads created since from as well. A lead passed more than
// once counts once. It is a StatsAccumulator fed the whole slice.
func DecisionStats(leads []Lead, criteria []Criterion, from, to time.Time) DecisionReport {
	acc := NewStatsAccumulator(criteria, from, to)
	seen := make(map[LeadID]bool, len(leads))
	for _, l := range leads {
		if seen[l.ID] {
			continue
		}
		seen[l.ID] = true
		acc.Add(l)
	}
	return acc.Report()
}

// StatsAccumulator builds a DecisionReport from leads passed one at a
// time, in any order, so that a report over years of leads holds one page
// of them at a time. What it keeps grows only by a few bytes per decided
// lead (its time to decision, for the median; a declined lead's id, to
// match its returns) and per returning lead (prior id → tally).
type StatsAccumulator struct {
	criteria []Criterion
	r        DecisionReport
	sides    []struct{ yes, no Fraction }
	times    []time.Duration
	declined []LeadID               // declined leads decided in the period
	returns  map[LeadID]returnTally // by the lead they return to (Returning.Lead)
}

// returnTally is what the leads returning to one declined lead became.
type returnTally struct{ n, qualified, won int }

// NewStatsAccumulator starts a report over the leads decided in [from, to)
// (a zero from: since the beginning) with the configured criteria.
func NewStatsAccumulator(criteria []Criterion, from, to time.Time) *StatsAccumulator {
	return &StatsAccumulator{
		criteria: criteria,
		r:        DecisionReport{From: from, To: to},
		sides:    make([]struct{ yes, no Fraction }, len(criteria)),
		returns:  map[LeadID]returnTally{},
	}
}

// Add counts l in every role it has: as a decision if it was decided in
// the period, as a return if it links to an earlier decision. Pass each
// lead once (DecisionStats drops repeats; an accumulator does not).
func (a *StatsAccumulator) Add(l Lead) {
	a.AddDecision(l)
	a.AddReturn(l)
}

// AddDecision counts l if it was decided in the period, and ignores it
// otherwise: for a stream of the leads decided in the period (whose
// returns come through AddReturn).
func (a *StatsAccumulator) AddDecision(l Lead) {
	wait, ok := decisionWait(l)
	if !ok {
		return
	}
	if at := l.Decision.At; at.Before(a.r.From) || !at.Before(a.r.To) {
		return
	}
	r := &a.r
	r.Decided++
	a.times = append(a.times, wait)
	if first, ok := firstVote(l); ok {
		r.Herding.N++
		if sameSide(first, l.Status) {
			r.Herding.K++
		}
	}
	if majority, ok := majorityAtDissent(l); ok {
		r.Dissent.N++
		if !sameSide(majority, l.Status) {
			r.Dissent.K++
		}
	}
	switch {
	case l.Status == StatusQualified:
		r.Qualified++
		if l.Outcome == nil {
			return
		}
		r.WithOutcome++
		won := false
		switch l.Outcome.Kind {
		case OutcomeWon:
			r.Won++
			won = true
		case OutcomeLost:
			r.Lost++
		default:
			r.NoDeal++
			return
		}
		for i, c := range a.criteria {
			switch answerSide(c, l.Answers[c.ID].Value) {
			case sideYes:
				a.sides[i].yes.N++
				if won {
					a.sides[i].yes.K++
				}
			case sideNo:
				a.sides[i].no.N++
				if won {
					a.sides[i].no.K++
				}
			}
		}
	case declined(l.Status):
		r.Declined++
		a.declined = append(a.declined, l.ID)
	}
}

// AddReturn counts l as a return of the lead its Returning links to (if
// that lead turns out to be a declined lead of the period), and ignores it
// otherwise: for a stream of the leads created since the period's start.
func (a *StatsAccumulator) AddReturn(l Lead) {
	if l.Returning == nil {
		return
	}
	t := a.returns[l.Returning.Lead]
	t.n++
	if l.Status == StatusQualified {
		t.qualified++
	}
	if l.Outcome != nil && l.Outcome.Kind == OutcomeWon {
		t.won++
	}
	a.returns[l.Returning.Lead] = t
}

// Report is the report over the leads added so far. The accumulator may
// take more leads after it.
func (a *StatsAccumulator) Report() DecisionReport {
	r := a.r
	for _, id := range a.declined {
		t, ok := a.returns[id]
		if !ok {
			continue
		}
		r.CameBack.K++
		r.Returns += t.n
		r.ReturnsQualified.K += t.qualified
		r.ReturnsWon.K += t.won
	}
	r.WinRate = Fraction{K: r.Won, N: r.Won + r.Lost}
	r.CameBack.N = r.Declined
	r.ReturnsQualified.N, r.ReturnsWon.N = r.Returns, r.Returns
	for i, c := range a.criteria {
		if c.Kind != KindYesNo && c.Kind != KindScale && c.Kind != KindChoice {
			continue
		}
		r.Criteria = append(r.Criteria, CriterionStats{ID: c.ID, Kind: c.Kind, Yes: a.sides[i].yes, No: a.sides[i].no,
			Signal: signal(a.sides[i].yes, a.sides[i].no)})
	}
	// percentile90 and median sort: the order of times means nothing.
	r.P90Decision = percentile90(a.times)
	r.MedianDecision = median(a.times)
	return r
}

type side int

const (
	sideNone side = iota
	sideYes
	sideNo
)

// answerSide puts an answer on the yes or the no side of its criterion
// (see CriterionStats).
func answerSide(c Criterion, v string) side {
	if v == "" {
		return sideNone
	}
	switch c.Kind {
	case KindYesNo:
		switch v {
		case AnswerYes:
			return sideYes
		case AnswerNo:
			return sideNo
		}
	case KindScale:
		n, err := strconv.Atoi(v)
		switch {
		case err != nil:
		case n >= 4:
			return sideYes
		case n <= 2:
			return sideNo
		}
	case KindChoice:
		if len(c.Options) == 0 {
			return sideNone
		}
		if v == c.Options[0] {
			return sideYes
		}
		if slices.Contains(c.Options[1:], v) {
			return sideNo
		}
	}
	return sideNone
}

// signal judges a criterion by its two win rates (see PredictGap).
func signal(yes, no Fraction) Signal {
	if yes.N < MinForPercent || no.N < MinForPercent {
		return SignalTooFew
	}
	// |yes.K/yes.N − no.K/no.N| ≥ PredictGap/100, in integers.
	d := yes.K*no.N - no.K*yes.N
	if d < 0 {
		d = -d
	}
	if 100*d >= PredictGap*yes.N*no.N {
		return SignalPredicts
	}
	return SignalNoise
}

// sameSide reports whether a vote and a decision agree: qualify with
// qualified, disqualify with disqualified or referred.
func sameSide(c Choice, s Status) bool {
	switch c {
	case ChoiceQualify:
		return s == StatusQualified
	case ChoiceDisqualify:
		return declined(s)
	}
	return false
}

// voteChoice reads the choice of a voted or unvoted event from its Args
// (EvChoice), or, for an event stored before Args, from its detail
// ("qualify", or "qualify (was unsure)").
func voteChoice(e Event) Choice {
	if c := e.Args[EvChoice]; c != "" {
		return Choice(c)
	}
	c, _, _ := strings.Cut(e.Detail, " ")
	return Choice(c)
}

// lastRound is the part of l's audit trail after its last reopen: the round
// that led to the current decision (a reopen clears the votes).
func lastRound(l Lead) []Event {
	for i := len(l.Events) - 1; i >= 0; i-- {
		if l.Events[i].Kind == EventReopened {
			return l.Events[i+1:]
		}
	}
	return l.Events
}

// firstVote is the first vote of the last round, if it took a side.
func firstVote(l Lead) (Choice, bool) {
	for _, e := range lastRound(l) {
		if e.Kind == EventVoted {
			c := voteChoice(e)
			return c, c == ChoiceQualify || c == ChoiceDisqualify
		}
	}
	return "", false
}

// majorityAtDissent replays the votes of the last round up to the dissent
// prompt and returns the side with more votes; false without a prompt in
// that round or without a majority.
func majorityAtDissent(l Lead) (Choice, bool) {
	votes := map[string]Choice{}
	for _, e := range lastRound(l) {
		switch e.Kind {
		case EventVoted:
			votes[e.By] = voteChoice(e)
		case EventUnvoted:
			delete(votes, e.By)
		case EventDissent:
			var q, d int
			for _, c := range votes {
				switch c {
				case ChoiceQualify:
					q++
				case ChoiceDisqualify:
					d++
				}
			}
			switch {
			case q > d:
				return ChoiceQualify, true
			case d > q:
				return ChoiceDisqualify, true
			}
			return "", false
		}
	}
	return "", false
}

// percentile90 is the nearest-rank 90th percentile: the smallest value
// that at least 90% of d do not exceed; 0 for none. It sorts d.
func percentile90(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	rank := (9*len(d) + 9) / 10 // ⌈0.9·n⌉
	return d[rank-1]
}

// TimePager is what a Store with time indexes may add so that the
// decision stats hold one page of leads at a time, whatever the period.
// Each method calls fn with the leads of its index in [from, to), in index
// order, reading a page at a time in a read transaction of its own and
// calling fn outside it; an error from fn stops the walk and is returned.
// A lead whose indexed time moves while the walk runs may be seen at its
// old place, its new one, both or neither (a decision made meanwhile is
// after any period that ends now).
type TimePager interface {
	EachLeadDecided(ctx context.Context, from, to time.Time, fn func(Lead) error) error
	EachLeadCreated(ctx context.Context, from, to time.Time, fn func(Lead) error) error
}

// statsPage is how many leads the decision stats read at a time.
const statsPage = 256

// DecisionStats reports on the leads decided in [from, to) (a zero from:
// since the beginning) with the configured criteria. A report for bounds
// on the same days (UTC) gathered less than StatsCacheTTL ago is served
// again as it was (its From and To are what it covers), so that every
// opening of the App Home does not read the period again. The digest's
// month figures do not go through this cache (monthReport).
func (s *Service) DecisionStats(ctx context.Context, from, to time.Time) (DecisionReport, error) {
	now := s.now()
	if r, ok := s.stats.get(from, to, now); ok {
		return r, nil
	}
	r, err := s.decisionStats(ctx, from, to)
	if err != nil {
		return DecisionReport{}, err
	}
	s.stats.put(from, to, now, r)
	return r, nil
}

// decisionStats reads the leads of the report a page at a time into a
// StatsAccumulator: for all time every lead once by id (LeadPager); for a
// period the leads decided in it through the decided-at index and their
// returns through the created-at index (TimePager; a return is created
// after the decision it links to, so at or after from). Any other Store
// (storage.DB is a TimePager) is read whole.
func (s *Service) decisionStats(ctx context.Context, from, to time.Time) (DecisionReport, error) {
	acc := NewStatsAccumulator(s.Policy.Criteria, from, to)
	pager, paged := s.Store.(LeadPager)
	walker, walks := s.Store.(TimePager)
	switch {
	case from.IsZero() && paged:
		// Walking both time indexes from the start would decode every
		// decided lead twice.
		for after := LeadID(0); ; {
			page, more, err := pager.LeadsAfter(ctx, LeadFilter{Limit: statsPage}, after)
			if err != nil {
				return DecisionReport{}, fmt.Errorf("reading leads for the decision stats: %w", err)
			}
			for _, l := range page {
				acc.Add(l)
			}
			if !more || len(page) == 0 {
				break
			}
			after = page[len(page)-1].ID
		}
	case walks:
		add := func(f func(Lead)) func(Lead) error { return func(l Lead) error { f(l); return nil } }
		if err := walker.EachLeadDecided(ctx, from, to, add(acc.AddDecision)); err != nil {
			return DecisionReport{}, fmt.Errorf("reading decided leads for the decision stats: %w", err)
		}
		if err := walker.EachLeadCreated(ctx, from, endOfTime, add(acc.AddReturn)); err != nil {
			return DecisionReport{}, fmt.Errorf("reading returning leads for the decision stats: %w", err)
		}
	default:
		all, err := s.Store.Leads(ctx, LeadFilter{})
		if err != nil {
			return DecisionReport{}, fmt.Errorf("listing leads for the decision stats: %w", err)
		}
		return DecisionStats(all, s.Policy.Criteria, from, to), nil
	}
	return acc.Report(), nil
}

// monthReport is last month's report (in loc; nil = UTC) for the first
// digest of a month: the one whose period [since, now) crosses the
// month's start. Any other digest gets nil. It reads the month itself,
// never DecisionStats's cache: a month can fall on the same days as a
// 30-day window gathered hours apart.
func (s *Service) monthReport(ctx context.Context, since, now time.Time, loc *time.Location) (*DecisionReport, error) {
	if loc == nil {
		loc = time.UTC
	}
	local := now.In(loc)
	start := time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, loc)
	if !since.Before(start) {
		return nil, nil
	}
	r, err := s.decisionStats(ctx, start.AddDate(0, -1, 0), start)
	if err != nil {
		return nil, fmt.Errorf("gathering last month's decision stats: %w", err)
	}
	return &r, nil
}
