package crm_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/leadtriage/leadtriage/crm"
	"github.com/leadtriage/leadtriage/crm/crmfake"
	"github.com/leadtriage/leadtriage/triage"
)

// decidedIndex reads LeadsDecided through the in-memory store's lead list,
// as storage's time index answers it.
type decidedIndex struct{ s *handoffSetup }

func (d decidedIndex) LeadsDecided(ctx context.Context, from, to time.Time) ([]triage.Lead, error) {
	all, err := d.s.store.Leads(ctx, triage.LeadFilter{})
	if err != nil {
		return nil, err
	}
	var out []triage.Lead
	for _, l := range all {
		if l.Decision != nil && !l.Decision.At.Before(from) && l.Decision.At.Before(to) {
			out = append(out, l)
		}
	}
	return out, nil
}

// outcomes stores what the read-back records.
type outcomes struct {
	mu  sync.Mutex
	got map[triage.LeadID][]triage.Outcome
}

func (o *outcomes) record(_ context.Context, id triage.LeadID, out triage.Outcome) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.got == nil {
		o.got = map[triage.LeadID][]triage.Outcome{}
	}
	o.got[id] = append(o.got[id], out)
	return nil
}

func (o *outcomes) all() map[triage.LeadID][]triage.Outcome {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.got
}

