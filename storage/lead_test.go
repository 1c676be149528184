package storage_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"

	"github.com/leadtriage/leadtriage/storage/storagetest"
	"github.com/leadtriage/leadtriage/triage"
)

func TestDB_CreateLead_RoundTrip(t *testing.T) {
	t.Parallel()
	ams := time.FixedZone("CET", 3600)
	full := triage.Lead{
		Status:    triage.StatusReferred,
		Company:   "Acme B.V.",
		Name:      "Jan Jansen",
		Email:     "jan.jansen+CANARY@voorbeeld.nl",
		Phone:     "+31 20 123 4567",
		Website:   "https://voorbeeld.nl/",
		Domain:    "voorbeeld.nl",
		Message:   "Line one\nline two with <!channel> and \"quotes\"",
		Source:    "webhook",
		Founded:   2019,
		Employees: 42,
		Extra:     map[string]string{"utm_source": "newsletter", "empty": ""},
		CreatedAt: time.Date(2026, 11, 28, 10, 0, 0, 123456789, ams),
		CreatedBy: "U1",
		Owner:     "U2",
		Votes:     map[string]triage.Choice{"U1": triage.ChoiceQualify, "U3": triage.ChoiceUnsure},
		Answers: map[string]triage.Answer{
			"budget": {Value: "yes", Note: "CFO akkoord <@U4> & co", By: "U1", At: t0.Add(time.Minute)},
			"size":   {Value: "4", By: "U3", At: t0.Add(2 * time.Minute).In(ams)},
		},
		AnswersBy: map[string]map[string]triage.Answer{
			"budget": {
				"U1": {Value: "yes", Note: "CFO akkoord <@U4> & co", By: "U1", At: t0.Add(time.Minute)},
				"U2": {Value: "no", By: "U2", At: t0.Add(30 * time.Second).In(ams)},
			},
			"size":  {"U3": {Value: "4", By: "U3", At: t0.Add(2 * time.Minute)}},
			"notes": nil, // a nil inner map stays nil
		},
		Decision: &triage.Decision{Outcome: triage.StatusReferred, Reason: "referred to Partner & Co", Note: "Too small for us; <@U9> knows them.",
			Partner: "Partner & Co", By: "ULEAD", At: t0.Add(time.Hour)},
		Research: fullResearch(ams),
		Slack:    triage.SlackRef{Channel: "C123", TS: "1700000000.000100", ChecklistTS: "1700000000.000101"},
		Reminder: triage.ReminderState{Reminded: t0.Add(4 * time.Hour), Escalated: t0.Add(24 * time.Hour).In(ams),
			SnoozedUntil: t0.Add(48 * time.Hour), Revisited: t0.Add(90 * 24 * time.Hour)},
		Outcome:   &triage.Outcome{Kind: triage.OutcomeWon, Value: 12000, Note: "signed <@U2>", By: "U2", At: t0.Add(40 * 24 * time.Hour).In(ams)},
		Returning: &triage.PriorDecision{Lead: 7, Outcome: triage.StatusDisqualified, Reason: "too small", At: t0.Add(-90 * 24 * time.Hour), Channel: "CTRIAGE", TS: "1700000000.000100"},
		CRM: []triage.CRMRecord{
			{System: "hubspot", Kind: "deal", ID: "9001", URL: "https://app.hubspot.com/contacts/1/record/0-3/9001", At: t0.Add(2 * time.Hour)},
			{System: "hubspot", Kind: "company", ID: "512", At: t0.Add(2 * time.Hour).In(ams)},
			{System: "pipedrive", Kind: "deal", ID: "77", URL: "https://acme.pipedrive.com/deal/77", At: t0, Gone: t0.Add(3 * time.Hour)},
		},
		Events: []triage.Event{
			{At: t0, Kind: triage.EventCreated, By: "webhook", Detail: "via webhook"},
			{At: t0.Add(time.Minute), Kind: triage.EventAnswered, By: "U1", Detail: "budget: yes"},
			{At: t0.Add(2 * time.Minute), Kind: triage.EventUnvoted, By: "U1", Detail: "qualify"},
			{At: t0.Add(3 * time.Minute), Kind: triage.EventVetoed, By: "auto", Detail: "must-have answered no: need"},
			{At: t0.Add(4 * time.Minute), Kind: triage.EventDissent, By: "auto"},
			{At: t0.Add(time.Hour), Kind: triage.EventDecided, By: "auto", Detail: "qualified: qualified by vote"},
			{At: t0.Add(2 * time.Hour), Kind: triage.EventReopened, By: "ULEAD", Detail: "was qualified by auto"},
		},
	}
	tests := []struct {
		name string
		lead triage.Lead
	}{
		{"Full", full},
		{"Minimal", triage.Lead{Status: triage.StatusPending, Company: "x", CreatedAt: t0}},
		{"EmptyNotNil", triage.Lead{Status: triage.StatusPending, Company: "y", Extra: map[string]string{}, Votes: map[string]triage.Choice{},
			Answers: map[string]triage.Answer{}, AnswersBy: map[string]map[string]triage.Answer{"budget": {}}, Research: triage.Research{Flags: []triage.Flag{}, Providers: []triage.ProviderResult{},
				Facts: triage.Facts{MX: []string{}, Website: triage.Website{CopyrightYears: []int{}, Social: map[string]string{}}, Registry: &triage.Registry{}}},
			Events: []triage.Event{}}},
		{"OnlySnoozed", triage.Lead{Status: triage.StatusPending, Company: "s", CreatedAt: t0, Reminder: triage.ReminderState{SnoozedUntil: t0.Add(time.Hour)}}},
		{"ResearchOnlyFacts", triage.Lead{Status: triage.StatusPending, Company: "z", Research: triage.Research{
			Facts: triage.Facts{EmailDomain: "gmail.com", FreeMail: true}, At: t0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := storagetest.MustOpen(t)
			stored := mustCreate(t, db, tt.lead)
			want := tt.lead
			want.ID = 1
			if diff := cmp.Diff(want, stored, equalTimes); diff != "" {
				t.Errorf("CreateLead returned (-want +got):\n%s", diff)
			}
			got, err := db.Lead(t.Context(), stored.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got, equalTimes); diff != "" {
				t.Errorf("Lead after CreateLead (-want +got):\n%s", diff)
			}
			db = storagetest.MustReopen(t, db)
			got, err = db.Lead(t.Context(), stored.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got, equalTimes); diff != "" {
				t.Errorf("Lead after reopen (-want +got):\n%s", diff)
			}
		})
	}
}

// fullResearch has every field of triage.Research set, down to the
// registry; TestFullResearch_AllFieldsSet keeps it so as triage grows.
func fullResearch(loc *time.Location) triage.Research {
	return triage.Research{
		Summary: "Founding claim does not match · free-mail address (gmail.com)",
		Flags: []triage.Flag{
			{Code: triage.FlagClaimMismatch, Detail: "Claims founded 2019; domain registered 2026-10-01.", Source: "claims",
				Args: map[string]string{triage.ArgFounded: "2019", triage.ArgRegistered: "2026-10-01"}},
			{Code: triage.FlagFreeEmail, Detail: "gmail.com", Source: "email"},
		},
		Facts: triage.Facts{
			EmailDomain:      "gmail.com",
			FreeMail:         true,
			Disposable:       true,
			RoleAddress:      true,
			DomainRegistered: time.Date(2026, 10, 1, 14, 3, 0, 0, loc),
			Registrar:        "Registrar B.V. <script>",
			MX:               []string{"mx1.voorbeeld.nl.", "mx2.voorbeeld.nl."},
			EmailDomainLive:  true,
			Website: triage.Website{
				URL:            "https://voorbeeld.nl/",
				FinalURL:       "https://www.voorbeeld.nl/home",
				Status:         200,
				Reachable:      true,
				Title:          "Voorbeeld — \"software\" since 2019",
				Description:    "We make <b>things</b>.",
				CopyrightYears: []int{2019, 2026},
				Social:         map[string]string{"linkedin": "https://www.linkedin.com/company/voorbeeld", "x": "https://x.com/voorbeeld"},
			},
			Registry: &triage.Registry{
				Source:       "kvk",
				Number:       "12345678",
				Name:         "Voorbeeld B.V.",
				Status:       "active",
				Incorporated: time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC),
				Employees:    7,
				URL:          "https://www.kvk.nl/bestellen/#/12345678",
			},
			FirstCertificate: time.Date(2025, 8, 2, 10, 0, 1, 0, loc),
			FirstCapture:     time.Date(2025, 9, 14, 8, 30, 0, 0, time.UTC),
			Credit: &triage.Credit{Source: "creditsafe", Name: "VOORBEELD B.V.", Number: "12345678", Rating: "D",
				Description: "High Risk", Score: "22", Limit: 5000, Currency: "EUR", Status: "Active",
				Date: time.Date(2026, 2, 20, 0, 0, 0, 0, time.UTC), HighRisk: true, Insolvent: true},
		},
		Providers: []triage.ProviderResult{
			{Name: "rdap", OK: false, Error: "rate limited", Took: 1500 * time.Millisecond},
			{Name: "email", OK: true, Error: "", Took: 3 * time.Microsecond},
		},
		At: t0.Add(30 * time.Second),
	}
}

