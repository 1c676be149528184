package triage

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// StatsWindow is the period the App Home's numbers cover.
const StatsWindow = 30 * 24 * time.Hour

// Stats is the team's work in numbers over a period.
type Stats struct {
	Since        time.Time // leads created at or after this count
	Received     int       // leads created in the period
	Qualified    int       // of those, qualified now
	Disqualified int       // of those, disqualified now
	Referred     int       // of those, referred now
	Decided      int       // of those, with a decision
	// MedianDecision is the median time from creation to decision over the
	// decided leads; 0 when none is decided.
	MedianDecision time.Duration
}

// computeStats counts the leads created at or after since. Statuses are the
// leads' current ones, so a reopened lead counts as neither received-and-
// decided nor in an outcome until it is decided again.
func computeStats(leads []Lead, since time.Time) Stats {
	st := Stats{Since: since}
	var times []time.Duration
	for _, l := range leads {
		if l.CreatedAt.Before(since) {
			continue
		}
		st.Received++
		switch l.Status {
		case StatusQualified:
			st.Qualified++
		case StatusDisqualified:
			st.Disqualified++
		case StatusReferred:
			st.Referred++
		}
		if wait, ok := decisionWait(l); ok {
			st.Decided++
			times = append(times, wait)
		}
	}
	st.MedianDecision = median(times)
	return st
}

// median returns the middle value, or the mean of the two middle values for
// an even count; 0 for none. It sorts d.
func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	m := len(d) / 2
	if len(d)%2 == 1 {
		return d[m]
	}
	return d[m-1] + (d[m]-d[m-1])/2
}

// Home is what one person's App Home shows.
type Home struct {
	AwaitingVote []Lead // pending leads the person has not voted on, oldest first
	Owned        []Lead // the person's pending or qualified leads, newest first
	Pending      []Lead // every pending lead, oldest first
	Stats        Stats  // the last StatsWindow
}

// Home gathers user's App Home as of now. Pending leads come from the
// store's status index, the user's own through the owner index (OwnerIndex;
// from a store without one, among every qualified lead); the numbers read the leads created in the
// last StatsWindow through the created-at index (TimeIndex), or, from a
// store without one, read every lead and keep those.
func (s *Service) Home(ctx context.Context, user string, now time.Time) (Home, error) {
	pending, err := s.Store.Leads(ctx, LeadFilter{Status: StatusPending})
	if err != nil {
		return Home{}, fmt.Errorf("listing pending leads: %w", err)
	}
	owned, err := s.ownedLeads(ctx, user, pending)
	if err != nil {
		return Home{}, err
	}
	since := now.Add(-StatsWindow)
	var all []Lead
	if ix, ok := s.Store.(TimeIndex); ok {
		all, err = ix.LeadsCreated(ctx, since, endOfTime)
	} else {
		all, err = s.Store.Leads(ctx, LeadFilter{})
	}
	if err != nil {
		return Home{}, fmt.Errorf("listing leads for the numbers: %w", err)
	}
	h := Home{Pending: pending, Stats: computeStats(all, since)}
	for _, l := range pending {
		if _, voted := l.Votes[user]; !voted && user != "" {
			h.AwaitingVote = append(h.AwaitingVote, l)
		}
	}
	h.Owned = owned
	slices.SortStableFunc(h.Owned, func(a, b Lead) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmpID(b.ID, a.ID)
	})
	return h, nil
}

// ownedLeads are user's pending and qualified leads: through the owner
// index (OwnerIndex), or, from a store without one, among pending and every
// qualified lead.
func (s *Service) ownedLeads(ctx context.Context, user string, pending []Lead) ([]Lead, error) {
	if user == "" {
		return nil, nil
	}
	if ix, ok := s.Store.(OwnerIndex); ok {
		owned, err := ix.LeadsOwned(ctx, user)
		if err != nil {
			return nil, fmt.Errorf("listing %s's leads: %w", user, err)
		}
		return owned, nil
	}
	qualified, err := s.Store.Leads(ctx, LeadFilter{Status: StatusQualified})
	if err != nil {
		return nil, fmt.Errorf("listing qualified leads: %w", err)
	}
	var owned []Lead
	for _, l := range slices.Concat(pending, qualified) {
		if l.Owner == user {
			owned = append(owned, l)
		}
	}
	return owned, nil
}

// endOfTime is the latest time a time index can hold (Unix nanoseconds in
// an int64): "created since" has no upper end.
var endOfTime = time.Unix(0, math.MaxInt64)

func cmpID(a, b LeadID) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// AddFromSlack adds a lead a person typed or pasted in Slack: created by
// user, via "slack", with source "slack" unless in says otherwise. A repeat
// of the same input within ImplicitKeyTTL returns the first lead with
// created=false. Invalid input is a *FieldError naming the field.
func (s *Service) AddFromSlack(ctx context.Context, user string, in LeadInput) (Lead, bool, error) {
	if strings.TrimSpace(in.Source) == "" {
		in.Source = "slack"
	}
	return s.Submit(ctx, in, Submission{CreatedBy: user, Via: "slack"})
}
