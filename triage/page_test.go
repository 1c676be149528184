package triage_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/leadtriage/leadtriage/triage"
)

// A store without LeadPager (the in-memory fake) is paged by reading every
// matching lead: the same pages a paging store gives.
func TestService_LeadsPage_WithoutPager(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, triage.Policy{Quorum: 1, Auto: true})
	var all []triage.LeadID
	for i := range 5 {
		in := input()
		in.Company = fmt.Sprintf("Company %d", i)
		l, _, err := h.svc.Submit(ctx, in, triage.Submission{Via: "csv"})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, l.ID)
	}
	h.vote(t, all[1], "U1", triage.ChoiceQualify)

	var got []triage.LeadID
	var after triage.LeadID
	for range 10 {
		pg, err := h.svc.LeadsPage(ctx, triage.StatusPending, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range pg.Leads {
			got = append(got, l.ID)
		}
		if pg.Next == 0 {
			break
		}
		after = pg.Next
	}
	want := []triage.LeadID{all[0], all[2], all[3], all[4]}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pending pages (-want +got):\n%s", diff)
	}
	if n, err := h.svc.CountLeads(ctx, triage.StatusPending); err != nil || n != 4 {
		t.Errorf("CountLeads(pending) = %d, %v; want 4", n, err)
	}

	_, err := h.svc.LeadsPage(ctx, "bogus", 0, 10)
	wantFieldError(t, err, "status")
	_, err = h.svc.LeadsPage(ctx, "", 0, triage.MaxPage+1)
	wantFieldError(t, err, "limit")
}
