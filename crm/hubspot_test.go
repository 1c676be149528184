package crm_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/leadtriage/leadtriage/crm"
	"github.com/leadtriage/leadtriage/crm/crmfake"
	"github.com/leadtriage/leadtriage/triage"
	"github.com/leadtriage/leadtriage/triage/triagetest"
)

const hsToken = "pat-eu1-00000000-1111-2222-3333-444444444444"

func newHubSpot(t *testing.T) (*crmfake.HubSpot, *crm.HubSpot, *triagetest.Clock) {
	t.Helper()
	fake := crmfake.NewHubSpot(t, hsToken)
	c := triagetest.NewClock(decided.Add(time.Minute))
	return fake, crm.NewHubSpot(hsToken, fake.URL, loopback(), c.Now), c
}

func hsHandoff(l triage.Lead) crm.Handoff {
	return crm.Handoff{Lead: l, Criteria: criteria, OwnerEmail: "owner@sales.example", Permalink: permalink,
		People: map[string]string{"U1": "Grace"}}
}

func kinds(recs []triage.CRMRecord) map[string]triage.CRMRecord {
	m := map[string]triage.CRMRecord{}
	for _, r := range recs {
		m[r.Kind] = r
	}
	return m
}

func TestHubSpot_Qualify_First(t *testing.T) {
	t.Parallel()
	fake, hs, _ := newHubSpot(t)
	owner := fake.AddOwner("owner@sales.example")
	recs, err := hs.Qualify(context.Background(), hsHandoff(qualifiedLead()))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"POST /crm/v3/objects/companies/search",
		"POST /crm/v3/objects/contacts/search",
		"POST /crm/v3/objects/companies",
		"POST /crm/v3/objects/contacts",
		"GET /account-info/v3/details",
		"POST /crm/v3/objects/deals/search",
		"GET /crm/v3/owners",
		"POST /crm/v3/objects/deals",
		"POST /crm/v3/objects/notes",
	}
	if diff := cmp.Diff(want, fake.Sequence()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	k := kinds(recs)
	company, contact, deal, note := k["company"], k["contact"], k["deal"], k["note"]
	if company.ID == "" || contact.ID == "" || deal.ID == "" || note.ID == "" || len(recs) != 4 {
		t.Fatalf("records = %+v, want company, contact, deal and note", recs)
	}
	if want := "https://app-eu1.hubspot.com/contacts/62515/record/0-3/" + deal.ID; deal.URL != want {
		t.Errorf("deal URL = %q, want %q", deal.URL, want)
	}
	if got := fake.Get("companies", company.ID).Properties; got["domain"] != "acme.example" || got["name"] != "Acme B.V." {
		t.Errorf("company = %v", got)
	}
	c := fake.Get("contacts", contact.ID)
	if c.Properties["email"] != "ada@acme.example" || c.Properties["firstname"] != "Ada" || c.Properties["lastname"] != "Lovelace" {
		t.Errorf("contact = %v", c.Properties)
	}
	if diff := cmp.Diff([]crmfake.HubSpotAssociation{{To: company.ID, TypeID: 1}}, c.Associations); diff != "" {
		t.Errorf("contact associations (-want +got):\n%s", diff)
	}
	d := fake.Get("deals", deal.ID)
	if d.Properties["dealname"] != "Acme B.V. (L-42)" || d.Properties["hubspot_owner_id"] != owner || d.Properties["pipeline"] != "default" {
		t.Errorf("deal = %v, want named for the lead and owned by %s", d.Properties, owner)
	}
	if diff := cmp.Diff([]crmfake.HubSpotAssociation{{To: company.ID, TypeID: 5}, {To: contact.ID, TypeID: 3}}, d.Associations); diff != "" {
		t.Errorf("deal associations (-want +got):\n%s", diff)
	}
	n := fake.Get("notes", note.ID)
	if diff := cmp.Diff([]crmfake.HubSpotAssociation{{To: deal.ID, TypeID: 214}, {To: company.ID, TypeID: 190}, {To: contact.ID, TypeID: 202}}, n.Associations); diff != "" {
		t.Errorf("note associations (-want +got):\n%s", diff)
	}
	body := n.Properties["hs_note_body"]
	for _, s := range []string{"domain_young", "&lt;script&gt;", "Budget over 10k?: yes (&gt; 10k)", "Grace: qualify", permalink} {
		if !strings.Contains(body, s) {
			t.Errorf("note lacks %q:\n%s", s, body)
		}
	}
	if n.Properties["hs_timestamp"] != "2026-12-05T11:01:00.000Z" {
		t.Errorf("hs_timestamp = %q", n.Properties["hs_timestamp"])
	}
}

