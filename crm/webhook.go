package crm

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
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

// webhookSender delivers the [[webhooks]]: one OutboxWebhook item per
// receiver that hears the event, Channel holding its URL.
type webhookSender struct{ w *Worker }

func (s *webhookSender) Kind() triage.OutboxKind { return triage.OutboxWebhook }

func (s *webhookSender) Expand(ev triage.OutboxItem) []triage.OutboxItem {
	var out []triage.OutboxItem
	for _, h := range s.w.cfg.Webhooks {
		if h.Hears(ev.Text) {
			out = append(out, triage.OutboxItem{
				Kind: triage.OutboxWebhook, Lead: ev.Lead, Channel: h.URL, Text: ev.Text,
				Snapshot: ev.Snapshot, CreatedAt: ev.CreatedAt,
			})
		}
	}
	return out
}

// Envelope is the body of every outgoing webhook.
type Envelope struct {
	Type      string `json:"type"`
	Timestamp string `json:"timestamp"` // RFC 3339, when the event happened
	Data      any    `json:"data"`      // the lead as the API shows it, as it was then
}

// WebhookID is the webhook-id of delivery item id: the same on every attempt,
// so receivers dedupe on it.
func WebhookID(id uint64) string {
	return "msg_lt" + strconv.FormatUint(id, 10)
}

// body renders a delivery's body from its item: the same bytes on every
// attempt.
func (s *webhookSender) body(it triage.OutboxItem) ([]byte, error) {
	if it.Snapshot == nil {
		return nil, errors.New("the event carries no lead")
	}
	l := *it.Snapshot
	l.ID = it.Lead // a lead.created snapshot was taken before the id existed
	return json.Marshal(Envelope{Type: it.Text, Timestamp: it.CreatedAt.UTC().Format(time.RFC3339), Data: s.w.cfg.Render(l)})
}

// Send posts one signed attempt; a non-2xx answer is a *StatusError.
func (s *webhookSender) Send(ctx context.Context, it triage.OutboxItem) error {
	if !slices.ContainsFunc(s.w.cfg.Webhooks, func(h Webhook) bool { return h.URL == it.Channel }) {
		// Removed from [[webhooks]] since: it no longer wants to hear.
		return Permanent(errors.New("the receiver is no longer in [[webhooks]]"))
	}
	body, err := s.body(it)
	if err != nil {
		return Permanent(fmt.Errorf("rendering the body: %w", err))
	}
	id, at := WebhookID(it.ID), s.w.now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, it.Channel, bytes.NewReader(body))
	if err != nil {
		return Permanent(fmt.Errorf("building the request: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "leadtriage-webhooks")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
	req.Header.Set("webhook-signature", Sign(s.w.cfg.Secrets, id, at, body))
	resp, err := s.w.cfg.Client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			// A receiver's URL may carry its secret (a token in the path or
			// query): the error that is logged and kept names the host only.
			return fmt.Errorf("posting to %s: %w", receiverHost(it.Channel), ue.Err)
		}
		return fmt.Errorf("posting: %w", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody+1))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	return statusError(resp, answer, s.w.now())
}

// receiverHost is what logs and errors say of a receiver: its scheme and
// host, never the path or query, which may hold the receiver's secret.
func receiverHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "the receiver"
	}
	return u.Scheme + "://" + u.Host
}
