package storage

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/leadtriage/leadtriage/triage"
)

// A draft notice an older version queued holds the draft worded (subject
// and body, no facts): it still reads, so the bot shows it as it was.
func TestNoticeRecord_WordedDraftFromBefore(t *testing.T) {
	t.Parallel()
	// As encodeNotice wrote it before drafts were stored as facts.
	stored := `{"kind":"decline_draft","lead":7,"partner":"Smith & Co","tally":[0,0,0],` +
		`"draft":{"language":"nl","subject":"Uw aanvraag voor Acme","body":"Beste Jan,\n\nHartelijk dank."}}`
	var r noticeRecord
	if err := json.Unmarshal([]byte(stored), &r); err != nil {
		t.Fatal(err)
	}
	want := &triage.Notice{Kind: triage.NoticeDeclineDraft, Lead: 7, Partner: "Smith & Co",
		Draft: &triage.Draft{Language: "nl", Subject: "Uw aanvraag voor Acme", Body: "Beste Jan,\n\nHartelijk dank."}}
	if diff := cmp.Diff(want, r.decode()); diff != "" {
		t.Errorf("decoded (-want +got):\n%s", diff)
	}
}