func TestHubSpot_Qualify_Repeat(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fake, hs, _ := newHubSpot(t)
	fake.AddOwner("owner@sales.example")
	l := qualifiedLead()
	recs, err := hs.Qualify(ctx, hsHandoff(l))
	if err != nil {
		t.Fatal(err)
	}
	counts := func() []int {
		return []int{fake.Count("companies"), fake.Count("contacts"), fake.Count("deals"), fake.Count("notes")}
	}
	before := counts()

	t.Run("WithRecords", func(t *testing.T) {
		fake.ResetLog()
		l := l
		l.CRM = recs
		again, err := hs.Qualify(ctx, hsHandoff(l))
		if err != nil {
			t.Fatal(err)
		}
		if got := fake.Sequence(); len(got) != 0 {
			t.Errorf("a repeat with the records asked HubSpot %v, want nothing", got)
		}
		if diff := cmp.Diff(before, counts()); diff != "" {
			t.Errorf("counts (-before +after):\n%s", diff)
		}
		if kinds(again)["deal"].ID != kinds(recs)["deal"].ID {
			t.Errorf("deal = %v, want the first one %v", kinds(again)["deal"], kinds(recs)["deal"])
		}
	})
	t.Run("CrashBeforeRecording", func(t *testing.T) {
		// A new process, no records stored: the searches find all three.
		fresh := crm.NewHubSpot(hsToken, fake.URL, loopback(), triagetest.NewClock(decided.Add(time.Hour)).Now)
		fake.ResetLog()
		again, err := fresh.Qualify(ctx, hsHandoff(l))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range fake.Requests() {
			if r.Method == http.MethodPost && !strings.HasSuffix(r.Path, "/search") && !strings.HasSuffix(r.Path, "/batch/read") {
				t.Errorf("repeat created %s", r)
			}
		}
		if diff := cmp.Diff(before, counts()); diff != "" {
			t.Errorf("company, contact, deal, note counts (-before +after):\n%s", diff)
		}
		for _, kind := range []string{"company", "contact", "deal", "note"} {
			if kinds(again)[kind].ID != kinds(recs)[kind].ID {
				t.Errorf("%s = %v, want the first one %v", kind, kinds(again)[kind], kinds(recs)[kind])
			}
		}
	})
}

func TestHubSpot_Qualify_ExistingContactNotYetSearchable(t *testing.T) {
	t.Parallel()
	fake, hs, _ := newHubSpot(t)
	// HubSpot's search index lags behind writes: the contact exists but the
	// search did not show it. The create answers 409 naming it.
	id := fake.Add("contacts", map[string]string{"email": "ada@acme.example"})
	fake.NotIndexed(id)
	recs, err := hs.Qualify(context.Background(), hsHandoff(qualifiedLead()))
	if err != nil {
		t.Fatal(err)
	}
	if kinds(recs)["contact"].ID != id || fake.Count("contacts") != 1 {
		t.Errorf("contact = %v, %d contacts; want the existing %s only", kinds(recs)["contact"], fake.Count("contacts"), id)
	}
}

func TestHubSpot_Note(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("OnExistingRecords", func(t *testing.T) {
		t.Parallel()
		fake, hs, _ := newHubSpot(t)
		company := fake.Add("companies", map[string]string{"name": "Acme", "domain": "acme.example"})
		contact := fake.Add("contacts", map[string]string{"email": "ada@acme.example"})
		recs, err := hs.Note(ctx, hsHandoff(declinedLead()))
		if err != nil {
			t.Fatal(err)
		}
		want := []string{
			"POST /crm/v3/objects/companies/search",
			"POST /crm/v3/objects/contacts/search",
			"GET /account-info/v3/details",
			"GET /crm/v4/objects/contacts/" + contact + "/associations/notes", // this decision's note, made before a crash?
			"POST /crm/v3/objects/notes",
		}
		if diff := cmp.Diff(want, fake.Sequence()); diff != "" {
			t.Errorf("requests (-want +got):\n%s", diff)
		}
		if fake.Count("companies") != 1 || fake.Count("contacts") != 1 || fake.Count("deals") != 0 || fake.Count("notes") != 1 {
			t.Errorf("a decline created more than a note")
		}
		n := fake.Get("notes", kinds(recs)["note"].ID)
		if diff := cmp.Diff([]crmfake.HubSpotAssociation{{To: company, TypeID: 190}, {To: contact, TypeID: 202}}, n.Associations); diff != "" {
			t.Errorf("note associations (-want +got):\n%s", diff)
		}
		if !strings.Contains(n.Properties["hs_note_body"], "disqualified (too small) by Grace") {
			t.Errorf("note = %s", n.Properties["hs_note_body"])
		}
	})
	t.Run("NothingWhenNoneExists", func(t *testing.T) {
		t.Parallel()
		fake, hs, _ := newHubSpot(t)
		recs, err := hs.Note(ctx, hsHandoff(declinedLead()))
		if err != nil || recs != nil {
			t.Fatalf("Note = %v, %v; want nothing", recs, err)
		}
		for _, r := range fake.Requests() {
			if !strings.HasSuffix(r.Path, "/search") {
				t.Errorf("a decline with nothing in HubSpot sent %s", r)
			}
		}
	})
}

