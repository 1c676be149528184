package triage

import (
	"context"
	"time"
)

// Test-only exports: the external tests reach these through them.

// ComputeStats is computeStats.
func ComputeStats(leads []Lead, since time.Time) Stats { return computeStats(leads, since) }

// RunResearch is runResearch: research lead id now, synchronously.
func (s *Service) RunResearch(ctx context.Context, id LeadID, refresh bool) (Lead, error) {
	return s.runResearch(ctx, id, refresh)
}
