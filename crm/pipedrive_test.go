package crm_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/leadtriage/leadtriage/crm"
	"github.com/leadtriage/leadtriage/crm/crmfake"
	"github.com/leadtriage/leadtriage/triage"
	"github.com/leadtriage/leadtriage/triage/triagetest"
)

const pdToken = "659c9fddb16335e48cc67114694b52074e812e03"

func newPipedrive(t *testing.T) (*crmfake.Pipedrive, *crm.Pipedrive) {
	t.Helper()
	fake := crmfake.NewPipedrive(t, pdToken)
	c := triagetest.NewClock(decided.Add(time.Minute))
	return fake, crm.NewPipedrive(pdToken, fake.URL, loopback(), c.Now)
}

func id64(t *testing.T, r triage.CRMRecord) int64 {
	t.Helper()
	id, err := strconv.ParseInt(r.ID, 10, 64)
	if err != nil {
		t.Fatalf("record %+v: id is not a number", r)
	}
	return id
}

func TestPipedrive_Qualify_First(t *testing.T) {
	t.Parallel()
	fake, pd := newPipedrive(t)
	owner := fake.AddUser("owner@sales.example")
	recs, err := pd.Qualify(context.Background(), hsHandoff(qualifiedLead()))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"GET /api/v2/persons/search",       // the lead's e-mail
		"GET /api/v2/persons/search",       // a colleague at the domain
		"GET /api/v2/organizations/search", // the company's name
		"GET /v1/users/find",
		"POST /api/v2/organizations",
		"POST /api/v2/persons",
		"GET /v1/users/me",
		"GET /api/v2/deals/search",
		"POST /api/v2/deals",
		"POST /v1/notes",
	}
	if diff := cmp.Diff(want, fake.Sequence()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	k := kinds(recs)
	org, person, deal, note := id64(t, k["organization"]), id64(t, k["person"]), id64(t, k["deal"]), id64(t, k["note"])
	if len(recs) != 4 {
		t.Fatalf("records = %+v", recs)
	}
	if want := fmt.Sprintf("https://acme-sales.pipedrive.com/deal/%d", deal); k["deal"].URL != want {
		t.Errorf("deal URL = %q, want %q", k["deal"].URL, want)
	}
	if got := fake.Get("organizations", org); got["name"] != "Acme B.V." || got["owner_id"] != owner {
		t.Errorf("organization = %v", got)
	}
	p := fake.Get("persons", person)
	if p["name"] != "Ada Lovelace" || p["org_id"] != org || !strings.Contains(fmt.Sprint(p["emails"]), "ada@acme.example") {
		t.Errorf("person = %v", p)
	}
	d := fake.Get("deals", deal)
	if d["title"] != "Acme B.V. (L-42)" || d["owner_id"] != owner || d["org_id"] != org || d["person_id"] != person {
		t.Errorf("deal = %v, want named for the lead, owned by %d, with the organization and person", d, owner)
	}
	n := fake.Get("notes", note)
	if n["deal_id"] != deal || n["org_id"] != org || n["person_id"] != person {
		t.Errorf("note = %v, want it on the deal, organization and person", n)
	}
	for _, s := range []string{"domain_young", "&lt;script&gt;", "Votes: 2 qualify, 0 disqualify, 1 unsure", permalink} {
		if !strings.Contains(n["content"].(string), s) {
			t.Errorf("note lacks %q:\n%s", s, n["content"])
		}
	}
	for _, r := range fake.Requests() {
		if strings.Contains(r.Query, "api_token") {
			t.Errorf("%s carries the token in the URL", r)
		}
	}
}

func TestPipedrive_Qualify_Repeat(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fake, pd := newPipedrive(t)
	fake.AddUser("owner@sales.example")
	l := qualifiedLead()
	recs, err := pd.Qualify(ctx, hsHandoff(l))
	if err != nil {
		t.Fatal(err)
	}
	counts := func() []int {
		return []int{fake.Count("organizations"), fake.Count("persons"), fake.Count("deals"), fake.Count("notes")}
	}
	before := counts()
	t.Run("WithRecords", func(t *testing.T) {
		fake.ResetLog()
		l := l
		l.CRM = recs
		if _, err := pd.Qualify(ctx, hsHandoff(l)); err != nil {
			t.Fatal(err)
		}
		if got := fake.Sequence(); len(got) != 0 {
			t.Errorf("a repeat with the records asked Pipedrive %v, want nothing", got)
		}
		if diff := cmp.Diff(before, counts()); diff != "" {
			t.Errorf("counts (-before +after):\n%s", diff)
		}
	})
	t.Run("CrashBeforeRecording", func(t *testing.T) {
		fresh := crm.NewPipedrive(pdToken, fake.URL, loopback(), nil)
		fake.ResetLog()
		again, err := fresh.Qualify(ctx, hsHandoff(l))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range fake.Requests() {
			if r.Method == http.MethodPost {
				t.Errorf("repeat created %s", r)
			}
		}
		if diff := cmp.Diff(before, counts()); diff != "" {
			t.Errorf("organization, person, deal, note counts (-before +after):\n%s", diff)
		}
		for _, kind := range []string{"organization", "person", "deal", "note"} {
			if kinds(again)[kind].ID != kinds(recs)[kind].ID {
				t.Errorf("%s = %v, want the first one %v", kind, kinds(again)[kind], kinds(recs)[kind])
			}
		}
	})
}

