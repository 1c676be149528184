package bot

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/leadtriage/leadtriage/triage"
)

// crmLead is a qualified lead handed to HubSpot: the card shows the
// deal's link. The URL is the form crm.HubSpot builds.
func crmLead() triage.Lead {
	l := freshLead()
	l.Votes = map[string]triage.Choice{"UALICE": triage.ChoiceQualify, "UBOB": triage.ChoiceQualify, "UCAROL": triage.ChoiceUnsure}
	l.Status = triage.StatusQualified
	l.Owner = "UBOB"
	at := received.Add(2 * time.Hour)
	l.Decision = &triage.Decision{Outcome: triage.StatusQualified, Reason: "qualified by vote (2 qualify, 0 disqualify, 1 unsure)", By: triage.DecidedByPolicy, At: at}
	l.CRM = []triage.CRMRecord{
		{System: "hubspot", Kind: "company", ID: "101", URL: "https://app-eu1.hubspot.com/contacts/4242/record/0-2/101", At: at},
		{System: "hubspot", Kind: "deal", ID: "103", URL: "https://app-eu1.hubspot.com/contacts/4242/record/0-3/103", At: at},
	}
	return l
}

func TestRenderCard_CRMDeal(t *testing.T) { testRenderCardCRM(t, english) }

func TestRenderCardNL_CRMDeal(t *testing.T) { testRenderCardCRM(t, newWords(LangDutch)) }

func testRenderCardCRM(t *testing.T, w words) {
	t.Parallel()
	text, blocks := cardWords{w}.card(crmLead(), cardPol, cardNow)
	raw := blocksJSON(t, blocks)
	if problems := slackfake.ValidateBlocks(raw, slackfake.MaxMessageBlocks); len(problems) > 0 {
		t.Errorf("blocks invalid: %v", problems)
	}
	const dealLink = "<https://app-eu1.hubspot.com/contacts/4242/record/0-3/103|Deal in HubSpot>"
	card := cardJSON(t, text, blocks)
	esc := jsonString(t, dealLink)
	if !bytes.Contains(card, esc) {
		t.Errorf("the card does not link the deal: %s", card)
	}
	// The deal's link is ours (crm builds it); everything else in the card
	// must still hold no other token.
	checkNoInjection(t, bytes.ReplaceAll(card, esc, nil))
	assertGolden(t, card)
}

// jsonString is s as it appears inside encoding/json output (no quotes).
func jsonString(t *testing.T, s string) []byte {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return b[1 : len(b)-1]
}

func TestRenderCard_CRMLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		recs []triage.CRMRecord
		want string // "" = no line
	}{
		{"no records", nil, ""},
		{"company only", []triage.CRMRecord{{System: "hubspot", Kind: "company", ID: "1", URL: "https://app.hubspot.com/contacts/1/record/0-2/1"}}, ""},
		{"pipedrive", []triage.CRMRecord{{System: "pipedrive", Kind: "deal", ID: "7", URL: "https://acme.pipedrive.com/deal/7"}}, ":link: <https://acme.pipedrive.com/deal/7|Deal in Pipedrive>"},
		{"no link", []triage.CRMRecord{{System: "pipedrive", Kind: "deal", ID: "7"}}, ":link: Deal in Pipedrive"},
		{"deleted in the CRM", []triage.CRMRecord{{System: "hubspot", Kind: "deal", ID: "7", URL: "https://app.hubspot.com/x", Gone: cardNow}}, ""},
		{"not https", []triage.CRMRecord{{System: "hubspot", Kind: "deal", ID: "7", URL: "javascript:alert(1)"}}, ":link: Deal in HubSpot"},
		{"a link that would break out", []triage.CRMRecord{{System: "hubspot", Kind: "deal", ID: "7", URL: "https://app.hubspot.com/a|<!channel>"}}, ":link: <https://app.hubspot.com/a%7C%3C%21channel%3E|Deal in HubSpot>"},
		{"unknown system", []triage.CRMRecord{{System: "salesforce", Kind: "deal", ID: "7", URL: "https://x.example/"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := crmLead()
			l.CRM = tc.recs
			got := ""
			if bs := (crmWords{english}).blocks(l); len(bs) > 0 {
				got = string(blocksJSON(t, bs))
			}
			want := ""
			if tc.want != "" {
				want = string(jsonString(t, tc.want))
			}
			if want == "" && got != "" || want != "" && !strings.Contains(got, want) {
				t.Errorf("line = %s, want %q", got, tc.want)
			}
		})
	}
}

func TestNotice_CRM(t *testing.T) {
	t.Parallel()
	n := triage.Notice{Kind: triage.NoticeCRM, Lead: 42, System: "hubspot", URL: "https://app-eu1.hubspot.com/contacts/4242/record/0-3/103"}
	for _, tc := range []struct {
		w    words
		want string
	}{
		{english, "*L-42* is in the CRM: <https://app-eu1.hubspot.com/contacts/4242/record/0-3/103|Deal in HubSpot>"},
		{newWords(LangDutch), "*L-42* staat in het CRM: <https://app-eu1.hubspot.com/contacts/4242/record/0-3/103|Deal in HubSpot>"},
	} {
		if got, _ := (noticeWords{tc.w}).notice(n, time.UTC, nil); got != tc.want {
			t.Errorf("notice = %q, want %q", got, tc.want)
		}
	}
}
