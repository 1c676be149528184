package triage_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/leadtriage/leadtriage/triage/triagetest"
)

// The digest tests run on Tuesday 1 December 2026, 09:00 in Amsterdam; the
// previous digest ran on Monday at the same time.
var (
	digestNow  = time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	digestPrev = digestNow.Add(-24 * time.Hour)
)

type digestSeed struct {
	company   string
	status    triage.Status
	created   time.Time
	decided   time.Time // zero for pending leads
	revisited time.Time
	votes     int
	flags     []string
}

// seedDigest stores the leads (ids in order, from 1) and returns a service
// over them.
func seedDigest(t *testing.T, seeds ...digestSeed) (*triage.Service, *triagetest.Store) {
	t.Helper()
	st := &triagetest.Store{}
	for i, sd := range seeds {
		l := triage.Lead{Company: sd.company, Status: sd.status, CreatedAt: sd.created,
			Slack:  triage.SlackRef{Channel: channel, TS: fmt.Sprintf("1700000000.%06d", i+1)},
			Events: []triage.Event{{At: sd.created, Kind: triage.EventCreated}}}
		for v := range sd.votes {
			if l.Votes == nil {
				l.Votes = map[string]triage.Choice{}
			}
			u := fmt.Sprintf("U%d", v+1)
			l.Votes[u] = triage.ChoiceQualify
			l.Events = append(l.Events, triage.Event{At: sd.created.Add(time.Duration(v+1) * time.Hour), Kind: triage.EventVoted, By: u})
		}
		for _, c := range sd.flags {
			l.Research.Flags = append(l.Research.Flags, triage.Flag{Code: c})
		}
		if sd.status != triage.StatusPending {
			l.Decision = &triage.Decision{Outcome: sd.status, Reason: "reason " + sd.company, By: teamLead, At: sd.decided}
		}
		l.Reminder.Revisited = sd.revisited
		if _, _, err := st.CreateLead(context.Background(), l, triage.Idempotency{}, nil); err != nil {
			t.Fatal(err)
		}
	}
	clock := triagetest.NewClock(digestNow)
	return &triage.Service{Store: st, Policy: triage.Policy{Quorum: 3, Blind: true, Auto: true, TeamLead: teamLead}, Channel: channel, Now: clock.Now}, st
}

// digestIDs lists a part's sections as ids.
type digestIDs struct {
	Part, Parts               int
	Pending, Decided, Revisit []triage.LeadID
	Week, Empty               bool
}

func idsOf(parts []triage.DigestPart) []digestIDs {
	ids := func(ls []triage.DigestLead) []triage.LeadID {
		var out []triage.LeadID
		for _, l := range ls {
			out = append(out, l.ID)
		}
		return out
	}
	var out []digestIDs
	for _, p := range parts {
		out = append(out, digestIDs{p.Part, p.Parts, ids(p.Pending), ids(p.Decided), ids(p.Revisit), p.Week != nil, p.Empty})
	}
	return out
}

