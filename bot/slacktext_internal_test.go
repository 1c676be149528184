package bot

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/leadtriage/leadtriage/triage"
)

// slackTextNow is any time: parsing does not depend on it.
var slackTextNow = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func TestLeadInputFromText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text string
		want triage.LeadInput
	}{
		{"", triage.LeadInput{}},
		{"   ", triage.LeadInput{}},
		{"jan@acme.nl", triage.LeadInput{Email: "jan@acme.nl"}},
		{"  Jan.Jansen+x@Acme.NL ", triage.LeadInput{Email: "Jan.Jansen+x@Acme.NL"}},
		{"jan@", triage.LeadInput{Email: "jan@"}}, // NewLead says what is wrong with it
		{"acme.nl", triage.LeadInput{Website: "acme.nl"}},
		{"https://www.acme.nl/x", triage.LeadInput{Website: "https://www.acme.nl/x"}},
		{"www.acme.nl", triage.LeadInput{Website: "www.acme.nl"}},
		{"acme.nl/contact", triage.LeadInput{Website: "acme.nl/contact"}},
		{"ftp://acme.nl", triage.LeadInput{Website: "ftp://acme.nl"}}, // NewLead refuses the scheme
		{"Acme B.V.", triage.LeadInput{Company: "Acme B.V."}},
		{"B.V.", triage.LeadInput{Company: "B.V."}},
		{"  Acme  ", triage.LeadInput{Company: "Acme"}},
		{"Acme   Two\tGmbH", triage.LeadInput{Company: "Acme Two GmbH"}},
		{"report.pdf", triage.LeadInput{Company: "report.pdf"}},
		{"3.14", triage.LeadInput{Company: "3.14"}},
		{"<mailto:jan@acme.nl|jan@acme.nl>", triage.LeadInput{Email: "jan@acme.nl"}},
		{"<https://acme.nl|acme.nl>", triage.LeadInput{Website: "https://acme.nl"}},
		{"<http://www.acme.nl>", triage.LeadInput{Website: "http://www.acme.nl"}},
		{"Acme &amp; Zonen", triage.LeadInput{Company: "Acme & Zonen"}},
		{"Acme\u202eevil", triage.LeadInput{Company: "Acmeevil"}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, leadInputFromText(tt.text)); diff != "" {
				t.Errorf("leadInputFromText(%q) (-want +got):\n%s", tt.text, diff)
			}
		})
	}
}

// TestLeadInputFromText_Validates checks that what the parser puts where
// passes or fails NewLead on the right field.
func TestLeadInputFromText_Validates(t *testing.T) {
	t.Parallel()
	for text, wantDomain := range map[string]string{
		"jan@acme.example":         "acme.example",
		"acme.example":             "acme.example",
		"https://www.acme.nl/x":    "acme.nl",
		"<https://acme.nl|acme>":   "acme.nl",
		"Acme BV":                  "",
		"<mailto:a@b.nl|a@b.nl>":   "b.nl",
		"www.voorbeeld.nl/contact": "voorbeeld.nl",
	} {
		l, err := triage.NewLead(leadInputFromText(text), slackTextNow)
		if err != nil {
			t.Errorf("NewLead(leadInputFromText(%q)): %v", text, err)
			continue
		}
		if l.Domain != wantDomain {
			t.Errorf("leadInputFromText(%q): domain %q, want %q", text, l.Domain, wantDomain)
		}
	}
}

