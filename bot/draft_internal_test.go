package bot

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/leadtriage/leadtriage/triage"
)

// declineDraft and referralDraft word what the domain records for a
// decline and an introduction (triage.DeclineFacts, triage.ReferralFacts),
// as the outbox worker does when it delivers the notice.
func declineDraft(l triage.Lead, reason string, p *triage.Partner) triage.Draft {
	return draftText(triage.NoticeDeclineDraft, triage.DeclineFacts(l, reason, p))
}

func referralDraft(l triage.Lead, p triage.Partner) triage.Draft {
	return draftText(triage.NoticeReferralDraft, triage.ReferralFacts(l, p))
}

var partner = triage.Partner{Name: "Shopbouwers", Fits: "Small webshops.", Contact: "hello@shopbouwers.example"}

func draftLead(domain string) triage.Lead {
	return triage.Lead{ID: 3, Status: triage.StatusDisqualified, Company: "Acme", Name: "Jan de Vries",
		Email: "jan@" + domain, Domain: domain, Website: "https://" + domain + "/", Phone: "+31 20 123 4567",
		Message: "We need a new webshop with 20k products before summer."}
}

// checkDraft fails on what must never reach a prospect: template leftovers,
// Slack markup, empty parts.
func checkDraft(t *testing.T, d triage.Draft) {
	t.Helper()
	for _, bad := range []string{"<no value>", "{{", "}}", "<nil>", "%!", "<@", "*", "  ", "\n\n\n", " ,", " ."} {
		if strings.Contains(d.Subject+"\n"+d.Body, bad) {
			t.Errorf("draft contains %q:\n%s\n\n%s", bad, d.Subject, d.Body)
		}
	}
	if d.Subject == "" || strings.Contains(d.Subject, "\n") || strings.HasPrefix(d.Subject, "Subject") {
		t.Errorf("Subject = %q, want one line without its label", d.Subject)
	}
	if d.Body == "" || d.Body != strings.TrimSpace(d.Body) {
		t.Errorf("Body = %q, want trimmed text", d.Body)
	}
}

func TestDeclineDraft_Language(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		domain string
		email  string
		want   string
	}{
		{"dutch domain", "acme.nl", "jan@acme.nl", "nl"},
		{"belgian domain", "acme.be", "jan@acme.be", "nl"},
		{"dutch e-mail, other website", "acme.com", "jan@acme.nl", "nl"},
		{"no website, belgian e-mail", "", "jan@acme.be", "nl"},
		{"english", "acme.co.uk", "jan@acme.co.uk", "en"},
		{"german", "acme.de", "jan@acme.de", "en"},
		{"a name ending in nl is not .nl", "acmenl.com", "jan@acmenl.com", "en"},
		{"no domain at all", "", "", "en"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := draftLead("x.example")
			l.Domain, l.Email = tt.domain, tt.email
			for _, d := range []triage.Draft{declineDraft(l, "", nil), referralDraft(l, partner)} {
				if d.Language != tt.want {
					t.Errorf("Language = %q, want %q", d.Language, tt.want)
				}
				checkDraft(t, d)
			}
		})
	}
}

