package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
)

// The decide modal (shared Slack contract, issue 4). Its input blocks' ids
// equal the DecisionInput field names, so a *triage.FieldError's Field is
// the block its problem is shown under.
const (
	decideBlockOutcome = "outcome"
	decideBlockOwner   = "owner"
	decideBlockReason  = "reason"
	decideBlockPartner = "partner"
	decideBlockNote    = "note"

	// outcomeReopen is the outcome option that puts a decided lead back to
	// pending; the others are triage.Status values.
	outcomeReopen = "reopen"
)

// Block Kit limits that apply to the modal (SLACK-NOTES §4.6).
const (
	maxModalTitle   = 24
	maxOptionText   = 75
	maxOptionValue  = 150
	maxSelectOption = 100
)

// submissionTimeout bounds the synchronous work of a view_submission: its
// answer must reach Slack within 3 s, and a late answer is worthless.
const submissionTimeout = 2500 * time.Millisecond

// modalWords renders the decide dialog and the add-lead dialog (addlead.go).
type modalWords struct{ words }

// decideModal builds the decide dialog for l. A decided lead also offers
// reopen, pre-selected: deciding it again needs a reopen first.
func (w modalWords) decideModal(l triage.Lead, p triage.Policy) slack.ModalViewRequest {
	id := l.ID.String()
	title := w.t("decide.title", id)
	if utf8.RuneCountInString(title) > maxModalTitle {
		title = w.t("button.decide")
	}
	decided := l.Status != triage.StatusPending

	var outcomes []*slack.OptionBlockObject
	var initial *slack.OptionBlockObject
	if decided {
		initial = decideOption(outcomeReopen, w.t("decide.reopen"), "")
		outcomes = append(outcomes, initial)
	}
	outcomes = append(outcomes,
		decideOption(string(triage.StatusQualified), w.t("choice.qualify"), w.t("decide.qualify.hint")),
		decideOption(string(triage.StatusDisqualified), w.t("choice.disqualify"), w.t("decide.disqualify.hint")),
	)
	if len(p.Partners) > 0 {
		outcomes = append(outcomes, decideOption(string(triage.StatusReferred), w.t("decide.refer"), w.t("decide.refer.hint")))
	}
	radio := slack.NewRadioButtonsBlockElement(decideBlockOutcome, outcomes...)
	radio.InitialOption = initial

	blocks := []slack.Block{
		slack.NewSectionBlock(mrkdwnText(w.summary(l)), nil, nil),
		slack.NewInputBlock(decideBlockOutcome, plainText(w.t("decide.outcome")), nil, radio),
	}

	owner := slack.NewOptionsSelectBlockElement(slack.OptTypeUser, plainText(w.t("decide.pick_person")), decideBlockOwner)
	if slackUserID.MatchString(l.Owner) {
		owner.InitialUser = l.Owner
	}
	blocks = append(blocks, slack.NewInputBlock(decideBlockOwner, plainText(w.t("decide.owner")),
		plainText(w.t("decide.owner.hint")), owner).WithOptional(true))

	var reason slack.BlockElement
	if len(p.Reasons) > 0 {
		var opts []*slack.OptionBlockObject
		for i, r := range p.Reasons {
			if i == maxSelectOption {
				break
			}
			opts = append(opts, decideOption(indexedValue(i, r), r, ""))
		}
		reason = slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plainText(w.t("decide.pick_reason")), decideBlockReason, opts...)
	} else {
		// No configured list: the domain takes free text (Policy.Reasons).
		in := slack.NewPlainTextInputBlockElement(plainText(w.t("decide.reason.placeholder")), decideBlockReason)
		in.MaxLength = 200
		reason = in
	}
	blocks = append(blocks, slack.NewInputBlock(decideBlockReason, plainText(w.t("decide.reason")), nil, reason).WithOptional(true))

	if len(p.Partners) > 0 {
		var opts []*slack.OptionBlockObject
		for i, pa := range p.Partners {
			if i == maxSelectOption {
				break
			}
			opts = append(opts, decideOption(indexedValue(i, pa.Name), pa.Name, pa.Fits))
		}
		sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plainText(w.t("decide.pick_partner")), decideBlockPartner, opts...)
		blocks = append(blocks, slack.NewInputBlock(decideBlockPartner, plainText(w.t("decide.partner")), nil, sel).WithOptional(true))
	}

	note := slack.NewPlainTextInputBlockElement(plainText(w.t("decide.note.placeholder")), decideBlockNote)
	note.Multiline = true
	note.MaxLength = triage.MaxNote
	blocks = append(blocks, slack.NewInputBlock(decideBlockNote, plainText(w.t("card.note")), nil, note).WithOptional(true))

	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      callbackDecide,
		PrivateMetadata: id,
		Title:           plainText(title),
		Submit:          plainText(w.t("button.decide")),
		Close:           plainText(w.t("button.cancel")),
		Blocks:          slack.Blocks{BlockSet: blocks},
	}
}

