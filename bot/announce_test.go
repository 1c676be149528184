package bot_test

import (
	"strings"
	"testing"

	"github.com/leadtriage/leadtriage/triage"
)

// An import's summary is posted to the channel as a message of its own,
// before the cards queued after it.
func TestBot_DeliverDue_ImportSummary(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, obBlindPolicy)
	h.enqueue(triage.OutboxItem{Kind: triage.OutboxAnnounce, Channel: obChannel, CreatedAt: obT0,
		Notice: &triage.Notice{Kind: triage.NoticeImported, Count: 7, Repeats: 1, Source: "beurs <!channel>"}})
	h.submit("Acme")
	h.drain(10)
	msgs := h.fake.Messages(obChannel)
	if len(msgs) < 2 {
		t.Fatalf("channel holds %d messages, want the summary and the card", len(msgs))
	}
	want := "Imported 7 leads from beurs &lt;!channel&gt;. 1 was already there. Their cards follow here at Slack's pace."
	if msgs[0].Text != want {
		t.Errorf("first message = %q, want %q", msgs[0].Text, want)
	}
	if _, text := blockTexts(t, msgs[0].Blocks); text != want {
		t.Errorf("summary blocks say %q", text)
	}
	if strings.Contains(msgs[1].Text, "Imported") {
		t.Errorf("second message %q, want the card", msgs[1].Text)
	}
}
