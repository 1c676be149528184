package bot

// White-box: the decide dialog's builder and its submission parser are
// unexported; the dialog is checked against slackfake's Block Kit rules.

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
)

// modalShape is what the tests read back from a marshalled dialog.
type modalShape struct {
	Type            string `json:"type"`
	CallbackID      string `json:"callback_id"`
	PrivateMetadata string `json:"private_metadata"`
	Title           struct {
		Text string `json:"text"`
	} `json:"title"`
	Submit struct {
		Text string `json:"text"`
	} `json:"submit"`
	Blocks []struct {
		Type     string `json:"type"`
		BlockID  string `json:"block_id"`
		Optional bool   `json:"optional"`
		Text     struct {
			Text string `json:"text"`
		} `json:"text"`
		Element struct {
			Type        string `json:"type"`
			ActionID    string `json:"action_id"`
			InitialUser string `json:"initial_user"`
			Multiline   bool   `json:"multiline"`
			MaxLength   int    `json:"max_length"`
			Options     []struct {
				Value string `json:"value"`
				Text  struct {
					Text string `json:"text"`
				} `json:"text"`
				Description *struct {
					Text string `json:"text"`
				} `json:"description"`
			} `json:"options"`
			InitialOption *struct {
				Value string `json:"value"`
			} `json:"initial_option"`
		} `json:"element"`
	} `json:"blocks"`
}

func marshalModal(t *testing.T, m slack.ModalViewRequest) (json.RawMessage, modalShape) {
	t.Helper()
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if problems := slackfake.ValidateView(raw); len(problems) > 0 {
		t.Errorf("Slack would refuse the dialog: %q\n%s", problems, raw)
	}
	var s modalShape
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	return raw, s
}

// inputs maps each input block id to "element type/action id".
func (s modalShape) inputs() map[string]string {
	m := map[string]string{}
	for _, b := range s.Blocks {
		if b.Type == "input" {
			m[b.BlockID] = b.Element.Type + "/" + b.Element.ActionID
		}
	}
	return m
}

func (s modalShape) optionValues(block string) []string {
	var vs []string
	for _, b := range s.Blocks {
		if b.BlockID == block {
			for _, o := range b.Element.Options {
				vs = append(vs, o.Value)
			}
		}
	}
	return vs
}

func pendingLead() triage.Lead {
	return triage.Lead{ID: 3, Status: triage.StatusPending, Company: "Acme <!channel> & Co", Owner: "UOWNER",
		Votes: map[string]triage.Choice{"U1": triage.ChoiceQualify}}
}