// handedOff is a lead qualified and handed to the fake HubSpot, with its
// deal's id.
func handedOff(t *testing.T) (*crmfake.HubSpot, *handoffSetup, *crm.ReadBack, *outcomes, triage.Lead, string) {
	t.Helper()
	fake := crmfake.NewHubSpot(t, hsToken)
	s := newHandoffSetup(t, fake.URL)
	l := s.decide(t, triage.DecisionInput{Outcome: triage.StatusQualified, Owner: "U0OWNER"})
	s.drain(t)
	l = s.lead(t, l.ID)
	deal, ok := l.Deal()
	if !ok {
		t.Fatal("no deal after the hand-off")
	}
	o := &outcomes{}
	rb, err := crm.NewReadBack(crm.ReadBackConfig{
		CRM: crm.NewHubSpot(hsToken, fake.URL, loopback(), s.clock.Now), Leads: decidedIndex{s},
		Outcome: o.record, Record: s.svc.RecordCRM, Now: s.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	fake.ResetLog()
	return fake, s, rb, o, l, deal.ID
}

func (s *handoffSetup) readBack(t *testing.T, rb *crm.ReadBack) crm.ReadBackResult {
	t.Helper()
	res, err := rb.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestReadBack_Won(t *testing.T) {
	t.Parallel()
	fake, s, rb, o, l, deal := handedOff(t)
	fake.SetDeal(deal, "closedwon", "12000.50")
	if res := s.readBack(t, rb); res != (crm.ReadBackResult{Asked: 1, Recorded: 1}) {
		t.Errorf("result = %+v", res)
	}
	want := map[triage.LeadID][]triage.Outcome{l.ID: {{Kind: triage.OutcomeWon, Value: 12001, By: "hubspot", At: s.clock.Now()}}}
	if diff := cmp.Diff(want, o.all()); diff != "" {
		t.Errorf("outcomes recorded (-want +got):\n%s", diff)
	}
}

func TestReadBack_OpenDealRecordsNothing(t *testing.T) {
	t.Parallel()
	fake, s, rb, o, _, _ := handedOff(t)
	if res := s.readBack(t, rb); res != (crm.ReadBackResult{Asked: 1}) {
		t.Errorf("result = %+v", res)
	}
	if len(o.all()) != 0 {
		t.Errorf("outcomes = %+v, want none for an open deal", o.all())
	}
	if diff := cmp.Diff([]string{"GET /crm/v3/objects/deals/" + dealID(t, s)}, fake.Sequence()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func dealID(t *testing.T, s *handoffSetup) string {
	t.Helper()
	all, _ := s.store.Leads(context.Background(), triage.LeadFilter{})
	for _, l := range all {
		if d, ok := l.Deal(); ok {
			return d.ID
		}
	}
	t.Fatal("no deal")
	return ""
}

func TestReadBack_GoneIsNotAskedAgain(t *testing.T) {
	t.Parallel()
	fake, s, rb, o, l, deal := handedOff(t)
	fake.Delete("deals", deal)
	if res := s.readBack(t, rb); res != (crm.ReadBackResult{Asked: 1, Gone: 1}) {
		t.Errorf("first pass = %+v", res)
	}
	got := s.lead(t, l.ID)
	if _, ok := got.Deal(); ok {
		t.Error("the deleted deal still counts as the lead's deal (card link)")
	}
	fake.ResetLog()
	if res := s.readBack(t, rb); res != (crm.ReadBackResult{}) {
		t.Errorf("second pass = %+v, want nothing asked", res)
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("%d requests after the deal was gone: %v", n, fake.Sequence())
	}
	if len(o.all()) != 0 {
		t.Errorf("outcomes = %+v, want none", o.all())
	}
}

func TestReadBack_SkipsOldAndDecidedOutcomes(t *testing.T) {
	t.Parallel()
	fake, s, rb, o, _, deal := handedOff(t)
	fake.SetDeal(deal, "closedlost", "")
	s.clock.Advance(crm.ReadBackWindow + time.Hour) // decided more than a year ago
	fake.ResetLog()
	if res := s.readBack(t, rb); res != (crm.ReadBackResult{}) || len(fake.Requests()) != 0 {
		t.Errorf("result = %+v, requests %v; want nothing asked about an old lead", res, fake.Sequence())
	}
	if len(o.all()) != 0 {
		t.Errorf("outcomes = %+v", o.all())
	}
}

func TestReadBack_SkipsLeadsWithAnOutcome(t *testing.T) {
	t.Parallel()
	fake, s, rb, o, l, deal := handedOff(t)
	fake.SetDeal(deal, "closedwon", "500")
	// Someone recorded the outcome in Slack first.
	if _, err := s.store.UpdateLead(context.Background(), l.ID, func(l *triage.Lead) ([]triage.OutboxItem, error) {
		l.Outcome = &triage.Outcome{Kind: triage.OutcomeLost, By: "U1", At: s.clock.Now()}
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	fake.ResetLog()
	if res := s.readBack(t, rb); res != (crm.ReadBackResult{}) || len(fake.Requests()) != 0 {
		t.Errorf("result = %+v, requests %v; want nothing asked", res, fake.Sequence())
	}
	if len(o.all()) != 0 {
		t.Errorf("outcomes = %+v", o.all())
	}
}

func TestHandoffs_GoneDealIsNotBuiltOn(t *testing.T) {
	t.Parallel()
	fake, s, rb, _, l, deal := handedOff(t)
	fake.Delete("deals", deal)
	s.readBack(t, rb)
	ctx := context.Background()
	s.clock.Advance(time.Hour)
	if _, err := s.svc.Reopen(ctx, l.ID, "UTL", "the deal was deleted by mistake"); err != nil {
		t.Fatal(err)
	}
	s.clock.Advance(time.Hour)
	if _, err := s.svc.DecideByHand(ctx, l.ID, "UTL", triage.DecisionInput{Outcome: triage.StatusQualified, Owner: "U0OWNER"}); err != nil {
		t.Fatal(err)
	}
	s.drain(t)
	got := s.lead(t, l.ID)
	now, ok := got.Deal()
	if !ok || now.ID == deal || fake.Get("deals", now.ID) == nil {
		t.Errorf("deal = %+v, %v; want a new one in HubSpot, not the deleted %s", now, ok, deal)
	}
	if n := fake.Count("companies") + fake.Count("contacts"); n != 2 {
		t.Errorf("companies + contacts = %d, want the same 2", n)
	}
}

// openDeals is a store with the open-deal index (as *storage.DB): it
// answers LeadsWithOpenDeals and counts calls of the year-long fallback.
type openDeals struct {
	decidedIndex
	mu       sync.Mutex
	windows  [][2]time.Time
	fallback int
}

func (o *openDeals) LeadsDecided(ctx context.Context, from, to time.Time) ([]triage.Lead, error) {
	o.mu.Lock()
	o.fallback++
	o.mu.Unlock()
	return o.decidedIndex.LeadsDecided(ctx, from, to)
}

func (o *openDeals) LeadsWithOpenDeals(ctx context.Context, from, to time.Time) ([]triage.Lead, error) {
	o.mu.Lock()
	o.windows = append(o.windows, [2]time.Time{from, to})
	o.mu.Unlock()
	leads, err := o.decidedIndex.LeadsDecided(ctx, from, to)
	var out []triage.Lead
	for _, l := range leads {
		if _, ok := l.Deal(); ok && l.Outcome == nil && l.Status != triage.StatusPending {
			out = append(out, l)
		}
	}
	return out, err
}

// With a store that has it, the read-back reads the open deals of the
// year, never every lead decided in it.
func TestReadBack_ReadsOnlyOpenDealsWhereIndexed(t *testing.T) {
	t.Parallel()
	fake, s, _, _, l, deal := handedOff(t)
	fake.SetDeal(deal, "closedwon", "800")
	ix := &openDeals{decidedIndex: decidedIndex{s}}
	o := &outcomes{}
	rb, err := crm.NewReadBack(crm.ReadBackConfig{
		CRM: crm.NewHubSpot(hsToken, fake.URL, loopback(), s.clock.Now), Leads: ix,
		Outcome: o.record, Record: s.svc.RecordCRM, Now: s.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res := s.readBack(t, rb); res != (crm.ReadBackResult{Asked: 1, Recorded: 1}) {
		t.Errorf("result = %+v", res)
	}
	if got := o.all()[l.ID]; len(got) != 1 || got[0].Kind != triage.OutcomeWon || got[0].Value != 800 {
		t.Errorf("outcomes = %+v, want won 800", o.all())
	}
	now := s.clock.Now()
	want := [][2]time.Time{{now.Add(-crm.ReadBackWindow), now.Add(time.Nanosecond)}}
	if diff := cmp.Diff(want, ix.windows); diff != "" || ix.fallback != 0 {
		t.Errorf("open-deal reads (-want +got):\n%s\nfallback reads %d, want 0", diff, ix.fallback)
	}
}

// A rate limit that strikes in the middle of a pass must not starve the deals
// after it: the next pass starts at the deal it stopped at, and one that
// gets through them all starts at the beginning again.
func TestReadBack_RateLimitResumesWhereItStopped(t *testing.T) {
	t.Parallel()
	fake := crmfake.NewHubSpot(t, hsToken)
	target, err := url.Parse(fake.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	var limited atomic.Value // the path to answer 429 once; "" = none
	limited.Store("")
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := limited.Load().(string); p != "" && r.URL.Path == p {
			limited.Store("")
			// HubSpot's 429 (developers.hubspot.com, "API usage guidelines
			// and limits": the error response of a rate-limited request).
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Retry-After", "10")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","correlationId":"c033cdaa-2c40-4a64-ae48-b4cec88dad24","policyName":"TEN_SECONDLY_ROLLING"}`))
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)

	s := newHandoffSetup(t, fake.URL)
	var deals []string
	for range 3 {
		l := s.decide(t, triage.DecisionInput{Outcome: triage.StatusQualified, Owner: "U0OWNER"})
		s.drain(t)
		l = s.lead(t, l.ID)
		d, ok := l.Deal()
		if !ok {
			t.Fatal("no deal after the hand-off")
		}
		deals = append(deals, "GET /crm/v3/objects/deals/"+d.ID)
	}
	rb, err := crm.NewReadBack(crm.ReadBackConfig{
		CRM: crm.NewHubSpot(hsToken, front.URL, loopback(), s.clock.Now), Leads: decidedIndex{s},
		Outcome: (&outcomes{}).record, Record: s.svc.RecordCRM, Now: s.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	fake.ResetLog()
	limited.Store(strings.TrimPrefix(deals[1], "GET "))
	if _, err := rb.Run(context.Background()); err == nil {
		t.Error("a pass stopped by a rate limit reported no error")
	}
	if diff := cmp.Diff(deals[:1], fake.Sequence()); diff != "" {
		t.Errorf("first pass asked (-want +got):\n%s", diff)
	}
	for _, want := range [][]string{
		{deals[1], deals[2], deals[0]}, // resumes at the deal the limit struck
		deals,                          // a whole pass: from the start again
	} {
		fake.ResetLog()
		s.readBack(t, rb)
		if diff := cmp.Diff(want, fake.Sequence()); diff != "" {
			t.Errorf("pass asked (-want +got):\n%s", diff)
		}
	}
}
