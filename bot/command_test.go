package bot

// White-box: the parser is unexported on purpose (a later issue extends
// it), so its table test lives inside the package.

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
		want command
	}{
		{"Empty", "", command{kind: cmdModal}},
		{"Blank", "  \t ", command{kind: cmdModal}},
		{"Help", "help", command{kind: cmdHelp}},
		{"HelpUpper", " HELP ", command{kind: cmdHelp}},
		{"HelpWithWords", "help me", command{kind: cmdHelp}},
		{"List", "list", command{kind: cmdList}},
		{"ListWithWords", "list all", command{kind: cmdHelp}},
		{"Digest", "Digest", command{kind: cmdDigest}},
		{"Show", "L-42", command{kind: cmdShow, lead: 42}},
		{"ShowLower", "l-7", command{kind: cmdShow, lead: 7}},
		{"ShowBareNumber", "42", command{kind: cmdShow, lead: 42}},
		{"History", "L-42 history", command{kind: cmdHistory, lead: 42}},
		{"HistoryUpper", "L-42   HISTORY", command{kind: cmdHistory, lead: 42}},
		{"LeadWithJunk", "L-42 delete", command{kind: cmdHelp}},
		{"ZeroIsNoLead", "L-0", command{kind: cmdAdd, arg: "L-0"}},
		{"Email", "jan@voorbeeld.nl", command{kind: cmdAdd, arg: "jan@voorbeeld.nl"}},
		{"Domain", "example.com", command{kind: cmdAdd, arg: "example.com"}},
		{"URL", "https://example.com/about", command{kind: cmdAdd, arg: "https://example.com/about"}},
		{"Company", "  Acme   Widgets BV ", command{kind: cmdAdd, arg: "Acme Widgets BV"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := parseCommand(tt.text)
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(command{})); diff != "" {
				t.Errorf("parseCommand(%q) mismatch (-want +got):\n%s", tt.text, diff)
			}
		})
	}
}

func TestHelpText(t *testing.T) {
	t.Parallel()
	text := helpText("/qualify")
	// The help lists the whole grammar from DESIGN.md and says which parts
	// are not there yet.
	for _, want := range []string{
		"`/qualify help`", "`/qualify`", "`/qualify <e-mail, domain, URL or company>`",
		"`/qualify list`", "`/qualify L-42`", "`/qualify L-42 history`", "`/qualify digest`",
		"later release",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("help text lacks %q:\n%s", want, text)
		}
	}
	if got := helpText("/leads"); !strings.Contains(got, "`/leads list`") || strings.Contains(got, "/qualify") {
		t.Errorf("help for a renamed command still says /qualify:\n%s", got)
	}
}
