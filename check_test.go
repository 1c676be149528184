package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/leadtriage/leadtriage/crm/crmfake"
	"github.com/leadtriage/leadtriage/slackfake"
)

// TestRun_CheckAsksSlack: with the tokens set, check asks the (fake) Slack
// whether the token works and the app is in the configured channel, and
// says how to fix what is not so.
func TestRun_CheckAsksSlack(t *testing.T) {
	t.Parallel()
	check := func(t *testing.T, fake *slackfake.Server) (int, string, string) {
		t.Helper()
		dir := t.TempDir()
		cfg := writeTestConfig(t, dir, appOptions{mode: "http", quorum: 3, dbPath: filepath.Join(dir, "l.db")}, fake.APIURL())
		env := testEnv("http")
		var stdout, stderr bytes.Buffer
		code := run(t.Context(), []string{"check", "-config", cfg}, func(k string) string { return env[k] }, &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	t.Run("member", func(t *testing.T) {
		t.Parallel()
		fake := slackfake.New(t)
		if code, out, errOut := check(t, fake); code != 0 || !strings.Contains(out, "are fine") {
			t.Errorf("exit %d, stdout %q, stderr %q; want 0", code, out, errOut)
		}
		if n := len(fake.Calls("conversations.info")); n != 1 {
			t.Errorf("conversations.info calls = %d, want 1", n)
		}
	})
	t.Run("scopes", func(t *testing.T) {
		t.Parallel()
		fake := slackfake.New(t)
		// As an app installed from manifest.yml (usergroups:read is only
		// needed with access.usergroups).
		fake.SetScopes("chat:write", "commands", "channels:history", "groups:history", "channels:read", "groups:read", "reactions:read", "users:read")
		if code, out, errOut := check(t, fake); code != 0 || strings.Contains(out, "warning") {
			t.Errorf("all scopes: exit %d, stdout %q, stderr %q; want 0 and no word on scopes", code, out, errOut)
		}
		fake.SetScopes("chat:write", "commands", "channels:history", "channels:read")
		code, _, errOut := check(t, fake)
		if code != 1 || !strings.Contains(errOut, "lacks the scopes groups:history, groups:read, reactions:read, users:read") || !strings.Contains(errOut, "reinstall") {
			t.Errorf("missing scopes: exit %d, stderr %q; want 1 naming them and the fix", code, errOut)
		}
	})
	t.Run("not in channel", func(t *testing.T) {
		t.Parallel()
		fake := slackfake.New(t)
		fake.RemoveBot(testChannel)
		code, _, errOut := check(t, fake)
		if code != 1 || !strings.Contains(errOut, "not a member") || !strings.Contains(errOut, testChannel) || !strings.Contains(errOut, "/invite @leadtriage") {
			t.Errorf("exit %d, stderr %q; want 1 naming the channel and the fix", code, errOut)
		}
	})
	t.Run("archived", func(t *testing.T) {
		t.Parallel()
		fake := slackfake.New(t)
		fake.Archive(testChannel)
		if code, _, errOut := check(t, fake); code != 1 || !strings.Contains(errOut, "unarchive") {
			t.Errorf("exit %d, stderr %q; want 1 and how to fix it", code, errOut)
		}
	})
	t.Run("revoked token", func(t *testing.T) {
		t.Parallel()
		fake := slackfake.New(t)
		fake.Refuse(slackfake.Refusal{Method: "*", Error: "token_revoked"})
		code, _, errOut := check(t, fake)
		if code != 1 || !strings.Contains(errOut, "token_revoked") || !strings.Contains(errOut, "replace SLACK_BOT_TOKEN") {
			t.Errorf("exit %d, stderr %q; want 1 and the fix", code, errOut)
		}
		if strings.Contains(errOut, slackfake.BotToken) {
			t.Error("check shows the token")
		}
	})
	t.Run("slack unreachable is a warning", func(t *testing.T) {
		t.Parallel()
		fake := slackfake.New(t)
		fake.SetDown(true)
		if code, out, errOut := check(t, fake); code != 0 || !strings.Contains(out, "warning: could not ask Slack") {
			t.Errorf("exit %d, stdout %q, stderr %q; want 0 with a warning", code, out, errOut)
		}
	})
}

// TestRun_CheckAsksTheCRM: with the hand-off on, check asks the CRM who the
// token belongs to, so a wrong token shows before the first qualified lead
// lands in the dead letters.
func TestRun_CheckAsksTheCRM(t *testing.T) {
	t.Parallel()
	const token = "pat-eu1-00000000-0000-4000-8000-000000000000"
	hs := crmfake.NewHubSpot(t, token)
	fake := slackfake.New(t)
	dir := t.TempDir()
	cfg := writeTestConfig(t, dir, appOptions{mode: "http", quorum: 3, dbPath: filepath.Join(dir, "l.db"),
		extra: fmt.Sprintf("[crm]\nhubspot = true\napi_url = %q\n", hs.URL)}, fake.APIURL())
	check := func(hubspotToken string) (int, string, string) {
		env := testEnv("http")
		env["HUBSPOT_TOKEN"] = hubspotToken
		var stdout, stderr bytes.Buffer
		code := run(t.Context(), []string{"check", "-config", cfg}, func(k string) string { return env[k] }, &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	if code, out, errOut := check(token); code != 0 || !strings.Contains(out, "are fine") {
		t.Errorf("good token: exit %d, stdout %q, stderr %q; want 0", code, out, errOut)
	}
	if !slices.Contains(hs.Sequence(), "GET /account-info/v3/details") {
		t.Errorf("HubSpot was not asked: %v", hs.Sequence())
	}
	code, _, errOut := check("pat-eu1-wrong")
	if code != 1 || !strings.Contains(errOut, "HUBSPOT_TOKEN: HubSpot refuses it (HTTP 401)") {
		t.Errorf("wrong token: exit %d, stderr %q; want 1 naming HUBSPOT_TOKEN", code, errOut)
	}
}
