package main

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// TestConfig_Validate_NamesKeys: with a wrong value in every section, each
// problem names a key that config.toml has, and every section reports.
func TestConfig_Validate_NamesKeys(t *testing.T) {
	t.Parallel()
	cfg := Config{ // the zero value is wrong in most sections already
		Voting:     VotingConfig{Decide: "lead", Deciders: []string{"nobody"}, Team: []string{"#sales"}},
		Reactions:  ReactionsConfig{Qualify: "thumbs up"},
		Criteria:   []CriterionConfig{{ID: "Budget", Kind: "maybe", Weight: -1}},
		Disqualify: DisqualifyConfig{Reasons: []string{""}},
		Partners:   []PartnerConfig{{Fits: strings.Repeat("x", 151)}},
		Reminders:  RemindersConfig{After: Duration{Invalid: "soon"}, Workdays: "someday"},
		Digest:     DigestConfig{Timezone: "Mars/Olympus"},
		Research:   ResearchConfig{CacheTTL: Duration{Invalid: "forever"}, DNSServer: "dns"},
		Access:     AccessConfig{Usergroups: []string{"sales"}},
		Privacy:    PrivacyConfig{Retention: Duration{Invalid: "a while"}},
		CRM:        CRMConfig{HubSpot: true, Pipedrive: true},
		Webhooks:   []WebhookConfig{{URL: "hooks.example"}},
		Outcomes:   OutcomesConfig{AskAfter: Duration{Invalid: "later"}},
	}
	problems := cfg.Validate()
	index := regexp.MustCompile(`\[\d+\]`)
	reported := map[string]bool{}
	for _, p := range problems {
		key, _, ok := strings.Cut(p, ": ")
		if !ok {
			t.Errorf("problem %q names no key", p)
			continue
		}
		if !hasKey(reflect.TypeOf(Config{}), strings.Split(index.ReplaceAllString(key, ""), ".")) {
			t.Errorf("problem %q names %q, which config.toml does not have", p, key)
		}
		reported[strings.Split(index.ReplaceAllString(key, ""), ".")[0]] = true
	}
	for i := range reflect.TypeOf(Config{}).NumField() {
		if table := reflect.TypeOf(Config{}).Field(i).Tag.Get("toml"); !reported[table] {
			t.Errorf("no problem reported in [%s]: %q", table, problems)
		}
	}
}

// hasKey reports whether the toml key path names a field of struct type
// typ (a table itself counts).
func hasKey(typ reflect.Type, path []string) bool {
	if len(path) == 0 {
		return true
	}
	for typ.Kind() == reflect.Slice || typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	if typ.Kind() != reflect.Struct {
		return false
	}
	for i := range typ.NumField() {
		if typ.Field(i).Tag.Get("toml") == path[0] {
			return hasKey(typ.Field(i).Type, path[1:])
		}
	}
	return false
}
