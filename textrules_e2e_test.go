package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// markupText is every text Slack reads as markup in a Block Kit JSON
// document: the texts of mrkdwn text objects, decoded, one per line.
// plain_text objects (headers, buttons, options) are left out: Slack shows
// them as typed, so a lead's "<!channel>" there is text, not a mention.
func markupText(tb testing.TB, raw []byte) string {
	tb.Helper()
	mrkdwn, _ := textsByType(tb, raw)
	return strings.Join(mrkdwn, "\n")
}

// textsByType sorts the text objects of a Block Kit JSON document into
// mrkdwn and plain_text.
func textsByType(tb testing.TB, raw []byte) (mrkdwn, plain []string) {
	tb.Helper()
	if len(raw) == 0 {
		return nil, nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		tb.Fatalf("blocks are not JSON: %v", err)
	}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			if s, ok := x["text"].(string); ok {
				switch x["type"] {
				case "mrkdwn":
					mrkdwn = append(mrkdwn, s)
				case "plain_text":
					plain = append(plain, s)
				}
			}
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return mrkdwn, plain
}
