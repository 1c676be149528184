package triage

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// maxParallelResearch bounds how many leads are researched at once, so a
// CSV import of a thousand leads does not open a thousand connections.
const maxParallelResearch = 4

// researchRunner runs research in the background: bounded, tracked so that
// shutdown can wait for it, and cancelled by StopResearch.
type researchRunner struct {
	mu      sync.Mutex
	wg      sync.WaitGroup
	sem     chan struct{}
	ctx     context.Context
	cancel  context.CancelFunc
	stopped bool
}

func (r *researchRunner) start() (context.Context, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return nil, false
	}
	if r.ctx == nil {
		r.ctx, r.cancel = context.WithCancel(context.Background())
		r.sem = make(chan struct{}, maxParallelResearch)
	}
	r.wg.Add(1)
	return r.ctx, true
}

// StartResearch researches lead id in the background; the card is posted
// without waiting and updated when the research is in. refresh bypasses the
// research cache (the "Re-run research" button). It does nothing without a
// Researcher or after StopResearch.
func (s *Service) StartResearch(id LeadID, refresh bool) {
	if s.Researcher == nil {
		return
	}
	ctx, ok := s.research.start()
	if !ok {
		return
	}
	go func() {
		defer s.research.wg.Done()
		select {
		case s.research.sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		defer func() { <-s.research.sem }()
		// A panicking provider must not take the bot down with it.
		defer func() {
			if r := recover(); r != nil {
				s.log().Error("research panicked", "lead_id", id.String(), "panic", fmt.Sprint(r))
			}
		}()
		if _, err := s.runResearch(ctx, id, refresh); err != nil && ctx.Err() == nil {
			s.log().Error("researching lead", "lead_id", id.String(), "error", err)
		}
	}()
}

// runResearch researches lead id now and records the result on the lead,
// with a card update. Errors of the Researcher as a whole are recorded as
// research_incomplete, not returned: the lead keeps what could be found.
func (s *Service) runResearch(ctx context.Context, id LeadID, refresh bool) (Lead, error) {
	if s.Researcher == nil {
		return Lead{}, fmt.Errorf("researching %s: %w", id, ErrNotAllowed)
	}
	lead, err := s.Store.Lead(ctx, id)
	if err != nil {
		return Lead{}, fmt.Errorf("researching %s: %w", id, err)
	}
	timeout := s.ResearchTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	start := time.Now()
	findings, rerr := s.Researcher.Research(rctx, lead, refresh)
	cancel()
	if rerr != nil {
		reason := "failed"
		if errors.Is(rerr, context.DeadlineExceeded) {
			reason = "timed out"
		}
		findings.Providers = append(findings.Providers, ProviderResult{Name: "research", Error: reason, Took: time.Since(start)})
	}
	if ctx.Err() != nil {
		return Lead{}, fmt.Errorf("researching %s: %w", id, ctx.Err())
	}
	others, err := s.similar(ctx, lead)
	if err != nil {
		return Lead{}, fmt.Errorf("researching %s: looking up earlier leads: %w", id, err)
	}
	now := s.now()
	updated, err := s.updateLead(ctx, id, func(l *Lead) ([]OutboxItem, error) {
		l.Research = Compose(*l, findings, others, now)
		l.addEvent(now, EventResearched, "research", fmt.Sprintf("%d flags", len(l.Research.Flags)), EvFlags, strconv.Itoa(len(l.Research.Flags)))
		return []OutboxItem{s.cardUpdate(l, now)}, nil
	})
	if err != nil {
		return Lead{}, fmt.Errorf("recording research on %s: %w", id, err)
	}
	s.wake()
	return updated, nil
}

// similar returns the other leads with the same e-mail or domain.
func (s *Service) similar(ctx context.Context, l Lead) ([]Lead, error) {
	seen := map[LeadID]bool{l.ID: true}
	var out []Lead
	add := func(ls []Lead, err error) error {
		if err != nil {
			return err
		}
		for _, o := range ls {
			if !seen[o.ID] {
				seen[o.ID] = true
				out = append(out, o)
			}
		}
		return nil
	}
	if l.Email != "" {
		if err := add(s.Store.LeadsByEmail(ctx, l.Email)); err != nil {
			return nil, err
		}
	}
	if l.Domain != "" {
		if err := add(s.Store.LeadsByDomain(ctx, l.Domain)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ResumeResearch starts research for pending leads that have none, e.g.
// because the bot stopped before it finished. Call it once at start-up.
func (s *Service) ResumeResearch(ctx context.Context) error {
	if s.Researcher == nil {
		return nil
	}
	leads, err := s.Store.Leads(ctx, LeadFilter{Status: StatusPending})
	if err != nil {
		return fmt.Errorf("finding leads to research: %w", err)
	}
	for _, l := range leads {
		if l.Research.At.IsZero() {
			s.StartResearch(l.ID, false)
		}
	}
	return nil
}

// StopResearch stops starting research and waits for the runs in flight
// to finish; when ctx ends first they are cancelled (their leads keep no
// research and are picked up by ResumeResearch at the next start).
func (s *Service) StopResearch(ctx context.Context) error {
	s.research.mu.Lock()
	s.research.stopped = true
	cancel := s.research.cancel
	s.research.mu.Unlock()
	done := make(chan struct{})
	go func() { s.research.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	if cancel != nil {
		cancel()
	}
	select {
	case <-done:
	case <-time.After(2 * time.Second): // a researcher that ignores ctx
	}
	return ctx.Err()
}