func TestDecideModal(t *testing.T) {
	t.Parallel()
	pol := dispatchPolicy()

	t.Run("Pending", func(t *testing.T) {
		t.Parallel()
		raw, s := marshalModal(t, modalWords{english}.decideModal(pendingLead(), pol))
		want := map[string]string{
			"outcome": "radio_buttons/outcome",
			"owner":   "users_select/owner",
			"reason":  "static_select/reason",
			"partner": "static_select/partner",
			"note":    "plain_text_input/note",
		}
		if diff := cmp.Diff(want, s.inputs()); diff != "" {
			t.Errorf("inputs (-want +got):\n%s", diff)
		}
		if s.Type != "modal" || s.CallbackID != "lead.decide" || s.PrivateMetadata != "L-3" || s.Title.Text != "Decide L-3" || s.Submit.Text != "Decide" {
			t.Errorf("dialog %+v", s)
		}
		if diff := cmp.Diff([]string{"qualified", "disqualified", "referred"}, s.optionValues("outcome")); diff != "" {
			t.Errorf("outcomes (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"No budget", "Not our market"}, s.optionValues("reason")); diff != "" {
			t.Errorf("reasons (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"Beta Partners"}, s.optionValues("partner")); diff != "" {
			t.Errorf("partners (-want +got):\n%s", diff)
		}
		for _, b := range s.Blocks {
			switch b.BlockID {
			case "outcome":
				if b.Optional || b.Element.InitialOption != nil {
					t.Errorf("outcome optional=%v initial=%v; want required, no preset on a pending lead", b.Optional, b.Element.InitialOption)
				}
			case "owner":
				if b.Element.InitialUser != "UOWNER" || !b.Optional {
					t.Errorf("owner initial_user=%q optional=%v", b.Element.InitialUser, b.Optional)
				}
			case "partner":
				if d := b.Element.Options[0].Description; d == nil || d.Text != "small web shops" {
					t.Errorf("partner description = %+v, want what they fit", d)
				}
			case "note":
				if !b.Element.Multiline || b.Element.MaxLength != triage.MaxNote || !b.Optional {
					t.Errorf("note %+v", b.Element)
				}
			case "reason":
				if !b.Optional {
					t.Error("reason is required; the domain asks for it only when disqualifying")
				}
			}
		}
		// The company name is lead text: escaped in the summary.
		if strings.Contains(string(raw), "<!channel>") {
			t.Errorf("dialog carries lead text unescaped:\n%s", raw)
		}
	})

	t.Run("Decided", func(t *testing.T) {
		t.Parallel()
		l := pendingLead()
		l.Status = triage.StatusDisqualified
		l.Decision = &triage.Decision{Outcome: triage.StatusDisqualified, Reason: "No budget", By: "ULEAD", At: dispatchNow}
		_, s := marshalModal(t, modalWords{english}.decideModal(l, pol))
		if diff := cmp.Diff([]string{"reopen", "qualified", "disqualified", "referred"}, s.optionValues("outcome")); diff != "" {
			t.Errorf("outcomes (-want +got):\n%s", diff)
		}
		for _, b := range s.Blocks {
			if b.BlockID == "outcome" && (b.Element.InitialOption == nil || b.Element.InitialOption.Value != "reopen") {
				t.Errorf("outcome preset %+v, want reopen", b.Element.InitialOption)
			}
			if b.Type == "section" && !strings.Contains(b.Text.Text, "Decided *disqualified* by <@ULEAD>: No budget") {
				t.Errorf("summary %q does not say how it was decided", b.Text.Text)
			}
		}
	})

	t.Run("NoPartnersNoReasons", func(t *testing.T) {
		t.Parallel()
		p := pol
		p.Partners, p.Reasons = nil, nil
		l := pendingLead()
		l.Owner = ""
		_, s := marshalModal(t, modalWords{english}.decideModal(l, p))
		want := map[string]string{
			"outcome": "radio_buttons/outcome",
			"owner":   "users_select/owner",
			"reason":  "plain_text_input/reason",
			"note":    "plain_text_input/note",
		}
		if diff := cmp.Diff(want, s.inputs()); diff != "" {
			t.Errorf("inputs (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"qualified", "disqualified"}, s.optionValues("outcome")); diff != "" {
			t.Errorf("outcomes without partners (-want +got):\n%s", diff)
		}
	})

	t.Run("Limits", func(t *testing.T) {
		t.Parallel()
		p := pol
		long := strings.Repeat("Ä", 200)
		p.Reasons = []string{long, "#1 reason"}
		for range 120 {
			p.Partners = append(p.Partners, triage.Partner{Name: long, Fits: long})
		}
		l := pendingLead()
		l.ID = 18446744073709551615
		l.Owner = "not a user id"
		_, s := marshalModal(t, modalWords{english}.decideModal(l, p)) // validated against Block Kit's limits
		if s.Title.Text != "Decide" {
			t.Errorf("title %q, want the short form for a long id", s.Title.Text)
		}
		if got := s.optionValues("reason"); len(got) != 2 || got[0] != "#0" || got[1] != "#1" {
			t.Errorf("reason values %q, want indexes for the long and the #-prefixed reason", got)
		}
		if got := s.optionValues("partner"); len(got) != maxSelectOption {
			t.Errorf("%d partner options, want at most %d", len(got), maxSelectOption)
		}
		for _, b := range s.Blocks {
			if b.BlockID == "owner" && b.Element.InitialUser != "" {
				t.Errorf("initial_user %q from an owner that is no user id", b.Element.InitialUser)
			}
		}
	})
}

// submission builds a decide dialog's view as Slack submits it.
func submission(metadata string, values map[string]map[string]slack.BlockAction) slack.View {
	return slack.View{CallbackID: callbackDecide, PrivateMetadata: metadata, State: &slack.ViewState{Values: values}}
}

func radio(v string) map[string]slack.BlockAction {
	return map[string]slack.BlockAction{"outcome": {Type: "radio_buttons", SelectedOption: slack.OptionBlockObject{Value: v}}}
}

func selected(block, v string) map[string]slack.BlockAction {
	return map[string]slack.BlockAction{block: {Type: "static_select", SelectedOption: slack.OptionBlockObject{Value: v}}}
}

func TestParseDecideSubmission(t *testing.T) {
	t.Parallel()
	pol := dispatchPolicy()
	pol.Reasons = append(pol.Reasons, strings.Repeat("x", 200))
	tests := []struct {
		name   string
		view   slack.View
		want   decideSubmission
		errors bool
	}{
		{
			name: "Everything",
			view: submission("L-3", map[string]map[string]slack.BlockAction{
				"outcome": radio("disqualified"),
				"owner":   {"owner": {Type: "users_select", SelectedUser: "UNEW"}},
				"reason":  selected("reason", "No budget"),
				"partner": selected("partner", "Beta Partners"),
				"note":    {"note": {Type: "plain_text_input", Value: "call back in Q3"}},
			}),
			want: decideSubmission{lead: 3, outcome: "disqualified", input: triage.DecisionInput{
				Outcome: triage.StatusDisqualified, Owner: "UNEW", Reason: "No budget", Partner: "Beta Partners", Note: "call back in Q3"}},
		},
		{
			name: "IndexedReason",
			view: submission("L-3", map[string]map[string]slack.BlockAction{"outcome": radio("disqualified"), "reason": selected("reason", "#2")}),
			want: decideSubmission{lead: 3, outcome: "disqualified", input: triage.DecisionInput{Outcome: triage.StatusDisqualified, Reason: strings.Repeat("x", 200)}},
		},
		{
			name: "IndexOutOfRangeKeptAsTyped",
			view: submission("L-3", map[string]map[string]slack.BlockAction{"outcome": radio("disqualified"), "reason": selected("reason", "#9")}),
			want: decideSubmission{lead: 3, outcome: "disqualified", input: triage.DecisionInput{Outcome: triage.StatusDisqualified, Reason: "#9"}},
		},
		{
			name: "FreeTextReason",
			view: submission("L-3", map[string]map[string]slack.BlockAction{"outcome": radio("disqualified"), "reason": {"reason": {Type: "plain_text_input", Value: "too small"}}}),
			want: decideSubmission{lead: 3, outcome: "disqualified", input: triage.DecisionInput{Outcome: triage.StatusDisqualified, Reason: "too small"}},
		},
		{
			name: "NothingPicked",
			view: submission("L-3", nil),
			want: decideSubmission{lead: 3},
		},
		{
			name: "NoState",
			view: slack.View{CallbackID: callbackDecide, PrivateMetadata: "L-3"},
			want: decideSubmission{lead: 3},
		},
		{name: "NoLead", view: submission("", nil), errors: true},
		{name: "BadLead", view: submission("<!channel>", nil), errors: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseDecideSubmission(tt.view, pol)
			if (err != nil) != tt.errors {
				t.Fatalf("err = %v, want error: %v", err, tt.errors)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(decideSubmission{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func submitIC(user string, view slack.View) slack.InteractionCallback {
	ic := slack.InteractionCallback{Type: slack.InteractionTypeViewSubmission, View: view}
	ic.User.ID = user
	return ic
}

func TestBot_HandleViewSubmission(t *testing.T) {
	t.Parallel()
	clear := slack.NewClearViewSubmissionResponse()
	errs := func(block, msg string) *slack.ViewSubmissionResponse {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{block: msg})
	}
	vals := func(blocks ...map[string]map[string]slack.BlockAction) map[string]map[string]slack.BlockAction {
		out := map[string]map[string]slack.BlockAction{}
		for _, b := range blocks {
			for k, v := range b {
				out[k] = v
			}
		}
		return out
	}
	block := func(id string, a map[string]slack.BlockAction) map[string]map[string]slack.BlockAction {
		return map[string]map[string]slack.BlockAction{id: a}
	}
	owner := block("owner", map[string]slack.BlockAction{"owner": {Type: "users_select", SelectedUser: "UOWNER"}})
	tests := []struct {
		name       string
		user       string
		decided    bool // the lead was disqualified by vote first
		view       slack.View
		want       *slack.ViewSubmissionResponse
		wantStatus triage.Status
		wantOwner  string
	}{
		{name: "NoOutcome", user: "ULEAD", view: submission("L-1", nil), want: errs("outcome", "Pick an outcome."), wantStatus: triage.StatusPending},
		{name: "DisqualifyWithoutReason", user: "ULEAD", view: submission("L-1", vals(block("outcome", radio("disqualified")))),
			want: errs("reason", "Pick a reason: it tells the team later why we said no."), wantStatus: triage.StatusPending},
		{name: "UnknownReason", user: "ULEAD", view: submission("L-1", vals(block("outcome", radio("disqualified")), block("reason", selected("reason", "Bored")))),
			want: errs("reason", "Pick one of the configured reasons."), wantStatus: triage.StatusPending},
		{name: "QualifyWithoutOwner", user: "ULEAD", view: submission("L-1", vals(block("outcome", radio("qualified")))),
			want: errs("owner", "Pick who follows up on this lead."), wantStatus: triage.StatusPending},
		{name: "ReferWithoutPartner", user: "ULEAD", view: submission("L-1", vals(block("outcome", radio("referred")))),
			want: errs("partner", "Pick a partner to refer them to."), wantStatus: triage.StatusPending},
		{name: "NotADecider", user: "UCLICK", view: submission("L-1", vals(block("outcome", radio("disqualified")), block("reason", selected("reason", "No budget")))),
			want: errs("outcome", "Only the team lead can decide leads."), wantStatus: triage.StatusPending},
		{name: "UnknownLead", user: "ULEAD", view: submission("L-9", vals(block("outcome", radio("disqualified")), block("reason", selected("reason", "No budget")))),
			want: errs("outcome", "That lead does not exist (any more)."), wantStatus: triage.StatusPending},
		{name: "LostLead", user: "ULEAD", view: submission("", vals(block("outcome", radio("disqualified")))),
			want: errs("outcome", "This dialog lost track of its lead; close it and click Decide on the card again."), wantStatus: triage.StatusPending},
		{name: "ReopenPending", user: "ULEAD", view: submission("L-1", vals(block("outcome", radio("reopen")))),
			want: errs("outcome", "L-1 is not decided, so there is nothing to reopen."), wantStatus: triage.StatusPending},
		{name: "AlreadyDecided", user: "ULEAD", decided: true, view: submission("L-1", vals(block("outcome", radio("qualified")), owner)),
			want: errs("outcome", "L-1 is already decided (maybe just now). Pick Reopen to change the decision."), wantStatus: triage.StatusDisqualified},
		{name: "Disqualify", user: "ULEAD", view: submission("L-1", vals(block("outcome", radio("disqualified")), block("reason", selected("reason", "No budget")))),
			want: clear, wantStatus: triage.StatusDisqualified},
		{name: "Qualify", user: "ULEAD", view: submission("L-1", vals(block("outcome", radio("qualified")), owner)),
			want: clear, wantStatus: triage.StatusQualified, wantOwner: "UOWNER"},
		{name: "Refer", user: "ULEAD", view: submission("L-1", vals(block("outcome", radio("referred")), block("partner", selected("partner", "Beta Partners")))),
			want: clear, wantStatus: triage.StatusReferred},
		{name: "Reopen", user: "ULEAD", decided: true, view: submission("L-1", vals(block("outcome", radio("reopen")))),
			want: clear, wantStatus: triage.StatusPending},
		{name: "OtherDialog", user: "ULEAD", view: slack.View{CallbackID: "lead.other", PrivateMetadata: "L-1"}, wantStatus: triage.StatusPending},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newDispatchFixture(t, false)
			f.postCard(t)
			if tt.decided {
				for _, u := range []string{"U1", "U2", "U3"} {
					f.bot.handleInteraction(t.Context(), click(u, dispatchChannel, actionVoteDisqualify, "L-1"))
				}
			}
			got := f.bot.handleViewSubmission(t.Context(), submitIC(tt.user, tt.view))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
			l := f.stored(t)
			if l.Status != tt.wantStatus {
				t.Errorf("status = %s, want %s", l.Status, tt.wantStatus)
			}
			if tt.wantOwner != "" && l.Owner != tt.wantOwner {
				t.Errorf("owner = %q, want %q", l.Owner, tt.wantOwner)
			}
			if tt.want == clear && tt.wantStatus != triage.StatusPending {
				if l.Decision == nil || l.Decision.By != tt.user {
					t.Errorf("decision %+v, want one by %s", l.Decision, tt.user)
				}
			}
		})
	}
}

// A decided lead's thread gets the outcome and, on disqualify, a decline
// draft with its copyable text.
func TestBot_HandleViewSubmission_Drafts(t *testing.T) {
	t.Parallel()
	f := newDispatchFixture(t, false)
	f.postCard(t)
	view := submission("L-1", map[string]map[string]slack.BlockAction{
		"outcome": radio("disqualified"),
		"reason":  selected("reason", "Not our market"),
		"note":    {"note": {Type: "plain_text_input", Value: "Nice people though."}},
	})
	if got := f.bot.handleViewSubmission(t.Context(), submitIC("ULEAD", view)); got == nil || got.ResponseAction != slack.RAClear {
		t.Fatalf("response %+v, want clear", got)
	}
	l := f.stored(t)
	if l.Decision == nil || l.Decision.Reason != "Not our market" || l.Decision.Note != "Nice people though." {
		t.Errorf("decision %+v", l.Decision)
	}
	var outcome, draft bool
	for _, it := range f.items(t) {
		if it.Kind != triage.OutboxThreadReply || it.Lead != f.lead.ID {
			continue
		}
		outcome = outcome || strings.Contains(it.Text, "decided")
		draft = draft || it.Plain != ""
	}
	if !outcome || !draft {
		t.Errorf("thread items: outcome %v, draft %v; outbox %+v", outcome, draft, f.items(t))
	}
}

func TestNotDecider(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p    triage.Policy
		want string
	}{
		{"TeamLead", triage.Policy{TeamLead: "ULEAD"}, "Only <@ULEAD> can decide leads."},
		{"Deciders", triage.Policy{TeamLead: "ULEAD", Deciders: []string{"UAA", "UBB", "UCC"}}, "Only <@UAA>, <@UBB> or <@UCC> can decide leads."},
		{"NotAUserID", triage.Policy{Deciders: []string{"<!channel>"}}, "Only &lt;!channel&gt; can decide leads."},
		{"Nobody", triage.Policy{}, "Nobody is set up to decide leads yet (voting.deciders or slack.team_lead in config.toml)."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := (modalWords{english}).notDecider(tt.p); got != tt.want {
				t.Errorf("notDecider = %q, want %q", got, tt.want)
			}
		})
	}
}
