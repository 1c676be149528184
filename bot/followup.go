package bot

import (
	"context"
	"log/slog"
	"time"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
)

// snoozes maps the reminder's Snooze buttons to how long they hold off the
// follow-up.
var snoozes = map[string]time.Duration{
	actionSnoozeDay:  24 * time.Hour,
	actionSnoozeWeek: 7 * 24 * time.Hour,
}

// renderReminder is a reminder in a card's thread: the domain's text (mrkdwn
// composed from ids, durations and mentions, with no lead text) and the
// Snooze buttons, whose value is the lead id and nothing else.
func (w noticeWords) reminder(id triage.LeadID, text string) (fallback string, blocks []slack.Block) {
	v := id.String()
	return fit(text, maxFallbackText), []slack.Block{
		section(text),
		slack.NewActionBlock("",
			slack.NewButtonBlockElement(actionSnoozeDay, v, plain(w.t("button.snooze_day"))),
			slack.NewButtonBlockElement(actionSnoozeWeek, v, plain(w.t("button.snooze_week"))),
		),
	}
}

// renderDirect is an escalation to the team lead: the domain's text (whose
// lead label the domain escaped) and a link to the card when it is posted.
func renderDirect(text, cardLink string) (fallback string, blocks []slack.Block) {
	blocks = []slack.Block{section(text)}
	if cardLink != "" {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(cardLink)))
	}
	return fit(text, maxFallbackText), blocks
}

// snooze holds off the follow-up of the lead on a reminder's Snooze
// button. The service queues the clicker's confirmation; errors (a decided
// lead, an unknown one) are told to the clicker.
func (ck *clicks) snooze(ctx context.Context, log *slog.Logger, channel, user string, a slack.BlockAction) {
	d, ok := snoozes[a.ActionID]
	if !ok {
		log.DebugContext(ctx, "button ignored")
		return
	}
	id, log, ok := ck.leadOf(ctx, log, channel, user, a)
	if !ok {
		return
	}
	if _, err := ck.svc.Snooze(ctx, id, user, d); err != nil {
		ck.teller.reportError(ctx, log, channel, user, err)
		return
	}
	log.DebugContext(ctx, "lead snoozed", "for", d)
}
