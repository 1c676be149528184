package triage

import "time"

// OutboxKind says what an outbox item asks Slack to do.
type OutboxKind string

const (
	// OutboxPostCard posts the lead's card to Channel and records its ts.
	OutboxPostCard OutboxKind = "post_card"
	// OutboxUpdateCard re-renders the lead's card from its current state.
	OutboxUpdateCard OutboxKind = "update_card"
	// OutboxThreadReply posts Text in the card's thread (after the card exists).
	OutboxThreadReply OutboxKind = "thread_reply"
	// OutboxEphemeral shows Text to User only, in Channel.
	OutboxEphemeral OutboxKind = "ephemeral"
	// OutboxPostChecklist posts the criteria checklist in the card's thread
	// and records its ts on the lead (Slack.ChecklistTS).
	OutboxPostChecklist OutboxKind = "post_checklist"
	// OutboxUpdateChecklist re-renders the checklist from the lead's state.
	OutboxUpdateChecklist OutboxKind = "update_checklist"
	// OutboxReminder posts Text in the card's thread with Snooze buttons.
	OutboxReminder OutboxKind = "reminder"
	// OutboxDirect posts Text to User in a direct message (escalation).
	OutboxDirect OutboxKind = "direct"
	// OutboxDigest posts one part of a digest to Channel; Payload is a
	// DigestPart (JSON) that the bot renders.
	OutboxDigest OutboxKind = "digest"
	// OutboxDeleteMessage deletes the bot's message at Payload (its ts) in
	// Channel: a purged lead's card or checklist. Its Lead names the lead
	// the message was about, which no longer exists; the item needs nothing
	// from it. A message that is gone already counts as deleted.
	OutboxDeleteMessage OutboxKind = "delete_message"
	// OutboxRedactDigest removes erased lead Lead from the digest part at
	// Payload (its ts) in Channel with chat.update: the part names other
	// leads too, so it is not deleted. A part that is gone counts as done.
	OutboxRedactDigest OutboxKind = "redact_digest"
	// OutboxAnnounce posts Notice to Channel as a message of its own, about
	// no lead (an import's summary).
	OutboxAnnounce OutboxKind = "announce"
)

// OutboxItem is one message bound for Slack. It is written in the same
// transaction as the state change that caused it, so a crash or a Slack
// outage loses nothing.
type OutboxItem struct {
	ID      uint64
	Kind    OutboxKind
	Lead    LeadID // 0 for items about no lead
	Channel string
	User    string
	// Text is a message the bot composed itself (Service.Tell), and what
	// items stored before notices carried; the bot shows it as it is.
	Text string
	// Notice is what the domain wants said, as data; the bot words it.
	Notice *Notice
	// Plain is text for people to copy (a decline or introduction draft). It
	// may quote lead text: the bot escapes it and shows it as a block of its
	// own under Text.
	Plain string
	// Payload is structured content for kinds the bot renders from data
	// (OutboxDigest: a DigestPart as JSON; OutboxDeleteMessage: the ts of
	// the message to delete).
	Payload []byte
	// Snapshot is the lead as it was when a domain event happened
	// (OutboxEvent, OutboxWebhook): a late delivery tells what was true then.
	Snapshot  *Lead
	CreatedAt time.Time

	// Seq counts changes coalesced into this item: a card update requested
	// while one is pending bumps Seq instead of adding an item, and the worker
	// completes the item only if Seq is still what it rendered.
	Seq       int
	Attempts  int
	NextAt    time.Time // not before; zero = at once
	LastError string
	Dead      bool // permanently failed; kept for inspection, never retried
	// Attempted is when a call that posts a new message (Kind.MarksAttempt)
	// last began; it is stored before the call, so after a crash or a
	// failed record the worker looks for the message before posting again.
	// Zero: no post is outstanding.
	Attempted time.Time
	// Blocked is set while the item waits on a cause a person can fix (the
	// app is not in the channel, the token was revoked, …): an opaque code
	// the delivering adapter chose, never lead text. Such an item is no dead
	// letter: it is retried on a slow schedule and delivered, in order, once
	// the cause is gone. "" = not blocked.
	Blocked string
	// Requeued is when a person last sent the item again from the dead
	// letters: a delivery that gives up some time after its event (the crm
	// lane) counts from here then, not from CreatedAt. Zero: never.
	Requeued time.Time
	// BlockedOn is what the cause concerns: a channel or user id, or "" for
	// the whole workspace (the token).
	BlockedOn string
}

// Coalesces reports whether a later item of the same lead can be folded into
// this one: card and checklist posts and updates render the lead's state at
// delivery time.
func (o OutboxItem) Coalesces(later OutboxItem) bool {
	if o.Lead == 0 || o.Lead != later.Lead || o.Dead {
		return false
	}
	switch later.Kind {
	case OutboxUpdateCard:
		return o.Kind == OutboxPostCard || o.Kind == OutboxUpdateCard
	case OutboxUpdateChecklist:
		return o.Kind == OutboxPostChecklist || o.Kind == OutboxUpdateChecklist
	}
	return false
}

// Urgent reports whether a person waits for items of this kind right now
// (the private confirmation of a click): they are delivered before other
// due items and are not paced with the channel's messages.
func (k OutboxKind) Urgent() bool {
	return k == OutboxEphemeral
}

// MarksAttempt reports whether items of this kind post a message that can be
// found again by its metadata (card, checklist, digest part), and so are
// marked Attempted before each call: a repeated post would show twice.
func (k OutboxKind) MarksAttempt() bool {
	switch k {
	case OutboxPostCard, OutboxPostChecklist, OutboxDigest:
		return true
	}
	return false
}

// Family groups kinds that coalesce: "card", "checklist", or "" for kinds
// that never do.
func (k OutboxKind) Family() string {
	switch k {
	case OutboxPostCard, OutboxUpdateCard:
		return "card"
	case OutboxPostChecklist, OutboxUpdateChecklist:
		return "checklist"
	}
	return ""
}