func TestPipedrive_Qualify_FindsTheOrganizationByDomain(t *testing.T) {
	t.Parallel()
	fake, pd := newPipedrive(t)
	// A colleague at acme.example is already in Pipedrive, in an
	// organization named differently: the lead joins it.
	org := fake.AddOrganization("ACME Holding")
	fake.AddPerson("Charles Babbage", "charles@acme.example", org)
	recs, err := pd.Qualify(context.Background(), hsHandoff(qualifiedLead()))
	if err != nil {
		t.Fatal(err)
	}
	if got := id64(t, kinds(recs)["organization"]); got != org || fake.Count("organizations") != 1 {
		t.Errorf("organization = %d (%d in all), want the existing %d", got, fake.Count("organizations"), org)
	}
	if p := fake.Get("persons", id64(t, kinds(recs)["person"])); p["org_id"] != org {
		t.Errorf("person = %v, want it in organization %d", p, org)
	}
}

func TestPipedrive_Note(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("OnExistingRecords", func(t *testing.T) {
		t.Parallel()
		fake, pd := newPipedrive(t)
		org := fake.AddOrganization("Acme B.V.")
		person := fake.AddPerson("Ada Lovelace", "ada@acme.example", org)
		recs, err := pd.Note(ctx, hsHandoff(declinedLead()))
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"GET /api/v2/persons/search", "GET /v1/users/me", "GET /v1/notes", "POST /v1/notes"}
		if diff := cmp.Diff(want, fake.Sequence()); diff != "" {
			t.Errorf("requests (-want +got):\n%s", diff)
		}
		if fake.Count("organizations") != 1 || fake.Count("persons") != 1 || fake.Count("deals") != 0 || fake.Count("notes") != 1 {
			t.Error("a decline created more than a note")
		}
		n := fake.Get("notes", id64(t, kinds(recs)["note"]))
		if n["org_id"] != org || n["person_id"] != person || n["deal_id"] != nil {
			t.Errorf("note = %v, want it on organization %d and person %d only", n, org, person)
		}
	})
	t.Run("NothingWhenNoneExists", func(t *testing.T) {
		t.Parallel()
		fake, pd := newPipedrive(t)
		recs, err := pd.Note(ctx, hsHandoff(declinedLead()))
		if err != nil || recs != nil {
			t.Fatalf("Note = %v, %v; want nothing", recs, err)
		}
		for _, r := range fake.Requests() {
			if r.Method != http.MethodGet {
				t.Errorf("a decline with nothing in Pipedrive sent %s", r)
			}
		}
	})
}

func TestPipedrive_Qualify_OwnerNotMapped(t *testing.T) {
	t.Parallel()
	fake, pd := newPipedrive(t)
	h := hsHandoff(qualifiedLead())
	h.OwnerEmail = "stranger@sales.example"
	recs, err := pd.Qualify(context.Background(), h)
	if err != nil {
		t.Fatalf("an unmapped owner is not an error: %v", err)
	}
	if d := fake.Get("deals", id64(t, kinds(recs)["deal"])); d["owner_id"] != nil {
		t.Errorf("deal = %v, want no owner_id (Pipedrive makes the token's user the owner)", d)
	}
}

func TestPipedrive_Errors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("RateLimited", func(t *testing.T) {
		t.Parallel()
		fake, pd := newPipedrive(t)
		fake.RateLimitOnce()
		_, err := pd.Qualify(ctx, hsHandoff(qualifiedLead()))
		var se *crm.StatusError
		if !errors.As(err, &se) || se.Status != 429 || !se.Retryable() || se.RetryAfter != 2*time.Second {
			t.Fatalf("err = %v, want a retryable 429 waiting x-ratelimit-reset (2s)", err)
		}
	})
	t.Run("Unauthorized", func(t *testing.T) {
		t.Parallel()
		fake := crmfake.NewPipedrive(t, pdToken)
		pd := crm.NewPipedrive("revoked", fake.URL, loopback(), nil)
		_, err := pd.Qualify(ctx, hsHandoff(qualifiedLead()))
		var se *crm.StatusError
		if !errors.As(err, &se) || se.Status != 401 || se.Retryable() {
			t.Fatalf("err = %v, want a final 401", err)
		}
	})
}

func TestPipedrive_DealState(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fake, pd := newPipedrive(t)
	recs, err := pd.Qualify(ctx, hsHandoff(qualifiedLead()))
	if err != nil {
		t.Fatal(err)
	}
	deal := kinds(recs)["deal"]
	for _, tc := range []struct {
		status string
		value  float64
		want   triage.OutcomeKind
		whole  int64
	}{
		{"open", 0, "", 0},
		{"won", 12000.4, triage.OutcomeWon, 12000},
		{"lost", 5000, triage.OutcomeLost, 5000},
	} {
		fake.SetDeal(id64(t, deal), tc.status, tc.value)
		got, value, err := pd.DealState(ctx, deal)
		if err != nil || got != tc.want || value != tc.whole {
			t.Errorf("status %s: DealState = %q, %d, %v; want %q, %d", tc.status, got, value, err, tc.want, tc.whole)
		}
	}
	fake.SetDeal(id64(t, deal), "deleted", 0)
	if _, _, err := pd.DealState(ctx, deal); !errors.Is(err, crm.ErrGone) {
		t.Errorf("deleted deal: err = %v, want ErrGone", err)
	}
	missing := deal
	missing.ID = "999999"
	if _, _, err := pd.DealState(ctx, missing); !errors.Is(err, crm.ErrGone) {
		t.Errorf("unknown deal: err = %v, want ErrGone", err)
	}
}
