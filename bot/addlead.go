package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
)

// callbackAddLead is the add-lead dialog's callback_id: opened by /qualify
// without text and by the "Qualify this message" shortcut.
const callbackAddLead = "lead.add"

// The add-lead dialog's input blocks. Their ids equal the LeadInput field
// names (triage.Fields), so a *triage.FieldError's Field is the block its
// problem is shown under; each element's action_id equals its block_id.
const (
	addBlockCompany   = "company"
	addBlockName      = "name"
	addBlockEmail     = "email"
	addBlockWebsite   = "website"
	addBlockPhone     = "phone"
	addBlockMessage   = "message"
	addBlockSource    = "source"
	addBlockFounded   = "founded"
	addBlockEmployees = "employees"
)

// addBlocks lists the dialog's input blocks in order.
var addBlocks = []string{
	addBlockCompany, addBlockName, addBlockEmail, addBlockWebsite, addBlockPhone,
	addBlockMessage, addBlockSource, addBlockFounded, addBlockEmployees,
}

// addSources are the source select's options: the value stored and the
// catalogue key of its label.
var addSources = [][2]string{
	{"phone", "add.source.phone"},
	{"event", "add.source.event"},
	{"referral", "add.source.referral"},
	{"e-mail", "add.source.email"},
	{"other", "add.source.other"},
}

// maxInputValue is Block Kit's limit on a plain_text_input's max_length and
// initial_value.
const maxInputValue = 3000

// maxMetadata is Block Kit's limit on private_metadata.
const maxMetadata = 3000

// addLeadMeta is the add-lead dialog's private_metadata: where it was
// opened, to confirm the new lead there.
type addLeadMeta struct {
	Channel     string `json:"channel,omitempty"`
	ResponseURL string `json:"response_url,omitempty"`
}

// encodeAddLeadMeta encodes m within maxMetadata, dropping the response URL
// (then the channel) if they would not fit.
func encodeAddLeadMeta(m addLeadMeta) string {
	for _, try := range []addLeadMeta{m, {Channel: m.Channel}, {}} {
		out, err := json.Marshal(try)
		if err == nil && utf8.RuneCount(out) <= maxMetadata {
			return string(out)
		}
	}
	return ""
}

// parseAddLeadMeta reads private_metadata; anything unreadable is no metadata.
func parseAddLeadMeta(s string) addLeadMeta {
	var m addLeadMeta
	if s == "" || json.Unmarshal([]byte(s), &m) != nil {
		return addLeadMeta{}
	}
	if !slackChannelID.MatchString(m.Channel) {
		m.Channel = ""
	}
	return m
}

// prefillText cleans untrusted text for an input's initial value (plain
// text: Slack shows it literally, so no escaping) and cuts it, without an
// ellipsis, to max runes: the person edits it anyway.
func prefillText(s string, max int, multiline bool) string {
	s = clean(s, multiline)
	if r := []rune(s); len(r) > max {
		s = strings.TrimSpace(string(r[:max]))
	}
	return s
}

