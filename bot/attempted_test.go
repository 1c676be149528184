package bot_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/bot"
	"github.com/leadtriage/leadtriage/storage/storagetest"
	"github.com/leadtriage/leadtriage/triage"
)

// recordFailingStore fails every CompleteOutbox while failing is set: Slack
// took the post, but the bot cannot record it (a full disk, or a crash in
// that instant).
type recordFailingStore struct {
	fullStore
	failing atomic.Bool
	failed  atomic.Int32
}

var errDiskFull = errors.New("write: no space left on device")

func (s *recordFailingStore) CompleteOutbox(ctx context.Context, id uint64, seq int, fn func(*triage.Lead) error) error {
	if s.failing.Load() {
		s.failed.Add(1)
		return errDiskFull
	}
	return s.fullStore.CompleteOutbox(ctx, id, seq, fn)
}

// newBot builds a bot, and the service it records posts through, over
// store, as a (re)start does: nothing in memory.
func (h *obHarness) newBot(store fullStore) *bot.Bot {
	svc := &triage.Service{Store: store, Policy: h.pol, Channel: obChannel, Now: h.clock.Now}
	return bot.New(bot.Config{Channel: obChannel, Policy: h.pol, Now: h.clock.Now}, h.fake.Client(), svc, store, nil)
}

// pass runs one DeliverDue of b at the current fake time; a store error is
// the expected outcome while the store fails, so it is returned.
func (h *obHarness) pass(b *bot.Bot) error {
	_, err := b.DeliverDue(context.Background(), h.clock.Now())
	return err
}

// TestBot_DeliverDue_RestartAdoptsAttemptedCard: the bot dies after Slack
// took the card but before it recorded it. The item was marked attempted in
// the file before the call, so after a restart (the real bbolt file
// reopened) the card is found by its metadata and adopted, not posted again
// (issue 10, item 3; RELIABILITY D12).
func TestBot_DeliverDue_RestartAdoptsAttemptedCard(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, obBlindPolicy)
	l := h.submit("Acme")
	crashing := &recordFailingStore{fullStore: h.db}
	crashing.failing.Store(true)
	if err := h.pass(h.newBot(crashing)); !errors.Is(err, errDiskFull) {
		t.Fatalf("pass with a failing record: %v, want the store's error", err)
	}
	posted := h.okCalls("chat.postMessage")
	if len(posted) != 1 {
		t.Fatalf("%d posts before the crash, want 1", len(posted))
	}
	cardTS := h.fake.Messages(obChannel)[0].TS

	h.db = storagetest.MustReopen(t, h.db)
	h.wire()
	for _, it := range h.due() {
		if it.Kind == triage.OutboxPostCard && it.Attempted.IsZero() {
			t.Fatalf("post item after the restart is not marked attempted: %+v", it)
		}
	}
	h.clock.Advance(time.Second)
	h.drain(10)

	if n := len(h.fake.Calls("chat.postMessage")); n != 1 {
		t.Errorf("%d chat.postMessage calls, want 1: the card was posted again", n)
	}
	if n := len(h.okCalls("conversations.history")); n != 1 {
		t.Errorf("%d conversations.history calls, want 1 (the look-up after the restart)", n)
	}
	got := h.lead(l.ID)
	if got.Slack.TS != cardTS || got.Slack.Channel != obChannel {
		t.Errorf("lead's card = %+v, want the card posted before the crash (%s)", got.Slack, cardTS)
	}
	if n := len(h.fake.Messages(obChannel)); n != 1 {
		t.Errorf("%d messages in the channel, want the one card", n)
	}
}

// TestBot_DeliverDue_RestartPostsUnsentAttempt: the bot died after marking
// the post attempted but before Slack got it. The look-up finds nothing,
// and the card is posted once.
func TestBot_DeliverDue_RestartPostsUnsentAttempt(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, obBlindPolicy)
	l := h.submit("Acme")
	due := h.due()
	if err := h.db.MarkAttempted(context.Background(), due[0].ID, h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	h.db = storagetest.MustReopen(t, h.db)
	h.wire()
	h.drain(10)
	if n := len(h.okCalls("conversations.history")); n != 1 {
		t.Errorf("%d conversations.history calls, want 1", n)
	}
	if n := len(h.okCalls("chat.postMessage")); n != 1 {
		t.Fatalf("%d chat.postMessage calls, want 1", n)
	}
	if got := h.lead(l.ID); got.Slack.TS != h.fake.Messages(obChannel)[0].TS {
		t.Errorf("lead's card = %+v, want the posted one", got.Slack)
	}
}

