package bot

import (
	"slices"
	"strings"
	"time"

	"github.com/leadtriage/leadtriage/triage"
)

// noticeWords renders the domain's notices for Slack, the blocked-channel notice
// (blocked.go) and reminders (followup.go).
type noticeWords struct{ words }

// notice words what the domain wants said (triage.Notice) in w's language:
// the mrkdwn text and, for a draft, the plain text people copy. Every piece
// of configured or lead text is escaped here; ids and counts are ours. loc
// dates what a person reads as a time of day (reminders.timezone); cs are
// the configured criteria, whose accepted answers a hint names.
func (w noticeWords) notice(n triage.Notice, loc *time.Location, cs []triage.Criterion) (text, plain string) {
	id := bold(n.Lead.String())
	switch n.Kind {
	case triage.NoticeVoted:
		text = w.t("notice.voted", id, bold(w.choice(n.Choice)))
		if n.Blind {
			text += " " + w.t("notice.voted.blind", n.Votes, n.Quorum)
		}
	case triage.NoticeAlreadyVoted:
		text = w.t("notice.already_voted", bold(w.choice(n.Choice)), id)
	case triage.NoticeClaimed:
		text = w.t("notice.claimed", id)
	case triage.NoticeAutoDecided:
		text = w.t("notice.auto_decided", id, w.status(n.Status), w.tally(n.Tally))
	case triage.NoticeVetoed:
		text = w.t("notice.vetoed", id, w.tally(n.Tally), w.codeList(n.Criteria, len(n.Criteria)), bold(w.t("answer.no")), w.teamLead(n.TeamLead))
	case triage.NoticeTie:
		text = w.t("notice.tie", id, w.tally(n.Tally), w.teamLead(n.TeamLead))
	case triage.NoticeDecideNow:
		rec := w.t("notice.decide_now.no_majority")
		if n.Status != "" {
			rec = w.t("notice.decide_now.recommends", bold(w.verb(n.Status)))
		}
		if len(n.Criteria) > 0 {
			rec += "; " + w.t("notice.decide_now.must_no", w.codeList(n.Criteria, len(n.Criteria)), bold(w.t("answer.no")))
		}
		text = w.t("notice.decide_now", id, w.tally(n.Tally), rec, w.teamLead(n.TeamLead))
	case triage.NoticeDissent:
		text = w.t("notice.dissent", id)
	case triage.NoticeDecided:
		text = w.t("notice.decided", mention(n.User), id, bold(w.status(n.Status)))
		switch {
		case n.Status == triage.StatusQualified && n.Owner != "":
			text += w.t("notice.decided.owner", mention(n.Owner))
		case n.Status == triage.StatusDisqualified:
			text += w.t("notice.decided.reason", escTrunc(n.Reason, maxReason, false))
		case n.Status == triage.StatusReferred:
			text += w.t("notice.decided.partner", escTrunc(n.Partner, maxPartner, false))
		}
	case triage.NoticeReopened:
		text = w.t("notice.reopened", mention(n.User), id, w.status(n.Status))
	case triage.NoticeAnswerHint:
		lines := make([]string, 0, len(n.Problems))
		for _, p := range n.Problems {
			accepted := p.Accepted // the domain's words, if the criterion is gone from the config
			if i := slices.IndexFunc(cs, func(c triage.Criterion) bool { return c.ID == p.Criterion }); i >= 0 {
				accepted = w.acceptedForms(cs[i])
			}
			lines = append(lines, codeSpan(p.Criterion)+": "+escTrunc(accepted, 200, false))
		}
		example := ""
		if len(n.Problems) > 0 {
			example = codeSpan(n.Problems[0].Criterion + ": " + w.t("answer.yes"))
		}
		text = w.t("notice.answer_hint", mention(n.User), strings.Join(lines, "; "), example)
	case triage.NoticeDeclineDraft:
		if p := escTrunc(n.Partner, maxPartner, false); p != "" {
			text = w.t("notice.decline_draft.partner", p)
		} else {
			text = w.t("notice.decline_draft")
		}
	case triage.NoticeReferralDraft:
		text = w.t("notice.referral_draft", escTrunc(n.Partner, maxPartner, false))
	case triage.NoticeReminder:
		text = w.t("notice.reminder", id, w.waited(n))
		switch {
		case !n.Team:
			text += " " + w.t("notice.reminder.no_team")
		case len(n.Users) == 0:
			text += " " + w.t("notice.reminder.all_voted")
		default:
			text += " " + w.t("notice.not_voted", w.userList(n.Users))
		}
	case triage.NoticeEscalation:
		text = w.t("notice.escalation", id, escTrunc(n.Label, 80, false), w.waited(n))
		switch {
		case n.Votes == 0:
			text += " " + w.t("notice.escalation.no_votes")
		case n.Blind:
			text += " " + w.t("notice.escalation.hidden", n.Votes)
		default:
			text += " " + w.t("notice.escalation.tally", w.tally(n.Tally))
		}
		if len(n.Users) > 0 {
			text += " " + w.t("notice.not_voted", w.userList(n.Users))
		}
	case triage.NoticeSnoozed:
		text = w.t("notice.snoozed", id, w.dayTime(n.Until, loc))
	case triage.NoticeAlreadySnoozed:
		text = w.t("notice.already_snoozed", id, w.dayTime(n.Until, loc))
	case triage.NoticeImported:
		text = w.imported(n)
	case triage.NoticeOutcome, triage.NoticeOutcomeRecorded:
		text = outcomeWords(w).notice(n)
	case triage.NoticeCRM:
		text = crmWords(w).notice(n)
	default:
		// A kind a newer version stored: say nothing wrong rather than
		// something garbled.
		text = w.t("notice.unknown", id)
	}
	d := n.Draft // worded by an older version: shown as it was
	if f := n.DraftFacts; f != nil {
		worded := draftText(n.Kind, *f)
		d = &worded
	}
	if d != nil {
		plain = d.Body
		if d.Subject != "" {
			plain = d.Subject + "\n\n" + d.Body
		}
	}
	return text, plain
}