func TestFullResearch_AllFieldsSet(t *testing.T) {
	t.Parallel()
	for _, path := range zeroFields(reflect.ValueOf(fullResearch(time.UTC)), "Research") {
		t.Errorf("%s is zero in fullResearch: set it so the round trip covers it", path)
	}
}

// zeroFields lists the struct fields under v that are zero, following
// pointers and slice elements.
func zeroFields(v reflect.Value, path string) []string {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return []string{path}
		}
		return zeroFields(v.Elem(), path)
	case reflect.Slice:
		if v.Len() == 0 {
			return []string{path}
		}
		// A field counts as set when any element sets it.
		zero := zeroFields(v.Index(0), path+"[]")
		for i := 1; i < v.Len(); i++ {
			still := zeroFields(v.Index(i), path+"[]")
			zero = slices.DeleteFunc(zero, func(p string) bool { return !slices.Contains(still, p) })
		}
		return zero
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			if v.IsZero() {
				return []string{path}
			}
			return nil
		}
		var out []string
		for i := range v.NumField() {
			out = append(out, zeroFields(v.Field(i), path+"."+v.Type().Field(i).Name)...)
		}
		return out
	}
	if v.IsZero() {
		return []string{path}
	}
	return nil
}

// A lead record written before research had facts, providers and flag
// sources still reads, with those fields zero.
func TestDB_Lead_OldResearchRecord(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	old := `{"v":1,"id":7,"status":"pending","company":"Acme","extra":null,"created_at":"2026-11-28T09:30:00Z",` +
		`"votes":null,"answers":null,"decision":null,` +
		`"research":{"summary":"Domain registered 2018.","flags":[{"code":"free_email","detail":"gmail.com"}],"at":"2026-11-28T09:31:00Z"},` +
		`"slack":{},"events":null}`
	if err := db.Bolt().Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("leads")).Put([]byte{0, 0, 0, 0, 0, 0, 0, 7}, []byte(old))
	}); err != nil {
		t.Fatal(err)
	}
	got, err := db.Lead(t.Context(), 7)
	if err != nil {
		t.Fatal(err)
	}
	want := triage.Research{
		Summary: "Domain registered 2018.",
		Flags:   []triage.Flag{{Code: "free_email", Detail: "gmail.com"}},
		At:      t0.Add(time.Minute),
	}
	if diff := cmp.Diff(want, got.Research, equalTimes); diff != "" {
		t.Errorf("research of an old record (-want +got):\n%s", diff)
	}
	// Nor had it answers per person, a checklist, a decision note or a
	// follow-up state.
	if got.AnswersBy != nil || got.Slack != (triage.SlackRef{}) || got.Decision != nil || got.Reminder != (triage.ReminderState{}) {
		t.Errorf("old record: answers_by %v, slack %+v, decision %+v, reminder %+v; want all zero", got.AnswersBy, got.Slack, got.Decision, got.Reminder)
	}
}

