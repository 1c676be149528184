package triagetest_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/leadtriage/leadtriage/triage/triagetest"
)

// Payloads go in and out as copies, like leads.
func TestStore_PayloadIsCopied(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := &triagetest.Store{}
	payload := []byte(`{"Part":1}`)
	if first, err := s.MarkJob(ctx, "digest|a", now, []triage.OutboxItem{{Kind: triage.OutboxDigest, Channel: "C1", Payload: payload}}); err != nil || !first {
		t.Fatalf("MarkJob = %v, %v", first, err)
	}
	payload[2] = 'X'
	due, err := s.DueOutbox(ctx, now, 0)
	if err != nil || len(due) != 1 {
		t.Fatalf("DueOutbox = %+v, %v", due, err)
	}
	due[0].Payload[3] = 'Y'
	if diff := cmp.Diff(`{"Part":1}`, string(s.Outbox()[0].Payload)); diff != "" {
		t.Errorf("stored payload changed from outside (-want +got):\n%s", diff)
	}
}

// MarkJob writes the marker and the items together: a failing write leaves
// neither, so a retry runs the job.
func TestStore_MarkJob_FailureWritesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := &triagetest.Store{}
	s.EnqueueFn = func(context.Context, ...triage.OutboxItem) error { return context.DeadlineExceeded }
	if _, err := s.MarkJob(ctx, "digest|a", now, []triage.OutboxItem{{Kind: triage.OutboxDigest}}); err == nil {
		t.Fatal("MarkJob succeeded despite the failing hook")
	}
	if _, _, ok, _ := s.LastJob(ctx, "digest|"); ok || len(s.Outbox()) != 0 {
		t.Errorf("after a failed MarkJob: marker %v, outbox %+v; want neither", ok, s.Outbox())
	}
	s.EnqueueFn = nil
	if first, err := s.MarkJob(ctx, "digest|a", now, []triage.OutboxItem{{Kind: triage.OutboxDigest}}); err != nil || !first {
		t.Errorf("retry = %v, %v; want the first run", first, err)
	}
}