func TestHubSpot_Qualify_OwnerNotMapped(t *testing.T) {
	t.Parallel()
	for name, email := range map[string]string{"NoMapping": "", "NoSuchOwner": "stranger@sales.example"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fake, hs, _ := newHubSpot(t)
			h := hsHandoff(qualifiedLead())
			h.OwnerEmail = email
			recs, err := hs.Qualify(context.Background(), h)
			if err != nil {
				t.Fatalf("an unmapped owner is not an error: %v", err)
			}
			d := fake.Get("deals", kinds(recs)["deal"].ID)
			if _, owned := d.Properties["hubspot_owner_id"]; owned {
				t.Errorf("deal = %v, want it unowned", d.Properties)
			}
		})
	}
}

// A token without crm.objects.owners.read still hands the lead off: the
// deal is made without an owner (Ping, which check asks, reports the 403).
func TestHubSpot_Qualify_NoOwnersScope(t *testing.T) {
	t.Parallel()
	fake, hs, _ := newHubSpot(t)
	fake.AddOwner("owner@sales.example")
	fake.DenyOwners()
	recs, err := hs.Qualify(context.Background(), hsHandoff(qualifiedLead()))
	if err != nil {
		t.Fatalf("a missing owners scope stopped the hand-off: %v", err)
	}
	d := fake.Get("deals", kinds(recs)["deal"].ID)
	if _, owned := d.Properties["hubspot_owner_id"]; owned {
		t.Errorf("deal = %v, want it unowned", d.Properties)
	}
	var se *crm.StatusError
	if err := hs.Ping(context.Background()); !errors.As(err, &se) || se.Status != 403 {
		t.Errorf("Ping = %v, want the 403 for the missing scope", err)
	}
}

func TestHubSpot_Errors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("RateLimited", func(t *testing.T) {
		t.Parallel()
		fake, hs, _ := newHubSpot(t)
		fake.RateLimitOnce()
		_, err := hs.Qualify(ctx, hsHandoff(qualifiedLead()))
		var se *crm.StatusError
		if !errors.As(err, &se) || se.Status != 429 || !se.Retryable() || se.RetryAfter != 10*time.Second {
			t.Fatalf("err = %v, want a retryable 429 waiting the 10-second window", err)
		}
		if fake.Count("companies") != 0 {
			t.Error("created something after the 429")
		}
	})
	t.Run("Unauthorized", func(t *testing.T) {
		t.Parallel()
		fake := crmfake.NewHubSpot(t, hsToken)
		hs := crm.NewHubSpot("pat-revoked", fake.URL, loopback(), nil)
		_, err := hs.Qualify(ctx, hsHandoff(qualifiedLead()))
		var se *crm.StatusError
		if !errors.As(err, &se) || se.Status != 401 || se.Retryable() {
			t.Fatalf("err = %v, want a final 401", err)
		}
	})
}

func TestHubSpot_DealState(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fake, hs, _ := newHubSpot(t)
	recs, err := hs.Qualify(ctx, hsHandoff(qualifiedLead()))
	if err != nil {
		t.Fatal(err)
	}
	deal := kinds(recs)["deal"]
	for _, tc := range []struct {
		stage, amount string
		want          triage.OutcomeKind
		value         int64
	}{
		{"appointmentscheduled", "", "", 0},
		{"closedwon", "12000.40", triage.OutcomeWon, 12000},
		{"closedlost", "5000", triage.OutcomeLost, 5000},
	} {
		fake.SetDeal(deal.ID, tc.stage, tc.amount)
		got, value, err := hs.DealState(ctx, deal)
		if err != nil || got != tc.want || value != tc.value {
			t.Errorf("stage %s: DealState = %q, %d, %v; want %q, %d", tc.stage, got, value, err, tc.want, tc.value)
		}
	}
	gone := deal
	gone.ID = "999999"
	if _, _, err := hs.DealState(ctx, gone); !errors.Is(err, crm.ErrGone) {
		t.Errorf("deleted deal: err = %v, want ErrGone", err)
	}
	if _, _, err := hs.DealState(ctx, kinds(recs)["company"]); err == nil {
		t.Error("DealState of a company: want an error")
	}
}

