package bot_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/leadtriage/leadtriage/triage"
)

// homeSelectPayload is the block_actions payload Slack sends when user
// picks (text, value) in the App Home's period select. Shape:
// java-slack-sdk json-logs/samples/app-backend/interactive-components/
// BlockActionPayload.json (container {type, view_id}, a static_select
// action with selected_option {text, value}, action_ts) and bolt-js's
// ViewBlockAction / StaticSelectAction (src/types/actions/block-action.ts):
// from a view there is no channel or message, but the view itself (id,
// type "home", hash, state).
func homeSelectPayload(t *testing.T, user, viewID, text, value string) []byte {
	t.Helper()
	option := map[string]any{"text": map[string]any{"type": "plain_text", "text": text, "emoji": true}, "value": value}
	p := map[string]any{
		"type":       "block_actions",
		"user":       map[string]any{"id": user, "username": "me", "name": "me", "team_id": slackfake.TeamID},
		"api_app_id": "A0LEADTRIAGE",
		"token":      "verification-token-unused",
		"container":  map[string]any{"type": "view", "view_id": viewID},
		"trigger_id": "1337.42.abcdef",
		"team":       map[string]any{"id": slackfake.TeamID, "domain": "acme"},
		"enterprise": nil, "is_enterprise_install": false,
		"view": map[string]any{
			"id": viewID, "team_id": slackfake.TeamID, "type": "home", "blocks": []any{},
			"private_metadata": "", "callback_id": "", "hash": "1772442000.abcdef12",
			"state":        map[string]any{"values": map[string]any{"home.stats": map[string]any{"home.stats.period": map[string]any{"type": "static_select", "selected_option": option}}}},
			"app_id":       "A0LEADTRIAGE",
			"bot_id":       "B0LEADTRIAGE",
			"root_view_id": viewID, "previous_view_id": nil, "external_id": "",
		},
		"actions": []any{map[string]any{
			"type": "static_select", "action_id": "home.stats.period", "block_id": "home.stats",
			"selected_option": option,
			"placeholder":     map[string]any{"type": "plain_text", "text": "Period", "emoji": true},
			"action_ts":       "1772442000.123456",
		}},
	}
	out, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// homeStats returns the "Did we decide well?" period's figures of a
// published Home and the select's chosen value.
func homeStats(t *testing.T, raw json.RawMessage) (figures, period string) {
	t.Helper()
	var v struct {
		Blocks []struct {
			BlockID   string `json:"block_id"`
			Accessory *struct {
				ActionID      string `json:"action_id"`
				InitialOption struct {
					Value string `json:"value"`
				} `json:"initial_option"`
			} `json:"accessory"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	texts := homeTexts(t, raw)
	for i, b := range v.Blocks {
		if b.BlockID == "home.stats" && b.Accessory != nil && b.Accessory.ActionID == "home.stats.period" {
			if i+1 < len(texts) {
				figures = texts[i+1]
			}
			return figures, b.Accessory.InitialOption.Value
		}
	}
	t.Fatalf("no period select in the Home: %s", raw)
	return "", ""
}

// Picking a period in the App Home publishes the Home again over that
// period; opening the Home shows the last 30 days.
func TestBot_AppHome_StatsPeriod(t *testing.T) {
	t.Parallel()
	h := homeFixture(t) // L-4 disqualified a day ago
	ctx := context.Background()
	// L-5 qualified 60 days ago and won: inside 90 days, outside 30.
	old, _, err := h.db.CreateLead(ctx, triage.Lead{Company: "Old Win", Status: triage.StatusPending, CreatedAt: now.Add(-61 * 24 * time.Hour)}, triage.Idempotency{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.db.UpdateLead(ctx, old.ID, func(l *triage.Lead) ([]triage.OutboxItem, error) {
		l.Status = triage.StatusQualified
		l.Decision = &triage.Decision{Outcome: triage.StatusQualified, By: "ULEAD", At: now.Add(-60 * 24 * time.Hour)}
		l.Outcome = &triage.Outcome{Kind: triage.OutcomeWon, By: "UME", At: now.Add(-10 * 24 * time.Hour)}
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}

	h.serve(signedAt("/slack/events", secretOld, "application/json", slackfake.EventCallbackJSON("EvHOMEP", slackfake.AppHomeOpenedEvent("UME")), now))
	h.drain(t)
	raw, ok := h.slack.HomeView("UME")
	if !ok {
		t.Fatal("no Home published")
	}
	figures, period := homeStats(t, raw)
	if period != "30d" || !strings.HasPrefix(figures, "*Last 30 days*") || !strings.Contains(figures, "· 1 decided") ||
		!strings.Contains(figures, "*Win rate of qualified leads:* won no data") {
		t.Errorf("opened Home: period %q, figures %q; want 30d, L-4 only", period, figures)
	}

	views := h.slack.Views()
	viewID := views[len(views)-1].ViewID
	body := []byte(url.Values{"payload": {string(homeSelectPayload(t, "UME", viewID, "Last 90 days", "90d"))}}.Encode())
	if rec := h.serve(signedAt("/slack/interactions", secretOld, formType, body, now)); rec.Code != http.StatusOK {
		t.Fatalf("interaction: status %d %s", rec.Code, rec.Body)
	}
	h.drain(t)
	raw, _ = h.slack.HomeView("UME")
	if p := slackfake.ValidateView(raw); len(p) > 0 {
		t.Errorf("the Home breaks Block Kit limits: %v", p)
	}
	figures, period = homeStats(t, raw)
	for _, want := range []string{"*Last 90 days*", "· 2 decided", "won 1 of 1 of the deals won or lost", "1 qualified, 1 with an outcome: 1 won"} {
		if !strings.Contains(figures, want) {
			t.Errorf("after picking 90 days: figures %q lack %q", figures, want)
		}
	}
	if period != "90d" {
		t.Errorf("select shows %q, want 90d", period)
	}
	if views := h.slack.Views(); views[len(views)-1].ViewID != viewID {
		t.Errorf("published another view %s; want the Home %s again", views[len(views)-1].ViewID, viewID)
	}
}
