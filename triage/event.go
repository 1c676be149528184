package triage

import (
	"context"
	"strings"
	"time"
)

// Domain event types: what the world outside Slack hears about a lead
// (outgoing webhooks, package crm). The names are the contract receivers see.
const (
	EventTypeCreated  = "lead.created"
	EventTypeDecided  = "lead.decided"
	EventTypeReopened = "lead.reopened"
	EventTypeOutcome  = "lead.outcome"
)

// EventTypes lists every domain event type, in the order the README names them.
var EventTypes = []string{EventTypeCreated, EventTypeDecided, EventTypeReopened, EventTypeOutcome}

// Outbox lanes: each lane has a worker of its own, so a slow webhook receiver
// never delays a card in Slack.
const (
	LaneSlack = "slack"
	LaneCRM   = "crm"
)

const (
	// OutboxEvent is a domain event (Text: its type, Snapshot: the lead as
	// it was) that the crm worker expands into one delivery per listener.
	OutboxEvent OutboxKind = "event"
	// OutboxWebhook delivers the event in Text with the lead in Snapshot to
	// the receiver at Channel (its URL). It stays the same item across
	// retries, so its id is the stable webhook-id.
	OutboxWebhook OutboxKind = "webhook"
)

// Lane is the worker that delivers items of this kind: "crm" for domain
// events, webhook deliveries and every kind named "crm_…" (the CRM
// hand-off's deliveries), "slack" for everything else.
func (k OutboxKind) Lane() string {
	if k == OutboxEvent || k == OutboxWebhook || strings.HasPrefix(string(k), "crm_") {
		return LaneCRM
	}
	return LaneSlack
}

// EventItem is the outbox item of a domain event of type typ about l, at at,
// with a snapshot of l as it is now: a late delivery still tells what was
// true at the event. Queue it in the transaction of the change (UpdateLead's
// fn) where Service.Listening(typ).
func EventItem(typ string, l Lead, at time.Time) OutboxItem {
	snap := l.Clone()
	return OutboxItem{Kind: OutboxEvent, Lead: l.ID, Text: typ, Snapshot: &snap, CreatedAt: at}
}

// Listening reports whether anything listens to events of type typ
// (Service.Events); nothing is queued otherwise.
func (s *Service) Listening(typ string) bool {
	return s.Events[typ]
}

// updateLead is Store.UpdateLead plus the domain events the change makes,
// in the same transaction, for the types something listens to:
// lead.decided when a decision is taken (or replaced), lead.reopened when it
// is undone, lead.outcome when what became of the lead is recorded (or
// changed). Every use case goes through it, so no path can forget them.
func (s *Service) updateLead(ctx context.Context, id LeadID, fn func(*Lead) ([]OutboxItem, error)) (Lead, error) {
	if len(s.Events) == 0 {
		return s.Store.UpdateLead(ctx, id, fn)
	}
	return s.Store.UpdateLead(ctx, id, func(l *Lead) ([]OutboxItem, error) {
		var (
			decision *Decision
			outcome  *Outcome
		)
		if l.Decision != nil {
			d := *l.Decision
			decision = &d
		}
		if l.Outcome != nil {
			o := *l.Outcome
			outcome = &o
		}
		out, err := fn(l)
		if err != nil {
			return out, err
		}
		now := s.now()
		var types []string
		switch {
		case l.Decision != nil && (decision == nil || *decision != *l.Decision):
			types = append(types, EventTypeDecided)
		case l.Decision == nil && decision != nil:
			types = append(types, EventTypeReopened)
		}
		if l.Outcome != nil && (outcome == nil || *outcome != *l.Outcome) {
			types = append(types, EventTypeOutcome)
		}
		for _, typ := range types {
			if s.Listening(typ) {
				out = append(out, EventItem(typ, *l, now))
			}
		}
		return out, nil
	})
}
