package bot

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
)

// voteActions maps the card's vote buttons to choices.
var voteActions = map[string]triage.Choice{
	actionVoteQualify:    triage.ChoiceQualify,
	actionVoteDisqualify: triage.ChoiceDisqualify,
	actionVoteUnsure:     triage.ChoiceUnsure,
}

// answerButtons maps the checklist's button suffixes to raw answers.
var answerButtons = map[string]string{
	"yes": triage.AnswerYes, "no": triage.AnswerNo, "unknown": triage.AnswerUnknown,
	"1": "1", "2": "2", "3": "3", "4": "4", "5": "5",
}

// clicks performs the clicks on the bot's buttons and selects: the card's,
// the checklist's, a reminder's and the App Home's period picker. Bot's
// handleInteraction checks access first and hands each action to it.
type clicks struct {
	svc     *triage.Service
	words   words
	log     *slog.Logger
	teller  teller
	dialogs *dialogs // Decide opens the decide dialog
	home    *homeTab // the App Home's period picker
}

// click performs one button click. The service queues the card
// update and the clicker's confirmation; errors are told to the clicker.
func (ck *clicks) click(ctx context.Context, ic slack.InteractionCallback, a slack.BlockAction) {
	user := ic.User.ID
	channel := ic.Container.ChannelID
	if channel == "" {
		channel = ic.Channel.ID
	}
	log := ck.log.With("action_id", a.ActionID, "user", user)
	if strings.HasPrefix(a.ActionID, actionAnswerPrefix) {
		ck.answer(ctx, log, channel, user, a)
		return
	}
	if strings.HasPrefix(a.ActionID, actionSnoozePrefix) {
		ck.snooze(ctx, log, channel, user, a)
		return
	}
	if a.ActionID == actionHomeStatsPeriod {
		ck.home.periodPicked(ctx, log, user, a)
		return
	}
	if strings.HasPrefix(a.ActionID, actionOutcomePrefix) {
		ck.outcome(ctx, log, channel, user, a)
		return
	}
	choice, isVote := voteActions[a.ActionID]
	switch {
	case isVote, a.ActionID == actionClaim, a.ActionID == actionResearch:
	case a.ActionID == actionDecide:
		// Refuse before anything else: a non-decider gets no dialog at all.
		if !ck.svc.Policy.CanDecide(user) {
			log.DebugContext(ctx, "decide refused: not a decider")
			ck.teller.tell(ctx, log, channel, user, modalWords{ck.words}.notDecider(ck.svc.Policy))
			return
		}
	default:
		log.DebugContext(ctx, "button ignored")
		return
	}
	id, log, ok := ck.leadOf(ctx, log, channel, user, a)
	if !ok {
		return
	}
	switch {
	case a.ActionID == actionDecide:
		ck.dialogs.openDecide(ctx, log, ic, channel, id)
		return
	case a.ActionID == actionResearch:
		ck.rerunResearch(ctx, log, channel, user, id)
		return
	}
	var err error
	switch {
	case isVote:
		_, err = ck.svc.Vote(ctx, id, user, choice)
	default:
		_, err = ck.svc.Claim(ctx, id, user)
	}
	if err != nil {
		ck.teller.reportError(ctx, log, channel, user, err)
		return
	}
	log.DebugContext(ctx, "button handled")
}

