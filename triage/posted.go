package triage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// PostedMessage names a message the outbox posts for a lead and whose place
// the lead keeps.
type PostedMessage string

const (
	PostedCard      PostedMessage = "card"      // the lead's card in the triage channel
	PostedChecklist PostedMessage = "checklist" // the criteria checklist in the card's thread
	PostedOther     PostedMessage = "message"   // any other message about the lead: kept to delete it later
)

// Posted is where the chat service put a message the outbox posted.
type Posted struct {
	Message PostedMessage
	Channel string            // the card's channel; unused for a checklist (it is in the card's thread)
	TS      string            // the message's id in its channel
	At      time.Time         // when the delivery was recorded: the time of the card's audit event
	Detail  string            // for the audit trail, e.g. how an earlier attempt's card was found
	Args    map[string]string // the audit event's data (EvFound), for bot to word
}

// RecordPosted completes outbox item it and records where its message
// landed on its lead, in one transaction: a card's place, so that votes on
// it and later updates find it (with an EventCardPosted), or a checklist's
// ts, so that answers update it. As Store.CompleteOutbox: if the item moved
// on meanwhile, it stays due and the place is still recorded.
// ErrNotFound if the item or its lead is gone; ErrInvalid for an unknown
// message.
func (s *Service) RecordPosted(ctx context.Context, it OutboxItem, p Posted) error {
	var record func(*Lead) error
	switch p.Message {
	case PostedCard:
		record = func(l *Lead) error {
			// The checklist lives in the card's thread: keep it (a card
			// adopted after an ambiguous failure can only have come first
			// anyway).
			l.Slack.Channel, l.Slack.TS = p.Channel, p.TS
			l.Events = append(l.Events, Event{At: p.At.UTC(), Kind: EventCardPosted, By: "bot", Detail: p.Detail, Args: p.Args})
			return nil
		}
	case PostedChecklist:
		record = func(l *Lead) error {
			l.Slack.ChecklistTS = p.TS
			return nil
		}
	case PostedOther:
		if p.Channel == "" || p.TS == "" {
			return fmt.Errorf("recording a posted message without its place: %w", ErrInvalid)
		}
		record = func(l *Lead) error {
			ref := MessageRef{Channel: p.Channel, TS: p.TS}
			if !slices.Contains(l.Posted, ref) {
				l.Posted = append(l.Posted, ref)
			}
			return nil
		}
	default:
		return fmt.Errorf("recording a posted %q: %w", p.Message, ErrInvalid)
	}
	return s.Store.CompleteOutbox(ctx, it.ID, it.Seq, record)
}

// RememberDigest records on each lead of ids that the digest part at
// (channel, ts) names it, so that an erasure or the retention purge
// re-renders the part without it (MessageRef.Digest, OutboxRedactDigest).
// Recording it again changes nothing. It returns the leads that are gone:
// erased after the digest was built, which the caller must remove from the
// part now, since no lead remembers it any more.
func (s *Service) RememberDigest(ctx context.Context, ids []LeadID, channel, ts string) (gone []LeadID, err error) {
	if channel == "" || ts == "" {
		return nil, fmt.Errorf("recording a digest part without its place: %w", ErrInvalid)
	}
	ref := MessageRef{Channel: channel, TS: ts, Digest: true}
	for _, id := range ids {
		_, err := s.updateLead(ctx, id, func(l *Lead) ([]OutboxItem, error) {
			if !slices.Contains(l.Posted, ref) {
				l.Posted = append(l.Posted, ref)
			}
			return nil, nil
		})
		switch {
		case errors.Is(err, ErrNotFound):
			gone = append(gone, id)
		case err != nil:
			return gone, fmt.Errorf("recording digest part %s on %s: %w", ts, id, err)
		}
	}
	return gone, nil
}
