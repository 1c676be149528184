package triage

import (
	"context"
	"fmt"
)

// MaxPage is the most leads one page of a list holds.
const MaxPage = 1000

// Page is one page of a lead list, oldest first.
type Page struct {
	Leads []Lead
	// Next is the id to pass as after for the next page: the last lead's
	// when more follow, 0 at the end.
	Next LeadID
}

// LeadsPage lists up to limit (1..MaxPage) leads with a status ("" = all)
// whose id is above after (0: from the first), oldest first. Through a
// LeadPager it reads only that page; from another store it reads every
// matching lead and keeps the page.
func (s *Service) LeadsPage(ctx context.Context, status Status, after LeadID, limit int) (Page, error) {
	if status != "" && !status.Valid() {
		return Page{}, &FieldError{Field: "status", Problem: fmt.Sprintf("%q is not a status (pending, qualified, disqualified, referred or all)", status)}
	}
	if limit < 1 || limit > MaxPage {
		return Page{}, &FieldError{Field: "limit", Problem: fmt.Sprintf("%d is not between 1 and %d", limit, MaxPage)}
	}
	f := LeadFilter{Status: status, Limit: limit}
	var (
		leads []Lead
		more  bool
		err   error
	)
	if p, ok := s.Store.(LeadPager); ok {
		leads, more, err = p.LeadsAfter(ctx, f, after)
	} else {
		leads, more, err = pageOf(ctx, s.Store, f, after)
	}
	if err != nil {
		return Page{}, fmt.Errorf("listing leads: %w", err)
	}
	pg := Page{Leads: leads}
	if more && len(leads) > 0 {
		pg.Next = leads[len(leads)-1].ID
	}
	return pg, nil
}

// CountLeads counts the leads with a status ("" = all): through a
// LeadPager without reading them.
func (s *Service) CountLeads(ctx context.Context, status Status) (int, error) {
	if p, ok := s.Store.(LeadPager); ok {
		return p.CountLeads(ctx, status)
	}
	leads, err := s.Store.Leads(ctx, LeadFilter{Status: status})
	return len(leads), err
}

// pageOf pages a Store without LeadPager: every matching lead is read.
func pageOf(ctx context.Context, st Store, f LeadFilter, after LeadID) ([]Lead, bool, error) {
	all, err := st.Leads(ctx, LeadFilter{Status: f.Status})
	if err != nil {
		return nil, false, err
	}
	var page []Lead
	for i, l := range all {
		if l.ID <= after {
			continue
		}
		if len(page) == f.Limit {
			return page, true, nil
		}
		page = append(page, all[i])
	}
	return page, false, nil
}

// NewestLeads returns the newest limit leads (of those user owns or added,
// when user is set), newest first, and how many there are in all: through
// the store's index when it has one (NewestIndex), else by reading every
// lead.
func (s *Service) NewestLeads(ctx context.Context, user string, limit int) ([]Lead, int, error) {
	if limit < 1 || limit > MaxPage {
		return nil, 0, &FieldError{Field: "limit", Problem: fmt.Sprintf("%d is not between 1 and %d", limit, MaxPage)}
	}
	if ix, ok := s.Store.(NewestIndex); ok {
		return ix.NewestLeads(ctx, user, limit)
	}
	all, err := s.Store.Leads(ctx, LeadFilter{})
	if err != nil {
		return nil, 0, fmt.Errorf("listing leads: %w", err)
	}
	var mine []Lead
	for i := len(all) - 1; i >= 0; i-- {
		if user == "" || all[i].Owner == user || all[i].CreatedBy == user {
			mine = append(mine, all[i])
		}
	}
	return mine[:min(limit, len(mine))], len(mine), nil
}
