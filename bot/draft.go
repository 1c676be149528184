package bot

import (
	"bytes"
	"embed"
	"regexp"
	"strings"
	"text/template"

	"github.com/leadtriage/leadtriage/triage"
)

// The decline and referral drafts are files so that a team can read and
// reword them without reading Go. Each starts with a "Subject: " line and a
// blank line. They are written to the prospect, so they follow the lead's
// language (triage.DraftFacts.Language), not ui.language; the template sees
// the facts as they are (plain text, never escaped: the draft is shown in a
// code block, escaped there).
//
//go:embed templates/*.tmpl
var draftFS embed.FS

var draftTemplates = template.Must(template.New("drafts").Option("missingkey=error").ParseFS(draftFS, "templates/*.tmpl"))

var blankLines = regexp.MustCompile(`\n{3,}`)

// draftText words a draft: the decline (triage.NoticeDeclineDraft) or the
// introduction (triage.NoticeReferralDraft) that f describes, in f's
// language; a language without templates gets English.
func draftText(kind triage.NoticeKind, f triage.DraftFacts) triage.Draft {
	name := "decline"
	if kind == triage.NoticeReferralDraft {
		name = "referral"
	}
	lang := f.Language
	if draftTemplates.Lookup(name+"."+lang+".tmpl") == nil {
		lang = LangEnglish
	}
	var buf bytes.Buffer
	if err := draftTemplates.ExecuteTemplate(&buf, name+"."+lang+".tmpl", f); err != nil {
		// The templates are embedded and tested with empty and full data;
		// this is a programming error, shown rather than hidden.
		return triage.Draft{Language: lang, Body: "(this draft could not be written: " + err.Error() + ")"}
	}
	lines := strings.Split(buf.String(), "\n")
	for i, line := range lines {
		lines[i] = strings.TrimRight(line, " \t")
	}
	text := strings.Join(lines, "\n")
	var subject string
	if rest, ok := strings.CutPrefix(text, "Subject: "); ok {
		subject, text, _ = strings.Cut(rest, "\n")
	}
	text = blankLines.ReplaceAllString(strings.TrimSpace(text), "\n\n")
	return triage.Draft{Language: lang, Subject: strings.TrimSpace(subject), Body: text}
}
