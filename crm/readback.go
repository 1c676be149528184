package crm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/leadtriage/leadtriage/triage"
)

// ReadBackWindow is how far back the read-back looks: deals of leads
// decided within the last year. An older deal still open is left to people.
const ReadBackWindow = 365 * 24 * time.Hour

// Decided lists the leads decided in [from, to) (triage.TimeIndex), so the
// read-back reads only those, not every lead ever stored.
type Decided interface {
	LeadsDecided(ctx context.Context, from, to time.Time) ([]triage.Lead, error)
}

// OpenDeals is what a store with an open-deal index (triage.OutcomeIndex)
// offers: the leads decided in [from, to) without an outcome and with a
// deal not gone. When ReadBackConfig.Leads has it, the read-back reads only
// those, not every lead decided in the year.
type OpenDeals interface {
	LeadsWithOpenDeals(ctx context.Context, from, to time.Time) ([]triage.Lead, error)
}

// ReadBackConfig is the read-back's set-up; all but Log and Now required.
type ReadBackConfig struct {
	CRM CRM
	// Leads is read through OpenDeals when it has it (*storage.DB).
	Leads Decided
	// Outcome records what became of a lead (By is the CRM's name).
	Outcome func(ctx context.Context, id triage.LeadID, o triage.Outcome) error
	// Record marks a deal deleted in the CRM (triage.Service.RecordCRM with
	// Gone set), so it is not asked about again.
	Record func(ctx context.Context, id triage.LeadID, recs []triage.CRMRecord, at time.Time) (triage.Lead, error)
	Now    func() time.Time
	Log    *slog.Logger
	// Limit paces the questions to the CRM (nil: unpaced), well under its
	// rate limit, so an hourly pass over many open deals does not run into
	// 429s at all; a 429 that comes anyway ends the pass, and the next one
	// resumes there.
	Limit *rate.Limiter
}

// ReadBack asks the CRM what became of the deals the hand-off made: a deal
// won or lost there is the lead's outcome.
type ReadBack struct {
	cfg ReadBackConfig

	mu sync.Mutex
	// resume is the lead a rate limit stopped the last pass at: the next
	// pass starts there, so the deals late in the list are not starved by
	// a limit that always strikes before them. 0: from the start.
	resume triage.LeadID
}

// NewReadBack checks cfg and returns the read-back; Run does one pass.
func NewReadBack(cfg ReadBackConfig) (*ReadBack, error) {
	if cfg.CRM == nil || cfg.Leads == nil || cfg.Outcome == nil || cfg.Record == nil {
		return nil, errors.New("the crm read-back needs a crm client, the decided leads and recorders")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &ReadBack{cfg: cfg}, nil
}

// ReadBackResult counts one pass.
type ReadBackResult struct {
	Asked, Recorded, Gone int
}

// Run asks about every deal in this CRM of a lead decided within
// ReadBackWindow that has no outcome yet and is not gone. Won or lost is
// recorded as the outcome; a deleted deal is marked gone. A rate limit ends
// the pass early (the next pass continues); other errors are skipped and
// returned together.
func (r *ReadBack) Run(ctx context.Context) (ReadBackResult, error) {
	var res ReadBackResult
	now := r.cfg.Now()
	from, to := now.Add(-ReadBackWindow), now.Add(time.Nanosecond)
	var leads []triage.Lead
	var err error
	if ix, ok := r.cfg.Leads.(OpenDeals); ok {
		leads, err = ix.LeadsWithOpenDeals(ctx, from, to)
	} else {
		leads, err = r.cfg.Leads.LeadsDecided(ctx, from, to)
	}
	if err != nil {
		return res, fmt.Errorf("listing decided leads: %w", err)
	}
	r.mu.Lock()
	resume := r.resume
	r.mu.Unlock()
	if i := slices.IndexFunc(leads, func(l triage.Lead) bool { return l.ID == resume }); i > 0 {
		leads = append(leads[i:], leads[:i]...)
	}
	system := r.cfg.CRM.Name()
	var errs []error
	for _, l := range leads {
		if l.Outcome != nil {
			continue
		}
		for _, rec := range l.CRM {
			if rec.System != system || rec.Kind != "deal" || !rec.Gone.IsZero() {
				continue
			}
			if err := ctx.Err(); err != nil {
				return res, err
			}
			if r.cfg.Limit != nil {
				if err := r.cfg.Limit.Wait(ctx); err != nil {
					return res, err
				}
			}
			res.Asked++
			kind, value, err := r.cfg.CRM.DealState(ctx, rec)
			switch {
			case errors.Is(err, ErrGone):
				rec.Gone = r.cfg.Now()
				if _, err := r.cfg.Record(ctx, l.ID, []triage.CRMRecord{rec}, rec.Gone); err != nil && !errors.Is(err, triage.ErrNotFound) {
					errs = append(errs, fmt.Errorf("marking %s's deal gone: %w", l.ID, err))
					continue
				}
				res.Gone++
			case err != nil:
				err = scrub(err)
				var se *StatusError
				if errors.As(err, &se) && se.Status == 429 {
					r.mu.Lock()
					r.resume = l.ID
					r.mu.Unlock()
					return res, errors.Join(append(errs, fmt.Errorf("reading %s's deal: %w", l.ID, err))...)
				}
				errs = append(errs, fmt.Errorf("reading %s's deal: %w", l.ID, err))
			case kind == triage.OutcomeWon || kind == triage.OutcomeLost:
				o := triage.Outcome{Kind: kind, Value: value, By: system, At: r.cfg.Now()}
				if err := r.cfg.Outcome(ctx, l.ID, o); err != nil && !errors.Is(err, triage.ErrNotFound) {
					errs = append(errs, fmt.Errorf("recording %s's outcome: %w", l.ID, err))
					continue
				}
				res.Recorded++
			}
			if kind != "" || errors.Is(err, ErrGone) {
				break // one outcome per lead
			}
		}
	}
	r.mu.Lock()
	r.resume = 0
	r.mu.Unlock()
	if res.Recorded+res.Gone > 0 {
		r.cfg.Log.Info("crm read-back", "asked", res.Asked, "outcomes", res.Recorded, "gone", res.Gone)
	}
	return res, errors.Join(errs...)
}
