package crm

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/leadtriage/leadtriage/triage"
)

// Webhook is one receiver of outgoing webhooks ([[webhooks]]).
type Webhook struct {
	URL string
	// Events are the event types it hears (triage.EventTypes); empty: all.
	Events []string
}

// Hears reports whether w receives events of type typ.
func (w Webhook) Hears(typ string) bool {
	return len(w.Events) == 0 || slices.Contains(w.Events, typ)
}

// Validate checks one receiver; field names the config key in errors.
func (w Webhook) Validate() error {
	u, err := url.Parse(w.URL)
	if err != nil || !u.IsAbs() || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("url %q is not an absolute http or https URL", w.URL)
	}
	seen := map[string]bool{}
	for _, e := range w.Events {
		if !slices.Contains(triage.EventTypes, e) {
			return fmt.Errorf("events: %q is not one of %s", e, strings.Join(triage.EventTypes, ", "))
		}
		if seen[e] {
			return fmt.Errorf("events: %q is listed twice", e)
		}
		seen[e] = true
	}
	return nil
}

// secretPrefix marks a Standard Webhooks secret: the key is the base64 after it.
const secretPrefix = "whsec_"

// ParseSecrets reads LEADTRIAGE_WEBHOOK_SECRET: one secret, or several
// separated by commas while one is rotated out (each delivery is then signed
// with every one). A secret of the form whsec_<base64> (what the Standard
// Webhooks libraries take) is keyed with the decoded bytes; any other secret
// with its own bytes as written.
func ParseSecrets(s string) ([][]byte, error) {
	var keys [][]byte
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if b64, ok := strings.CutPrefix(part, secretPrefix); ok {
			key, err := base64.StdEncoding.DecodeString(b64)
			if err != nil {
				return nil, fmt.Errorf("a %s secret must be base64 after the prefix: %w", secretPrefix, err)
			}
			if len(key) == 0 {
				return nil, errors.New("a " + secretPrefix + " secret is empty after the prefix")
			}
			keys = append(keys, key)
			continue
		}
		keys = append(keys, []byte(part))
	}
	if len(keys) == 0 {
		return nil, errors.New("no secret")
	}
	return keys, nil
}

// Sign returns the webhook-signature header of body sent as message id at
// ts: "v1,<base64 HMAC-SHA256 of id.ts.body>" per key, space-separated, as
// the Standard Webhooks spec allows for rotation.
func Sign(keys [][]byte, id string, ts time.Time, body []byte) string {
	sigs := make([]string, 0, len(keys))
	for _, k := range keys {
		mac := hmac.New(sha256.New, k)
		mac.Write([]byte(id + "." + strconv.FormatInt(ts.Unix(), 10) + "."))
		mac.Write(body)
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	return strings.Join(sigs, " ")
}