// summary is the dialog's first line: which lead, and where it stands.
func (w modalWords) summary(l triage.Lead) string {
	name := l.Company
	if name == "" {
		name = l.Name
	}
	if name == "" {
		name = l.Email
	}
	s := fmt.Sprintf("*%s* %s", l.ID, escTrunc(name, 200, false))
	if l.Decision != nil {
		by := w.t("card.decided_by_vote")
		if l.Decision.By != triage.DecidedByPolicy {
			by = mention(l.Decision.By)
		}
		s += "\n" + w.t("decide.summary.decided", bold(w.status(l.Decision.Outcome)), by)
		if l.Decision.Reason != "" {
			s += ": " + escTrunc(l.Decision.Reason, 300, false)
		}
		return s
	}
	t := triage.Count(l.Votes)
	s += "\n" + w.t("decide.summary.pending", t.Total())
	return s
}

// decideOption is a plain-text option within Block Kit's limits.
func decideOption(value, text, description string) *slack.OptionBlockObject {
	var desc *slack.TextBlockObject
	if description != "" {
		desc = plainText(plainCut(description, maxOptionText))
	}
	return slack.NewOptionBlockObject(value, plainText(plainCut(text, maxOptionText)), desc)
}

// indexedValue is an option value for configured text (a reason, a
// partner): the text itself, which the domain matches, unless it does not
// fit an option value; then "#<index>".
func indexedValue(i int, s string) string {
	if s == "" || utf8.RuneCountInString(s) > maxOptionValue || strings.HasPrefix(s, "#") {
		return "#" + strconv.Itoa(i)
	}
	return s
}

// fromIndexed undoes indexedValue against the configured list.
func fromIndexed(v string, list []string) string {
	if n, ok := strings.CutPrefix(v, "#"); ok {
		if i, err := strconv.Atoi(n); err == nil && i >= 0 && i < len(list) {
			return list[i]
		}
	}
	return v
}

// decideSubmission is what a decide dialog's state says.
type decideSubmission struct {
	lead    triage.LeadID
	outcome string // a triage.Status, outcomeReopen, or "" when none was picked
	input   triage.DecisionInput
}

// parseDecideSubmission reads the decide dialog's state. It fails only when
// the dialog lost its lead id; missing fields are the domain's to judge.
func parseDecideSubmission(view slack.View, p triage.Policy) (decideSubmission, error) {
	id, err := triage.ParseLeadID(view.PrivateMetadata)
	if err != nil {
		return decideSubmission{}, fmt.Errorf("reading the decide dialog's lead: %w", err)
	}
	var values map[string]map[string]slack.BlockAction
	if view.State != nil {
		values = view.State.Values
	}
	get := func(block string) slack.BlockAction { return values[block][block] }
	selected := func(a slack.BlockAction) string {
		if a.SelectedOption.Value != "" {
			return a.SelectedOption.Value
		}
		return a.Value // a plain_text_input (reasons without a configured list)
	}
	names := make([]string, len(p.Partners))
	for i, pa := range p.Partners {
		names[i] = pa.Name
	}
	s := decideSubmission{lead: id, outcome: get(decideBlockOutcome).SelectedOption.Value}
	s.input = triage.DecisionInput{
		Outcome: triage.Status(s.outcome),
		Owner:   get(decideBlockOwner).SelectedUser,
		Reason:  fromIndexed(selected(get(decideBlockReason)), p.Reasons),
		Note:    get(decideBlockNote).Value,
		Partner: fromIndexed(selected(get(decideBlockPartner)), names),
	}
	return s, nil
}