func TestLeadInputFromMessage(t *testing.T) {
	t.Parallel()
	forwarded := "---------- Forwarded message ---------\n" +
		"From: Jan Jansen &lt;<mailto:jan@acme.nl|jan@acme.nl>&gt;\n" +
		"Date: Mon, 9 Mar 2026 at 10:12\n" +
		"Subject: Offerte\n" +
		"To: <mailto:sales@ours.example|sales@ours.example>\n\n" +
		"Hallo, wij zoeken een partner voor ons nieuwe platform."
	forwardedPlain := "---------- Forwarded message ---------\n" +
		"From: Jan Jansen <jan@acme.nl>\n" +
		"Date: Mon, 9 Mar 2026 at 10:12\n" +
		"Subject: Offerte\n" +
		"To: sales@ours.example\n\n" +
		"Hallo, wij zoeken een partner voor ons nieuwe platform."
	signature := "Could you send us a quote for 20 seats?\n\n" +
		"Kind regards,\nPiet de Vries\nCTO, Voorbeeld BV\n" +
		"piet@voorbeeld.nl | <https://www.linkedin.com/in/piet|linkedin.com/in/piet> | <https://www.voorbeeld.nl|www.voorbeeld.nl>\n+31 20 123 4567"
	tests := []struct {
		name string
		text string
		want triage.LeadInput
	}{
		{
			name: "forwarded e-mail in Slack's markup",
			text: forwarded,
			want: triage.LeadInput{Email: "jan@acme.nl", Name: "Jan Jansen", Message: forwardedPlain},
		},
		{
			name: "bold header and quoted name",
			text: "*From:* \"Anna Bakker\" <mailto:anna@bakker.example|anna@bakker.example>\nSee <https://bakker.example/about>.",
			want: triage.LeadInput{Email: "anna@bakker.example", Name: "Anna Bakker", Website: "https://bakker.example/about",
				Message: "*From:* \"Anna Bakker\" anna@bakker.example\nSee https://bakker.example/about."},
		},
		{
			name: "a signature with a website (social links skipped)",
			text: signature,
			want: triage.LeadInput{Email: "piet@voorbeeld.nl", Website: "https://www.voorbeeld.nl",
				Message: "Could you send us a quote for 20 seats?\n\nKind regards,\nPiet de Vries\nCTO, Voorbeeld BV\n" +
					"piet@voorbeeld.nl | https://www.linkedin.com/in/piet | https://www.voorbeeld.nl\n+31 20 123 4567"},
		},
		{
			name: "a bare domain in the text, not the e-mail's domain",
			text: "mail me at kees@gmail.com, our site is kaasmakerij.example. See the attached brochure.pdf",
			want: triage.LeadInput{Email: "kees@gmail.com", Website: "kaasmakerij.example",
				Message: "mail me at kees@gmail.com, our site is kaasmakerij.example. See the attached brochure.pdf"},
		},
		{
			name: "no e-mail at all",
			text: "Met someone from Globex at the fair, they want a demo. www.globex.example",
			want: triage.LeadInput{Website: "www.globex.example",
				Message: "Met someone from Globex at the fair, they want a demo. www.globex.example"},
		},
		{
			name: "nothing to go on",
			text: "call back tomorrow, v1.2 of the deck",
			want: triage.LeadInput{Message: "call back tomorrow, v1.2 of the deck"},
		},
		{
			name: "mentions are left alone",
			text: "<@U123> this one: <mailto:x@y.example|x@y.example>",
			want: triage.LeadInput{Email: "x@y.example", Message: "<@U123> this one: x@y.example"},
		},
		{
			name: "escaped angle brackets around a plain address",
			text: "Anna Bakker &lt;anna@bakker.example&gt; wrote:\n&gt; hello",
			want: triage.LeadInput{Email: "anna@bakker.example", Name: "Anna Bakker", Message: "Anna Bakker <anna@bakker.example> wrote:\n> hello"},
		},
		{"empty", "", triage.LeadInput{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, leadInputFromMessage(tt.text)); diff != "" {
				t.Errorf("leadInputFromMessage (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("very long text is shortened", func(t *testing.T) {
		t.Parallel()
		text := "From: Jan <jan@acme.nl>\n" + strings.Repeat("blah ", 3000)
		got := leadInputFromMessage(text)
		if n := utf8.RuneCountInString(got.Message); n != maxMessageFromSlack {
			t.Errorf("Message has %d runes, want %d", n, maxMessageFromSlack)
		}
		if !strings.HasSuffix(got.Message, "…") || !strings.HasPrefix(got.Message, "From: Jan") {
			t.Errorf("Message = %.40q…, want the start of the text ending in an ellipsis", got.Message)
		}
		if got.Email != "jan@acme.nl" || got.Name != "Jan" {
			t.Errorf("Email, Name = %q, %q; want jan@acme.nl, Jan", got.Email, got.Name)
		}
		if _, err := triage.NewLead(got, slackTextNow); err != nil {
			t.Errorf("NewLead of the parsed message: %v", err)
		}
	})
}
