package bot

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
)

// Redacting a lead from a posted digest part (as Slack returns its blocks)
// gives the blocks of the part rendered without that lead: its line goes,
// its section's count drops, and a section left empty goes with its hint.
func TestWithoutDigestLead(t *testing.T) {
	t.Parallel()
	second := digestLead(2, "Delta Ltd", 120*24*time.Hour)
	second.Status, second.DecidedAt, second.Reason = triage.StatusDisqualified, time.Date(2026, 8, 31, 22, 30, 0, 0, time.UTC), "Too small"
	qualified := digestLead(1, "Gamma BV", 5*24*time.Hour)
	qualified.Status, qualified.DecidedAt, qualified.Reason = triage.StatusQualified, digestNow.Add(-20*time.Hour), "Budget <confirmed>"
	part := triage.DigestPart{
		Key: "digest|k", Part: 1, Parts: 2, Day: digestNow,
		Pending: []triage.DigestLead{digestLead(3, "Acme <!channel> & Sons", 52*time.Hour), digestLead(13, "Beta *L-3* GmbH", time.Hour)},
		Decided: []triage.DigestLead{qualified}, Revisit: []triage.DigestLead{second}, Week: sampleWeek(),
	}
	drop := func(leads []triage.DigestLead, id triage.LeadID) []triage.DigestLead {
		return slices.DeleteFunc(slices.Clone(leads), func(l triage.DigestLead) bool { return l.ID == id })
	}
	for _, w := range []words{english, newWords(LangDutch)} {
		_, posted := digestWords{w}.part(part, testPermalink, time.UTC, digestNow)
		// What conversations.history gives back: the blocks as JSON.
		var fromSlack slack.Blocks
		if err := json.Unmarshal(blocksJSON(t, posted), &fromSlack); err != nil {
			t.Fatal(err)
		}
		for _, id := range []triage.LeadID{3, 13, 1, 2} {
			got, changed := withoutDigestLead(fromSlack.BlockSet, id)
			if !changed {
				t.Errorf("%s: not found", id)
			}
			want := part
			want.Pending, want.Decided, want.Revisit = drop(part.Pending, id), drop(part.Decided, id), drop(part.Revisit, id)
			_, wantBlocks := digestWords{w}.part(want, testPermalink, time.UTC, digestNow)
			if g, wb := string(blocksJSON(t, got)), string(blocksJSON(t, wantBlocks)); g != wb {
				t.Errorf("without %s:\n got %s\nwant %s", id, g, wb)
			}
		}
		if _, changed := withoutDigestLead(fromSlack.BlockSet, 99); changed {
			t.Errorf("L-99 is in no line, but the part changed")
		}
	}
}
