package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
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
func (w *outboxWorker) deleteOrphan(ctx context.Context, log *slog.Logger, it triage.OutboxItem, posted *triage.Posted) {
	if posted == nil || posted.Channel == "" || posted.TS == "" || it.Lead == 0 {
		return
	}
	if _, err := w.store.Lead(ctx, it.Lead); !errors.Is(err, triage.ErrNotFound) {
		return
	}
	del := triage.OutboxItem{Kind: triage.OutboxDeleteMessage, Channel: posted.Channel, Payload: []byte(posted.TS), CreatedAt: posted.At}
	if err := w.store.Enqueue(ctx, del); err != nil {
		log.Error("queueing the deletion of a message about an erased lead", slog.Any("error", err))
	}
}

// rememberDigest records on every lead digest part names that the part is
// at (it.Channel, ts), so that erasing one of them re-renders the part
// without it. A lead erased since the digest was built is removed from the
// part at once. A preview (no key) is an ephemeral reply: nothing to keep.
func (w *outboxWorker) rememberDigest(ctx context.Context, it triage.OutboxItem, part triage.DigestPart, ts string) error {
	if part.Key == "" || ts == "" {
		return nil
	}
	var ids []triage.LeadID
	for _, sec := range [][]triage.DigestLead{part.Pending, part.Decided, part.Revisit, part.Outcomes} {
		for _, l := range sec {
			ids = append(ids, l.ID)
		}
	}
	gone, err := w.svc.RememberDigest(ctx, ids, it.Channel, ts)
	if err != nil {
		return fmt.Errorf("remembering digest part %d: %w", it.ID, err)
	}
	if len(gone) == 0 {
		return nil
	}
	items := make([]triage.OutboxItem, len(gone))
	for i, id := range gone {
		items[i] = triage.OutboxItem{Kind: triage.OutboxRedactDigest, Lead: id, Channel: it.Channel, Payload: []byte(ts), CreatedAt: w.cfg.now()}
	}
	if err := w.store.Enqueue(ctx, items...); err != nil {
		return fmt.Errorf("queueing the redaction of digest part %d: %w", it.ID, err)
	}
	return nil
}

// redactDigest removes erased lead it.Lead from the digest part at
// it.Payload (its ts) in it.Channel: it reads the part back from Slack and
// updates it without the lead's line (the digest renders each lead as one
// line starting with its bold id) and with its section's count lowered.
// The bot keeps no copy of a posted part (it would hold every lead's text
// again), so Slack's copy is the one re-rendered; the notification text
// holds counts only and stays. A part that is gone, or no longer names the
// lead, is done.
func (w *outboxWorker) redactDigest(ctx context.Context, log *slog.Logger, p *pass, it triage.OutboxItem) error {
	ts := string(it.Payload)
	if it.Channel == "" || ts == "" || it.Lead == 0 {
		return w.deadLetter(ctx, log, it, "invalid_item", "digest redaction without a channel, ts or lead")
	}
	c := call{methodUpdate, it.Channel}
	if ok, err := w.mayCall(ctx, log, p, it, c); !ok || err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	resp, err := w.api.GetConversationHistoryContext(cctx, &slack.GetConversationHistoryParameters{
		ChannelID: it.Channel, Latest: ts, Oldest: ts, Inclusive: true, Limit: 1,
	})
	if err != nil {
		return w.settle(ctx, log, p, it, call{methodHistory, it.Channel}, fmt.Errorf("reading the digest part to redact: %w", err), nil)
	}
	var msg *slack.Message
	for i := range resp.Messages {
		if resp.Messages[i].Timestamp == ts {
			msg = &resp.Messages[i]
		}
	}
	if msg == nil {
		log.Debug("digest part to redact was gone already")
		return w.settle(ctx, log, p, it, c, nil, nil)
	}
	blocks, changed := withoutDigestLead(msg.Blocks.BlockSet, it.Lead)
	if !changed {
		return w.settle(ctx, log, p, it, c, nil, nil)
	}
	_, _, _, err = w.api.UpdateMessageContext(cctx, it.Channel, ts,
		slack.MsgOptionText(msg.Text, false), slack.MsgOptionBlocks(blocks...))
	var sErr slack.SlackErrorResponse
	if errors.As(err, &sErr) && sErr.Err == "message_not_found" {
		err = nil
	}
	return w.settle(ctx, log, p, it, c, err, nil)
}

// withoutDigestLead drops lead id's line ("*L-7* · …") from the mrkdwn
// sections of a digest part, counts it out of the heading above it
// ("*Pending (3)*" becomes 2; a heading left at 0 goes, with its hint), and
// drops a section left empty. changed is false if no line named it.
func withoutDigestLead(blocks []slack.Block, id triage.LeadID) (out []slack.Block, changed bool) {
	mark := "*" + id.String() + "*"
	type line struct {
		text string
		gone bool
	}
	lines := make([][]line, len(blocks))
	var heading *line // the last heading seen, across sections
	for i, bl := range blocks {
		sec, ok := bl.(*slack.SectionBlock)
		if !ok || sec.Text == nil || sec.Text.Type != slack.MarkdownType {
			continue
		}
		for _, t := range strings.Split(sec.Text.Text, "\n") {
			lines[i] = append(lines[i], line{text: t})
		}
		for j := range lines[i] {
			l := &lines[i][j]
			switch {
			case l.text == mark || strings.HasPrefix(l.text, mark+" "):
				l.gone, changed = true, true
				if heading != nil {
					heading.text = countDown(heading.text)
				}
			case digestHeading.MatchString(l.text):
				heading = l
			}
		}
	}
	if !changed {
		return blocks, false
	}
	for i, bl := range blocks {
		if lines[i] == nil {
			out = append(out, bl)
			continue
		}
		var kept []string
		for j, l := range lines[i] {
			if l.gone {
				continue
			}
			if m := digestHeading.FindStringSubmatch(l.text); m != nil && m[1] == "0" {
				// An empty section: its heading goes, and the hint under it.
				if j+1 < len(lines[i]) && strings.HasPrefix(lines[i][j+1].text, "_") {
					lines[i][j+1].gone = true
				}
				continue
			}
			kept = append(kept, l.text)
		}
		if len(kept) == 0 {
			continue
		}
		sec := *blocks[i].(*slack.SectionBlock)
		text := *sec.Text
		text.Text = strings.Join(kept, "\n")
		sec.Text = &text
		out = append(out, &sec)
	}
	return out, true
}

// digestHeading matches a digest section's heading, "*Pending (3)*…", and
// captures its count.
var digestHeading = regexp.MustCompile(`^\*[^*]* \((\d+)\)\*`)

// countDown lowers the count in heading line h by one.
func countDown(h string) string {
	m := digestHeading.FindStringSubmatchIndex(h)
	if m == nil {
		return h
	}
	n, err := strconv.Atoi(h[m[2]:m[3]])
	if err != nil || n == 0 {
		return h
	}
	return h[:m[2]] + strconv.Itoa(n-1) + h[m[3]:]
}
