package bot

import (
	"context"
	"log/slog"
	"strings"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
)

// callbackFromMessage is the callback_id of the message shortcut "Qualify
// this message" (manifest.yml).
const callbackFromMessage = "lead.from_message"

// maxShortcutText bounds the message text read for the prefill: the domain
// keeps far less, and a huge paste must not cost parsing time while the
// trigger_id ticks.
const maxShortcutText = 20000

// shortcut answers "Qualify this message": the add-lead dialog,
// prefilled with what the message gives away. views.open is the first call
// after the access check (which calls Slack only for a user group whose
// cached members expired long ago).
func (dl *dialogs) shortcut(ctx context.Context, ic slack.InteractionCallback) {
	user, channel := ic.User.ID, ic.Channel.ID
	log := dl.log.With("callback_id", ic.CallbackID, "user", user, "channel", channel)
	if ic.CallbackID != callbackFromMessage {
		log.DebugContext(ctx, "shortcut ignored")
		return
	}
	if ok, msg := dl.gate.allowed(ctx, user, channel); !ok {
		dl.answerShortcut(ctx, log, ic, msg)
		return
	}
	prefill := dl.shortcutPrefill(ic.Message)
	if err := dl.openAddLead(ctx, ic.TriggerID, channel, ic.ResponseURL, prefill); err != nil {
		if expiredTrigger(err) {
			log.WarnContext(ctx, "add-lead dialog not opened: trigger expired", "error", err)
			dl.answerShortcut(ctx, log, ic, dl.words.t("shortcut.too_slow", bold(dl.words.t("home.shortcut"))))
			return
		}
		log.ErrorContext(ctx, "opening the add-lead dialog", "error", err)
		dl.answerShortcut(ctx, log, ic, dl.words.t("shortcut.no_dialog"))
		return
	}
	log.DebugContext(ctx, "add-lead dialog opened from a message")
}

// shortcutPrefill guesses the lead in a message: from its e-mail file when
// it carries one (a forwarded e-mail, with whatever text came with it as a
// note), else from its text.
func (dl *dialogs) shortcutPrefill(m slack.Message) triage.LeadInput {
	if f, ok := emailFile(m); ok {
		return emailPrefill(f, shortcutText(m), dl.cfg.FreeMail)
	}
	return leadInputFromMessage(shortcutText(m))
}

// shortcutText is what a message says: its text, and for a forwarded or
// shared message (an attachment) the attachment's text too.
func shortcutText(m slack.Message) string {
	parts := []string{m.Text}
	for _, a := range m.Attachments {
		for _, s := range []string{a.AuthorName, a.Title, a.Pretext, a.Text} {
			if strings.TrimSpace(s) != "" {
				parts = append(parts, s)
			}
		}
		if strings.TrimSpace(a.Text) == "" && strings.TrimSpace(a.Fallback) != "" {
			parts = append(parts, a.Fallback)
		}
	}
	text := strings.TrimSpace(strings.Join(parts, "\n"))
	if len(text) > maxShortcutText {
		text = strings.ToValidUTF8(text[:maxShortcutText], "")
	}
	return text
}

// answerShortcut tells the person who used a shortcut text, through the
// shortcut's response_url (it works in any conversation, even one the bot
// is not in), else as an ephemeral through the outbox in the triage
// channel.
func (dl *dialogs) answerShortcut(ctx context.Context, log *slog.Logger, ic slack.InteractionCallback, text string) {
	if ic.ResponseURL != "" {
		err := dl.ephemeralViaResponseURL(ctx, ic.ResponseURL, text)
		if err == nil {
			return
		}
		log.WarnContext(ctx, "answering a shortcut through its response_url", "error", err)
	}
	dl.teller.tell(ctx, log, dl.svc.Channel, ic.User.ID, text)
}
