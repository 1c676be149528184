package triage_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/leadtriage/leadtriage/triage"
)

// votes builds a vote map from alternating user ids and choices.
func votes(kv ...string) map[string]triage.Choice {
	m := map[string]triage.Choice{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = triage.Choice(kv[i+1])
	}
	return m
}

func TestApplyVote(t *testing.T) {
	t.Parallel()
	decided := triage.Lead{ID: 1, Status: triage.StatusQualified, Votes: votes("U1", "qualify")}
	tests := []struct {
		name        string
		lead        triage.Lead
		user        string
		choice      triage.Choice
		wantChanged bool
		wantErr     error  // compared with errors.Is
		wantField   string // for a *FieldError
		wantVotes   map[string]triage.Choice
		wantEvents  []triage.Event
	}{
		{
			name: "first vote", lead: triage.Lead{ID: 1, Status: triage.StatusPending},
			user: "U1", choice: triage.ChoiceQualify, wantChanged: true,
			wantVotes:  votes("U1", "qualify"),
			wantEvents: []triage.Event{{At: now, Kind: triage.EventVoted, By: "U1", Detail: "qualify", Args: map[string]string{triage.EvChoice: "qualify"}}},
		},
		{
			name: "second voter", lead: triage.Lead{ID: 1, Status: triage.StatusPending, Votes: votes("U1", "qualify")},
			user: "U2", choice: triage.ChoiceUnsure, wantChanged: true,
			wantVotes:  votes("U1", "qualify", "U2", "unsure"),
			wantEvents: []triage.Event{{At: now, Kind: triage.EventVoted, By: "U2", Detail: "unsure", Args: map[string]string{triage.EvChoice: "unsure"}}},
		},
		{
			name: "changed vote names the old one", lead: triage.Lead{ID: 1, Status: triage.StatusPending, Votes: votes("U1", "qualify")},
			user: "U1", choice: triage.ChoiceDisqualify, wantChanged: true,
			wantVotes:  votes("U1", "disqualify"),
			wantEvents: []triage.Event{{At: now, Kind: triage.EventVoted, By: "U1", Detail: "disqualify (was qualify)", Args: map[string]string{triage.EvChoice: "disqualify", triage.EvWas: "qualify"}}},
		},
		{
			name: "same vote again is a no-op", lead: triage.Lead{ID: 1, Status: triage.StatusPending, Votes: votes("U1", "qualify")},
			user: "U1", choice: triage.ChoiceQualify, wantChanged: false,
			wantVotes: votes("U1", "qualify"),
		},
		{
			name: "invalid choice", lead: triage.Lead{ID: 1, Status: triage.StatusPending},
			user: "U1", choice: "maybe", wantField: "vote",
		},
		{
			name: "empty choice", lead: triage.Lead{ID: 1, Status: triage.StatusPending},
			user: "U1", choice: "", wantField: "vote",
		},
		{
			name: "empty user", lead: triage.Lead{ID: 1, Status: triage.StatusPending},
			user: "", choice: triage.ChoiceQualify, wantField: "user",
		},
		{
			name: "decided lead", lead: decided,
			user: "U2", choice: triage.ChoiceDisqualify, wantErr: triage.ErrLeadClosed,
			wantVotes: votes("U1", "qualify"),
		},
		{
			name: "decided lead, same vote", lead: decided,
			user: "U1", choice: triage.ChoiceQualify, wantErr: triage.ErrLeadClosed,
			wantVotes: votes("U1", "qualify"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := tt.lead
			l.Votes = cloneVotes(tt.lead.Votes)
			changed, err := triage.ApplyVote(&l, tt.user, tt.choice, now)
			switch {
			case tt.wantField != "":
				wantFieldError(t, err, tt.wantField)
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("err = %v, want %v", err, tt.wantErr)
				}
			case err != nil:
				t.Fatalf("ApplyVote: %v", err)
			}
			if changed != tt.wantChanged {
				t.Errorf("changed = %v, want %v", changed, tt.wantChanged)
			}
			if diff := cmp.Diff(tt.wantVotes, l.Votes, cmpEmptyMap); diff != "" {
				t.Errorf("Votes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantEvents, l.Events); diff != "" {
				t.Errorf("Events (-want +got):\n%s", diff)
			}
			if l.Status != tt.lead.Status {
				t.Errorf("Status = %q, want it unchanged (%q)", l.Status, tt.lead.Status)
			}
		})
	}
}

