package intake_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/triage"
)

// A webhook delivery the receiver refused is listed with its lane, receiver
// and event, never with the lead it carries, and can be sent again.
func TestServer_DeadLetters_Webhooks(t *testing.T) {
	t.Parallel()
	auth := map[string]string{"Authorization": "Bearer " + apiToken}
	e := newEnv(t)
	ctx := context.Background()
	snap := triage.Lead{ID: 1, Status: triage.StatusQualified, Company: "Geheim BV", Email: "jan+CANARY@geheim.example"}
	if err := e.store.Enqueue(ctx, triage.OutboxItem{
		Kind: triage.OutboxWebhook, Lead: 1, Channel: "https://hooks.example/in", Text: triage.EventTypeDecided,
		Snapshot: &snap, CreatedAt: epoch,
	}); err != nil {
		t.Fatal(err)
	}
	if err := e.store.DeadLetter(ctx, 1, "HTTP 400: bad payload"); err != nil {
		t.Fatal(err)
	}
	w := e.do(t, request{method: http.MethodGet, path: "/api/deadletters", header: auth})
	if w.Code != 200 {
		t.Fatalf("GET /api/deadletters = %d %s", w.Code, w.Body)
	}
	if body := w.Body.String(); strings.Contains(body, "CANARY") || strings.Contains(body, "Geheim") {
		t.Errorf("the dead-letter list shows the lead's data: %s", body)
	}
	var got struct {
		DeadLetters []map[string]any `json:"deadletters"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"kind": "webhook", "lane": "crm", "url": "https://hooks.example/in", "event": "lead.decided", "lead": "L-1", "error": "HTTP 400: bad payload"}
	if len(got.DeadLetters) != 1 {
		t.Fatalf("dead letters = %v", got.DeadLetters)
	}
	for k, v := range want {
		if got.DeadLetters[0][k] != v {
			t.Errorf("dead letter %s = %v, want %v", k, got.DeadLetters[0][k], v)
		}
	}
	if _, ok := got.DeadLetters[0]["channel"]; ok {
		t.Errorf("a webhook dead letter shows a channel: %v", got.DeadLetters[0])
	}

	w = e.do(t, request{method: http.MethodPost, path: fmt.Sprintf("/api/deadletters/%d/retry", 1), header: auth})
	if w.Code != 200 {
		t.Fatalf("retry = %d %s", w.Code, w.Body)
	}
	crm, ok := e.store.(interface {
		DueCRM(context.Context, time.Time, int) ([]triage.OutboxItem, error)
	})
	if !ok {
		t.Fatal("the test store has no crm lane")
	}
	due, err := crm.DueCRM(ctx, epoch, 0)
	if err != nil || len(due) != 1 || due[0].ID != 1 || due[0].Snapshot == nil || due[0].Snapshot.Company != "Geheim BV" {
		t.Errorf("after the retry the crm lane = %+v, %v; want the delivery with its lead", due, err)
	}
	if slack, _ := e.store.DueOutbox(ctx, epoch, 0); len(slack) != 0 {
		t.Errorf("the retried webhook went to the Slack lane: %+v", slack)
	}
}
