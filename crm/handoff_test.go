package crm_test

import (
	"strings"
	"testing"

	"github.com/leadtriage/leadtriage/crm"
)

func TestNoteHTML_EscapesLeadTextAndKeepsOnlyHTTPSLinks(t *testing.T) {
	t.Parallel()
	h := hsHandoff(qualifiedLead())
	h.Lead.Company = `Evil <img src=x onerror=alert(1)>`
	note := crm.NoteHTML(h)
	for _, bad := range []string{"<img", "<script", "<b>help"} {
		if strings.Contains(note, bad) {
			t.Errorf("note carries %q unescaped:\n%s", bad, note)
		}
	}
	for _, want := range []string{"leadtriage L-42</strong>: qualified by auto", "We need &lt;b&gt;help&lt;/b&gt; &amp; fast",
		"<li>Budget over 10k?: yes (&gt; 10k)</li>", "<li>fit: 4</li>", `<a href="` + permalink + `">`} {
		if !strings.Contains(note, want) {
			t.Errorf("note lacks %q:\n%s", want, note)
		}
	}
	h.Permalink = "javascript:alert(1)"
	if note := crm.NoteHTML(h); strings.Contains(note, "javascript") {
		t.Errorf("note links a javascript: URL:\n%s", note)
	}
}

func TestDealName_EndsInTheLeadID(t *testing.T) {
	t.Parallel()
	l := qualifiedLead()
	if got := crm.DealName(l); got != "Acme B.V. (L-42)" {
		t.Errorf("DealName = %q", got)
	}
	l.Company = ""
	if got := crm.DealName(l); got != "acme.example (L-42)" {
		t.Errorf("DealName without a company = %q", got)
	}
}