// submit answers a modal's submission. It runs before the ack,
// because its answer is the ack: validation errors shown under the fields,
// or nil / clear to close the dialog. The decision itself is one bbolt
// transaction, well inside Slack's 3 s.
func (dl *dialogs) submit(ctx context.Context, ic slack.InteractionCallback) *slack.ViewSubmissionResponse {
	if resp, handled := dl.route(ctx, ic); handled {
		return resp // access refusals and the add-lead dialog (route)
	}
	user := ic.User.ID
	log := dl.log.With("callback_id", ic.View.CallbackID, "user", user)
	if ic.View.CallbackID != callbackDecide {
		log.DebugContext(ctx, "view submission ignored")
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, submissionTimeout)
	defer cancel()
	pol := dl.svc.Policy
	sub, err := parseDecideSubmission(ic.View, pol)
	if err != nil {
		log.WarnContext(ctx, "decide dialog without a lead", "error", err)
		return decideErrors(decideBlockOutcome, dl.words.t("decide.lost", dl.words.t("button.decide")))
	}
	log = log.With("lead_id", sub.lead.String(), "outcome", sub.outcome)
	switch sub.outcome {
	case "":
		return decideErrors(decideBlockOutcome, dl.words.t("decide.pick_outcome"))
	case outcomeReopen:
		_, err = dl.svc.Reopen(ctx, sub.lead, user, sub.input.Note)
	default:
		_, err = dl.svc.DecideByHand(ctx, sub.lead, user, sub.input)
	}
	if err != nil {
		return dl.submissionError(ctx, log, sub.lead, err, pol)
	}
	log.InfoContext(ctx, "lead decided by hand")
	return slack.NewClearViewSubmissionResponse()
}

// submissionError turns a refused decision into errors under the dialog's
// fields. Slack shows them as plain text, so no mention syntax here.
func (dl *dialogs) submissionError(ctx context.Context, log *slog.Logger, id triage.LeadID, err error, p triage.Policy) *slack.ViewSubmissionResponse {
	var fe *triage.FieldError
	switch {
	case errors.As(err, &fe):
		log.DebugContext(ctx, "decision refused", "field", fe.Field, "problem", fe.Problem)
		block := fe.Field
		if !hasDecideBlock(block, p) {
			// An error keyed by anything but an input block is dropped by
			// Slack, which then shows a generic failure.
			block = decideBlockOutcome
		}
		return decideErrors(block, problemSentence(errorWords{dl.words}.fieldProblem(fe)))
	case errors.Is(err, triage.ErrNotAllowed):
		log.DebugContext(ctx, "decision refused: not a decider")
		who := dl.words.t("card.team_lead")
		if len(p.Deciders) > 0 {
			who = dl.words.t("decide.deciders", "voting.deciders")
		}
		return decideErrors(decideBlockOutcome, dl.words.t("decide.only", who))
	case errors.Is(err, triage.ErrLeadClosed):
		log.DebugContext(ctx, "decision refused: already decided")
		return decideErrors(decideBlockOutcome, dl.words.t("decide.already", id))
	case errors.Is(err, triage.ErrNotFound):
		return decideErrors(decideBlockOutcome, dl.words.t("error.not_found"))
	}
	log.ErrorContext(ctx, "deciding a lead", "error", err)
	return decideErrors(decideBlockOutcome, dl.words.t("error.try_again"))
}