// cmpEmptyMap treats nil and empty maps alike: ApplyVote need not allocate
// a map for a vote it refuses.
var cmpEmptyMap = cmp.FilterValues(func(a, b map[string]triage.Choice) bool { return len(a) == 0 && len(b) == 0 }, cmp.Ignore())

func cloneVotes(m map[string]triage.Choice) map[string]triage.Choice {
	if m == nil {
		return nil
	}
	c := map[string]triage.Choice{}
	for k, v := range m {
		c[k] = v
	}
	return c
}

func TestCount(t *testing.T) {
	t.Parallel()
	got := triage.Count(votes("U1", "qualify", "U2", "qualify", "U3", "disqualify", "U4", "unsure", "U5", "bogus"))
	want := triage.Tally{Qualify: 2, Disqualify: 1, Unsure: 1}
	if got != want {
		t.Errorf("Count = %+v, want %+v", got, want)
	}
	if got.Total() != 4 {
		t.Errorf("Total = %d, want 4", got.Total())
	}
	if s := got.String(); s != "2 qualify, 1 disqualify, 1 unsure" {
		t.Errorf("String = %q", s)
	}
}

func TestEvaluate(t *testing.T) {
	t.Parallel()
	auto := triage.Policy{Quorum: 3, Auto: true, TeamLead: "ULEAD"}
	tests := []struct {
		name   string
		status triage.Status // "" = pending
		votes  map[string]triage.Choice
		policy triage.Policy
		want   triage.Verdict
	}{
		{"no votes", "", nil, auto, triage.Verdict{}},
		{"below quorum", "", votes("U1", "qualify", "U2", "qualify"), auto,
			triage.Verdict{Tally: triage.Tally{Qualify: 2}}},
		{"quorum, majority qualify", "", votes("U1", "qualify", "U2", "qualify", "U3", "disqualify"), auto,
			triage.Verdict{Tally: triage.Tally{Qualify: 2, Disqualify: 1}, Quorum: true, Outcome: triage.StatusQualified, Majority: triage.StatusQualified}},
		{"quorum, majority disqualify", "", votes("U1", "disqualify", "U2", "qualify", "U3", "disqualify"), auto,
			triage.Verdict{Tally: triage.Tally{Qualify: 1, Disqualify: 2}, Quorum: true, Outcome: triage.StatusDisqualified, Majority: triage.StatusDisqualified}},
		{"above quorum", "", votes("U1", "qualify", "U2", "qualify", "U3", "qualify", "U4", "qualify"), auto,
			triage.Verdict{Tally: triage.Tally{Qualify: 4}, Quorum: true, Outcome: triage.StatusQualified, Majority: triage.StatusQualified}},
		{"tie", "", votes("U1", "qualify", "U2", "disqualify", "U3", "unsure", "U4", "unsure"), auto,
			triage.Verdict{Tally: triage.Tally{Qualify: 1, Disqualify: 1, Unsure: 2}, Quorum: true, Tie: true}},
		{"all unsure is a tie", "", votes("U1", "unsure", "U2", "unsure", "U3", "unsure"), auto,
			triage.Verdict{Tally: triage.Tally{Unsure: 3}, Quorum: true, Tie: true}},
		{"unsure counts toward the quorum only", "", votes("U1", "qualify", "U2", "unsure", "U3", "unsure"), auto,
			triage.Verdict{Tally: triage.Tally{Qualify: 1, Unsure: 2}, Quorum: true, Outcome: triage.StatusQualified, Majority: triage.StatusQualified}},
		{"unsure votes do not outweigh", "", votes("U1", "disqualify", "U2", "unsure", "U3", "unsure", "U4", "unsure"), auto,
			triage.Verdict{Tally: triage.Tally{Disqualify: 1, Unsure: 3}, Quorum: true, Outcome: triage.StatusDisqualified, Majority: triage.StatusDisqualified}},
		{"not auto: never an outcome", "", votes("U1", "qualify", "U2", "qualify", "U3", "qualify"), triage.Policy{Quorum: 3},
			triage.Verdict{Tally: triage.Tally{Qualify: 3}, Quorum: true, Majority: triage.StatusQualified}},
		{"not auto: no tie either", "", votes("U1", "qualify", "U2", "disqualify"), triage.Policy{Quorum: 2},
			triage.Verdict{Tally: triage.Tally{Qualify: 1, Disqualify: 1}, Quorum: true}},
		{"decided lead: no outcome", triage.StatusDisqualified, votes("U1", "qualify", "U2", "qualify", "U3", "qualify"), auto,
			triage.Verdict{Tally: triage.Tally{Qualify: 3}, Quorum: true}},
		{"decided lead: no tie", triage.StatusReferred, votes("U1", "qualify", "U2", "disqualify", "U3", "unsure"), auto,
			triage.Verdict{Tally: triage.Tally{Qualify: 1, Disqualify: 1, Unsure: 1}, Quorum: true}},
		{"quorum 0 treated as 1: no votes", "", nil, triage.Policy{Auto: true},
			triage.Verdict{}},
		{"quorum 0 treated as 1: one vote decides", "", votes("U1", "disqualify"), triage.Policy{Auto: true},
			triage.Verdict{Tally: triage.Tally{Disqualify: 1}, Quorum: true, Outcome: triage.StatusDisqualified, Majority: triage.StatusDisqualified}},
		{"negative quorum treated as 1", "", votes("U1", "qualify"), triage.Policy{Quorum: -2, Auto: true},
			triage.Verdict{Tally: triage.Tally{Qualify: 1}, Quorum: true, Outcome: triage.StatusQualified, Majority: triage.StatusQualified}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status := tt.status
			if status == "" {
				status = triage.StatusPending
			}
			l := triage.Lead{ID: 1, Status: status, Votes: tt.votes}
			if diff := cmp.Diff(tt.want, triage.Evaluate(&l, tt.policy)); diff != "" {
				t.Errorf("Evaluate (-want +got):\n%s", diff)
			}
			if l.Status != status || l.Decision != nil || len(l.Events) != 0 {
				t.Errorf("Evaluate changed the lead: %+v", l)
			}
		})
	}
}

