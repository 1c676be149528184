package bot

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
)

// renderCard renders a card in English, as the tests written before the
// catalogue expect.
func renderCard(l triage.Lead, p triage.Policy, now time.Time) (string, []slack.Block) {
	return cardWords{english}.card(l, p, now)
}

// dis builds CriteriaStatus.Disagree from criterion ids and summaries as
// people read them: dis("budget", "2 yes, 1 no").
func dis(kv ...string) map[string][]triage.AnswerCount {
	m := map[string][]triage.AnswerCount{}
	for i := 0; i+1 < len(kv); i += 2 {
		for _, part := range strings.Split(kv[i+1], ", ") {
			n, v, _ := strings.Cut(part, " ")
			count, err := strconv.Atoi(n)
			if err != nil {
				panic(fmt.Sprintf("dis: %q is not \"<count> <answer>\"", part))
			}
			m[kv[i]] = append(m[kv[i]], triage.AnswerCount{Value: v, N: count})
		}
	}
	return m
}

// accessCheckFailed is the English refusal when the access lists could not
// be checked.
var accessCheckFailed = english.t("access.check_failed")

// The English answers of /qualify the tests look for.
var (
	workingText   = english.t("command.working")
	digestPreview = english.t("command.digest.preview")
	digestNothing = english.t("command.digest.nothing") + " :tada:"
)

func renderReminder(id triage.LeadID, text string) (string, []slack.Block) {
	return noticeWords{english}.reminder(id, text)
}

func replyContent(text, plain string) (string, []slack.Block) {
	return cardWords{english}.replyContent(text, plain)
}

// renderChecklist renders a checklist in English.
func renderChecklist(l triage.Lead, p triage.Policy) (string, []slack.Block) {
	return checklistWords{english}.checklist(l, p)
}

// renderDigestPart renders a digest part in English.
func renderDigestPart(p triage.DigestPart, permalink func(channel, ts string) string, loc *time.Location, now time.Time) (string, []slack.Block) {
	return digestWords{english}.part(p, permalink, loc, now)
}

// worded fills in each item's Text and Plain the way the outbox worker
// words its notice (in English, dates in loc, hints from criteria cs), so
// that tests reading the outbox see what Slack will be sent.
func worded(items []triage.OutboxItem, loc *time.Location, cs []triage.Criterion) []triage.OutboxItem {
	out := make([]triage.OutboxItem, len(items))
	for i, it := range items {
		if it.Notice != nil {
			it.Text, it.Plain = noticeWords{english}.notice(*it.Notice, loc, cs)
		}
		out[i] = it
	}
	return out
}

// Every language has every key, and no more: a missing key would show the
// key itself in Slack.
func TestCatalogue_EveryKeyInEveryLanguage(t *testing.T) {
	t.Parallel()
	en := keys(catalogues[LangEnglish])
	for lang, msgs := range catalogues {
		got := keys(msgs)
		for _, k := range en {
			if !slices.Contains(got, k) {
				t.Errorf("catalogue %s lacks %q", lang, k)
			}
		}
		for _, k := range got {
			if !slices.Contains(en, k) {
				t.Errorf("catalogue %s has %q, which English lacks", lang, k)
			}
			if s, ok := msgs[k].(string); ok && strings.TrimSpace(s) == "" {
				t.Errorf("catalogue %s: %q is empty", lang, k)
			}
		}
	}
	if len(catalogues) != len(tags) {
		t.Errorf("%d catalogues but %d language tags", len(catalogues), len(tags))
	}
}

// Every key is used: the bot's sources (not the catalogues, not tests)
// name each one as a string literal.
func TestCatalogue_EveryKeyUsed(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var src strings.Builder
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || strings.HasPrefix(f, "catalog_") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src.Write(b)
	}
	for _, k := range keys(catalogues[LangEnglish]) {
		if !strings.Contains(src.String(), `"`+k+`"`) {
			t.Errorf("catalogue key %q is used nowhere", k)
		}
	}
}

// The same format verbs in every language: a translation that drops or
// adds an argument would print %!(EXTRA …) or %!d(MISSING) in Slack.
func TestCatalogue_SameVerbs(t *testing.T) {
	t.Parallel()
	verb := regexp.MustCompile(`%[-+# 0-9.\[\]]*[a-zA-Z]`)
	for _, k := range keys(catalogues[LangEnglish]) {
		en, ok := catalogues[LangEnglish][k].(string)
		if !ok {
			continue
		}
		for lang, msgs := range catalogues {
			s, ok := msgs[k].(string)
			if !ok {
				continue
			}
			want, got := verb.FindAllString(en, -1), verb.FindAllString(s, -1)
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(want, got) {
				t.Errorf("catalogue %s, %q: verbs %q, English has %q", lang, k, got, want)
			}
		}
	}
}

// Plural rules come from CLDR, in the language.
func TestWords_Plurals(t *testing.T) {
	t.Parallel()
	nl := newWords(LangDutch)
	for _, tc := range []struct {
		w    words
		n    int
		want string
	}{
		{english, 1, "Waiting for a decision for 1 day."},
		{english, 3, "Waiting for a decision for 3 days."},
		{nl, 1, "Ligt al 1 dag te wachten op een besluit."},
		{nl, 2, "Ligt al 2 dagen te wachten op een besluit."},
	} {
		if got := tc.w.t("card.waiting", tc.n); got != tc.want {
			t.Errorf("%s card.waiting(%d) = %q, want %q", tc.w.lang, tc.n, got, tc.want)
		}
	}
	if got := newWords("xx").lang; got != LangEnglish {
		t.Errorf("unknown language falls back to %q, want en", got)
	}
}

func keys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
