package bot

// White-box: the e-mail and signature parsers behind "Qualify this message"
// are unexported. The e-mail files are slackfake.EmailFile's, in the shape
// Slack sends them, decoded with slack-go as the shortcut handler gets them.

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
)

func TestCompanyFromSignature(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, sender, domain, want string
	}{
		{"LegalFormBV", "Hallo,\n\nWij zoeken hulp.\n\nMet vriendelijke groet,\nJan Jansen\nVoorbeeld Bouw B.V.\nKeizersgracht 1, Amsterdam", "Jan Jansen", "vbouw.nl", "Voorbeeld Bouw B.V."},
		{"LegalFormBVNoDots", "Hi\n\nGroet,\nJan\nBouwbedrijf Jansen BV\n06 1234 5678", "Jan", "gmail.com", "Bouwbedrijf Jansen BV"},
		{"LegalFormLowercase", "Hi\n\nGroet,\nPiet\nschilder piet bv", "Piet", "", "schilder piet bv"},
		{"LegalFormLtd", "Hello,\n\nCould you call me?\n\nBest regards,\nSarah Smith\nOperations Director\nWidget Works Ltd\n+44 20 7946 0000", "Sarah Smith", "widgetworks.co.uk", "Widget Works Ltd"},
		{"LegalFormGmbHInPart", "Guten Tag\n\nMit freundlichen Grüßen\nHans Müller | Geschäftsführer | Muster GmbH | Berlin", "Hans Müller", "muster.de", "Muster GmbH"},
		{"LegalFormIncAtTitle", "Hi team\n\nThanks,\nAmy Lee\nVP Sales at Rocket Labs Inc.", "Amy Lee", "rocketlabs.io", "Rocket Labs Inc."},
		{"LegalFormWithDigits", "Hoi\n\nGroet,\nKees\nStudio 24 B.V.", "Kees", "studio24.nl", "Studio 24 B.V."},
		{"DashDelimiter", "Hello\n\nSee you\n-- \nTom Baker\nBaker & Sons Limited\ntom@bakerandsons.example", "Tom Baker", "bakerandsons.example", "Baker & Sons Limited"},
		{"DomainSpelledOut", "Hallo,\n\nGraag een offerte.\n\nGroet,\nJan Jansen\nVoorbeeld Bouw\nwww.voorbeeld-bouw.nl", "Jan Jansen", "voorbeeld-bouw.nl", "Voorbeeld Bouw"},
		{"DomainSpelledOutInPart", "Hi\n\nCheers,\nMia\nGreenleaf Gardens · Utrecht", "Mia", "greenleafgardens.nl", "Greenleaf Gardens"},
		{"AfterNameSkippingTitle", "Hello\n\nKind regards,\nJan Jansen\nSales Manager\nNorthwind\n+31 20 123 4567", "Jan Jansen", "nw-trading.example", "Northwind"},
		{"AfterNameSameLine", "Hello\n\nJan Jansen | Northwind | +31 20 123 4567", "Jan Jansen", "nw.example", "Northwind"},
		{"AfterNameTitleAtCompany", "Hello\n\nRegards,\nJan Jansen\nInkoper bij Northwind", "Jan Jansen", "nw.example", "Northwind"},
		{"AfterNameTitleCommaCompany", "Hello\n\nRegards,\nJan Jansen\nCEO, Northwind", "Jan Jansen", "nw.example", "Northwind"},
		{"AfterNameMobileSignature", "Hello\n\nJan Jansen\nSent from my iPhone", "Jan Jansen", "", ""},
		{"AfterNameOutlookApp", "Hello\n\nJan Jansen\n\nGet Outlook for iOS", "Jan Jansen", "", ""},
		{"AfterNameOnlyPhoneAndAddress", "Hello\n\nRegards,\nJan Jansen\n+31 20 123 4567\nDamrak 1\n1012 LG Amsterdam", "Jan Jansen", "nw.example", ""},
		{"NoSignature", "Can you call me back tomorrow?", "Jan Jansen", "acme.example", ""},
		{"NoName", "Hello\n\nRegards,\nSales Manager\nNorthwind", "", "nw.example", ""},
		{"NameIsNotCompany", "Hi\n\nGroet,\nAcme de Vries", "Acme de Vries", "acme.nl", ""},
		{"WebAddressIsNotCompany", "Hi\n\nGroet,\nJan\nwww.voorbeeld-bouw.nl\njan@voorbeeld-bouw.nl", "Jan", "voorbeeld-bouw.nl", ""},
		{"LongSentenceIgnored", "Hi\n\nWe are a small company, not a big corporation like the others in town, so be gentle.\n\nJan", "Jan", "", ""},
		{"QuotedReplyIgnored", "Yes please, call me.\n\nJan\n\nOn Mon, 1 Dec 2026 at 10:00, Piet <piet@ours.example> wrote:\n> Thanks\n> Piet\n> Our Own Company B.V.", "Jan", "", ""},
		{"DutchQuotedReplyIgnored", "Graag!\n\nJan\n\nOp ma 1 dec 2026 om 10:00 schreef Piet <piet@ours.example>:\n> Groet,\n> Eigen Bedrijf B.V.", "Jan", "", ""},
		{"SignOffNotCompany", "Hello\n\nJan Jansen\nBest regards", "Jan Jansen", "", ""},
		{"Markdown", "Hi\n\nGroet,\n*Jan Jansen*\n*Voorbeeld Bouw B.V.*", "Jan Jansen", "", "Voorbeeld Bouw B.V."},
		{"AmbiguousShortFormLowercaseIgnored", "Hi\n\nGroet,\nJan\nsa wat ag", "", "", ""},
		{"ShortFormInCapitals", "Bonjour\n\nCordialement,\nMarie Dubois\nFromagerie Dubois SA", "Marie Dubois", "", "Fromagerie Dubois SA"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := companyFromSignature(tc.body, tc.sender, tc.domain); got != tc.want {
				t.Errorf("companyFromSignature = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCompanyFromDomain(t *testing.T) {
	t.Parallel()
	for domain, want := range map[string]string{
		"acme.example":      "Acme",
		"voorbeeld-bouw.nl": "Voorbeeld Bouw",
		"widgets.co.uk":     "Widgets",
		"mail.acme.nl":      "Acme",
		"xn--mller-kva.de":  "Müller",
		"":                  "",
	} {
		if got := companyFromDomain(domain); got != want {
			t.Errorf("companyFromDomain(%q) = %q, want %q", domain, got, want)
		}
	}
}

func TestParseMailbox(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want mailParty
		ok   bool
	}{
		{"Jan Jansen <jan@acme.nl>", mailParty{"Jan Jansen", "jan@acme.nl"}, true},
		{`"Jansen, Jan" <jan@acme.nl>`, mailParty{"Jansen, Jan", "jan@acme.nl"}, true},
		{"Jan Jansen [mailto:jan@acme.nl]", mailParty{"Jan Jansen", "jan@acme.nl"}, true},
		{"*Jan Jansen* <jan@acme.nl>", mailParty{"Jan Jansen", "jan@acme.nl"}, true},
		{"jan@acme.nl", mailParty{"", "jan@acme.nl"}, true},
		{"Jan Jansen (jan@acme.nl)", mailParty{"Jan Jansen", "jan@acme.nl"}, true},
		{"Jan Jansen", mailParty{}, false},
	}
	for _, tc := range tests {
		got, ok := parseMailbox(tc.in)
		if ok != tc.ok || got != tc.want {
			t.Errorf("parseMailbox(%q) = %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// decodeEmailFile is slackfake.EmailFile as slack-go decodes it.
func decodeEmailFile(t *testing.T, e slackfake.Email) slack.File {
	t.Helper()
	raw, err := json.Marshal(slackfake.EmailFile(e))
	if err != nil {
		t.Fatal(err)
	}
	var f slack.File
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatalf("decoding the e-mail file: %v", err)
	}
	return f
}

// testFreeMail stands in for research's free-mail list.
func testFreeMail(d string) bool { return d == "gmail.com" || d == "outlook.com" }

func TestEmailPrefill(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		email    slackfake.Email
		note     string
		freeMail func(string) bool
		want     triage.LeadInput
	}{
		{
			name: "Direct",
			email: slackfake.Email{FromName: "Jan Jansen", FromAddress: "jan@mail.voorbeeld-bouw.nl", Subject: "Offerte website",
				PlainText: "Hallo,\r\n\r\nWij zoeken een partner voor onze website.\r\n\r\nMet vriendelijke groet,\r\nJan Jansen\r\nVoorbeeld Bouw B.V.\r\n"},
			freeMail: testFreeMail,
			want: triage.LeadInput{Company: "Voorbeeld Bouw B.V.", Name: "Jan Jansen", Email: "jan@mail.voorbeeld-bouw.nl", Website: "voorbeeld-bouw.nl", Source: "e-mail",
				Message: "Offerte website\n\nHallo,\n\nWij zoeken een partner voor onze website.\n\nMet vriendelijke groet,\nJan Jansen\nVoorbeeld Bouw B.V."},
		},
		{
			name:     "CompanyFromDomain",
			email:    slackfake.Email{FromName: "Sarah Smith", FromAddress: "sarah@widget-works.co.uk", Subject: "Re: pricing", PlainText: "Please call me.\n\nSarah"},
			freeMail: testFreeMail,
			want: triage.LeadInput{Company: "Widget Works", Name: "Sarah Smith", Email: "sarah@widget-works.co.uk", Website: "widget-works.co.uk", Source: "e-mail",
				Message: "pricing\n\nPlease call me.\n\nSarah"},
		},
		{
			name:     "FreeMail",
			email:    slackfake.Email{FromName: "Piet", FromAddress: "piet1970@gmail.com", Subject: "Vraag", PlainText: "Hoi, kunnen jullie bellen?\n\nPiet\nSchilderwerken Piet BV\nschilderpiet.nl"},
			freeMail: testFreeMail,
			want: triage.LeadInput{Company: "Schilderwerken Piet BV", Name: "Piet", Email: "piet1970@gmail.com", Website: "schilderpiet.nl", Source: "e-mail",
				Message: "Vraag\n\nHoi, kunnen jullie bellen?\n\nPiet\nSchilderwerken Piet BV\nschilderpiet.nl"},
		},
		{
			name:     "FreeMailSignatureNamesProvider",
			email:    slackfake.Email{FromName: "Piet", FromAddress: "piet1970@gmail.com", PlainText: "Bel me\n\nPiet\nSent with Gmail"},
			freeMail: testFreeMail,
			want:     triage.LeadInput{Name: "Piet", Email: "piet1970@gmail.com", Source: "e-mail", Message: "Bel me\n\nPiet\nSent with Gmail"},
		},
		{
			name:     "FreeMailNothingElse",
			email:    slackfake.Email{FromName: "Piet", FromAddress: "piet1970@gmail.com", PlainText: "Bel me"},
			freeMail: testFreeMail,
			want:     triage.LeadInput{Name: "Piet", Email: "piet1970@gmail.com", Source: "e-mail", Message: "Bel me"},
		},
		{
			name:  "NoFreeMailListTakesNoDomain",
			email: slackfake.Email{FromName: "Jan", FromAddress: "jan@acme.example", PlainText: "Hi"},
			want:  triage.LeadInput{Name: "Jan", Email: "jan@acme.example", Source: "e-mail", Message: "Hi"},
		},
		{
			name: "GmailForward",
			email: slackfake.Email{FromName: "Sam Seller", FromAddress: "sam@ours.example", Subject: "Fwd: Offerte",
				PlainText: "Hot lead, see below.\n\n---------- Forwarded message ---------\nFrom: Jan Jansen <jan@voorbeeld-bouw.nl>\nDate: Mon, 1 Dec 2026 at 10:00\nSubject: Offerte\nTo: <info@ours.example>\n\n\nHallo, wij zoeken een partner.\n\nGroet,\nJan Jansen\nVoorbeeld Bouw\n"},
			freeMail: testFreeMail,
			want: triage.LeadInput{Company: "Voorbeeld Bouw", Name: "Jan Jansen", Email: "jan@voorbeeld-bouw.nl", Website: "voorbeeld-bouw.nl", Source: "e-mail",
				Message: "Offerte\n\nHot lead, see below.\n\nHallo, wij zoeken een partner.\n\nGroet,\nJan Jansen\nVoorbeeld Bouw"},
		},
		{
			name: "OutlookForwardDutch",
			email: slackfake.Email{FromName: "Sam Seller", FromAddress: "sam@ours.example", Subject: "Doorst: aanvraag",
				PlainText: "________________________________\r\nVan: Jansen, Jan [mailto:jan@northwind.example]\r\nVerzonden: maandag 1 december 2026 10:00\r\nAan: Info <info@ours.example>\r\nOnderwerp: aanvraag\r\n\r\nGraag contact.\r\n\r\nJan Jansen\r\nInkoper\r\nNorthwind Trading\r\n"},
			freeMail: testFreeMail,
			want: triage.LeadInput{Company: "Northwind Trading", Name: "Jansen, Jan", Email: "jan@northwind.example", Website: "northwind.example", Source: "e-mail",
				Message: "aanvraag\n\nGraag contact.\n\nJan Jansen\nInkoper\nNorthwind Trading"},
		},
		{
			name:     "PreviewOnly",
			email:    slackfake.Email{FromName: "Jan", FromAddress: "jan@acme.example", PlainText: ""},
			freeMail: testFreeMail,
			want:     triage.LeadInput{Company: "Acme", Name: "Jan", Email: "jan@acme.example", Website: "acme.example", Source: "e-mail"},
		},
		{
			name:     "WithNote",
			email:    slackfake.Email{FromName: "Jan", FromAddress: "jan@acme.example", Subject: "Hello", PlainText: "Call me"},
			note:     "From the fair, looks good &amp; big",
			freeMail: testFreeMail,
			want: triage.LeadInput{Company: "Acme", Name: "Jan", Email: "jan@acme.example", Website: "acme.example", Source: "e-mail",
				Message: "From the fair, looks good & big\n\nHello\n\nCall me"},
		},
		{
			name:     "NameIsTheAddress",
			email:    slackfake.Email{FromName: "jan@acme.example", FromAddress: "jan@acme.example", PlainText: "x"},
			freeMail: testFreeMail,
			want:     triage.LeadInput{Company: "Acme", Email: "jan@acme.example", Website: "acme.example", Source: "e-mail", Message: "x"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := emailPrefill(decodeEmailFile(t, tc.email), tc.note, tc.freeMail)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("emailPrefill (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEmailPrefill_PreviewPlainText: with no plain_text, the body comes from
// preview_plain_text.
func TestEmailPrefill_PreviewPlainText(t *testing.T) {
	t.Parallel()
	f := decodeEmailFile(t, slackfake.Email{FromAddress: "jan@acme.example", PlainText: "Short body"})
	f.PlainText = ""
	if got := emailPrefill(f, "", testFreeMail); got.Message != "Short body" {
		t.Errorf("message %q, want the preview", got.Message)
	}
}

// TestEmailPrefill_Long: a huge e-mail is cut to the message limit, and the
// dialog it opens stays within Block Kit's input limits.
func TestEmailPrefill_Long(t *testing.T) {
	t.Parallel()
	body := strings.Repeat("Wij willen graag een offerte voor 250 licenties. ", 2000)
	f := decodeEmailFile(t, slackfake.Email{FromName: "Jan", FromAddress: "jan@acme.example", Subject: strings.Repeat("S", 500), PlainText: body})
	in := emailPrefill(f, "", testFreeMail)
	if n := utf8.RuneCountInString(in.Message); n > maxMessageFromSlack {
		t.Errorf("message of %d runes, want at most %d", n, maxMessageFromSlack)
	}
	raw, err := json.Marshal(modalWords{english}.addLeadModal(in, addLeadMeta{}, dispatchNow))
	if err != nil {
		t.Fatal(err)
	}
	if problems := slackfake.ValidateView(raw); len(problems) > 0 {
		t.Errorf("dialog breaks Block Kit limits: %v", problems)
	}
}

func TestEmailFile(t *testing.T) {
	t.Parallel()
	e := slackfake.Email{FromAddress: "jan@acme.example", PlainText: "x"}
	var withEmail, plain slack.Message
	raw, _ := json.Marshal(slackfake.EmailMessage("1700000000.000100", "", e))
	if err := json.Unmarshal(raw, &withEmail); err != nil {
		t.Fatal(err)
	}
	if f, ok := emailFile(withEmail); !ok || f.From[0].Address != "jan@acme.example" {
		t.Errorf("emailFile = %+v, %v; want the e-mail", f, ok)
	}
	plain.Files = []slack.File{{Filetype: "png"}}
	if _, ok := emailFile(plain); ok {
		t.Error("an image taken for an e-mail")
	}
}

// BenchmarkEmailPrefill: the prefill runs while the 3 s trigger_id ticks;
// a body at the read limit must cost far less than that.
func BenchmarkEmailPrefill(b *testing.B) {
	body := strings.Repeat("Wij willen graag een offerte voor 250 licenties, bel ons. ", maxShortcutText/50) +
		"\n\nMet vriendelijke groet,\nJan Jansen\nInkoper\nVoorbeeld Bouw B.V.\n"
	raw, err := json.Marshal(slackfake.EmailFile(slackfake.Email{FromName: "Jan", FromAddress: "jan@voorbeeld-bouw.nl", Subject: "Fwd: Offerte", PlainText: body}))
	if err != nil {
		b.Fatal(err)
	}
	var f slack.File
	if err := json.Unmarshal(raw, &f); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		emailPrefill(f, "", testFreeMail)
	}
}
