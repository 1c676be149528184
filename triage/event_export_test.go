package triage

import "context"

// UpdateLeadForTest is updateLead, for the external tests of the events a
// change makes.
func (s *Service) UpdateLeadForTest(ctx context.Context, id LeadID, fn func(*Lead) ([]OutboxItem, error)) (Lead, error) {
	return s.updateLead(ctx, id, fn)
}