// TestBot_DeliverDue_FailingRecordPostsOnce: recording a card that Slack
// took keeps failing, pass after pass and across a restart. The card is
// posted once: the worker remembers where it landed, and after the restart
// finds it by its metadata, until the record succeeds.
func TestBot_DeliverDue_FailingRecordPostsOnce(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, obBlindPolicy)
	l := h.submit("Acme")
	st := &recordFailingStore{fullStore: h.db}
	st.failing.Store(true)
	b := h.newBot(st)
	for range 10 {
		if err := h.pass(b); !errors.Is(err, errDiskFull) {
			t.Fatalf("pass: %v, want the store's error", err)
		}
		h.clock.Advance(time.Second)
	}
	if n := len(h.fake.Calls("chat.postMessage")); n != 1 {
		t.Fatalf("%d chat.postMessage calls in 10 passes with a failing record, want 1", n)
	}
	if n := len(h.fake.Calls("conversations.history")); n != 0 {
		t.Errorf("%d conversations.history calls, want 0: the worker knows where the card is", n)
	}

	// A restart while the disk is still full: looked up, never posted.
	b = h.newBot(st)
	for range 5 {
		if err := h.pass(b); !errors.Is(err, errDiskFull) {
			t.Fatalf("pass after the restart: %v, want the store's error", err)
		}
		h.clock.Advance(time.Second)
	}
	if n := len(h.fake.Calls("chat.postMessage")); n != 1 {
		t.Fatalf("%d chat.postMessage calls after a restart, want 1", n)
	}

	st.failing.Store(false)
	for range 10 {
		if err := h.pass(b); err != nil {
			t.Fatal(err)
		}
		if len(h.due()) == 0 {
			break
		}
		h.clock.Advance(time.Second)
	}
	if left := h.due(); len(left) != 0 {
		t.Fatalf("outbox not empty after the store healed: %+v", left)
	}
	if n := len(h.fake.Calls("chat.postMessage")); n != 1 {
		t.Errorf("%d chat.postMessage calls in all, want 1", n)
	}
	if got, want := h.lead(l.ID).Slack.TS, h.fake.Messages(obChannel)[0].TS; got != want {
		t.Errorf("recorded card ts %q, want %q", got, want)
	}
	if st.failed.Load() < 15 {
		t.Errorf("only %d failed records: the test did not exercise the failure", st.failed.Load())
	}
}

// TestBot_DeliverDue_AdoptsCardBeyondFirstPage: after a restart the channel
// has moved on by more than a page of history; the look-up reads back to the
// time of the attempt and still finds the card. The fake issues ts values
// from 1700000000, so the clock is set there to agree with it.
func TestBot_DeliverDue_AdoptsCardBeyondFirstPage(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, obBlindPolicy)
	h.clock.Set(time.Unix(1700000000, 0).UTC())
	l := h.submit("Acme")
	st := &recordFailingStore{fullStore: h.db}
	st.failing.Store(true)
	if err := h.pass(h.newBot(st)); !errors.Is(err, errDiskFull) {
		t.Fatalf("pass: %v, want the store's error", err)
	}
	cardTS := h.fake.Messages(obChannel)[0].TS
	for i := range 250 {
		h.fake.PostAsUser(obChannel, "UCHATTY", fmt.Sprintf("message %d", i), "")
	}
	h.db = storagetest.MustReopen(t, h.db)
	h.wire()
	h.clock.Advance(time.Minute)
	h.drain(10)
	if n := len(h.fake.Calls("chat.postMessage")); n != 1 {
		t.Errorf("%d chat.postMessage calls, want 1", n)
	}
	if n := len(h.okCalls("conversations.history")); n != 3 {
		t.Errorf("%d conversations.history pages read, want 3 (250 newer messages, then the card)", n)
	}
	if got := h.lead(l.ID).Slack.TS; got != cardTS {
		t.Errorf("lead's card ts %q, want %q", got, cardTS)
	}
}

// TestBot_DeliverDue_RestartAdoptsAttemptedChecklist: as for the card, a
// checklist that Slack took before a crash is found in the card's thread
// after the restart and adopted.
func TestBot_DeliverDue_RestartAdoptsAttemptedChecklist(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, obCriteriaPolicy)
	l := h.submitCardOnly("Acme")
	h.drain(10)
	h.enqueue(triage.OutboxItem{Kind: triage.OutboxPostChecklist, Lead: l.ID, Channel: obChannel, CreatedAt: obT0})
	crashing := &recordFailingStore{fullStore: h.db}
	crashing.failing.Store(true)
	if err := h.pass(h.newBot(crashing)); !errors.Is(err, errDiskFull) {
		t.Fatalf("pass with a failing record: %v, want the store's error", err)
	}

	h.db = storagetest.MustReopen(t, h.db)
	h.wire()
	h.clock.Advance(time.Second)
	h.drain(10)
	ref := h.lead(l.ID).Slack
	got := h.thread(ref.TS)
	if len(got) != 1 {
		t.Fatalf("checklists in the thread = %d, want exactly 1", len(got))
	}
	if ref.ChecklistTS != got[0].TS {
		t.Errorf("ChecklistTS = %q, want the adopted %q", ref.ChecklistTS, got[0].TS)
	}
	if n := len(h.okCalls("conversations.replies")); n != 1 {
		t.Errorf("conversations.replies calls = %d, want 1", n)
	}
}

// goneStore answers MarkAttempted as if the lead had been purged between
// listing the item and posting it.
type goneStore struct{ fullStore }

func (goneStore) MarkAttempted(context.Context, uint64, time.Time) error {
	return fmt.Errorf("marking outbox item: %w", triage.ErrNotFound)
}

// TestBot_DeliverDue_PurgedBeforePost: an item that is gone when it is to
// be marked attempted is not posted, and the pass goes on without error.
func TestBot_DeliverDue_PurgedBeforePost(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, obBlindPolicy)
	h.submit("Acme")
	if err := h.pass(h.newBot(goneStore{h.db})); err != nil {
		t.Fatalf("pass: %v", err)
	}
	if n := len(h.fake.Calls("chat.postMessage")); n != 0 {
		t.Errorf("%d chat.postMessage calls for a purged item, want 0", n)
	}
}