func hasDecideBlock(block string, p triage.Policy) bool {
	switch block {
	case decideBlockOutcome, decideBlockOwner, decideBlockReason, decideBlockNote:
		return true
	case decideBlockPartner:
		return len(p.Partners) > 0
	}
	return false
}

func decideErrors(block, msg string) *slack.ViewSubmissionResponse {
	return slack.NewErrorsViewSubmissionResponse(map[string]string{block: msg})
}

// problemSentence capitalises the domain's lowercase problem text for display.
func problemSentence(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// openDecide opens the decide dialog for the clicker. views.open is the
// first Slack call after the click: the trigger_id lives 3 s (RELIABILITY
// S10). The only work before it is a local bbolt read, to know whether the
// lead is pending or decided.
func (dl *dialogs) openDecide(ctx context.Context, log *slog.Logger, ic slack.InteractionCallback, channel string, id triage.LeadID) {
	user := ic.User.ID
	l, err := dl.store.Lead(ctx, id)
	if err != nil {
		dl.teller.reportError(ctx, log, channel, user, err)
		return
	}
	modal := modalWords{dl.words}.decideModal(l, dl.svc.Policy)
	if _, err := dl.api.OpenViewContext(ctx, ic.TriggerID, modal); err != nil {
		var se slack.SlackErrorResponse
		if errors.As(err, &se) && (se.Err == "expired_trigger_id" || se.Err == "exchanged_trigger_id" || se.Err == "invalid_trigger_id") {
			log.WarnContext(ctx, "decide dialog not opened: trigger expired", "error", err)
			dl.teller.tell(ctx, log, channel, user, dl.words.t("decide.too_slow", dl.words.t("button.decide")))
			return
		}
		log.ErrorContext(ctx, "opening the decide dialog", "error", err)
		dl.teller.tell(ctx, log, channel, user, dl.words.t("decide.no_dialog", dl.words.t("button.decide")))
		return
	}
	log.DebugContext(ctx, "decide dialog opened")
}

// notDecider says who may decide, for a click on Decide by anyone else.
func (w modalWords) notDecider(p triage.Policy) string {
	who := p.Deciders
	if len(who) == 0 && p.TeamLead != "" {
		who = []string{p.TeamLead}
	}
	if len(who) == 0 {
		return w.t("decide.nobody", "voting.deciders", "slack.team_lead")
	}
	ms := make([]string, len(who))
	for i, u := range who {
		ms[i] = mention(u)
	}
	list := ms[0]
	if len(ms) > 1 {
		list = w.t("or", strings.Join(ms[:len(ms)-1], ", "), ms[len(ms)-1])
	}
	return w.t("decide.only", list)
}

// plainText and mrkdwnText are text objects for the dialog; mrkdwnText's
// argument must already be escaped.
func plainText(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

func mrkdwnText(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

// route runs before any dialog's own handling: a person the
// access lists leave out gets the refusal under the dialog's first input
// block, and the add-lead dialog is answered here. handled is false for
// dialogs left to submit (the decide dialog).
func (dl *dialogs) route(ctx context.Context, ic slack.InteractionCallback) (resp *slack.ViewSubmissionResponse, handled bool) {
	var first string
	switch ic.View.CallbackID {
	case callbackAddLead:
		first = addBlockCompany
	case callbackDecide:
		first = decideBlockOutcome
	default:
		return nil, false
	}
	// The answer must reach Slack within 3 s, access check included.
	ctx, cancel := context.WithTimeout(ctx, submissionTimeout)
	defer cancel()
	if ok, msg := dl.gate.allowed(ctx, ic.User.ID, ""); !ok {
		if msg != dl.words.t("access.check_failed") {
			msg = dl.gate.refusal(true) // plain text: no mention markup
		}
		return slack.NewErrorsViewSubmissionResponse(map[string]string{first: msg}), true
	}
	if ic.View.CallbackID == callbackAddLead {
		return dl.submitAddLead(ctx, ic), true
	}
	return nil, false
}