// addLeadModal builds the add-lead dialog, with prefill's values in it.
// now bounds the founding year.
func (w modalWords) addLeadModal(prefill triage.LeadInput, meta addLeadMeta, now time.Time) slack.ModalViewRequest {
	text := func(block, label, placeholder string, max int, multiline bool, initial string) slack.Block {
		el := slack.NewPlainTextInputBlockElement(plainText(placeholder), block)
		el.MaxLength = min(max, maxInputValue)
		el.Multiline = multiline
		el.InitialValue = prefillText(initial, el.MaxLength, multiline)
		return slack.NewInputBlock(block, plainText(label), nil, el).WithOptional(true)
	}

	email := slack.NewEmailTextInputBlockElement(plainText("name@company.com"), addBlockEmail)
	if e := prefillText(prefill.Email, triage.MaxEmail, false); e != "" && !strings.ContainsAny(e, " <>") && strings.Count(e, "@") == 1 {
		email.InitialValue = e
	}
	website := slack.NewURLTextInputBlockElement(plainText("https://company.com"), addBlockWebsite)
	if site := prefillText(prefill.Website, triage.MaxWebsite, false); site != "" && !strings.ContainsAny(site, " <>") {
		if !strings.Contains(site, "://") {
			site = "https://" + site
		}
		website.InitialValue = site
	}

	var opts []*slack.OptionBlockObject
	var initialSource *slack.OptionBlockObject
	src := strings.ToLower(strings.TrimSpace(prefill.Source))
	for _, s := range addSources {
		o := slack.NewOptionBlockObject(s[0], plainText(w.t(s[1])), nil)
		opts = append(opts, o)
		if src == s[0] {
			initialSource = o
		}
	}
	source := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plainText(w.t("add.source.placeholder")), addBlockSource, opts...)
	source.InitialOption = initialSource

	founded := slack.NewNumberInputBlockElement(plainText(w.t("add.founded.placeholder", "2015")), addBlockFounded, false).
		WithMinValue("1800").WithMaxValue(strconv.Itoa(now.Year()))
	if y, err := strconv.Atoi(strings.TrimSpace(prefill.Founded)); err == nil && y >= 1800 && y <= now.Year() {
		founded.InitialValue = strconv.Itoa(y)
	}
	employees := slack.NewNumberInputBlockElement(plainText(w.t("add.founded.placeholder", "40")), addBlockEmployees, false).
		WithMinValue("0").WithMaxValue("10000000")
	if n, err := strconv.Atoi(strings.TrimSpace(prefill.Employees)); err == nil && n >= 0 && n <= 10_000_000 {
		employees.InitialValue = strconv.Itoa(n)
	}

	blocks := []slack.Block{
		slack.NewContextBlock("", mrkdwnText(w.t("add.intro"))),
		text(addBlockCompany, w.t("add.company"), w.t("add.company.placeholder"), triage.MaxShortField, false, prefill.Company),
		text(addBlockName, w.t("add.name"), w.t("add.name.placeholder"), triage.MaxShortField, false, prefill.Name),
		slack.NewInputBlock(addBlockEmail, plainText(w.t("card.field.email")), nil, email).WithOptional(true),
		slack.NewInputBlock(addBlockWebsite, plainText(w.t("card.field.website")), nil, website).WithOptional(true),
		text(addBlockPhone, w.t("card.field.phone"), "+31 20 123 4567", triage.MaxPhone, false, prefill.Phone),
		text(addBlockMessage, w.t("card.message"), w.t("add.message.placeholder"), triage.MaxMessage, true, prefill.Message),
		slack.NewInputBlock(addBlockSource, plainText(w.t("card.field.source")), nil, source).WithOptional(true),
		slack.NewInputBlock(addBlockFounded, plainText(w.t("add.founded")), plainText(w.t("add.founded.hint")), founded).WithOptional(true),
		slack.NewInputBlock(addBlockEmployees, plainText(w.t("add.employees")), nil, employees).WithOptional(true),
	}
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      callbackAddLead,
		PrivateMetadata: encodeAddLeadMeta(meta),
		Title:           plainText(w.t("add.title")),
		Submit:          plainText(w.t("add.submit")),
		Close:           plainText(w.t("button.cancel")),
		Blocks:          slack.Blocks{BlockSet: blocks},
	}
}

// dialogs opens and answers the bot's dialogs: add a lead (from /qualify
// or the message shortcut "Qualify this message") and decide (the card's
// Decide button). A submission's answer is its ack, so it runs before it.
type dialogs struct {
	cfg    *Config
	api    *slack.Client
	svc    *triage.Service
	store  Store // the lead behind a Decide click
	words  words
	log    *slog.Logger
	links  *links
	gate   *gate
	teller teller
	now    func() time.Time
	spawn  func(kind string, fn func(ctx context.Context))
}

// openAddLead opens the add-lead dialog for the person behind
// triggerID, prefilled. views.open is the first and only Slack call: the
// trigger lives 3 s (RELIABILITY S10). channel and responseURL are where the
// dialog was opened from; the confirmation goes there.
func (dl *dialogs) openAddLead(ctx context.Context, triggerID, channel, responseURL string, prefill triage.LeadInput) error {
	modal := modalWords{dl.words}.addLeadModal(prefill, addLeadMeta{Channel: channel, ResponseURL: responseURL}, dl.now())
	if _, err := dl.api.OpenViewContext(ctx, triggerID, modal); err != nil {
		return fmt.Errorf("opening the add-lead dialog: %w", err)
	}
	return nil
}

// expiredTrigger reports whether err says the trigger_id was no longer good:
// the person has to try again.
func expiredTrigger(err error) bool {
	var se slack.SlackErrorResponse
	return errors.As(err, &se) && (se.Err == "expired_trigger_id" || se.Err == "exchanged_trigger_id" || se.Err == "invalid_trigger_id")
}

// addLeadInput reads the add-lead dialog's state. Number inputs arrive as
// strings; the domain validates everything.
func addLeadInput(view slack.View) triage.LeadInput {
	var values map[string]map[string]slack.BlockAction
	if view.State != nil {
		values = view.State.Values
	}
	get := func(block string) string {
		a := values[block][block]
		if a.SelectedOption.Value != "" {
			return a.SelectedOption.Value
		}
		return a.Value
	}
	in := triage.LeadInput{
		Company:   get(addBlockCompany),
		Name:      get(addBlockName),
		Email:     get(addBlockEmail),
		Website:   get(addBlockWebsite),
		Phone:     get(addBlockPhone),
		Message:   get(addBlockMessage),
		Source:    get(addBlockSource),
		Founded:   get(addBlockFounded),
		Employees: get(addBlockEmployees),
	}
	if !slices.ContainsFunc(addSources, func(s [2]string) bool { return s[0] == in.Source }) {
		in.Source = "" // not one of ours: the domain's default (slack)
	}
	return in
}

