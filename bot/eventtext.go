package bot

import (
	"strconv"
	"strings"
	"time"

	"github.com/leadtriage/leadtriage/triage"
)

// maxEventDetail is how much of one event's detail the history shows.
const maxEventDetail = 300

// eventWords renders a lead's history, one line per event.
type eventWords struct{ words }

// line is one event: "2026-11-28 10:02 · <@U1> · voted · qualify", in
// the language. Only a valid user id becomes a mention; "auto", "webhook"
// and the like stay words.
func (w eventWords) line(e triage.Event) string {
	by := "—"
	if e.By != "" {
		by = mention(e.By)
	}
	line := e.At.UTC().Format("2006-01-02 15:04") + " · " + by + " · " + w.kind(e.Kind)
	if d := w.detail(e); d != "" {
		line += " · " + d
	}
	return fit(line, maxEventLine)
}

func (w eventWords) kind(kind string) string {
	switch kind {
	case triage.EventCreated:
		return w.t("event.created")
	case triage.EventVoted:
		return w.t("event.voted")
	case triage.EventUnvoted:
		return w.t("event.unvoted")
	case triage.EventClaimed:
		return w.t("event.claimed")
	case triage.EventDecided:
		return w.t("event.decided")
	case triage.EventQuorum:
		return w.t("event.quorum")
	case triage.EventTie:
		return w.t("event.tie")
	case triage.EventCardPosted:
		return w.t("event.card_posted")
	case triage.EventResearched:
		return w.t("event.researched")
	case triage.EventAnswered:
		return w.t("event.answered")
	case triage.EventReopened:
		return w.t("event.reopened")
	case triage.EventVetoed:
		return w.t("event.vetoed")
	case triage.EventDissent:
		return w.t("event.dissent")
	case triage.EventReminded:
		return w.t("event.reminded")
	case triage.EventEscalated:
		return w.t("event.escalated")
	case triage.EventSnoozed:
		return w.t("event.snoozed")
	case triage.EventRevisit:
		return w.t("event.revisit")
	case triage.EventOutcome:
		return w.t("event.outcome")
	case triage.EventCRM:
		return w.t("event.crm")
	}
	return escTrunc(kind, 40, false)
}

// detail says an event's data in the language as mrkdwn; an event
// without Args (stored before issue 12, or of a kind that has none here)
// shows its recorded detail, escaped.
func (w eventWords) detail(e triage.Event) string {
	a := e.Args
	if a == nil {
		return escTrunc(e.Detail, maxEventDetail, false)
	}
	arg := func(k string) string { return escTrunc(a[k], 80, false) }
	num := func(k string) int { n, _ := strconv.Atoi(a[k]); return n }
	var s string
	switch e.Kind {
	case triage.EventCreated:
		s = w.t("event.created.via", arg(triage.EvVia))
	case triage.EventVoted, triage.EventUnvoted:
		s = w.choice(triage.Choice(a[triage.EvChoice]))
		if was := a[triage.EvWas]; was != "" {
			s = w.t("event.voted.was", s, w.choice(triage.Choice(was)))
		}
	case triage.EventDecided:
		s = w.status(triage.Status(a[triage.EvOutcome]))
		if r := arg(triage.EvReason); r != "" {
			s += ": " + r
		}
	case triage.EventClaimed:
		s = w.t("event.claimed.owner", mention(a[triage.EvOwner]))
	case triage.EventQuorum, triage.EventTie:
		s = w.tally(triage.Tally{Qualify: num(triage.EvQualify), Disqualify: num(triage.EvDisqualify), Unsure: num(triage.EvUnsure)})
	case triage.EventResearched:
		s = w.t("event.researched.flags", num(triage.EvFlags))
	case triage.EventVetoed:
		s = w.t("event.vetoed.criteria", w.list(a[triage.EvCriteria], codeSpan))
	case triage.EventReopened:
		by := mention(a[triage.EvBy])
		if a[triage.EvBy] == triage.DecidedByPolicy {
			by = w.t("card.decided_by_vote")
		}
		on := w.t("flag.date.unknown")
		if t, err := time.Parse(time.RFC3339, a[triage.EvAt]); err == nil {
			on = w.longDate(t.UTC())
		}
		s = w.t("event.reopened.was", w.status(triage.Status(a[triage.EvOutcome])), by, on)
		if r := arg(triage.EvReason); r != "" {
			s += ": " + r
		}
		if n := arg(triage.EvNote); n != "" {
			s += "; " + n
		}
		if v := a[triage.EvVotes]; v != "" {
			s += "; " + w.t("event.reopened.votes", w.list(v, func(item string) string {
				user, choice, _ := strings.Cut(item, "=")
				return mention(user) + " " + w.choice(triage.Choice(choice))
			}))
		}
	case triage.EventEscalated:
		s = w.t("event.escalated.told", mention(a[triage.EvTold]))
		if nv := a[triage.EvNotVoted]; nv != "" {
			s += "; " + w.t("event.not_voted", w.list(nv, mention))
		}
	case triage.EventReminded:
		s = w.t("event.not_voted", w.list(a[triage.EvNotVoted], mention))
	case triage.EventSnoozed:
		t, err := time.Parse(time.RFC3339, a[triage.EvAt])
		if err != nil {
			return escTrunc(e.Detail, maxEventDetail, false)
		}
		s = w.t("event.snoozed.until", w.dayTime(t, nil))
	case triage.EventRevisit:
		s = w.t("event.revisit.digest", arg(triage.EvDigest))
	case triage.EventOutcome:
		s = w.outcome(a[triage.EvResult], num(triage.EvValue), arg(triage.EvNote))
		if was := a[triage.EvWas]; was != "" {
			s = w.t("event.outcome.was", s, w.outcome(was, num(triage.EvWasValue), arg(triage.EvWasNote)))
		}
	case triage.EventCardPosted:
		if a[triage.EvFound] != triage.FoundInHistory {
			return escTrunc(e.Detail, maxEventDetail, false)
		}
		s = w.t("event.card_posted.found")
	case triage.EventCRM:
		s = w.list(a[triage.EvRecords], w.crmRecordChange)
	default:
		return escTrunc(e.Detail, maxEventDetail, false)
	}
	return fit(s, maxEventDetail)
}

