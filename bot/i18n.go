package bot

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/leadtriage/leadtriage/triage"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

// Languages the bot speaks (config.toml's ui.language).
const (
	LangEnglish = "en"
	LangDutch   = "nl"
)

// catalogues holds every text the bot shows in Slack, per language, keyed
// by a stable id (catalog_en.go, catalog_nl.go). Values are words only:
// mrkdwn and escaping are added by the code that renders them, so a
// translator cannot break a message or let lead text through unescaped.
// A value is a string (a fmt format) or a catalog.Message such as
// plural.Selectf for counts.
var catalogues = map[string]map[string]any{
	LangEnglish: catalogueEN,
	LangDutch:   catalogueNL,
}

// tags maps a language to its CLDR tag: plural rules and number formats.
var tags = map[string]language.Tag{
	LangEnglish: language.English,
	LangDutch:   language.Dutch,
}

// builtCatalogue is every catalogue in one x/text catalogue, built once.
var builtCatalogue = func() catalog.Catalog {
	b := catalog.NewBuilder(catalog.Fallback(language.English))
	for lang, msgs := range catalogues {
		tag := tags[lang]
		for key, v := range msgs {
			var err error
			switch m := v.(type) {
			case string:
				err = b.SetString(tag, key, m)
			case catalog.Message:
				err = b.Set(tag, key, m)
			default:
				err = fmt.Errorf("%T is not a message", v)
			}
			if err != nil {
				panic(fmt.Sprintf("catalogue %s, key %s: %v", lang, key, err))
			}
		}
	}
	return b
}()

// words says things in one language: w.t(key, args…) is the catalogue's
// text for key with args put in (fmt verbs, plural rules of the language).
// It holds the language core only: t and the words, dates, durations and
// numbers every surface uses (below). Each surface renders through a small
// type that holds a words: cardWords (blocks.go), researchWords,
// checklistWords, noticeWords, digestWords, homeWords, statsWords,
// eventWords, errorWords, modalWords, commandWords, crmWords and
// outcomeWords, each in its surface's file. A renderer reaches another
// by conversion: outcomeWords(w) inside cardWords.
type words struct {
	lang string
	p    *message.Printer
	// permalink links to a message (Bot.permalink); nil renders no link,
	// as in the golden tests.
	permalink func(channel, ts string) string
}

// newWords returns the words of lang; an unknown or empty lang is English
// (config validation refuses anything else before it gets here).
func newWords(lang string) words {
	if _, ok := catalogues[lang]; !ok {
		lang = LangEnglish
	}
	return words{lang: lang, p: message.NewPrinter(tags[lang], message.Catalog(builtCatalogue))}
}

// english is the default language and the one most tests render in.
var english = newWords(LangEnglish)

func (w words) t(key string, args ...any) string {
	if w.p == nil {
		// The zero words (a Bot built without New) speak English.
		return english.p.Sprintf(key, args...)
	}
	return w.p.Sprintf(key, args...)
}

// The shared words: statuses, votes, lists, answers.

// status is a lead status in words.
func (w words) status(s triage.Status) string {
	switch s {
	case triage.StatusPending:
		return w.t("status.pending")
	case triage.StatusQualified:
		return w.t("status.qualified")
	case triage.StatusDisqualified:
		return w.t("status.disqualified")
	case triage.StatusReferred:
		return w.t("status.referred")
	}
	return w.t("status.unknown")
}

// choice is a vote as a word: "qualify", "disqualify", "unsure".
func (w words) choice(c triage.Choice) string {
	switch c {
	case triage.ChoiceQualify:
		return w.t("vote.qualify")
	case triage.ChoiceDisqualify:
		return w.t("vote.disqualify")
	case triage.ChoiceUnsure:
		return w.t("vote.unsure")
	}
	return esc(string(c))
}

// tally is a vote count in words: "2 qualify, 0 disqualify, 1 unsure".
func (w words) tally(t triage.Tally) string {
	return w.t("card.votes.tally", t.Qualify, t.Disqualify, t.Unsure)
}

// codeList shows up to limit ids as code spans, then how many more.
func (w words) codeList(ids []string, limit int) string {
	var parts []string
	for i, id := range ids {
		if i == limit {
			parts = append(parts, w.t("more.short", len(ids)-i))
			break
		}
		parts = append(parts, codeSpan(id))
	}
	return strings.Join(parts, ", ")
}

// list renders an Args list (items joined by triage.ArgSep), each item
// through item, which escapes.
func (w words) list(joined string, item func(string) string) string {
	var out []string
	for _, it := range strings.Split(joined, triage.ArgSep) {
		if it != "" {
			out = append(out, item(it))
		}
	}
	return strings.Join(out, ", ")
}

func (w words) userList(users []string) string {
	m := make([]string, len(users))
	for i, u := range users {
		m[i] = mention(u)
	}
	return strings.Join(m, ", ")
}

// acceptedForms says in a few words what c accepts, for hints: unescaped.
func (w words) acceptedForms(c triage.Criterion) string {
	switch c.Kind {
	case triage.KindYesNo:
		return w.t("accepted.yesno")
	case triage.KindScale:
		return w.t("accepted.scale")
	case triage.KindNumber:
		return w.t("accepted.number")
	case triage.KindText:
		return w.t("accepted.text")
	case triage.KindChoice:
		opts := c.Options
		more := ""
		if len(opts) > 10 {
			opts, more = opts[:10], ", …"
		}
		return w.t("accepted.choice", strings.Join(opts, ", ")+more)
	}
	return w.t("accepted.unknown")
}

