package slackfake_test

import (
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/leadtriage/leadtriage/triage/triagetest"
)

func modal(title string) slack.ModalViewRequest {
	return slack.ModalViewRequest{
		Type:       slack.VTModal,
		Title:      plain(title),
		Submit:     plain("Save"),
		CallbackID: "lead.qualify",
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewInputBlock("budget", plain("Budget"), nil, slack.NewPlainTextInputBlockElement(nil, "budget.value")),
		}},
	}
}

func TestViews_TriggerExpiry(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	clk := triagetest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	fake.SetNow(clk.Now)
	api := fake.Client()

	fresh := fake.NewTriggerIDFor("U7")
	clk.Advance(2900 * time.Millisecond)
	resp, err := api.OpenView(fresh, modal("Qualify L-1"))
	if err != nil {
		t.Fatalf("OpenView with a 2.9 s old trigger: %v", err)
	}
	if resp.ID == "" || resp.Hash == "" || resp.CallbackID != "lead.qualify" || resp.Title.Text != "Qualify L-1" {
		t.Errorf("view response = %+v", resp.View)
	}

	stale := fake.NewTriggerID()
	clk.Advance(3 * time.Second)
	cases := []struct{ name, trigger, want string }{
		{"Expired", stale, "expired_trigger_id"},
		{"Unknown", "123.456.abc", "invalid_trigger_id"},
		{"Exchanged", fresh, "exchanged_trigger_id"},
	}
	for _, tc := range cases {
		_, err := api.OpenView(tc.trigger, modal("Qualify"))
		if got := slackErr(t, err).Err; got != tc.want {
			t.Errorf("%s trigger: error %q, want %q", tc.name, got, tc.want)
		}
	}

	views := fake.Views()
	if len(views) != 1 || views[0].Method != "views.open" || views[0].TriggerID != fresh || views[0].UserID != "U7" || views[0].ViewID != resp.ID {
		t.Fatalf("Views() = %+v", views)
	}
	if !strings.Contains(string(views[0].JSON), `"callback_id":"lead.qualify"`) {
		t.Errorf("recorded view JSON = %s", views[0].JSON)
	}
}

func TestViews_Validation(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	api := fake.Client()
	_, err := api.OpenView(fake.NewTriggerID(), modal("A title longer than 24 chars"))
	se := slackErr(t, err)
	if se.Err != "invalid_blocks" || len(se.ResponseMetadata.Messages) != 1 || !strings.Contains(se.ResponseMetadata.Messages[0], "/view/title/text") {
		t.Errorf("long title: %q %q", se.Err, se.ResponseMetadata.Messages)
	}
	if len(fake.Views()) != 0 {
		t.Error("rejected view recorded")
	}
}

func TestViews_UpdatePushPublish(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	api := fake.Client()

	opened, err := api.OpenView(fake.NewTriggerID(), modal("Step 1"))
	if err != nil {
		t.Fatal(err)
	}
	updated, err := api.UpdateView(modal("Step 2"), "", opened.Hash, opened.ID)
	if err != nil {
		t.Fatalf("UpdateView: %v", err)
	}
	if updated.ID != opened.ID || updated.Hash == opened.Hash || updated.Title.Text != "Step 2" {
		t.Errorf("updated view = id %s hash %s title %q", updated.ID, updated.Hash, updated.Title.Text)
	}
	_, err = api.UpdateView(modal("Step 3"), "", opened.Hash, opened.ID)
	if got := slackErr(t, err).Err; got != "hash_conflict" {
		t.Errorf("update with a stale hash: %q, want hash_conflict", got)
	}
	_, err = api.UpdateView(modal("Step 3"), "", "", "VNOPE")
	if got := slackErr(t, err).Err; got != "not_found" {
		t.Errorf("update of an unknown view: %q, want not_found", got)
	}
	if _, err := api.PushView(fake.NewTriggerID(), modal("Pushed")); err != nil {
		t.Errorf("PushView: %v", err)
	}

	home := slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: []slack.Block{section("3 open leads")}}}
	pub, err := api.PublishView("U7", home, "")
	if err != nil {
		t.Fatalf("PublishView: %v", err)
	}
	again, err := api.PublishView("U7", home, pub.Hash)
	if err != nil || again.ID != pub.ID {
		t.Errorf("republish = %v, %v; want the same home view id", again, err)
	}
	if raw, ok := fake.HomeView("U7"); !ok || !strings.Contains(string(raw), "3 open leads") {
		t.Errorf("HomeView(U7) = %s, %v", raw, ok)
	}

	var methods []string
	for _, v := range fake.Views() {
		methods = append(methods, v.Method)
	}
	if got, want := strings.Join(methods, ","), "views.open,views.update,views.push,views.publish,views.publish"; got != want {
		t.Errorf("view methods = %s, want %s", got, want)
	}
}
