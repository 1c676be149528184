package bot

import (
	"fmt"

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