// outcome is an outcome in the audit trail: "lost, value 12,000: signed
// elsewhere"; note is escaped already.
func (w eventWords) outcome(kind string, value int, note string) string {
	s := strings.ToLower(outcomeWords(w).kind(triage.OutcomeKind(kind)))
	if value > 0 {
		s += ", " + w.t("outcome.value", value)
	}
	if note != "" {
		s += ": " + note
	}
	return s
}

// crmRecordChange is one EvRecords item, "hubspot deal 103 link": the CRM,
// the record's kind in words, its id, and what changed on a record already
// known (nothing: a new record).
func (w eventWords) crmRecordChange(item string) string {
	f := strings.Fields(item)
	if len(f) < 3 {
		return escTrunc(item, 80, false)
	}
	s := escTrunc(f[0], 20, false) + " " + w.crmKind(f[1]) + " " + escTrunc(f[2], 30, false)
	switch strings.Join(f[3:], " ") {
	case "":
		s = w.t("event.crm.new", s)
	case triage.CRMLinkChanged:
		s = w.t("event.crm.link", s)
	case triage.CRMGone:
		s = w.t("event.crm.gone", s)
	default:
		s += " " + escTrunc(strings.Join(f[3:], " "), 30, false)
	}
	return s
}

// crmKind names a CRM record's kind (HubSpot's objects, Pipedrive's
// entities) in the language.
func (w eventWords) crmKind(kind string) string {
	switch kind {
	case "company":
		return w.t("event.crm.kind.company")
	case "contact":
		return w.t("event.crm.kind.contact")
	case "deal":
		return w.t("event.crm.kind.deal")
	case "note":
		return w.t("event.crm.kind.note")
	case "person":
		return w.t("event.crm.kind.person")
	case "organization":
		return w.t("event.crm.kind.organization")
	case "lead":
		return w.t("event.crm.kind.lead")
	}
	return escTrunc(kind, 20, false)
}

// foundCard is the card an unfinished attempt had posted, found in the
// channel's history: its audit event says so (EvFound), worded here; the
// English Detail stays for older readers.
func foundCard(channel, ts string, now time.Time) *triage.Posted {
	p := recordCard(channel, ts, now, "found in channel history after an unfinished attempt")
	p.Args = map[string]string{triage.EvFound: triage.FoundInHistory}
	return p
}