// answerCounts is who answered what, unescaped: "2 yes, 1 no".
func (w words) answerCounts(c triage.Criterion, counts []triage.AnswerCount) string {
	parts := make([]string, len(counts))
	for i, ac := range counts {
		parts[i] = strconv.Itoa(ac.N) + " " + w.answerWord(c, ac.Value)
	}
	return strings.Join(parts, ", ")
}

// answerWord is a normalised answer as a word in a sentence: "yes", "ja".
func (w words) answerWord(c triage.Criterion, v string) string {
	if c.Kind == triage.KindYesNo {
		switch v {
		case triage.AnswerYes:
			return w.t("answer.yes")
		case triage.AnswerNo:
			return w.t("answer.no")
		case triage.AnswerUnknown:
			return w.t("answer.unknown")
		}
	}
	return v
}

// Dates in the language.

// dateNames are CLDR's abbreviated day and month names for the languages
// Go's time package does not speak (it speaks English).
var dateNames = map[string]struct {
	days       [7]string
	months     [12]string
	longMonths [12]string
}{
	LangDutch: {
		days:   [7]string{"zo", "ma", "di", "wo", "do", "vr", "za"},
		months: [12]string{"jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"},
		longMonths: [12]string{"januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
			"september", "oktober", "november", "december"},
	},
}

// longDate is a calendar day in the language, months in full as in a
// sentence: "20 February 2026", "20 februari 2026".
func (w words) longDate(t time.Time) string {
	names, ok := dateNames[w.lang]
	if !ok {
		return t.Format("2 January 2006")
	}
	return t.Format("2") + " " + names.longMonths[t.Month()-1] + " " + t.Format("2006")
}

// dateArg is a flag's date argument (2006-01-02) in the language; "" when
// it is empty, and the argument escaped as it is when it is no date.
func (w words) dateArg(s string) string {
	if s == "" {
		return ""
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return escTrunc(s, 20, false)
	}
	return w.longDate(t)
}

// date is a weekday and date in the language: "Mon 2 Jan 2006",
// "ma 2 jan 2006".
func (w words) date(t time.Time) string {
	names, ok := dateNames[w.lang]
	if !ok {
		return t.Format("Mon 2 Jan 2006")
	}
	return names.days[t.Weekday()] + " " + t.Format("2") + " " + names.months[t.Month()-1] + " " + t.Format("2006")
}

// dayTime is a weekday, date and time in loc (nil = UTC), in the language:
// "Tue 1 Dec 09:00", "di 1 dec 09:00".
func (w words) dayTime(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	names, ok := dateNames[w.lang]
	if !ok {
		return t.Format("Mon 2 Jan 15:04")
	}
	return names.days[t.Weekday()] + " " + t.Format("2") + " " + names.months[t.Month()-1] + " " + t.Format("15:04")
}

// monthText names a month: "Nov 2026", "nov 2026".
func (w words) monthText(t time.Time) string {
	if names, ok := dateNames[w.lang]; ok {
		return names.months[t.Month()-1] + " " + t.Format("2006")
	}
	return t.Format("Jan 2006")
}

// Durations, rounded as people say them.

// age is a short duration for lists: "5m", "3h", "2d". It goes into mrkdwn,
// so "under a minute" is written out: a bare "<" could open a link token.
func (w words) age(d time.Duration) string { return w.roughly(d, "dur.m", "dur.h", "dur.d") }

// roughly says d in whole minutes under an hour, hours under two days, days
// beyond, with the catalogue keys of each unit; under a minute is "just now".
func (w words) roughly(d time.Duration, minutes, hours, days string) string {
	switch {
	case d < time.Minute:
		return w.t("age.now")
	case d < time.Hour:
		return w.t(minutes, int(d/time.Minute))
	case d < 48*time.Hour:
		return w.t(hours, int(d/time.Hour))
	}
	return w.t(days, int(d/(24*time.Hour)))
}

// ageOld is age as a list column: "3h old", or "just now".
func (w words) ageOld(d time.Duration) string {
	if d < time.Minute {
		return w.age(d)
	}
	return w.t("age.old", w.age(d))
}

// ageText is how long ago something happened, roughly: "just now",
// "12 min ago", "5 h ago", "3 d ago".
func (w words) ageText(d time.Duration) string {
	return w.roughly(d, "age.minutes", "age.hours", "age.days")
}

// durationText is a duration in minutes, hours (under two days) or days,
// with one decimal.
func (w words) durationText(d time.Duration) string {
	switch {
	case d < time.Hour:
		return w.t("duration.min", int(d/time.Minute))
	case d < 48*time.Hour:
		return w.t("duration.hours", d.Hours())
	}
	return w.t("duration.days", d.Hours()/24)
}

// shortDuration shows d in its two largest units as mrkdwn: "&lt;1m"
// (a bare "<" would open a mrkdwn token), "45m", "1h 20m", "3h", "1d 2h",
// "12d".
func (w words) shortDuration(d time.Duration) string {
	d = max(d, 0)
	switch {
	case d < time.Minute:
		return "&lt;" + w.t("dur.m", 1)
	case d < time.Hour:
		return w.t("dur.m", int(d/time.Minute))
	case d < 24*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return w.t("dur.h", h)
		}
		return w.t("dur.h", h) + " " + w.t("dur.m", m)
	}
	days, h := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	if h == 0 {
		return w.t("dur.d", days)
	}
	return w.t("dur.d", days) + " " + w.t("dur.h", h)
}

// Numbers.

// fraction words k of n: "67% (40 of 60)" from triage.MinForPercent on,
// "2 of 3" below it, "no data" for none.
func (w words) fraction(f triage.Fraction) string {
	if f.N == 0 {
		return w.t("stats.none")
	}
	if pct, ok := f.Percent(); ok {
		return w.t("stats.pct", pct, f.K, f.N)
	}
	return w.t("stats.of", f.K, f.N)
}