// answer records an answer given with the checklist's buttons or its
// select.
func (ck *clicks) answer(ctx context.Context, log *slog.Logger, channel, user string, a slack.BlockAction) {
	value := a.Value
	if a.ActionID == actionAnswerChoice {
		value = a.SelectedOption.Value
	}
	fields := strings.Fields(value)
	wantFields := 2
	if a.ActionID == actionAnswerChoice {
		wantFields = 3
	}
	if len(fields) != wantFields {
		log.WarnContext(ctx, "checklist answer with a malformed value", "fields", len(fields))
		ck.teller.tell(ctx, log, channel, user, ck.words.t("checklist.out_of_date", "`budget: "+ck.words.t("answer.yes")+"`"))
		return
	}
	id, err := triage.ParseLeadID(fields[0])
	if err != nil {
		ck.teller.reportError(ctx, log, channel, user, err)
		return
	}
	log = log.With("lead_id", id.String(), "criterion", fields[1])
	if strings.HasPrefix(a.BlockID, blockCriterionPrefix) && !blockNamesCriterion(a.BlockID, fields[1]) {
		// The value is the answer; a block naming another criterion means
		// a payload that is not ours as rendered.
		log.WarnContext(ctx, "checklist answer from another criterion's block", "block_id", a.BlockID)
		ck.teller.tell(ctx, log, channel, user, ck.words.t("checklist.out_of_date", "`budget: "+ck.words.t("answer.yes")+"`"))
		return
	}
	c, ok := ck.criterion(fields[1])
	if !ok {
		ck.teller.reportError(ctx, log, channel, user, fmt.Errorf("answering on %s: %q: %w", id, fields[1], triage.ErrUnknownCriteria))
		return
	}
	var raw string
	if a.ActionID == actionAnswerChoice {
		i, err := strconv.Atoi(fields[2])
		if c.Kind != triage.KindChoice || err != nil || i < 0 || i >= len(c.Options) {
			ck.teller.reportError(ctx, log, channel, user, &triage.FieldError{Field: c.ID, Problem: ck.words.t("accepted", ck.words.acceptedForms(c))})
			return
		}
		raw = c.Options[i]
	} else if raw, ok = answerButtons[strings.TrimPrefix(a.ActionID, actionAnswerPrefix)]; !ok {
		log.DebugContext(ctx, "button ignored")
		return
	}
	v, err := triage.NormaliseAnswer(c, raw)
	if err != nil {
		// A checklist rendered before the criterion's kind changed in config.
		ck.teller.reportError(ctx, log, channel, user, &triage.FieldError{Field: c.ID, Problem: ck.words.t("accepted", ck.words.acceptedForms(c))})
		return
	}
	if _, err := ck.svc.Answer(ctx, id, user, []triage.ParsedAnswer{{Criterion: c.ID, Value: v}}); err != nil {
		ck.teller.reportError(ctx, log, channel, user, err)
		return
	}
	log.DebugContext(ctx, "checklist answer recorded")
}

// blockNamesCriterion reports whether blockID is the block_id of criterion
// id's elements: "crit.<id>" as checklists rendered it before answers
// changed the block_id, or "crit.<id>.<suffix>" (criterionBlockID). The
// criterion id comes from the action's value, so an id with a dot in it
// cannot be mistaken for a suffix.
func blockNamesCriterion(blockID, id string) bool {
	rest, ok := strings.CutPrefix(blockID, blockCriterionPrefix+id)
	return ok && (rest == "" || rest[0] == '.')
}

func (ck *clicks) criterion(id string) (triage.Criterion, bool) {
	for _, c := range ck.svc.Policy.Criteria {
		if c.ID == id {
			return c, true
		}
	}
	return triage.Criterion{}, false
}

// rerunResearch starts research on lead id afresh, bypassing the cache, and
// tells the clicker; the card is updated through the outbox when it is done.
func (ck *clicks) rerunResearch(ctx context.Context, log *slog.Logger, channel, user string, id triage.LeadID) {
	// Load it first, so that an unknown lead is refused rather than
	// silently researched into nothing in the background.
	if _, err := ck.svc.Lead(ctx, id); err != nil {
		ck.teller.reportError(ctx, log, channel, user, err)
		return
	}
	msg := ck.words.t("research.off", "research.enabled = false")
	if ck.svc.Researcher != nil {
		ck.svc.StartResearch(id, true)
		msg = ck.words.t("research.rerun", bold(id.String()))
	}
	if err := ck.svc.Tell(ctx, channel, user, msg); err != nil {
		log.ErrorContext(ctx, "queueing a reply", "error", err)
		return
	}
	log.DebugContext(ctx, "button handled")
}

// leadOf is the lead a card button's value names, and log with its id; a
// value that names none is told to the clicker (ok false).
func (ck *clicks) leadOf(ctx context.Context, log *slog.Logger, channel, user string, a slack.BlockAction) (triage.LeadID, *slog.Logger, bool) {
	id, err := triage.ParseLeadID(a.Value)
	if err != nil {
		ck.teller.reportError(ctx, log, channel, user, err)
		return 0, log, false
	}
	return id, log.With("lead_id", id.String()), true
}