func TestDB_CreateLead_SequentialIDsAcrossReopen(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	a := mustCreate(t, db, newLead(t, "a"))
	b := mustCreate(t, db, newLead(t, "b"))
	db = storagetest.MustReopen(t, db)
	c := mustCreate(t, db, newLead(t, "c"))
	got := []string{a.ID.String(), b.ID.String(), c.ID.String()}
	if diff := cmp.Diff([]string{"L-1", "L-2", "L-3"}, got); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
}

func TestDB_Lead_NotFound(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	_, err := db.Lead(t.Context(), 7)
	if !errors.Is(err, triage.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	if !strings.Contains(err.Error(), "L-7") {
		t.Errorf("err = %q does not name the lead", err)
	}
	_, err = db.UpdateLead(t.Context(), 7, func(*triage.Lead) ([]triage.OutboxItem, error) {
		t.Error("fn called for a missing lead")
		return nil, nil
	})
	if !errors.Is(err, triage.ErrNotFound) || errors.Is(err, triage.ErrStoreFull) {
		t.Errorf("UpdateLead err = %v, want ErrNotFound only", err)
	}
	if _, err := db.LeadByMessage(t.Context(), "C1", "1.2"); !errors.Is(err, triage.ErrNotFound) {
		t.Errorf("LeadByMessage err = %v, want ErrNotFound", err)
	}
}

func TestDB_Leads_StatusIndex(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	for _, c := range []string{"a", "b", "c", "d"} {
		mustCreate(t, db, newLead(t, c))
	}
	for _, id := range []triage.LeadID{2, 4} {
		_, err := db.UpdateLead(t.Context(), id, func(l *triage.Lead) ([]triage.OutboxItem, error) {
			return nil, triage.Decide(l, triage.StatusQualified, "fits", "U1", t0)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		filter triage.LeadFilter
		want   []triage.LeadID
	}{
		{triage.LeadFilter{Status: triage.StatusPending}, []triage.LeadID{1, 3}},
		{triage.LeadFilter{Status: triage.StatusQualified}, []triage.LeadID{2, 4}},
		{triage.LeadFilter{Status: triage.StatusQualified, Limit: 1}, []triage.LeadID{2}},
		{triage.LeadFilter{Status: triage.StatusReferred}, []triage.LeadID{}},
		{triage.LeadFilter{}, []triage.LeadID{1, 2, 3, 4}},
		{triage.LeadFilter{Limit: 3}, []triage.LeadID{1, 2, 3}},
	}
	for _, tt := range tests {
		got, err := db.Leads(t.Context(), tt.filter)
		if err != nil {
			t.Fatalf("Leads(%+v): %v", tt.filter, err)
		}
		if diff := cmp.Diff(tt.want, ids(got)); diff != "" {
			t.Errorf("Leads(%+v) (-want +got):\n%s", tt.filter, diff)
		}
		for _, l := range got {
			if tt.filter.Status != "" && l.Status != tt.filter.Status {
				t.Errorf("Leads(%+v) returned %s with status %s", tt.filter, l.ID, l.Status)
			}
		}
	}
	// The index itself moved: one status key per lead (typed prefix "S" in
	// lead_index), under its current status.
	var keys []string
	_ = db.Bolt().View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("lead_index")).ForEach(func(k, _ []byte) error {
			if k[0] == 'S' {
				keys = append(keys, string(k[1:len(k)-9]))
			}
			return nil
		})
	})
	if diff := cmp.Diff([]string{"pending", "pending", "qualified", "qualified"}, keys); diff != "" {
		t.Errorf("status index keys (-want +got):\n%s", diff)
	}
	if _, err := db.Leads(t.Context(), triage.LeadFilter{Status: "bogus"}); !errors.Is(err, triage.ErrInvalid) {
		t.Errorf("Leads(bogus) err = %v, want ErrInvalid", err)
	}
}

