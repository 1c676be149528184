package research_test

import (
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/leadtriage/leadtriage/research"
	"github.com/leadtriage/leadtriage/triage"
)

func TestDomainLists(t *testing.T) {
	t.Parallel()
	tests := []struct {
		domain           string
		free, disposable bool
	}{
		{"gmail.com", true, false},
		{"GMail.com.", true, false},
		{"googlemail.com", true, false},
		{"mail.yahoo.co.uk", true, false},
		{"yahoo.nl", true, false},
		{"hotmail.be", true, false},
		{"ziggo.nl", true, false},
		{"xs4all.nl", true, false},
		{"telenet.be", true, false},
		{"proton.me", true, false},
		{"mailinator.com", false, true},
		{"guerrillamail.org", false, true},
		{"yopmail.com", false, true},
		{"acme.nl", false, false},
		{"gmail.com.evil.example", false, false},
		{"notgmail.com", false, false},
		{"com", false, false},
		{"", false, false},
	}
	for _, tt := range tests {
		if got := research.FreeMailDomain(tt.domain); got != tt.free {
			t.Errorf("FreeMailDomain(%q) = %v, want %v", tt.domain, got, tt.free)
		}
		if got := research.DisposableDomain(tt.domain); got != tt.disposable {
			t.Errorf("DisposableDomain(%q) = %v, want %v", tt.domain, got, tt.disposable)
		}
	}
}

func TestResearch_Email(t *testing.T) {
	t.Parallel()
	tests := []struct {
		email            string
		wantFlags        []string
		free, disp, role bool
		ok               bool
	}{
		{email: "Jan.Jansen@gmail.com", wantFlags: []string{triage.FlagFreeEmail}, free: true, ok: true},
		{email: "info@acme.example", role: true, ok: true},
		{email: "sales+web@acme.example", role: true, ok: true},
		{email: "jan@acme.example", ok: true},
		{email: "x@mailinator.com", wantFlags: []string{triage.FlagDisposableEmail}, disp: true, ok: true},
		{email: "not-an-address", ok: false},
	}
	e := newEnv(t)
	for _, tt := range tests {
		t.Run(tt.email, func(t *testing.T) {
			t.Parallel()
			r := research.New(e.config())
			f := mustResearch(t, r, triage.Lead{ID: 1, Email: tt.email}, false)
			p := provider(t, f, "email")
			if p.OK != tt.ok {
				t.Errorf("email provider = %+v, want OK %v", p, tt.ok)
			}
			if f.Facts.FreeMail != tt.free || f.Facts.Disposable != tt.disp || f.Facts.RoleAddress != tt.role {
				t.Errorf("facts free %v disposable %v role %v, want %v %v %v", f.Facts.FreeMail, f.Facts.Disposable, f.Facts.RoleAddress, tt.free, tt.disp, tt.role)
			}
			var got []string
			for _, fl := range f.Flags {
				if fl.Source == "email" {
					got = append(got, fl.Code)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.wantFlags) {
				t.Errorf("e-mail flags = %v, want %v", got, tt.wantFlags)
			}
		})
	}
}

func newTestLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func fmtFindings(f triage.Findings) string { return fmt.Sprintf("%+v", f) }
