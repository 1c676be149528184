package main

import (
	"os"
	"slices"
	"testing"

	"github.com/dlclark/regexp2"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

// The scopes the bot asks for, and why; README.md explains each. A new scope
// must be added here on purpose (least privilege).
var wantScopes = []string{
	"channels:history", // message events in the triage channel (thread answers) and finding a card again
	"channels:read",    // conversations.info (check) and member_joined_channel / channel_unarchive (blocked cards go)
	"chat:write",       // post and update cards, thread replies, ephemeral confirmations
	"commands",         // /qualify
	"groups:history",   // the same when the triage channel is private
	"groups:read",      // the same as channels:read for a private channel (group_unarchive)
	"reactions:read",   // reactions on a card count as votes
	"usergroups:read",  // access.usergroups: who is in a user group (only needed when that is set)
	"users:read",       // names in digests and the App Home
}

func loadManifest(t *testing.T, path string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

func TestManifest_ValidAgainstSlackSchema(t *testing.T) {
	t.Parallel()
	f, err := os.Open("testdata/slack-manifest.schema.1.0.0.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	// Slack's schema uses ECMAScript look-aheads, which Go's regexp lacks.
	c.UseRegexpEngine(ecmaRegexp)
	if err := c.AddResource("manifest.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile("manifest.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path   string
		socket bool
	}{{"manifest.yml", true}, {"manifest-http.yml", false}} {
		t.Run(tc.path, func(t *testing.T) {
			m := loadManifest(t, tc.path)
			if err := schema.Validate(toJSONValue(m)); err != nil {
				t.Fatalf("%s does not validate against Slack's schema: %v", tc.path, err)
			}
			settings := m["settings"].(map[string]any)
			if got := settings["socket_mode_enabled"]; got != tc.socket {
				t.Errorf("socket_mode_enabled = %v, want %v", got, tc.socket)
			}
			var scopes []string
			for _, s := range m["oauth_config"].(map[string]any)["scopes"].(map[string]any)["bot"].([]any) {
				scopes = append(scopes, s.(string))
			}
			slices.Sort(scopes)
			if !slices.Equal(scopes, wantScopes) {
				t.Errorf("bot scopes = %v, want exactly %v", scopes, wantScopes)
			}
			cmds := m["features"].(map[string]any)["slash_commands"].([]any)
			if len(cmds) != 1 || cmds[0].(map[string]any)["command"] != "/qualify" {
				t.Errorf("slash commands = %v, want /qualify", cmds)
			}
			if settings["interactivity"].(map[string]any)["is_enabled"] != true {
				t.Errorf("interactivity is not enabled: buttons would not work")
			}
			features := m["features"].(map[string]any)
			if home, _ := features["app_home"].(map[string]any); home["home_tab_enabled"] != true || home["messages_tab_enabled"] != true {
				t.Errorf("app_home = %v, want the Home tab and the Messages tab (escalation DMs) enabled", features["app_home"])
			}
			var events []string
			for _, e := range settings["event_subscriptions"].(map[string]any)["bot_events"].([]any) {
				events = append(events, e.(string))
			}
			if !slices.Contains(events, "app_home_opened") {
				t.Errorf("bot events %v lack app_home_opened: the Home tab would stay empty", events)
			}
			// Issue 17: uninstall and revocation stop the calls; an invite or
			// an unarchive lets blocked cards go at once.
			for _, want := range []string{"app_uninstalled", "tokens_revoked", "member_joined_channel", "channel_unarchive", "group_unarchive"} {
				if !slices.Contains(events, want) {
					t.Errorf("bot events %v lack %s", events, want)
				}
			}
			shortcuts, _ := features["shortcuts"].([]any)
			var found bool
			for _, sc := range shortcuts {
				sc := sc.(map[string]any)
				if sc["type"] == "message" && sc["callback_id"] == "lead.from_message" && sc["name"] == "Qualify this message" {
					found = true
				}
			}
			if !found {
				t.Errorf("shortcuts %v, want the message shortcut \"Qualify this message\" (lead.from_message)", shortcuts)
			}
			_, hasURL := settings["event_subscriptions"].(map[string]any)["request_url"]
			if hasURL == tc.socket {
				t.Errorf("event request_url present = %v in a socket=%v manifest", hasURL, tc.socket)
			}
		})
	}
}

// toJSONValue converts YAML-decoded values to what the JSON schema
// validator expects (map[string]any, []any, float64 for numbers).
func toJSONValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = toJSONValue(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = toJSONValue(e)
		}
		return out
	case int:
		return float64(x)
	default:
		return v
	}
}

// ecmaRegexp compiles schema patterns with ECMAScript semantics, as JSON
// Schema specifies.
func ecmaRegexp(s string) (jsonschema.Regexp, error) {
	re, err := regexp2.Compile(s, regexp2.ECMAScript)
	if err != nil {
		return nil, err
	}
	return (*ecmaRE)(re), nil
}

type ecmaRE regexp2.Regexp

func (re *ecmaRE) MatchString(s string) bool {
	ok, err := (*regexp2.Regexp)(re).MatchString(s)
	return err == nil && ok
}

func (re *ecmaRE) String() string { return (*regexp2.Regexp)(re).String() }
