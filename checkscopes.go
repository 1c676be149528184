package main

import (
	_ "embed"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

//go:embed manifest.yml
var manifestYAML []byte

// optionalScopes are asked for by the manifest but needed only with some
// configuration: scope → whether cfg needs it.
var optionalScopes = map[string]func(Config) bool{
	"usergroups:read": func(c Config) bool { return len(c.Access.Usergroups) > 0 },
}

// manifestScopes are the bot scopes manifest.yml asks for.
func manifestScopes() ([]string, error) {
	var m struct {
		OAuth struct {
			Scopes struct {
				Bot []string `yaml:"bot"`
			} `yaml:"scopes"`
		} `yaml:"oauth_config"`
	}
	if err := yaml.Unmarshal(manifestYAML, &m); err != nil {
		return nil, fmt.Errorf("reading the embedded manifest: %w", err)
	}
	return m.OAuth.Scopes.Bot, nil
}

// scopeRecorder keeps the X-OAuth-Scopes header of auth.test's answer, in
// which Slack names the scopes the token has.
type scopeRecorder struct {
	next   http.RoundTripper
	mu     sync.Mutex
	scopes string
	seen   bool
}

func (r *scopeRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err == nil && strings.HasSuffix(req.URL.Path, "auth.test") {
		r.mu.Lock()
		r.scopes, r.seen = resp.Header.Get("X-OAuth-Scopes"), resp.Header.Get("X-OAuth-Scopes") != ""
		r.mu.Unlock()
	}
	return resp, err
}

// missingScopes compares the scopes auth.test named with the manifest's;
// ok is false when Slack named none (nothing to compare).
func (r *scopeRecorder) missingScopes(cfg Config) (missing []string, ok bool, err error) {
	r.mu.Lock()
	have, seen := r.scopes, r.seen
	r.mu.Unlock()
	if !seen {
		return nil, false, nil
	}
	want, err := manifestScopes()
	if err != nil {
		return nil, false, err
	}
	got := strings.Split(have, ",")
	for i := range got {
		got[i] = strings.TrimSpace(got[i])
	}
	for _, s := range want {
		if need, optional := optionalScopes[s]; optional && !need(cfg) {
			continue
		}
		if !slices.Contains(got, s) {
			missing = append(missing, s)
		}
	}
	return missing, true, nil
}