func TestService_BuildDigest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ams := mustLoad(t, "Europe/Amsterdam")
	day := 24 * time.Hour
	svc, _ := seedDigest(t,
		digestSeed{company: "Newer pending", status: triage.StatusPending, created: digestNow.Add(-2 * day), votes: 2,
			flags: []string{triage.FlagDisposableEmail, triage.FlagDuplicate, triage.FlagFreeEmail, triage.FlagResearchIncomplete}}, // 1
		digestSeed{company: "Older pending", status: triage.StatusPending, created: digestNow.Add(-20 * day)},                                                      // 2
		digestSeed{company: "Qualified since", status: triage.StatusQualified, created: digestNow.Add(-3 * day), decided: digestPrev.Add(4 * time.Hour), votes: 3}, // 3
		digestSeed{company: "Disqualified before", status: triage.StatusDisqualified, created: digestNow.Add(-4 * day), decided: digestPrev.Add(-time.Second)},     // 4
		digestSeed{company: "Referred at since", status: triage.StatusReferred, created: digestNow.Add(-4 * day), decided: digestPrev},                             // 5
		digestSeed{company: "Decided at now", status: triage.StatusQualified, created: digestNow.Add(-4 * day), decided: digestNow},                                // 6
		digestSeed{company: "Revisit due", status: triage.StatusDisqualified, created: digestNow.Add(-100 * day), decided: digestNow.Add(-90 * day)},               // 7
		digestSeed{company: "Revisit not yet", status: triage.StatusDisqualified, created: digestNow.Add(-100 * day), decided: digestNow.Add(-89 * day)},           // 8
		digestSeed{company: "Revisited already", status: triage.StatusDisqualified, created: digestNow.Add(-200 * day), decided: digestNow.Add(-190 * day),
			revisited: digestNow.Add(-100 * day)}, // 9
		digestSeed{company: "Revisited, then disqualified again", status: triage.StatusDisqualified, created: digestNow.Add(-300 * day), decided: digestNow.Add(-95 * day),
			revisited: digestNow.Add(-200 * day)}, // 10
		digestSeed{company: "Referred long ago", status: triage.StatusReferred, created: digestNow.Add(-300 * day), decided: digestNow.Add(-295 * day)}, // 11
	)
	o := triage.DigestOptions{Channel: "CDIGEST", Location: ams, RevisitAfter: 90 * day}
	parts, revisit, err := svc.BuildDigest(ctx, digestPrev, digestNow, o)
	if err != nil {
		t.Fatal(err)
	}
	want := []digestIDs{{Part: 1, Parts: 1, Pending: []triage.LeadID{2, 1}, Decided: []triage.LeadID{5, 3}, Revisit: []triage.LeadID{10, 7}, Week: true}}
	if diff := cmp.Diff(want, idsOf(parts)); diff != "" {
		t.Fatalf("sections (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]triage.LeadID{10, 7}, revisit); diff != "" {
		t.Errorf("revisit ids (-want +got):\n%s", diff)
	}
	p := parts[0]
	// The bot titles the digest by its day, in the digest's time zone.
	if got := p.Day.In(ams).Format("Mon 2 Jan 2006"); got != "Tue 1 Dec 2026" || p.Title != "" || p.Key != "" {
		t.Errorf("day %q, title %q, key %q", got, p.Title, p.Key)
	}
	wantNewer := triage.DigestLead{ID: 1, Label: "Newer pending", Status: triage.StatusPending, CreatedAt: digestNow.Add(-2 * day), Votes: 2,
		Flags: []string{triage.FlagDisposableEmail, triage.FlagDuplicate}, Channel: channel, TS: "1700000000.000001"}
	if diff := cmp.Diff(wantNewer, p.Pending[1]); diff != "" {
		t.Errorf("pending lead (-want +got):\n%s", diff)
	}
	wantQualified := triage.DigestLead{ID: 3, Label: "Qualified since", Status: triage.StatusQualified, CreatedAt: digestNow.Add(-3 * day), Votes: 3, Revealed: true,
		Channel: channel, TS: "1700000000.000003", DecidedAt: digestPrev.Add(4 * time.Hour), Reason: "reason Qualified since"}
	if diff := cmp.Diff(wantQualified, p.Decided[1]); diff != "" {
		t.Errorf("decided lead (-want +got):\n%s", diff)
	}
	// Created in the last 7 days: 1, 3, 4, 5, 6; decided after 52h (3),
	// 72h less a second (4), 72h (5) and 96h (6).
	wantWeek := triage.TimingSummary{Since: digestNow.Add(-7 * day), Until: digestNow, Count: 5,
		MedianFirstVote: time.Hour, FirstVotes: 2, MedianDecision: 3*day - time.Second/2, Decisions: 4}
	if diff := cmp.Diff(&wantWeek, p.Week); diff != "" {
		t.Errorf("week (-want +got):\n%s", diff)
	}

	t.Run("NoRevisitWhenZero", func(t *testing.T) {
		t.Parallel()
		o := o
		o.RevisitAfter = 0
		parts, revisit, err := svc.BuildDigest(ctx, digestPrev, digestNow, o)
		if err != nil {
			t.Fatal(err)
		}
		if len(revisit) != 0 || len(parts) != 1 || len(parts[0].Revisit) != 0 {
			t.Errorf("revisit %v, parts %+v; want no second looks", revisit, idsOf(parts))
		}
	})
}