func TestDeclineDraft(t *testing.T) {
	t.Parallel()
	t.Run("english", func(t *testing.T) {
		t.Parallel()
		d := declineDraft(draftLead("acme.example"), "Budget too small", nil)
		want := triage.Draft{Language: "en", Subject: "Your request for Acme", Body: `Hi Jan,

Thank you for getting in touch on behalf of Acme, and for taking the time to tell us what you need.

We have looked at your request carefully. This time we are not the right partner for Acme (budget too small). We only take on clients we are sure we can make successful, and we would rather tell you now than promise what we cannot deliver.

We wish you every success with Acme.

Kind regards,`}
		if diff := cmp.Diff(want, d); diff != "" {
			t.Errorf("DeclineDraft (-want +got):\n%s", diff)
		}
	})
	t.Run("dutch with a partner", func(t *testing.T) {
		t.Parallel()
		d := declineDraft(draftLead("acme.nl"), "", &partner)
		want := triage.Draft{Language: "nl", Subject: "Uw aanvraag voor Acme", Body: `Beste Jan,

Hartelijk dank voor uw bericht namens Acme, en voor de tijd die u nam om ons te vertellen wat u zoekt.

We hebben uw aanvraag zorgvuldig bekeken. Deze keer zijn wij niet de juiste partner voor Acme. We nemen alleen klanten aan van wie we zeker weten dat we ze succesvol kunnen maken, en we zeggen dat liever nu dan dat we iets beloven wat we niet kunnen waarmaken.

Misschien past Shopbouwers beter bij u: zij richten zich op small webshops. U bereikt hen via hello@shopbouwers.example, en we stellen u graag aan hen voor.

We wensen u veel succes met Acme.

Met vriendelijke groet,`}
		if diff := cmp.Diff(want, d); diff != "" {
			t.Errorf("DeclineDraft (-want +got):\n%s", diff)
		}
	})
	t.Run("english with a partner without contact", func(t *testing.T) {
		t.Parallel()
		d := declineDraft(draftLead("acme.example"), "", &triage.Partner{Name: "Other Co"})
		checkDraft(t, d)
		if !strings.Contains(d.Body, "\nOther Co may be a better fit. We are happy to introduce you if you like.\n") {
			t.Errorf("Body does not name the partner plainly:\n%s", d.Body)
		}
	})
	for _, lang := range []string{"acme.example", "acme.nl"} {
		t.Run("a contact without a name or company, "+lang, func(t *testing.T) {
			t.Parallel()
			l := triage.Lead{ID: 4, Email: "info@" + lang, Domain: lang}
			for _, d := range []triage.Draft{declineDraft(l, "", nil), declineDraft(l, "Outside our region", &partner)} {
				checkDraft(t, d)
				first, _, _ := strings.Cut(d.Body, "\n")
				if first != "Hi there," && first != "Goedendag," {
					t.Errorf("greeting = %q", first)
				}
			}
		})
	}
	t.Run("internal reasons are not told", func(t *testing.T) {
		t.Parallel()
		for _, reason := range []string{"Spam", "spam / fake", "Competitor", "Test lead", "Time waster", "Bot submission"} {
			d := declineDraft(draftLead("acme.example"), reason, nil)
			checkDraft(t, d)
			if strings.Contains(strings.ToLower(d.Body), strings.ToLower(reason)) || strings.Contains(d.Body, "()") {
				t.Errorf("reason %q shows in the draft:\n%s", reason, d.Body)
			}
			if !strings.Contains(d.Body, "not the right partner for Acme. ") {
				t.Errorf("reason %q: the decline lost its sentence:\n%s", reason, d.Body)
			}
		}
	})
	t.Run("reasons read inside a sentence", func(t *testing.T) {
		t.Parallel()
		for reason, want := range map[string]string{
			"Budget too small.":  "(budget too small)",
			"EU only":            "(EU only)",
			"SaaS is not for us": "(SaaS is not for us)",
			"  outside  region ": "(outside region)",
		} {
			if d := declineDraft(draftLead("acme.example"), reason, nil); !strings.Contains(d.Body, want) {
				t.Errorf("reason %q: want %q in\n%s", reason, want, d.Body)
			}
		}
	})
	t.Run("greeting", func(t *testing.T) {
		t.Parallel()
		for name, want := range map[string]string{
			"Jan de Vries":     "Hi Jan,",
			"  jan  ":          "Hi jan,",
			"Dr. Anna Smit":    "Hi Dr. Anna Smit,",
			"Mr.":              "Hi there,",
			"jan@acme.example": "Hi there,",
			"":                 "Hi there,",
		} {
			l := draftLead("acme.example")
			l.Name = name
			d := declineDraft(l, "", nil)
			checkDraft(t, d)
			if first, _, _ := strings.Cut(d.Body, "\n"); first != want {
				t.Errorf("name %q: greeting %q, want %q", name, first, want)
			}
		}
		l := draftLead("acme.nl")
		l.Name = "Dhr. Jansen"
		if first, _, _ := strings.Cut(declineDraft(l, "", nil).Body, "\n"); first != "Beste Dhr. Jansen," {
			t.Errorf("dutch greeting with a title = %q", first)
		}
	})
}