// verb is what a vote recommends doing with the lead.
func (w noticeWords) verb(s triage.Status) string {
	switch s {
	case triage.StatusQualified:
		return w.t("vote.qualify")
	case triage.StatusDisqualified:
		return w.t("vote.disqualify")
	case triage.StatusReferred:
		return w.t("vote.refer")
	}
	return w.status(s)
}

// teamLead addresses who decides when the vote does not.
func (w noticeWords) teamLead(id string) string {
	if id == "" {
		return w.t("notice.team_lead")
	}
	return mention(id)
}

// waited is how long a lead has waited: "4h 30m", rounded down to the
// minute, and whether that counts business hours only.
func (w noticeWords) waited(n triage.Notice) string {
	d := n.Waited.Truncate(time.Minute)
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	var s string
	switch {
	case h == 0:
		s = w.t("duration.m", m)
	case m == 0:
		s = w.t("duration.h", h)
	default:
		s = w.t("duration.hm", h, m)
	}
	if n.BusinessHours {
		s += " " + w.t("duration.business_hours")
	}
	return s
}

// imported words an import's summary: how many leads from where, the
// repeats and bad rows, and that the cards follow.
func (w noticeWords) imported(n triage.Notice) string {
	from := ""
	if src := escTrunc(n.Source, 80, false); src != "" {
		from = w.t("notice.imported.source", src)
	}
	text := w.t("notice.imported", n.Count, from)
	var counts []string
	if n.Repeats > 0 {
		counts = append(counts, w.t("notice.imported.repeats", n.Repeats))
	}
	if n.Rejected > 0 {
		counts = append(counts, w.t("notice.imported.rejected", n.Rejected))
	}
	if len(counts) > 0 {
		text += " " + strings.Join(counts, ", ") + "."
	}
	return text + " " + w.t("notice.imported.follow")
}
