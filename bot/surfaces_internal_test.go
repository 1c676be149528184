package bot

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
)

// TestRenderSurfaces golden-tests the smaller surfaces in each language:
// a reminder with its Snooze buttons, an escalation with its card link, the
// team lead's notice of each blocked delivery, the App Home, the add-lead
// dialog and every error a person can be shown.
func TestRenderSurfaces(t *testing.T) { testRenderSurfaces(t, english) }

// The same surfaces in Dutch (ui.language = "nl").
func TestRenderSurfacesNL(t *testing.T) { testRenderSurfaces(t, newWords(LangDutch)) }

func testRenderSurfaces(t *testing.T, w words) {
	t.Parallel()
	ams, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		t.Fatal(err)
	}
	reminderText, _ := noticeWords{w}.notice(triage.Notice{Kind: triage.NoticeReminder, Lead: 7, Waited: 5 * time.Hour, Team: true, Users: []string{"UALICE"}}, ams, nil)
	_, reminder := noticeWords{w}.reminder(7, reminderText)
	escalationText, _ := noticeWords{w}.notice(triage.Notice{Kind: triage.NoticeEscalation, Lead: 7, Label: "Acme", Waited: 26 * time.Hour, Votes: 1, Blind: true}, ams, nil)
	_, direct := renderDirect(escalationText, link("https://acme.slack.com/archives/CTRIAGE/p1", w.t("direct.open_card")))

	var blocked []string
	for _, cause := range []string{"not_in_channel", "is_archived", "channel_not_found", "restricted_action", "missing_scope"} {
		blocked = append(blocked, noticeWords{w}.blockNotice(block{cause: cause, on: "CTRIAGE"}))
	}

	b := &homeTab{cfg: &Config{Command: "/qualify"}, svc: &triage.Service{Channel: dispatchChannel}, links: &links{}, words: w}
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	lead := func(id int, company string, age time.Duration, votes map[string]triage.Choice) triage.Lead {
		return triage.Lead{ID: triage.LeadID(id), Company: company, Status: triage.StatusPending, CreatedAt: now.Add(-age), Votes: votes}
	}
	home := b.view(triage.Home{
		AwaitingVote: []triage.Lead{lead(1, "Acme <!channel>", 30*time.Second, nil)},
		Owned:        []triage.Lead{{ID: 2, Company: "Beta BV", Status: triage.StatusQualified, CreatedAt: now.Add(-3 * 24 * time.Hour), Owner: "UBOB"}},
		Pending:      []triage.Lead{lead(1, "Acme <!channel>", 30*time.Second, nil), lead(3, "Gamma", 5*time.Hour, map[string]triage.Choice{"UALICE": triage.ChoiceQualify})},
		Stats:        triage.Stats{Received: 12, Qualified: 5, Disqualified: 4, Referred: 1, Decided: 10, MedianDecision: 30 * time.Hour},
	}, now)

	var errs []string
	for _, err := range []error{triage.ErrNotFound, triage.ErrLeadClosed, triage.ErrNotAllowed, triage.ErrIdempotencyKey, triage.ErrInvalid,
		&triage.ClaimedError{Lead: 4, Owner: "UBOB"}, triage.ErrAlreadyClaimed, triage.ErrUnknownCriteria, errors.New("disk on fire")} {
		errs = append(errs, errorWords{w}.text(err))
	}

	addLead := modalWords{w}.addLeadModal(triage.LeadInput{Company: "Bakkerij <b>Jansen</b>", Email: "jan@bakkerij.example", Source: "event", Founded: "2019"}, addLeadMeta{}, now)

	raw, err := json.Marshal(struct {
		AddLead  slack.ModalViewRequest `json:"add_lead"`
		Reminder []slack.Block          `json:"reminder"`
		Direct   []slack.Block          `json:"direct"`
		Blocked  []string               `json:"blocked"`
		Home     any                    `json:"home"`
		Errors   []string               `json:"errors"`
	}{addLead, reminder, direct, blocked, home, errs})
	if err != nil {
		t.Fatal(err)
	}
	// Channel mentions and card links are ours; the lead's text is not.
	if got := string(unescapeHTML(raw)); strings.Contains(got, "<!channel>") {
		t.Errorf("lead text reached mrkdwn unescaped:\n%s", got)
	}
	assertGolden(t, raw)
}
