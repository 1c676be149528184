package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
)

// rememberPost is what settle records for a message posted about it's
// lead that is neither its card nor its checklist (a thread reply, a
// reminder, a direct message): its place, so that an erasure or the
// retention purge can delete it (triage.PostedOther). nil when the item
// belongs to no lead or Slack did not say where the message went.
func rememberPost(it triage.OutboxItem, channel, ts string, now time.Time) *triage.Posted {
	if it.Lead == 0 || channel == "" || ts == "" {
		return nil
	}
	return &triage.Posted{Message: triage.PostedOther, Channel: channel, TS: ts, At: now}
}

// deleteOrphan queues the deletion of a message Slack took for a lead that
// was erased meanwhile (forget or retention deleted the item in flight):
// nobody can find it from the lead any more, and it must not outlive the
// erasure. It does nothing while the lead exists.
func (b *Bot) deleteOrphan(ctx context.Context, log *slog.Logger, it triage.OutboxItem, posted *triage.Posted) {
	if posted == nil || posted.Channel == "" || posted.TS == "" || it.Lead == 0 {
		return
	}
	if _, err := b.store.Lead(ctx, it.Lead); !errors.Is(err, triage.ErrNotFound) {
		return
	}
	del := triage.OutboxItem{Kind: triage.OutboxDeleteMessage, Channel: posted.Channel, Payload: []byte(posted.TS), CreatedAt: posted.At}
	q, ok := b.store.(enqueuer)
	if !ok {
		log.Error("cannot queue the deletion of a message about an erased lead: the store queues nothing", slog.String("channel", posted.Channel), slog.String("ts", posted.TS))
		return
	}
	if err := q.Enqueue(ctx, del); err != nil {
		log.Error("queueing the deletion of a message about an erased lead", slog.Any("error", err))
	}
}

// enqueuer is the part of the store deleteOrphan needs (storage.DB has it).
type enqueuer interface {
	Enqueue(ctx context.Context, items ...triage.OutboxItem) error
}

// rememberDigest records on every lead digest part names that the part is
// at (it.Channel, ts), so that erasing one of them re-renders the part
// without it. A lead erased since the digest was built is removed from the
// part at once. A preview (no key) is an ephemeral reply: nothing to keep.
func (b *Bot) rememberDigest(ctx context.Context, log *slog.Logger, it triage.OutboxItem, part triage.DigestPart, ts string) error {
	if part.Key == "" || ts == "" {
		return nil
	}
	var ids []triage.LeadID
	for _, sec := range [][]triage.DigestLead{part.Pending, part.Decided, part.Revisit} {
		for _, l := range sec {
			ids = append(ids, l.ID)
		}
	}
	gone, err := b.svc.RememberDigest(ctx, ids, it.Channel, ts)
	if err != nil {
		return fmt.Errorf("remembering digest part %d: %w", it.ID, err)
	}
	if len(gone) == 0 {
		return nil
	}
	q, ok := b.store.(enqueuer)
	if !ok {
		log.Error("cannot queue the redaction of a digest naming an erased lead: the store queues nothing", slog.String("channel", it.Channel), slog.String("ts", ts))
		return nil
	}
	items := make([]triage.OutboxItem, len(gone))
	for i, id := range gone {
		items[i] = triage.OutboxItem{Kind: triage.OutboxRedactDigest, Lead: id, Channel: it.Channel, Payload: []byte(ts), CreatedAt: b.now()}
	}
	if err := q.Enqueue(ctx, items...); err != nil {
		return fmt.Errorf("queueing the redaction of digest part %d: %w", it.ID, err)
	}
	return nil
}

// redactDigest removes erased lead it.Lead from the digest part at
// it.Payload (its ts) in it.Channel: it reads the part back from Slack and
// updates it without the lead's line (the digest renders each lead as one
// line starting with its bold id). The other leads, the title and the
// counts stay as posted. A part that is gone, or no longer names the lead,
// is done.
func (b *Bot) redactDigest(ctx context.Context, log *slog.Logger, p *pass, it triage.OutboxItem) error {
	ts := string(it.Payload)
	if it.Channel == "" || ts == "" || it.Lead == 0 {
		return b.deadLetter(ctx, log, it, "invalid_item", "digest redaction without a channel, ts or lead")
	}
	c := call{methodUpdate, it.Channel}
	if ok, err := b.mayCall(ctx, log, p, it, c); !ok || err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	resp, err := b.api.GetConversationHistoryContext(cctx, &slack.GetConversationHistoryParameters{
		ChannelID: it.Channel, Latest: ts, Oldest: ts, Inclusive: true, Limit: 1,
	})
	if err != nil {
		return b.settle(ctx, log, p, it, call{methodHistory, it.Channel}, fmt.Errorf("reading the digest part to redact: %w", err), nil)
	}
	var msg *slack.Message
	for i := range resp.Messages {
		if resp.Messages[i].Timestamp == ts {
			msg = &resp.Messages[i]
		}
	}
	if msg == nil {
		log.Debug("digest part to redact was gone already")
		return b.settle(ctx, log, p, it, c, nil, nil)
	}
	blocks, changed := withoutDigestLead(msg.Blocks.BlockSet, it.Lead)
	if !changed {
		return b.settle(ctx, log, p, it, c, nil, nil)
	}
	_, _, _, err = b.api.UpdateMessageContext(cctx, it.Channel, ts,
		slack.MsgOptionText(msg.Text, false), slack.MsgOptionBlocks(blocks...))
	var sErr slack.SlackErrorResponse
	if errors.As(err, &sErr) && sErr.Err == "message_not_found" {
		err = nil
	}
	return b.settle(ctx, log, p, it, c, err, nil)
}

// withoutDigestLead drops lead id's line ("*L-7* · …") from the mrkdwn
// sections of a digest part, and a section left empty. changed is false if
// no line named it.
func withoutDigestLead(blocks []slack.Block, id triage.LeadID) (out []slack.Block, changed bool) {
	mark := "*" + id.String() + "*"
	for _, bl := range blocks {
		sec, ok := bl.(*slack.SectionBlock)
		if !ok || sec.Text == nil || sec.Text.Type != slack.MarkdownType {
			out = append(out, bl)
			continue
		}
		lines := strings.Split(sec.Text.Text, "\n")
		kept := lines[:0]
		for _, line := range lines {
			if line == mark || strings.HasPrefix(line, mark+" ") {
				changed = true
				continue
			}
			kept = append(kept, line)
		}
		if len(kept) == 0 {
			continue
		}
		text := *sec.Text
		text.Text = strings.Join(kept, "\n")
		s := *sec
		s.Text = &text
		out = append(out, &s)
	}
	return out, changed
}
