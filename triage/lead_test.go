package triage_test

import (
	"testing"

	"github.com/leadtriage/leadtriage/triage"
)

func TestParseLeadID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want triage.LeadID // 0 = rejected
	}{
		{"L-42", 42},
		{"l-42", 42},
		{"42", 42},
		{" L-7 ", 7},
		{"L-18446744073709551615", 18446744073709551615},
		{"", 0},
		{"L-", 0},
		{"L-0", 0},
		{"0", 0},
		{"L-x", 0},
		{"-1", 0},
		{"L--1", 0},
		{"L-4 2", 0},
		{"L42", 0},
		{"M-42", 0},
		{"L-18446744073709551616", 0},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := triage.ParseLeadID(tt.in)
			if tt.want == 0 {
				wantFieldError(t, err, "id")
				if got != 0 {
					t.Errorf("ParseLeadID(%q) = %d with an error, want 0", tt.in, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseLeadID(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestLeadID_String(t *testing.T) {
	t.Parallel()
	for id, want := range map[triage.LeadID]string{1: "L-1", 42: "L-42", 18446744073709551615: "L-18446744073709551615"} {
		if got := id.String(); got != want {
			t.Errorf("LeadID(%d).String() = %q, want %q", uint64(id), got, want)
		}
		if back, err := triage.ParseLeadID(want); err != nil || back != id {
			t.Errorf("ParseLeadID(%q) = %d, %v; want %d", want, back, err, id)
		}
	}
}

func TestStatus_Valid(t *testing.T) {
	t.Parallel()
	for _, s := range triage.Statuses {
		if !s.Valid() {
			t.Errorf("%q.Valid() = false", s)
		}
	}
	for _, s := range []triage.Status{"", "all", "Pending", "new"} {
		if s.Valid() {
			t.Errorf("%q.Valid() = true", s)
		}
	}
}

func TestLead_Label(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		lead triage.Lead
		want string
	}{
		{"company first", triage.Lead{ID: 1, Company: "Acme", Domain: "acme.nl", Email: "a@acme.nl", Name: "Jan"}, "Acme"},
		{"then domain", triage.Lead{ID: 1, Domain: "acme.nl", Email: "a@acme.nl", Name: "Jan"}, "acme.nl"},
		{"then email", triage.Lead{ID: 1, Email: "a@acme.nl", Name: "Jan"}, "a@acme.nl"},
		{"then name", triage.Lead{ID: 1, Name: "Jan"}, "Jan"},
		{"else the id", triage.Lead{ID: 9}, "L-9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.lead.Label(); got != tt.want {
				t.Errorf("Label() = %q, want %q", got, tt.want)
			}
		})
	}
}
