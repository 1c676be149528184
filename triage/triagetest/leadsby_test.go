package triagetest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/leadtriage/leadtriage/triage/triagetest"
)

func TestStore_LeadsByEmailAndDomain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := &triagetest.Store{}
	// Twelve leads, so that ids 10 and up must sort after 2 (numeric, not
	// textual order); every third one is from acme, the rest have no contact.
	var acme []triage.LeadID
	for i := range 12 {
		l := triage.Lead{Company: fmt.Sprintf("C%d", i), Status: triage.StatusPending, CreatedAt: now}
		if i%3 == 1 {
			l.Email, l.Domain = "jan@acme.example", "acme.example"
		}
		stored, created, err := s.CreateLead(ctx, l, triage.Idempotency{Now: now}, nil)
		if err != nil || !created {
			t.Fatalf("CreateLead = %v, %v", created, err)
		}
		if l.Email != "" {
			acme = append(acme, stored.ID)
		}
	}
	other, _, err := s.CreateLead(ctx, triage.Lead{Company: "Other", Email: "piet@other.example", Domain: "other.example", CreatedAt: now}, triage.Idempotency{Now: now}, nil)
	if err != nil {
		t.Fatal(err)
	}

	ids := func(leads []triage.Lead, err error) []triage.LeadID {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		var out []triage.LeadID
		for _, l := range leads {
			out = append(out, l.ID)
		}
		return out
	}
	tests := []struct {
		name string
		got  []triage.LeadID
		want []triage.LeadID
	}{
		{"ByEmail", ids(s.LeadsByEmail(ctx, "jan@acme.example")), acme},
		{"ByDomain", ids(s.LeadsByDomain(ctx, "acme.example")), acme},
		{"OtherEmail", ids(s.LeadsByEmail(ctx, "piet@other.example")), []triage.LeadID{other.ID}},
		{"EmptyEmail", ids(s.LeadsByEmail(ctx, "")), nil},
		{"EmptyDomain", ids(s.LeadsByDomain(ctx, "")), nil},
		{"UnknownDomain", ids(s.LeadsByDomain(ctx, "acme")), nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.got); diff != "" {
			t.Errorf("%s: oldest first (-want +got):\n%s", tt.name, diff)
		}
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.LeadsByEmail(cancelled, "jan@acme.example"); !errors.Is(err, context.Canceled) {
		t.Errorf("LeadsByEmail with a cancelled context = %v, want context.Canceled", err)
	}
}
