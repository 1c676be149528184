package crm

import (
	"strings"
	"testing"
	"time"
)

// The Standard Webhooks published test vector: TestWebhookSign in
// github.com/standard-webhooks/standard-webhooks, libraries/go/webhook_test.go.
const (
	vectorSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTimestamp = 1614265330
	vectorBody      = `{"test": 2432232314}`
	vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSign_StandardWebhooksTestVector(t *testing.T) {
	t.Parallel()
	keys, err := ParseSecrets(vectorSecret)
	if err != nil {
		t.Fatal(err)
	}
	if got := Sign(keys, vectorID, time.Unix(vectorTimestamp, 0), []byte(vectorBody)); got != vectorSignature {
		t.Errorf("Sign = %q, want the published %q", got, vectorSignature)
	}
}

func TestSign_RotationSignsWithEverySecret(t *testing.T) {
	t.Parallel()
	keys, err := ParseSecrets(" whsec_bmV3LXNlY3JldC1rZXk= , " + vectorSecret)
	if err != nil {
		t.Fatal(err)
	}
	sigs := strings.Split(Sign(keys, vectorID, time.Unix(vectorTimestamp, 0), []byte(vectorBody)), " ")
	if len(sigs) != 2 || sigs[1] != vectorSignature || sigs[0] == vectorSignature || !strings.HasPrefix(sigs[0], "v1,") {
		t.Errorf("signatures = %q, want one per secret, space-separated, the old one last as published", sigs)
	}
}

func TestParseSecrets(t *testing.T) {
	t.Parallel()
	keys, err := ParseSecrets("plain-secret")
	if err != nil || len(keys) != 1 || string(keys[0]) != "plain-secret" {
		t.Errorf("a raw secret = %q, %v; want its own bytes as the key", keys, err)
	}
	for _, bad := range []string{"", " , ", "whsec_not base64!", "whsec_"} {
		if _, err := ParseSecrets(bad); err == nil {
			t.Errorf("ParseSecrets(%q) = nil error, want one", bad)
		}
	}
}

func TestWebhook_Hears(t *testing.T) {
	t.Parallel()
	if !(Webhook{}).Hears("lead.outcome") {
		t.Error("a webhook with no events listed does not hear lead.outcome; want all events")
	}
	w := Webhook{Events: []string{"lead.decided"}}
	if !w.Hears("lead.decided") || w.Hears("lead.created") {
		t.Error("a webhook for lead.decided hears the wrong events")
	}
}