func TestReferralDraft(t *testing.T) {
	t.Parallel()
	t.Run("english", func(t *testing.T) {
		t.Parallel()
		d := referralDraft(draftLead("acme.example"), partner)
		want := triage.Draft{Language: "en", Subject: "Introduction: Acme", Body: `Hello Shopbouwers,

Acme got in touch with us, and we think they are a better fit for you (small webshops) than for us. We would like to introduce them:

Company: Acme
Contact: Jan de Vries
E-mail: jan@acme.example
Phone: +31 20 123 4567
Website: https://acme.example/

What they asked us:
We need a new webshop with 20k products before summer.

Would you get in touch with them directly? Let us know if you need anything from us.

Kind regards,`}
		if diff := cmp.Diff(want, d); diff != "" {
			t.Errorf("ReferralDraft (-want +got):\n%s", diff)
		}
	})
	t.Run("dutch", func(t *testing.T) {
		t.Parallel()
		d := referralDraft(draftLead("acme.nl"), partner)
		checkDraft(t, d)
		for _, want := range []string{"Beste Shopbouwers,", "Bedrijf: Acme", "Contactpersoon: Jan de Vries", "E-mail: jan@acme.nl",
			"Website: https://acme.nl/", "Hun vraag aan ons:\nWe need a new webshop", "(small webshops)"} {
			if !strings.Contains(d.Body, want) {
				t.Errorf("Body lacks %q:\n%s", want, d.Body)
			}
		}
		if d.Subject != "Introductie: Acme" {
			t.Errorf("Subject = %q", d.Subject)
		}
	})
	t.Run("only an e-mail", func(t *testing.T) {
		t.Parallel()
		for _, domain := range []string{"example.com", "example.nl"} {
			l := triage.Lead{ID: 4, Email: "info@" + domain, Domain: domain}
			d := referralDraft(l, triage.Partner{Name: "X"})
			checkDraft(t, d)
			for _, absent := range []string{"Company:", "Bedrijf:", "Contact:", "Website:", "Phone:", "Telefoon:", "asked", "vraag aan ons", "()"} {
				if strings.Contains(d.Body, absent) {
					t.Errorf("Body has %q for a field that is empty:\n%s", absent, d.Body)
				}
			}
			if !strings.HasSuffix(d.Subject, ": "+domain) {
				t.Errorf("Subject = %q, want the domain as the label", d.Subject)
			}
		}
	})
	t.Run("the message is shortened", func(t *testing.T) {
		t.Parallel()
		l := draftLead("acme.example")
		l.Message = strings.Repeat("lorem ipsum ", 100)
		d := referralDraft(l, partner)
		_, asked, _ := strings.Cut(d.Body, "What they asked us:\n")
		asked, _, _ = strings.Cut(asked, "\n")
		if n := len([]rune(asked)); n > triage.MaxDraftMessage || n < triage.MaxDraftMessage*3/4 {
			t.Errorf("quoted message is %d runes, want about %d", n, triage.MaxDraftMessage)
		}
		if !strings.HasSuffix(asked, "ipsum…") && !strings.HasSuffix(asked, "lorem…") {
			t.Errorf("quoted message does not end at a word: %q", asked)
		}
	})
	t.Run("lead text stays as typed", func(t *testing.T) {
		t.Parallel()
		// Drafts are plain text; the bot escapes them when it posts them.
		l := draftLead("acme.example")
		l.Company = "<script>&Co"
		l.Message = "Price < 5k & fast > slow"
		d := referralDraft(l, partner)
		if !strings.Contains(d.Body, "Company: <script>&Co") || !strings.Contains(d.Body, "Price < 5k & fast > slow") {
			t.Errorf("lead text was changed:\n%s", d.Body)
		}
	})
}

// A lead with nothing to call it by is "a prospect", in the lead's language.
func TestReferralDraft_NoLabel(t *testing.T) {
	t.Parallel()
	for lang, want := range map[string]string{"en": "Introduction: A prospect", "nl": "Introductie: Een prospect"} {
		f := triage.ReferralFacts(triage.Lead{ID: 4}, partner)
		f.Language = lang
		d := draftText(triage.NoticeReferralDraft, f)
		checkDraft(t, d)
		if first, _, _ := strings.Cut(d.Body, "\n\n"); d.Subject != want || !strings.Contains(d.Body, "\n\n"+want[strings.Index(want, ": ")+2:]+" ") {
			t.Errorf("%s: Subject %q, body %q…, want %q and the same label in the body", lang, d.Subject, first, want)
		}
	}
}

// A notice words its draft facts when it is delivered; a notice an older
// version stored with the draft worded shows that text as it was.
func TestRenderNotices_Drafts(t *testing.T) {
	t.Parallel()
	facts := triage.DeclineFacts(draftLead("acme.example"), "Budget too small", nil)
	text, plain := noticeWords{newWords(LangDutch)}.notice(triage.Notice{Kind: triage.NoticeDeclineDraft, Lead: 3, DraftFacts: &facts}, time.UTC, nil)
	// The introduction is in the team's language, the draft in the lead's.
	if want := "Your request for Acme\n\nHi Jan,\n\n"; !strings.HasPrefix(plain, want) || !strings.HasSuffix(plain, "\n\nKind regards,") {
		t.Errorf("plain = %q, want an English draft with its subject", plain)
	}
	if strings.Contains(text, "decline") || text == "" {
		t.Errorf("text = %q, want the Dutch introduction", text)
	}
	d := declineDraft(draftLead("acme.example"), "Budget too small", nil)
	if plain != d.Subject+"\n\n"+d.Body {
		t.Errorf("plain differs from the draft:\n%s", plain)
	}

	old := triage.Draft{Language: "en", Subject: "Your request", Body: "Dear Jan,\n\nas we wrote it then."}
	ref := triage.Notice{Kind: triage.NoticeReferralDraft, Lead: 3, Partner: "X", Draft: &old}
	if _, plain := (noticeWords{english}).notice(ref, time.UTC, nil); plain != "Your request\n\nDear Jan,\n\nas we wrote it then." {
		t.Errorf("a stored worded draft shows as %q", plain)
	}
}
