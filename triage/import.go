package triage

import (
	"context"
	"fmt"
)

// ImportSummaryAfter is how many leads one import may create before the
// channel gets a summary first (AnnounceImport): a handful of cards speak
// for themselves, more would arrive as an unexplained flood.
const ImportSummaryAfter = 5

// AnnounceImport queues a summary of an import (NoticeImported) for the
// triage channel when it creates more than ImportSummaryAfter leads: how
// many, from which source, how many repeats and bad rows. The caller queues
// it before the cards, so that it comes first; the outbox posts the cards
// after it at Slack's pace. Fewer leads, or no channel, queue nothing.
func (s *Service) AnnounceImport(ctx context.Context, source string, created, repeats, rejected int) error {
	if created <= ImportSummaryAfter || s.Channel == "" {
		return nil
	}
	n := &Notice{Kind: NoticeImported, Count: created, Repeats: repeats, Rejected: rejected, Source: source}
	if err := s.Store.Enqueue(ctx, OutboxItem{Kind: OutboxAnnounce, Channel: s.Channel, Notice: n, CreatedAt: s.now()}); err != nil {
		return fmt.Errorf("queueing the import's summary: %w", err)
	}
	s.wake()
	return nil
}
