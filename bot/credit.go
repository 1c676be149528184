package bot

import (
	"strconv"
	"strings"

	"github.com/leadtriage/leadtriage/triage"
)

// The card's texts for the credit check and the first traces online, in
// the team's language (research.credit.*, research.first_*).

// creditText is the card's credit line: the bureau's rating and limit with
// the rating's date and the bureau's name, then the company's status there.
// Everything from the bureau is escaped: it is text from outside.
func (w researchWords) creditText(c triage.Credit) string {
	var parts []string
	rating := escTrunc(c.Rating, 4, false)
	if d := escTrunc(c.Description, 40, false); d != "" {
		rating = strings.TrimSpace(rating + " " + d)
	}
	if rating != "" {
		parts = append(parts, w.t("research.credit.rating", rating))
	}
	if s := escTrunc(c.Score, 12, false); s != "" && s != rating {
		parts = append(parts, w.t("research.credit.score", s))
	}
	if c.Limit > 0 {
		parts = append(parts, w.t("research.credit.limit", strings.TrimSpace(escTrunc(c.Currency, 3, false)+" "+thousands(c.Limit))))
	}
	if s := escTrunc(c.Status, 40, false); s != "" {
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return ""
	}
	from := w.bureauLabel(c.Source)
	if !c.Date.IsZero() {
		from += ", " + w.longDate(c.Date.UTC())
	}
	return w.t("research.credit", from, strings.Join(parts, ", "))
}

func (w researchWords) bureauLabel(source string) string {
	switch source {
	case "creditsafe":
		return "Creditsafe"
	}
	if s := escTrunc(source, 30, false); s != "" {
		return s
	}
	return w.t("research.credit.bureau")
}

// firstSeenText names the first traces of the domain online that were found.
func (w researchWords) firstSeenText(f triage.Facts) string {
	var parts []string
	if !f.FirstCertificate.IsZero() {
		parts = append(parts, w.t("research.first_certificate", w.longDate(f.FirstCertificate.UTC())))
	}
	if !f.FirstCapture.IsZero() {
		parts = append(parts, w.t("research.first_capture", w.longDate(f.FirstCapture.UTC())))
	}
	s := strings.Join(parts, ", ")
	if s == "" {
		return ""
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// thousands writes n with comma separators: 125000 → "125,000".
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 && r != '-' && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}
