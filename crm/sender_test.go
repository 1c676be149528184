package crm_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/leadtriage/leadtriage/crm"
	"github.com/leadtriage/leadtriage/crm/crmfake"
	"github.com/leadtriage/leadtriage/triage"
	"github.com/leadtriage/leadtriage/triage/triagetest"
)

// handoffSetup is a service that queues lead.decided, and a crm worker with
// only the hand-off sender, against a HubSpot at base.
type handoffSetup struct {
	svc    *triage.Service
	store  *triagetest.Store
	clock  *triagetest.Clock
	worker *crm.Worker
	// record wraps svc.RecordCRM; fail makes its next call fail.
	mu   sync.Mutex
	fail bool
}

func newHandoffSetup(t *testing.T, base string) *handoffSetup {
	t.Helper()
	return newHandoffSetupWith(t, func(now func() time.Time) crm.CRM { return crm.NewHubSpot(hsToken, base, loopback(), now) })
}

// newHandoffSetupWith hands off to the CRM client newCRM makes on the
// setup's clock.
func newHandoffSetupWith(t *testing.T, newCRM func(now func() time.Time) crm.CRM) *handoffSetup {
	t.Helper()
	s := &handoffSetup{store: &triagetest.Store{}, clock: triagetest.NewClock(t0)}
	s.svc = &triage.Service{Store: s.store, Policy: triage.Policy{Quorum: 3, TeamLead: "UTL", Criteria: criteria},
		Channel: "C1", Now: s.clock.Now, Events: map[string]bool{triage.EventTypeDecided: true}}
	handoffs, err := crm.NewHandoffs(crm.HandoffConfig{
		CRM: newCRM(s.clock.Now), Leads: s.svc, Record: s.record,
		Criteria: criteria, Owners: owners{"U0OWNER": "owner@sales.example"}.get,
		Permalink: func(triage.Lead) string { return permalink }, Now: s.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	s.worker, err = crm.New(crm.Config{
		Store: s.store, Render: render, Now: s.clock.Now, Senders: []crm.Sender{handoffs},
		Timeout: 5 * time.Second, BackoffBase: time.Second, BackoffMax: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *handoffSetup) record(ctx context.Context, id triage.LeadID, recs []triage.CRMRecord, at time.Time) (triage.Lead, error) {
	s.mu.Lock()
	fail := s.fail
	s.fail = false
	s.mu.Unlock()
	if fail {
		return triage.Lead{}, errors.New("disk full")
	}
	return s.svc.RecordCRM(ctx, id, recs, at)
}

type owners map[string]string

func (o owners) get(u string) string { return o[u] }

// decide submits Acme's lead and decides it by hand as the team lead.
func (s *handoffSetup) decide(t *testing.T, in triage.DecisionInput) triage.Lead {
	t.Helper()
	ctx := context.Background()
	l, _, err := s.svc.Submit(ctx, triage.LeadInput{Company: "Acme B.V.", Name: "Ada Lovelace", Email: "ada@acme.example", Website: "https://acme.example/"}, triage.Submission{Via: "webhook"})
	if err != nil {
		t.Fatal(err)
	}
	s.clock.Advance(time.Hour)
	if l, err = s.svc.DecideByHand(ctx, l.ID, "UTL", in); err != nil {
		t.Fatal(err)
	}
	return l
}

func (s *handoffSetup) drain(t *testing.T) {
	t.Helper()
	if _, err := s.worker.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (s *handoffSetup) lead(t *testing.T, id triage.LeadID) triage.Lead {
	t.Helper()
	l, err := s.store.Lead(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// slackItems are the queued items of the slack lane of kind.
func (s *handoffSetup) slackItems(kind triage.OutboxKind) []triage.OutboxItem {
	var out []triage.OutboxItem
	for _, it := range s.store.Outbox() {
		if it.Kind == kind {
			out = append(out, it)
		}
	}
	return out
}

// cardRenders counts the card renders queued: a live post or update of the
// card absorbs the next update (Seq), as both render the same card.
func (s *handoffSetup) cardRenders() int {
	n := 0
	for _, it := range append(s.slackItems(triage.OutboxPostCard), s.slackItems(triage.OutboxUpdateCard)...) {
		n += 1 + it.Seq
	}
	return n
}

func (s *handoffSetup) crmNotices() []triage.Notice {
	var out []triage.Notice
	for _, it := range s.slackItems(triage.OutboxThreadReply) {
		if it.Notice != nil && it.Notice.Kind == triage.NoticeCRM {
			out = append(out, *it.Notice)
		}
	}
	return out
}

func hsCounts(f *crmfake.HubSpot) map[string]int {
	m := map[string]int{}
	for _, k := range []string{"companies", "contacts", "deals", "notes"} {
		m[k] = f.Count(k)
	}
	return m
}

func recordKinds(l triage.Lead) []string {
	var out []string
	for _, r := range l.CRM {
		out = append(out, r.System+" "+r.Kind)
	}
	return out
}

func TestHandoffs_Qualify(t *testing.T) {
	t.Parallel()
	fake := crmfake.NewHubSpot(t, hsToken)
	fake.AddOwner("owner@sales.example")
	s := newHandoffSetup(t, fake.URL)
	qualified := triage.DecisionInput{Outcome: triage.StatusQualified, Owner: "U0OWNER"}
	l := s.decide(t, qualified)
	cards := s.cardRenders()

	s.drain(t)
	want := map[string]int{"companies": 1, "contacts": 1, "deals": 1, "notes": 1}
	if diff := cmp.Diff(want, hsCounts(fake)); diff != "" {
		t.Errorf("records in HubSpot (-want +got):\n%s", diff)
	}
	got := s.lead(t, l.ID)
	if diff := cmp.Diff([]string{"hubspot company", "hubspot contact", "hubspot deal", "hubspot note"}, recordKinds(got)); diff != "" {
		t.Errorf("the lead's crm records (-want +got):\n%s", diff)
	}
	deal, ok := got.Deal()
	if !ok || !strings.HasPrefix(deal.URL, "https://app-eu1.hubspot.com/contacts/") {
		t.Fatalf("deal = %+v, %v; want one with its HubSpot link", deal, ok)
	}
	if d := fake.Get("deals", deal.ID); d == nil || d.Properties["hubspot_owner_id"] == "" {
		t.Errorf("deal in HubSpot = %+v; want it owned by the mapped owner", d)
	}
	if ev := got.Events[len(got.Events)-1]; ev.Kind != triage.EventCRM || ev.By != "hubspot" || strings.Contains(ev.Detail, "acme") {
		t.Errorf("last event = %+v; want a crm event with ids only", ev)
	}
	if n := s.cardRenders(); n != cards+1 {
		t.Errorf("card updates = %d, want %d (one for the deal link)", n, cards+1)
	}
	wantNotice := []triage.Notice{{Kind: triage.NoticeCRM, Lead: l.ID, TeamLead: "UTL", System: "hubspot", URL: deal.URL}}
	if diff := cmp.Diff(wantNotice, s.crmNotices()); diff != "" {
		t.Errorf("thread notices (-want +got):\n%s", diff)
	}
	if len(fake.Requests()) == 0 || !strings.Contains(noteBody(fake), permalink) {
		t.Errorf("the note does not link the Slack thread")
	}

	t.Run("repeat", func(t *testing.T) {
		// The same decision handed off again (a crash before the item was
		// settled): the lead's records lead to the same CRM records.
		if err := s.store.Enqueue(context.Background(), triage.EventItem(triage.EventTypeDecided, got, s.clock.Now())); err != nil {
			t.Fatal(err)
		}
		s.drain(t)
		if diff := cmp.Diff(want, hsCounts(fake)); diff != "" {
			t.Errorf("records in HubSpot after a repeat (-want +got):\n%s", diff)
		}
		if n := len(s.crmNotices()); n != 1 {
			t.Errorf("crm notices = %d, want still 1", n)
		}
		if diff := cmp.Diff(recordKinds(got), recordKinds(s.lead(t, l.ID))); diff != "" {
			t.Errorf("records after a repeat (-before +after):\n%s", diff)
		}
	})
}

// noteBody is the body of the last note made.
func noteBody(f *crmfake.HubSpot) string {
	reqs := f.Requests()
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i].Method == http.MethodPost && reqs[i].Path == "/crm/v3/objects/notes" {
			props, _ := reqs[i].Body["properties"].(map[string]any)
			s, _ := props["hs_note_body"].(string)
			return s
		}
	}
	return ""
}

func TestHandoffs_RecordFailsThenRepeats(t *testing.T) {
	t.Parallel()
	fake := crmfake.NewHubSpot(t, hsToken)
	s := newHandoffSetup(t, fake.URL)
	s.fail = true // made in HubSpot, not recorded: retried
	l := s.decide(t, triage.DecisionInput{Outcome: triage.StatusQualified, Owner: "U0OWNER"})
	s.drain(t)
	if len(s.lead(t, l.ID).CRM) != 0 {
		t.Fatal("recorded although the recorder failed")
	}
	at, ok, err := s.store.NextCRM(context.Background())
	if err != nil || !ok {
		t.Fatalf("NextCRM = %v, %v; want the hand-off waiting", ok, err)
	}
	s.clock.Set(at)
	s.drain(t)
	want := map[string]int{"companies": 1, "contacts": 1, "deals": 1, "notes": 1}
	if diff := cmp.Diff(want, hsCounts(fake)); diff != "" {
		t.Errorf("records in HubSpot (-want +got):\n%s", diff)
	}
	if n := len(s.lead(t, l.ID).CRM); n != 4 {
		t.Errorf("recorded %d records, want 4", n)
	}
}

func TestHandoffs_DisqualifyNotesOnly(t *testing.T) {
	t.Parallel()
	fake := crmfake.NewHubSpot(t, hsToken)
	fake.Add("companies", map[string]string{"name": "Acme", "domain": "acme.example"})
	s := newHandoffSetup(t, fake.URL)
	l := s.decide(t, triage.DecisionInput{Outcome: triage.StatusDisqualified, Reason: "too small"})
	s.drain(t)
	want := map[string]int{"companies": 1, "contacts": 0, "deals": 0, "notes": 1}
	if diff := cmp.Diff(want, hsCounts(fake)); diff != "" {
		t.Errorf("records in HubSpot (-want +got):\n%s", diff)
	}
	got := s.lead(t, l.ID)
	if diff := cmp.Diff([]string{"hubspot company", "hubspot note"}, recordKinds(got)); diff != "" {
		t.Errorf("the lead's crm records (-want +got):\n%s", diff)
	}
	if n := len(s.crmNotices()); n != 0 {
		t.Errorf("crm notices = %d, want none without a deal", n)
	}

	t.Run("unknown to the CRM", func(t *testing.T) {
		fake := crmfake.NewHubSpot(t, hsToken)
		s := newHandoffSetup(t, fake.URL)
		l := s.decide(t, triage.DecisionInput{Outcome: triage.StatusDisqualified, Reason: "too small"})
		s.drain(t)
		if diff := cmp.Diff(map[string]int{"companies": 0, "contacts": 0, "deals": 0, "notes": 0}, hsCounts(fake)); diff != "" {
			t.Errorf("records in HubSpot (-want +got):\n%s", diff)
		}
		if n := len(s.lead(t, l.ID).CRM); n != 0 {
			t.Errorf("recorded %d records, want none", n)
		}
		if dead, _ := s.store.DeadLetters(context.Background()); len(dead) != 0 {
			t.Errorf("dead letters = %+v, want none", dead)
		}
	})
}

func TestHandoffs_ClientErrorIsADeadLetterWithoutLeadData(t *testing.T) {
	t.Parallel()
	// HubSpot's 400 for an invalid property quotes the value in its message
	// (HubSpot docs, "Error handling": {"status":"error","message":…,
	// "correlationId":…,"category":"VALIDATION_ERROR"}; INVALID_EMAIL is the
	// property error's code).
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"status":"error","message":"Property values were not valid: [{\"isValid\":false,\"message\":\"Email address ada@acme.example is invalid\",\"error\":\"INVALID_EMAIL\",\"name\":\"email\"}]","correlationId":"3d5b5bd6-93a2-4ee0-bd3a-2b8d1b1c3c22","category":"VALIDATION_ERROR"}`))
	}))
	t.Cleanup(srv.Close)
	s := newHandoffSetup(t, srv.URL)
	l := s.decide(t, triage.DecisionInput{Outcome: triage.StatusQualified, Owner: "U0OWNER"})
	s.drain(t)
	dead, err := s.store.DeadLetters(context.Background())
	if err != nil || len(dead) != 1 {
		t.Fatalf("dead letters = %+v, %v; want the hand-off", dead, err)
	}
	msg := dead[0].LastError
	if !strings.Contains(msg, "HTTP 400") || !strings.Contains(msg, "VALIDATION_ERROR") {
		t.Errorf("LastError = %q; want the status and HubSpot's category", msg)
	}
	for _, pii := range []string{"ada", "acme", "Acme", "invalid"} {
		if strings.Contains(msg, pii) {
			t.Errorf("LastError = %q carries %q", msg, pii)
		}
	}
	if len(s.lead(t, l.ID).CRM) != 0 {
		t.Error("records recorded for a failed hand-off")
	}
}

func TestHandoffs_RateLimitIsRetriedAfterTheHint(t *testing.T) {
	t.Parallel()
	fake := crmfake.NewHubSpot(t, hsToken)
	s := newHandoffSetup(t, fake.URL)
	l := s.decide(t, triage.DecisionInput{Outcome: triage.StatusQualified, Owner: "U0OWNER"})
	fake.RateLimitOnce()
	s.drain(t)
	at, ok, err := s.store.NextCRM(context.Background())
	// The fake's 429 says the ten-second window is used up; the backoff
	// alone would wait 1 s.
	if want := s.clock.Now().Add(10 * time.Second); err != nil || !ok || !at.Equal(want) {
		t.Fatalf("NextCRM = %v, %v, %v; want %v", at, ok, err, want)
	}
	if n := fake.Count("companies"); n != 0 {
		t.Errorf("companies = %d before the retry", n)
	}
	s.clock.Set(at)
	s.drain(t)
	if n := len(s.lead(t, l.ID).CRM); n != 4 {
		t.Errorf("recorded %d records after the retry, want 4", n)
	}
	if _, ok, _ := s.store.NextCRM(context.Background()); ok {
		t.Error("the hand-off is still pending")
	}
}

func TestHandoffs_ExpandsOnlyDecisions(t *testing.T) {
	t.Parallel()
	h, err := crm.NewHandoffs(crm.HandoffConfig{CRM: crm.NewHubSpot(hsToken, "http://127.0.0.1:1", loopback(), nil), Leads: &triage.Service{Store: &triagetest.Store{}},
		Record: func(context.Context, triage.LeadID, []triage.CRMRecord, time.Time) (triage.Lead, error) {
			return triage.Lead{}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	l := qualifiedLead()
	for _, typ := range triage.EventTypes {
		got := h.Expand(triage.EventItem(typ, l, t0))
		if want := map[bool]int{true: 1, false: 0}[typ == triage.EventTypeDecided]; len(got) != want {
			t.Errorf("%s expands into %d items, want %d", typ, len(got), want)
		}
		for _, it := range got {
			if it.Kind != crm.OutboxHandoff || it.Channel != "hubspot" || it.Kind.Lane() != triage.LaneCRM {
				t.Errorf("%s: item %+v", typ, it)
			}
		}
	}
}

func TestHandoffs_Pipedrive(t *testing.T) {
	t.Parallel()
	fake := crmfake.NewPipedrive(t, pdToken)
	fake.AddUser("owner@sales.example")
	s := newHandoffSetupWith(t, func(now func() time.Time) crm.CRM { return crm.NewPipedrive(pdToken, fake.URL, loopback(), now) })
	l := s.decide(t, triage.DecisionInput{Outcome: triage.StatusQualified, Owner: "U0OWNER"})
	s.drain(t)
	counts := func() map[string]int {
		m := map[string]int{}
		for _, k := range []string{"organizations", "persons", "deals", "notes"} {
			m[k] = fake.Count(k)
		}
		return m
	}
	want := map[string]int{"organizations": 1, "persons": 1, "deals": 1, "notes": 1}
	if diff := cmp.Diff(want, counts()); diff != "" {
		t.Errorf("records in Pipedrive (-want +got):\n%s", diff)
	}
	got := s.lead(t, l.ID)
	deal, ok := got.Deal()
	if !ok || deal.System != "pipedrive" {
		t.Fatalf("deal = %+v, %v; want the Pipedrive deal", deal, ok)
	}
	wantNotice := []triage.Notice{{Kind: triage.NoticeCRM, Lead: l.ID, TeamLead: "UTL", System: "pipedrive", URL: deal.URL}}
	if diff := cmp.Diff(wantNotice, s.crmNotices()); diff != "" {
		t.Errorf("thread notices (-want +got):\n%s", diff)
	}
	// A repeat of the same hand-off makes nothing new.
	if err := s.store.Enqueue(context.Background(), triage.EventItem(triage.EventTypeDecided, got, s.clock.Now())); err != nil {
		t.Fatal(err)
	}
	s.drain(t)
	if diff := cmp.Diff(want, counts()); diff != "" {
		t.Errorf("records in Pipedrive after a repeat (-want +got):\n%s", diff)
	}
}