func TestRevealed(t *testing.T) {
	t.Parallel()
	blind := triage.Policy{Quorum: 2, Blind: true}
	tests := []struct {
		name   string
		status triage.Status
		votes  map[string]triage.Choice
		policy triage.Policy
		want   bool
	}{
		{"not blind, no votes", triage.StatusPending, nil, triage.Policy{Quorum: 2}, true},
		{"not blind, before quorum", triage.StatusPending, votes("U1", "qualify"), triage.Policy{Quorum: 2}, true},
		{"blind, no votes", triage.StatusPending, nil, blind, false},
		{"blind, before quorum", triage.StatusPending, votes("U1", "qualify"), blind, false},
		{"blind, at quorum", triage.StatusPending, votes("U1", "qualify", "U2", "unsure"), blind, true},
		{"blind, after quorum", triage.StatusPending, votes("U1", "qualify", "U2", "unsure", "U3", "qualify"), blind, true},
		{"blind, decided before quorum", triage.StatusQualified, votes("U1", "qualify"), blind, true},
		{"blind, disqualified without votes", triage.StatusDisqualified, nil, blind, true},
		{"blind, quorum 0 treated as 1", triage.StatusPending, nil, triage.Policy{Blind: true}, false},
		{"blind, quorum 0, one vote", triage.StatusPending, votes("U1", "unsure"), triage.Policy{Blind: true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := triage.Lead{ID: 1, Status: tt.status, Votes: tt.votes}
			if got := triage.Revealed(&l, tt.policy); got != tt.want {
				t.Errorf("Revealed = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestClaim(t *testing.T) {
	t.Parallel()
	claimed := []triage.Event{{At: now, Kind: triage.EventClaimed, By: "U1"}}
	tests := []struct {
		name        string
		lead        triage.Lead
		user        string
		wantChanged bool
		wantErr     error
		wantField   string
		wantOwner   string
		wantEvents  []triage.Event
	}{
		{"new owner", triage.Lead{ID: 3, Status: triage.StatusPending}, "U1", true, nil, "", "U1", claimed},
		{"same owner is a no-op", triage.Lead{ID: 3, Status: triage.StatusPending, Owner: "U1"}, "U1", false, nil, "", "U1", nil},
		{"other owner", triage.Lead{ID: 3, Status: triage.StatusPending, Owner: "U2"}, "U1", false, triage.ErrAlreadyClaimed, "", "U2", nil},
		{"qualified lead can be claimed", triage.Lead{ID: 3, Status: triage.StatusQualified}, "U1", true, nil, "", "U1", claimed},
		{"disqualified lead", triage.Lead{ID: 3, Status: triage.StatusDisqualified}, "U1", false, triage.ErrLeadClosed, "", "", nil},
		{"referred lead", triage.Lead{ID: 3, Status: triage.StatusReferred}, "U1", false, triage.ErrLeadClosed, "", "", nil},
		{"no user", triage.Lead{ID: 3, Status: triage.StatusPending}, "", false, nil, "user", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := tt.lead
			changed, err := triage.Claim(&l, tt.user, now)
			switch {
			case tt.wantField != "":
				wantFieldError(t, err, tt.wantField)
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("err = %v, want %v", err, tt.wantErr)
				}
			case err != nil:
				t.Fatalf("Claim: %v", err)
			}
			if changed != tt.wantChanged {
				t.Errorf("changed = %v, want %v", changed, tt.wantChanged)
			}
			if l.Owner != tt.wantOwner {
				t.Errorf("Owner = %q, want %q", l.Owner, tt.wantOwner)
			}
			if diff := cmp.Diff(tt.wantEvents, l.Events); diff != "" {
				t.Errorf("Events (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("ClaimedError names the owner", func(t *testing.T) {
		t.Parallel()
		l := triage.Lead{ID: 3, Status: triage.StatusPending, Owner: "U2"}
		_, err := triage.Claim(&l, "U1", now)
		var ce *triage.ClaimedError
		if !errors.As(err, &ce) {
			t.Fatalf("err = %v, want a *ClaimedError", err)
		}
		if diff := cmp.Diff(triage.ClaimedError{Lead: 3, Owner: "U2"}, *ce); diff != "" {
			t.Errorf("ClaimedError (-want +got):\n%s", diff)
		}
	})
}

func TestDecide(t *testing.T) {
	t.Parallel()
	local := now.In(time.FixedZone("CET", 3600))
	tests := []struct {
		name      string
		status    triage.Status
		outcome   triage.Status
		by        string
		wantErr   error
		wantField string
	}{
		{"qualified by the policy", triage.StatusPending, triage.StatusQualified, triage.DecidedByPolicy, nil, ""},
		{"disqualified by a user", triage.StatusPending, triage.StatusDisqualified, "ULEAD", nil, ""},
		{"referred", triage.StatusPending, triage.StatusReferred, "ULEAD", nil, ""},
		{"pending is not an outcome", triage.StatusPending, triage.StatusPending, "ULEAD", nil, "outcome"},
		{"unknown outcome", triage.StatusPending, "maybe", "ULEAD", nil, "outcome"},
		{"empty outcome", triage.StatusPending, "", "ULEAD", nil, "outcome"},
		{"already decided", triage.StatusQualified, triage.StatusDisqualified, "ULEAD", triage.ErrLeadClosed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := triage.Lead{ID: 5, Status: tt.status}
			err := triage.Decide(&l, tt.outcome, "fits our profile", tt.by, local)
			switch {
			case tt.wantField != "":
				wantFieldError(t, err, tt.wantField)
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("err = %v, want %v", err, tt.wantErr)
				}
			case err != nil:
				t.Fatalf("Decide: %v", err)
			}
			if err != nil {
				if l.Status != tt.status || l.Decision != nil || len(l.Events) != 0 {
					t.Errorf("a refused decision changed the lead: %+v", l)
				}
				return
			}
			want := triage.Lead{
				ID: 5, Status: tt.outcome,
				Decision: &triage.Decision{Outcome: tt.outcome, Reason: "fits our profile", By: tt.by, At: now},
				Events:   []triage.Event{{At: local, Kind: triage.EventDecided, By: tt.by, Detail: string(tt.outcome) + ": fits our profile", Args: map[string]string{triage.EvOutcome: string(tt.outcome), triage.EvReason: "fits our profile"}}},
			}
			if diff := cmp.Diff(want, l); diff != "" {
				t.Errorf("lead after Decide (-want +got):\n%s", diff)
			}
			if l.Decision.At.Location() != time.UTC {
				t.Errorf("Decision.At = %v, want UTC", l.Decision.At)
			}
		})
	}
}