// addLeadErrors is an errors answer under one of the dialog's blocks.
func addLeadErrors(block, msg string) *slack.ViewSubmissionResponse {
	if !slices.Contains(addBlocks, block) {
		// Slack drops errors keyed by anything but an input block and
		// shows a generic failure instead.
		block = addBlockCompany
	}
	return slack.NewErrorsViewSubmissionResponse(map[string]string{block: msg})
}

// submitAddLead answers the add-lead dialog's submission: errors
// under the fields, or clear after the lead was stored (its card goes out
// through the outbox) and a confirmation queued for the submitter.
func (dl *dialogs) submitAddLead(ctx context.Context, ic slack.InteractionCallback) *slack.ViewSubmissionResponse {
	user := ic.User.ID
	log := dl.log.With("callback_id", ic.View.CallbackID, "user", user)
	ctx, cancel := context.WithTimeout(ctx, submissionTimeout)
	defer cancel()
	meta := parseAddLeadMeta(ic.View.PrivateMetadata)
	in := addLeadInput(ic.View)
	l, created, err := dl.svc.AddFromSlack(ctx, user, in)
	if err != nil {
		var fe *triage.FieldError
		switch {
		case errors.As(err, &fe):
			// The text may quote the input; it is shown as plain text.
			log.DebugContext(ctx, "new lead refused", "field", fe.Field)
			return addLeadErrors(fe.Field, plainCut(problemSentence(errorWords{dl.words}.fieldProblem(fe)), 300))
		case triage.IsInternal(err):
			log.ErrorContext(ctx, "adding a lead from slack", "error", err)
			return addLeadErrors(addBlockCompany, dl.words.t("error.try_again"))
		default:
			log.DebugContext(ctx, "new lead refused", "error", err)
			return addLeadErrors(addBlockCompany, plainCut(errorWords{dl.words}.text(err), 300))
		}
	}
	log = log.With("lead_id", l.ID.String(), "created", created)
	log.InfoContext(ctx, "lead added in slack")
	text := dl.addedText(l, created)
	dl.spawn("add_lead_confirmation", func(ctx context.Context) {
		dl.confirm(ctx, log, meta, user, text)
	})
	return slack.NewClearViewSubmissionResponse()
}

// addedText confirms a lead added in Slack (created) or found again.
func (dl *dialogs) addedText(l triage.Lead, created bool) string {
	label := escTrunc(l.Label(), 100, false)
	id := "*" + l.ID.String() + "*"
	if created {
		where := dl.words.t("home.triage_channel")
		if slackChannelID.MatchString(dl.svc.Channel) {
			where = "<#" + dl.svc.Channel + ">"
		}
		return dl.words.t("add.added", id, label, where)
	}
	if target := dl.links.permalink(l.Slack.Channel, l.Slack.TS); target != "" && l.Slack.TS != "" {
		id = "*" + link(target, l.ID.String()) + "*"
	}
	return dl.words.t("add.repeat", label, id, dl.words.status(l.Status))
}

// confirm tells user text where the dialog was opened: through its
// response_url when it has one (it works in any conversation, even one the
// bot is not in), else, or when that fails, as an ephemeral through the
// outbox in the dialog's channel or the triage channel.
func (dl *dialogs) confirm(ctx context.Context, log *slog.Logger, meta addLeadMeta, user, text string) {
	if meta.ResponseURL != "" {
		err := dl.ephemeralViaResponseURL(ctx, meta.ResponseURL, text)
		if err == nil {
			return
		}
		log.WarnContext(ctx, "confirming through the response_url", "error", err)
		meta.Channel = "" // the outbox's ephemeral may not reach that channel either
	}
	channel := meta.Channel
	if channel == "" {
		channel = dl.svc.Channel
	}
	dl.teller.tell(ctx, log, channel, user, text)
}

// ephemeralViaResponseURL posts an ephemeral text to a response_url (one of
// its 5 uses, SLACK-NOTES §4.7).
func (dl *dialogs) ephemeralViaResponseURL(ctx context.Context, responseURL, text string) error {
	ctx, cancel := context.WithTimeout(ctx, responseTimeout)
	defer cancel()
	client := &http.Client{Timeout: responseTimeout}
	msg := &slack.WebhookMessage{ResponseType: slack.ResponseTypeEphemeral, Text: text}
	if err := slack.PostWebhookCustomHTTPContext(ctx, responseURL, client, msg); err != nil {
		return fmt.Errorf("posting to the response_url: %w", err)
	}
	return nil
}
