package crm_test

import (
	"strings"
	"testing"

	"github.com/leadtriage/leadtriage/crm"
	"github.com/leadtriage/leadtriage/triage"
)

// A flag the domain composes from typed Args has no Detail (issue 12): the
// note words it in English (leadtext), and lead text in it is escaped.
func TestNoteHTML_FlagsWordedFromArgs(t *testing.T) {
	t.Parallel()
	l := qualifiedLead()
	l.Research.Flags = []triage.Flag{
		{Code: triage.FlagDomainYoung, Source: "rdap", Args: map[string]string{
			triage.ArgDomain: "acme.example", triage.ArgDate: "2026-09-06", triage.ArgDays: "90"}},
		{Code: triage.FlagPreviouslyDisq, Source: "history", Args: map[string]string{
			triage.ArgLead: "L-7", triage.ArgStatus: "disqualified", triage.ArgReason: "<script>too small"}},
	}
	note := crm.NoteHTML(hsHandoff(l))
	for _, want := range []string{
		"<li>domain_young: acme.example was registered on 6 September 2026, 90 days ago.</li>",
		"<li>previously_disqualified: L-7 was disqualified on an unknown date: &lt;script&gt;too small</li>",
	} {
		if !strings.Contains(note, want) {
			t.Errorf("note lacks %q:\n%s", want, note)
		}
	}
}