func TestDB_LeadsByEmailAndDomain(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	a := mustCreate(t, db, newLead(t, "acme"))
	mustCreate(t, db, newLead(t, "other"))
	c := mustCreate(t, db, newLead(t, "acme"))
	got, err := db.LeadsByEmail(t.Context(), "info@acme.example")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]triage.LeadID{a.ID, c.ID}, ids(got)); diff != "" {
		t.Errorf("LeadsByEmail (-want +got):\n%s", diff)
	}
	got, err = db.LeadsByDomain(t.Context(), "acme.example")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]triage.LeadID{a.ID, c.ID}, ids(got)); diff != "" {
		t.Errorf("LeadsByDomain (-want +got):\n%s", diff)
	}
	// A prefix of a stored value matches nothing.
	if got, _ := db.LeadsByDomain(t.Context(), "acme"); len(got) != 0 {
		t.Errorf("LeadsByDomain(acme) = %v, want none", ids(got))
	}
	// "" is no e-mail, not every lead without one.
	mustCreate(t, db, triage.Lead{Status: triage.StatusPending, Company: "No contact", CreatedAt: t0})
	if got, err := db.LeadsByEmail(t.Context(), ""); err != nil || len(got) != 0 {
		t.Errorf("LeadsByEmail(\"\") = %v, %v; want none", ids(got), err)
	}
	if got, err := db.LeadsByDomain(t.Context(), ""); err != nil || len(got) != 0 {
		t.Errorf("LeadsByDomain(\"\") = %v, %v; want none", ids(got), err)
	}
	// Changing the e-mail moves the index entry.
	if _, err := db.UpdateLead(t.Context(), a.ID, func(l *triage.Lead) ([]triage.OutboxItem, error) {
		l.Email = "sales@acme.example"
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	got, _ = db.LeadsByEmail(t.Context(), "info@acme.example")
	if diff := cmp.Diff([]triage.LeadID{c.ID}, ids(got)); diff != "" {
		t.Errorf("LeadsByEmail after change (-want +got):\n%s", diff)
	}
}

func TestDB_LeadByMessage(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	l := mustCreate(t, db, newLead(t, "acme"), triage.OutboxItem{Kind: triage.OutboxPostCard, Channel: "C1"})
	post := mustDue(t, db, t0)[0]
	err := db.CompleteOutbox(t.Context(), post.ID, post.Seq, func(l *triage.Lead) error {
		l.Slack = triage.SlackRef{Channel: "C1", TS: "100.1"}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.LeadByMessage(t.Context(), "C1", "100.1")
	if err != nil {
		t.Fatalf("LeadByMessage after the card was recorded: %v", err)
	}
	if got.ID != l.ID || got.Slack.TS != "100.1" {
		t.Errorf("LeadByMessage = %s %+v, want %s at 100.1", got.ID, got.Slack, l.ID)
	}
	// Moving the card (re-posted) moves the index.
	if _, err := db.UpdateLead(t.Context(), l.ID, func(l *triage.Lead) ([]triage.OutboxItem, error) {
		l.Slack.TS = "200.2"
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.LeadByMessage(t.Context(), "C1", "100.1"); !errors.Is(err, triage.ErrNotFound) {
		t.Errorf("old card location: err = %v, want ErrNotFound", err)
	}
	if got, err := db.LeadByMessage(t.Context(), "C1", "200.2"); err != nil || got.ID != l.ID {
		t.Errorf("new card location = %s, %v; want %s", got.ID, err, l.ID)
	}
}

func TestDB_CreateLead_Idempotency(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	post := triage.OutboxItem{Kind: triage.OutboxPostCard, Channel: "C1", CreatedAt: t0}
	idem := triage.Idempotency{Key: "key:abc", Fingerprint: "fp1", Expires: t0.Add(time.Hour), Now: t0}

	first, created, err := db.CreateLead(t.Context(), newLead(t, "acme"), idem, []triage.OutboxItem{post})
	if err != nil || !created {
		t.Fatalf("first CreateLead = created %v, %v", created, err)
	}

	t.Run("SameFingerprint", func(t *testing.T) {
		again := idem
		again.Now = t0.Add(30 * time.Minute)
		got, created, err := db.CreateLead(t.Context(), newLead(t, "acme"), again, []triage.OutboxItem{post})
		if err != nil || created || got.ID != first.ID {
			t.Errorf("repeat = %s created %v, %v; want %s, not created", got.ID, created, err, first.ID)
		}
	})
	t.Run("DifferentFingerprint", func(t *testing.T) {
		other := idem
		other.Fingerprint = "fp2"
		_, created, err := db.CreateLead(t.Context(), newLead(t, "other"), other, []triage.OutboxItem{post})
		if !errors.Is(err, triage.ErrIdempotencyKey) || created {
			t.Errorf("reused key = created %v, %v; want ErrIdempotencyKey", created, err)
		}
		if errors.Is(err, triage.ErrStoreFull) {
			t.Errorf("err = %v also claims the store is full", err)
		}
	})
	if due := mustDue(t, db, t0); len(due) != 1 {
		t.Fatalf("outbox has %d items after repeats, want 1 (one card)", len(due))
	}
	t.Run("Expired", func(t *testing.T) {
		later := idem
		later.Fingerprint = "fp2"
		later.Now = t0.Add(time.Hour) // Expires is exclusive
		later.Expires = t0.Add(2 * time.Hour)
		got, created, err := db.CreateLead(t.Context(), newLead(t, "acme"), later, []triage.OutboxItem{post})
		if err != nil || !created || got.ID == first.ID {
			t.Fatalf("after expiry = %s created %v, %v; want a new lead", got.ID, created, err)
		}
		// The key now belongs to the new lead.
		again := later
		again.Now = t0.Add(90 * time.Minute)
		dup, created, err := db.CreateLead(t.Context(), newLead(t, "acme"), again, nil)
		if err != nil || created || dup.ID != got.ID {
			t.Errorf("repeat of the renewed key = %s created %v, %v; want %s", dup.ID, created, err, got.ID)
		}
	})
}

func TestDB_UpdateLead_RollbackOnError(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	l := mustCreate(t, db, newLead(t, "acme"), triage.OutboxItem{Kind: triage.OutboxPostCard, Channel: "C1"})
	before := mustDue(t, db, t0)
	boom := errors.New("boom")
	_, err := db.UpdateLead(t.Context(), l.ID, func(l *triage.Lead) ([]triage.OutboxItem, error) {
		l.Owner = "U9"
		l.Status = triage.StatusDisqualified
		return []triage.OutboxItem{
			{Kind: triage.OutboxUpdateCard, Lead: l.ID},
			{Kind: triage.OutboxThreadReply, Lead: l.ID, Text: "x"},
		}, boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want fn's error", err)
	}
	if errors.Is(err, triage.ErrStoreFull) {
		t.Errorf("err = %v: a domain error must not look like a store failure", err)
	}
	got, err := db.Lead(t.Context(), l.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(l, got, equalTimes); diff != "" {
		t.Errorf("lead changed by a failed update (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, mustDue(t, db, t0), equalTimes); diff != "" {
		t.Errorf("outbox changed by a failed update (-want +got):\n%s", diff)
	}
	if pending, _ := db.Leads(t.Context(), triage.LeadFilter{Status: triage.StatusPending}); len(pending) != 1 {
		t.Errorf("pending leads = %v, want the lead still pending", ids(pending))
	}
}

func TestDB_UpdateLead_ItemsGetLead(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	l := mustCreate(t, db, newLead(t, "acme"))
	got, err := db.UpdateLead(t.Context(), l.ID, func(l *triage.Lead) ([]triage.OutboxItem, error) {
		l.ID = 99 // a confused fn cannot move the lead
		l.Owner = "U1"
		return []triage.OutboxItem{{Kind: triage.OutboxThreadReply, Text: "hi"}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != l.ID || got.Owner != "U1" {
		t.Errorf("UpdateLead = %s owner %q, want %s owner U1", got.ID, got.Owner, l.ID)
	}
	due := mustDue(t, db, t0)
	if len(due) != 1 || due[0].Lead != l.ID {
		t.Errorf("due = %+v, want one item for %s", due, l.ID)
	}
	if _, err := db.Lead(t.Context(), 99); !errors.Is(err, triage.ErrNotFound) {
		t.Errorf("Lead(99) err = %v, want ErrNotFound", err)
	}
}

func TestDB_CancelledContext(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, _, err := db.CreateLead(ctx, newLead(t, "acme"), triage.Idempotency{}, []triage.OutboxItem{{Kind: triage.OutboxPostCard}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("CreateLead err = %v, want context.Canceled", err)
	}
	if err := db.Enqueue(ctx, triage.OutboxItem{Kind: triage.OutboxEphemeral}); !errors.Is(err, context.Canceled) {
		t.Errorf("Enqueue err = %v, want context.Canceled", err)
	}
	if _, err := db.Leads(ctx, triage.LeadFilter{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Leads err = %v, want context.Canceled", err)
	}
	leads, err := db.Leads(t.Context(), triage.LeadFilter{})
	if err != nil || len(leads) != 0 {
		t.Errorf("leads after cancelled writes = %v, %v; want none", ids(leads), err)
	}
	if due := mustDue(t, db, t0); len(due) != 0 {
		t.Errorf("outbox after cancelled writes = %+v, want empty", due)
	}
}

func TestDB_CreateLead_Concurrent(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	const n = 20
	got := make([]triage.LeadID, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			l, created, err := db.CreateLead(t.Context(), newLead(t, "acme"), triage.Idempotency{}, []triage.OutboxItem{{Kind: triage.OutboxPostCard, Channel: "C1"}})
			if err != nil || !created {
				t.Errorf("CreateLead = created %v, %v", created, err)
			}
			got[i] = l.ID
		})
	}
	wg.Wait()
	seen := map[triage.LeadID]bool{}
	for _, id := range got {
		if id < 1 || id > n || seen[id] {
			t.Errorf("ids = %v, want 20 distinct ids 1..20", got)
			break
		}
		seen[id] = true
	}
	due := mustDue(t, db, t0)
	leadsWithCard := map[triage.LeadID]bool{}
	for _, it := range due {
		leadsWithCard[it.Lead] = true
	}
	if len(due) != n || len(leadsWithCard) != n {
		t.Errorf("outbox has %d items for %d leads, want %d each", len(due), len(leadsWithCard), n)
	}
}

func TestDB_UpdateLead_NoChangeNoCommit(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	l := mustCreate(t, db, newLead(t, "acme"))
	txid := func() int {
		var id int
		_ = db.Bolt().View(func(tx *bolt.Tx) error { id = tx.ID(); return nil })
		return id
	}
	before := txid()
	got, err := db.UpdateLead(t.Context(), l.ID, func(l *triage.Lead) ([]triage.OutboxItem, error) {
		l.Votes = nil // same as stored
		return nil, nil
	})
	if err != nil {
		t.Fatalf("no-op UpdateLead: %v", err)
	}
	if got.ID != l.ID || got.Company != l.Company {
		t.Errorf("no-op UpdateLead returned %s %q, want the lead", got.ID, got.Company)
	}
	if after := txid(); after != before {
		t.Errorf("a no-op update committed (txid %d -> %d)", before, after)
	}
	if _, err := db.UpdateLead(t.Context(), l.ID, func(l *triage.Lead) ([]triage.OutboxItem, error) {
		l.Owner = "U1"
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	if after := txid(); after != before+1 {
		t.Errorf("a real update: txid %d -> %d, want one commit", before, after)
	}
}

// Concurrent CreateLead calls share commits (group commit) without mixing
// up their results: a key reused with another fingerprint fails only its
// own calls, a key sent eight times at once stores one lead, and every
// other call stores its own lead with its card item.
func TestDB_CreateLead_GroupCommit(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	ctx := t.Context()
	idem := func(key, fp string) triage.Idempotency {
		return triage.Idempotency{Key: key, Fingerprint: fp, Expires: t0.Add(time.Hour), Now: t0}
	}
	card := []triage.OutboxItem{{Kind: triage.OutboxPostCard, Channel: "C1"}}
	if _, _, err := db.CreateLead(ctx, newLead(t, "taken"), idem("taken", "a"), card); err != nil {
		t.Fatal(err)
	}
	const each = 8
	var (
		wg                sync.WaitGroup
		mu                sync.Mutex
		refused, repeated int
		shared            = map[triage.LeadID]int{}
		own               = map[triage.LeadID]bool{}
	)
	for i := range 3 * each {
		wg.Go(func() {
			switch i % 3 {
			case 0:
				_, _, err := db.CreateLead(ctx, newLead(t, "other"), idem("taken", "b"), card)
				mu.Lock()
				defer mu.Unlock()
				if errors.Is(err, triage.ErrIdempotencyKey) {
					refused++
				} else {
					t.Errorf("reused key, other fingerprint: err = %v, want ErrIdempotencyKey", err)
				}
			case 1:
				l, created, err := db.CreateLead(ctx, newLead(t, "shared"), idem("shared", "s"), card)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Errorf("shared key: %v", err)
				}
				shared[l.ID]++
				if !created {
					repeated++
				}
			default:
				l, created, err := db.CreateLead(ctx, newLead(t, "own"), triage.Idempotency{}, card)
				mu.Lock()
				defer mu.Unlock()
				if err != nil || !created || own[l.ID] {
					t.Errorf("own lead = %s, created %v, %v", l.ID, created, err)
				}
				own[l.ID] = true
			}
		})
	}
	wg.Wait()
	if refused != each || len(shared) != 1 || repeated != each-1 || len(own) != each {
		t.Errorf("refused %d, shared-key leads %v (%d repeats), own leads %d; want %d, one lead, %d, %d", refused, shared, repeated, len(own), each, each-1, each)
	}
	all, err := db.Leads(ctx, triage.LeadFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2+each {
		t.Errorf("%d leads stored, want %d", len(all), 2+each)
	}
	if due := mustDue(t, db, t0); len(due) != 2+each {
		t.Errorf("%d card items, want one per lead (%d)", len(due), 2+each)
	}
}