func TestHubSpot_Qualify_FreeMailIsNoCompany(t *testing.T) {
	t.Parallel()
	fake, hs, _ := newHubSpot(t)
	// Someone else's gmail.com company must not become this lead's.
	fake.Add("companies", map[string]string{"name": "Gmail fan club", "domain": "gmail.com"})
	l := qualifiedLead()
	l.Company, l.Website, l.Email, l.Domain = "", "", "ada.lovelace@gmail.com", "gmail.com"
	l.Research.Facts.FreeMail, l.Research.Facts.EmailDomain = true, "gmail.com"
	recs, err := hs.Qualify(context.Background(), hsHandoff(l))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := kinds(recs)["company"]; ok || fake.Count("companies") != 1 {
		t.Errorf("records = %+v, %d companies; want no company for a free-mail lead", recs, fake.Count("companies"))
	}
	d := fake.Get("deals", kinds(recs)["deal"].ID)
	if d.Properties["dealname"] != "Ada Lovelace (L-42)" || len(d.Associations) != 1 || d.Associations[0].TypeID != 3 {
		t.Errorf("deal = %+v, want it on the contact only", d)
	}
}

func TestHubSpot_Qualify_AgainAfterReopen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fake, hs, c := newHubSpot(t)
	l := qualifiedLead()
	recs, err := hs.Qualify(ctx, hsHandoff(l))
	if err != nil {
		t.Fatal(err)
	}
	// Reopened and qualified again a day later: the same deal, a new note
	// for the new decision.
	l.CRM = recs
	l.Decision = &triage.Decision{Outcome: triage.StatusQualified, By: "U1", At: decided.Add(24 * time.Hour)}
	c.Set(l.Decision.At.Add(time.Minute))
	again, err := hs.Qualify(ctx, hsHandoff(l))
	if err != nil {
		t.Fatal(err)
	}
	if kinds(again)["deal"].ID != kinds(recs)["deal"].ID || fake.Count("deals") != 1 {
		t.Errorf("deal = %v (%d deals), want the first one", kinds(again)["deal"], fake.Count("deals"))
	}
	if kinds(again)["note"].ID == kinds(recs)["note"].ID || fake.Count("notes") != 2 {
		t.Errorf("note = %v (%d notes), want a second note for the second decision", kinds(again)["note"], fake.Count("notes"))
	}
}

// A hand-off that fails half-way returns what it made, so the sender keeps
// it: the retry builds on those records and makes nothing twice, even when
// HubSpot's search has not indexed them yet.
func TestHubSpot_Qualify_FailedHalfWayKeepsWhatItMade(t *testing.T) {
	t.Parallel()
	fake := crmfake.NewHubSpot(t, hsToken)
	target, err := url.Parse(fake.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	var failDeal atomic.Bool
	failDeal.Store(true)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/crm/v3/objects/deals" && failDeal.CompareAndSwap(true, false) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte(`{"status":"error","message":"Bad Gateway","correlationId":"0b1c2d3e-0000-4000-8000-000000000502","category":"UNKNOWN"}`))
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	hs := crm.NewHubSpot(hsToken, front.URL, loopback(), triagetest.NewClock(decided.Add(time.Minute)).Now)

	h := hsHandoff(qualifiedLead())
	made, err := hs.Qualify(context.Background(), h)
	if err == nil {
		t.Fatal("the deal's 502 was not reported")
	}
	got := kinds(made)
	if got["company"].ID == "" || got["contact"].ID == "" || got["deal"].ID != "" {
		t.Fatalf("records after the failed deal = %+v, want the company and the contact, no deal", made)
	}
	// HubSpot's search lags behind its writes: the retry must not need it.
	fake.NotIndexed(got["company"].ID)
	fake.NotIndexed(got["contact"].ID)
	h.Lead.CRM = made
	if _, err := hs.Qualify(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	for kind, want := range map[string]int{"companies": 1, "contacts": 1, "deals": 1, "notes": 1} {
		if n := fake.Count(kind); n != want {
			t.Errorf("after the retry HubSpot has %d %s, want %d", n, kind, want)
		}
	}
}