func TestService_BuildDigest_Split(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var seeds []digestSeed
	for i := range 20 {
		seeds = append(seeds, digestSeed{company: fmt.Sprintf("P%d", i+1), status: triage.StatusPending, created: digestNow.Add(-time.Duration(40-i) * time.Hour)})
	}
	for i := range 7 {
		seeds = append(seeds, digestSeed{company: fmt.Sprintf("Q%d", i+1), status: triage.StatusQualified, created: digestNow.Add(-48 * time.Hour),
			decided: digestPrev.Add(time.Duration(i+1) * time.Minute)})
	}
	svc, _ := seedDigest(t, seeds...)
	rng := func(from, to int) []triage.LeadID {
		var out []triage.LeadID
		for i := from; i <= to; i++ {
			out = append(out, triage.LeadID(i))
		}
		return out
	}
	tests := []struct {
		name string
		max  int
		want []digestIDs
	}{
		{"default 15 a part", 0, []digestIDs{
			{Part: 1, Parts: 2, Pending: rng(1, 15)},
			{Part: 2, Parts: 2, Pending: rng(16, 20), Decided: rng(21, 27), Week: true},
		}},
		{"10 a part", 10, []digestIDs{
			{Part: 1, Parts: 3, Pending: rng(1, 10)},
			{Part: 2, Parts: 3, Pending: rng(11, 20)},
			{Part: 3, Parts: 3, Decided: rng(21, 27), Week: true},
		}},
		{"all in one", 27, []digestIDs{{Part: 1, Parts: 1, Pending: rng(1, 20), Decided: rng(21, 27), Week: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			parts, _, err := svc.BuildDigest(ctx, digestPrev, digestNow, triage.DigestOptions{MaxPerPart: tt.max})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, idsOf(parts)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestService_BuildDigest_Empty(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// Only a lead decided long ago (before last month, which the month's
	// first digest reports on): nothing to say.
	svc, _ := seedDigest(t, digestSeed{company: "Old", status: triage.StatusQualified, created: digestNow.Add(-50 * 24 * time.Hour), decided: digestNow.Add(-45 * 24 * time.Hour)})
	parts, _, err := svc.BuildDigest(ctx, digestPrev, digestNow, triage.DigestOptions{RevisitAfter: 90 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]digestIDs{{Part: 1, Parts: 1, Week: true, Empty: true}}, idsOf(parts)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	parts, _, err = svc.BuildDigest(ctx, digestPrev, digestNow, triage.DigestOptions{SkipEmpty: true})
	if err != nil || len(parts) != 0 {
		t.Errorf("SkipEmpty: parts %+v, %v; want none", parts, err)
	}
}

// payloads decodes the digest parts queued in the outbox.
func payloads(t *testing.T, items []triage.OutboxItem) []triage.DigestPart {
	t.Helper()
	var parts []triage.DigestPart
	for _, it := range items {
		if it.Kind != triage.OutboxDigest {
			t.Errorf("unexpected %s item %+v", it.Kind, it)
			continue
		}
		if it.Channel != "CDIGEST" || it.Lead != 0 {
			t.Errorf("digest item to %q about %s; want CDIGEST, no lead", it.Channel, it.Lead)
		}
		var p triage.DigestPart
		if err := json.Unmarshal(it.Payload, &p); err != nil {
			t.Fatalf("payload of item %d: %v", it.ID, err)
		}
		parts = append(parts, p)
	}
	return parts
}

// completeAll delivers every due item.
func completeAll(t *testing.T, st *triagetest.Store, now time.Time) []triage.OutboxItem {
	t.Helper()
	due, err := st.DueOutbox(context.Background(), now, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range due {
		if err := st.CompleteOutbox(context.Background(), it.ID, it.Seq, nil); err != nil {
			t.Fatal(err)
		}
	}
	return due
}

func TestService_RunDigest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ams := mustLoad(t, "Europe/Amsterdam")
	day := 24 * time.Hour
	svc, st := seedDigest(t,
		digestSeed{company: "Pending", status: triage.StatusPending, created: digestNow.Add(-2 * day)},                                                  // 1
		digestSeed{company: "Decided two days ago", status: triage.StatusQualified, created: digestNow.Add(-3 * day), decided: digestNow.Add(-2 * day)}, // 2
		digestSeed{company: "Decided yesterday", status: triage.StatusQualified, created: digestNow.Add(-3 * day), decided: digestNow.Add(-day / 2)},    // 3
		digestSeed{company: "Second look", status: triage.StatusDisqualified, created: digestNow.Add(-100 * day), decided: digestNow.Add(-95 * day)},    // 4
	)
	wakes := 0
	svc.Wake = func() { wakes++ }
	o := triage.DigestOptions{Channel: "CDIGEST", Location: ams, RevisitAfter: 90 * day}

	// No digest ran before: the last 24 hours count as "since".
	key1 := "2026-12-01T09:00 Europe/Amsterdam"
	sent, err := svc.RunDigest(ctx, key1, digestNow, digestNow.Add(time.Minute), o)
	if err != nil || !sent {
		t.Fatalf("first run = %v, %v; want sent", sent, err)
	}
	want := []digestIDs{{Part: 1, Parts: 1, Pending: []triage.LeadID{1}, Decided: []triage.LeadID{3}, Revisit: []triage.LeadID{4}, Week: true}}
	parts := payloads(t, completeAll(t, st, digestNow.Add(time.Minute)))
	if diff := cmp.Diff(want, idsOf(parts)); diff != "" {
		t.Errorf("first digest (-want +got):\n%s", diff)
	}
	if len(parts) == 1 && (parts[0].Key != "digest|"+key1 || parts[0].Day.In(ams).Format("Mon 2 Jan 2006") != "Tue 1 Dec 2026") {
		t.Errorf("key %q, day %s", parts[0].Key, parts[0].Day)
	}
	if wakes == 0 {
		t.Error("RunDigest did not wake the worker")
	}
	l4, err := st.Lead(ctx, 4)
	if err != nil {
		t.Fatal(err)
	}
	if !l4.Reminder.Revisited.Equal(digestNow.Add(time.Minute)) || len(eventsOf(l4, triage.EventRevisit)) != 1 {
		t.Errorf("lead 4 after its second look: Revisited %v, events %+v", l4.Reminder.Revisited, l4.Events)
	}

	// The same run again (a second tick, a catch-up after a restart, the
	// repeated hour of a DST fall-back): nothing.
	sent, err = svc.RunDigest(ctx, key1, digestNow, digestNow.Add(2*time.Hour), o)
	if err != nil || sent {
		t.Errorf("repeat run = %v, %v; want not sent", sent, err)
	}
	if due := completeAll(t, st, digestNow.Add(2*time.Hour)); len(due) != 0 {
		t.Errorf("repeat run queued %+v", due)
	}
	if l4, _ := st.Lead(ctx, 4); len(eventsOf(l4, triage.EventRevisit)) != 1 {
		t.Errorf("the repeat marked lead 4 again: %+v", l4.Events)
	}

	// The preview shows what the next digest would: decided since the run.
	if _, err := svc.Store.UpdateLead(ctx, 1, func(l *triage.Lead) ([]triage.OutboxItem, error) {
		return nil, triage.Decide(l, triage.StatusReferred, "partner fit", teamLead, digestNow.Add(3*time.Hour))
	}); err != nil {
		t.Fatal(err)
	}
	preview, err := svc.DigestFor(ctx, digestNow.Add(4*time.Hour), o)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]digestIDs{{Part: 1, Parts: 1, Decided: []triage.LeadID{1}, Week: true}}, idsOf(preview)); diff != "" {
		t.Errorf("preview (-want +got):\n%s", diff)
	}
	if due := completeAll(t, st, digestNow.Add(4*time.Hour)); len(due) != 0 {
		t.Errorf("the preview queued %+v", due)
	}

	// The next day's run: decided since the previous run, no second look again.
	next := digestNow.Add(day)
	sent, err = svc.RunDigest(ctx, "2026-12-02T09:00 Europe/Amsterdam", next, next, o)
	if err != nil || !sent {
		t.Fatalf("second day = %v, %v; want sent", sent, err)
	}
	parts = payloads(t, completeAll(t, st, next))
	if diff := cmp.Diff([]digestIDs{{Part: 1, Parts: 1, Decided: []triage.LeadID{1}, Week: true}}, idsOf(parts)); diff != "" {
		t.Errorf("second digest (-want +got):\n%s", diff)
	}
	if len(parts) == 1 && parts[0].Day.In(ams).Format("Mon 2 Jan 2006") != "Wed 2 Dec 2026" {
		t.Errorf("day %s", parts[0].Day)
	}
}

// SkipEmpty: nothing is posted, but the run counts as done.
func TestService_RunDigest_SkipEmpty(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, st := seedDigest(t)
	o := triage.DigestOptions{Channel: "CDIGEST", SkipEmpty: true}
	for range 2 {
		sent, err := svc.RunDigest(ctx, "k", digestNow, digestNow, o)
		if err != nil || sent {
			t.Errorf("RunDigest = %v, %v; want not sent", sent, err)
		}
	}
	if due := completeAll(t, st, digestNow); len(due) != 0 {
		t.Errorf("queued %+v", due)
	}
	if key, at, ok, err := st.LastJob(ctx, "digest|"); err != nil || !ok || key != "digest|k" || !at.Equal(digestNow) {
		t.Errorf("LastJob = %q, %v, %v, %v; want the skipped run", key, at, ok, err)
	}
}

func TestDigestKey(t *testing.T) {
	t.Parallel()
	ams := mustLoad(t, "Europe/Amsterdam")
	// 2026-10-25: 02:00-03:00 happens twice in Amsterdam (CEST, then CET).
	firstHalf := time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC)  // 02:30 CEST
	secondHalf := time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC) // 02:30 CET
	if a, b := triage.DigestKey(firstHalf, ams), triage.DigestKey(secondHalf, ams); a != b || a != "2026-10-25T02:30 Europe/Amsterdam" {
		t.Errorf("fall-back repeat: keys %q and %q; want one key", a, b)
	}
	// Every local day gets its own key, both DST days included.
	seen := map[string]bool{}
	for d := time.Date(2026, 3, 27, 9, 0, 0, 0, ams); d.Before(time.Date(2026, 10, 28, 0, 0, 0, 0, ams)); d = d.AddDate(0, 0, 1) {
		k := triage.DigestKey(d, ams)
		if seen[k] {
			t.Fatalf("key %q twice", k)
		}
		seen[k] = true
	}
	if got := triage.DigestKey(time.Date(2026, 3, 29, 9, 0, 0, 0, ams), nil); got != "2026-03-29T07:00 UTC" {
		t.Errorf("nil location: %q", got)
	}
}

// A daily digest across both DST changes of 2026: one digest per local day,
// also when the fall-back day's run ticks twice.
func TestService_RunDigest_DSTDays(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ams := mustLoad(t, "Europe/Amsterdam")
	for _, days := range [][2]time.Time{
		{time.Date(2026, 3, 27, 9, 0, 0, 0, ams), time.Date(2026, 3, 31, 9, 0, 0, 0, ams)},
		{time.Date(2026, 10, 23, 9, 0, 0, 0, ams), time.Date(2026, 10, 27, 9, 0, 0, 0, ams)},
	} {
		svc, st := seedDigest(t, digestSeed{company: "Pending", status: triage.StatusPending, created: days[0].Add(-time.Hour)})
		o := triage.DigestOptions{Channel: "CDIGEST", Location: ams}
		sent := 0
		for d := days[0]; !d.After(days[1]); d = d.AddDate(0, 0, 1) {
			// Each run ticks twice, the second an hour later (a DST repeat or a catch-up).
			for _, now := range []time.Time{d, d.Add(time.Hour)} {
				ok, err := svc.RunDigest(ctx, triage.DigestKey(d, ams), d, now, o)
				if err != nil {
					t.Fatal(err)
				}
				if ok {
					sent++
				}
			}
		}
		parts := payloads(t, completeAll(t, st, days[1].Add(2*time.Hour)))
		if sent != 5 || len(parts) != 5 {
			t.Errorf("%s to %s: %d runs sent, %d parts; want one a day (5)", days[0], days[1], sent, len(parts))
		}
		for i, p := range parts {
			want := days[0].AddDate(0, 0, i).Format("Mon 2 Jan 2006")
			if got := p.Day.In(ams).Format("Mon 2 Jan 2006"); got != want {
				t.Errorf("part %d: day %q, want %q", i, got, want)
			}
		}
	}
}
