package triage_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/leadtriage/leadtriage/triage"
)

// now is the fixed time of every table test in this package.
var now = time.Date(2026, time.March, 10, 12, 0, 0, 0, time.UTC)

// pending completes want with what NewLead always sets.
func pending(want triage.Lead) triage.Lead {
	want.Status = triage.StatusPending
	want.CreatedAt = now
	return want
}

// wantFieldError fails t unless err is a *FieldError for field that wraps ErrInvalid.
func wantFieldError(t *testing.T, err error, field string) *triage.FieldError {
	t.Helper()
	var fe *triage.FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v, want a *FieldError for %q", err, field)
	}
	if fe.Field != field {
		t.Errorf("FieldError.Field = %q, want %q (err: %v)", fe.Field, field, err)
	}
	if !errors.Is(err, triage.ErrInvalid) {
		t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
	}
	return fe
}

func TestNewLead(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   triage.LeadInput
		want triage.Lead
	}{
		{"company only", triage.LeadInput{Company: "Acme"}, triage.Lead{Company: "Acme"}},
		{"email only gives the domain", triage.LeadInput{Email: "jan@voorbeeld.nl"},
			triage.Lead{Email: "jan@voorbeeld.nl", Domain: "voorbeeld.nl"}},
		{"email domain lowercased, local part kept", triage.LeadInput{Email: "Jan.Jansen@Voorbeeld.NL"},
			triage.Lead{Email: "Jan.Jansen@voorbeeld.nl", Domain: "voorbeeld.nl"}},
		{"email surrounding space trimmed", triage.LeadInput{Email: "  jan@voorbeeld.nl \n"},
			triage.Lead{Email: "jan@voorbeeld.nl", Domain: "voorbeeld.nl"}},
		{"IDN email domain to xn--", triage.LeadInput{Email: "info@bücher.de"},
			triage.Lead{Email: "info@xn--bcher-kva.de", Domain: "xn--bcher-kva.de"}},
		{"bare website gets https", triage.LeadInput{Website: "example.com"},
			triage.Lead{Website: "https://example.com", Domain: "example.com"}},
		{"www stripped from the domain only", triage.LeadInput{Website: "www.example.com/about"},
			triage.Lead{Website: "https://www.example.com/about", Domain: "example.com"}},
		{"uppercase scheme and host lowercased, path kept", triage.LeadInput{Website: "HTTPS://WWW.Example.COM/About"},
			triage.Lead{Website: "https://www.example.com/About", Domain: "example.com"}},
		{"http kept", triage.LeadInput{Website: "http://example.com/"},
			triage.Lead{Website: "http://example.com/", Domain: "example.com"}},
		{"fragment dropped", triage.LeadInput{Website: "https://example.com/a?b=1#top"},
			triage.Lead{Website: "https://example.com/a?b=1", Domain: "example.com"}},
		{"IDN website to xn--", triage.LeadInput{Website: "bücher.de"},
			triage.Lead{Website: "https://xn--bcher-kva.de", Domain: "xn--bcher-kva.de"}},
		{"website domain wins over the email's", triage.LeadInput{Email: "founder@gmail.com", Website: "acme.io"},
			triage.Lead{Email: "founder@gmail.com", Website: "https://acme.io", Domain: "acme.io"}},
		{"every field", triage.LeadInput{
			Company: "Acme BV", Name: "Jan Jansen", Email: "jan@acme.nl", Phone: "+31 (0)20-123 45.67",
			Website: "acme.nl", Message: "Hello,\nwe need help.", Source: "website form",
			Founded: "1800", Employees: "1_000",
		}, triage.Lead{
			Company: "Acme BV", Name: "Jan Jansen", Email: "jan@acme.nl", Phone: "+31 (0)20-123 45.67",
			Website: "https://acme.nl", Domain: "acme.nl", Message: "Hello,\nwe need help.", Source: "website form",
			Founded: 1800, Employees: 1000,
		}},
		{"founded this year", triage.LeadInput{Company: "Acme", Founded: " 2026 "}, triage.Lead{Company: "Acme", Founded: 2026}},
		{"employees at the cap", triage.LeadInput{Company: "Acme", Employees: "10000000"}, triage.Lead{Company: "Acme", Employees: 10_000_000}},
		{"phone with five digits", triage.LeadInput{Company: "Acme", Phone: "12345"}, triage.Lead{Company: "Acme", Phone: "12345"}},
		{"phone with twenty digits", triage.LeadInput{Company: "Acme", Phone: strings.Repeat("1", 20)}, triage.Lead{Company: "Acme", Phone: strings.Repeat("1", 20)}},
		{"whitespace collapsed in one-line fields", triage.LeadInput{Company: "  Acme \t  Inc\n", Name: "Jan\r\nJansen", Source: " web  form "},
			triage.Lead{Company: "Acme Inc", Name: "Jan Jansen", Source: "web form"}},
		{"control, bidi and zero-width characters stripped", triage.LeadInput{
			Company: "Ac\u200bme\u202e Inc\x00\u200d", Name: "J\ufeffan\u202a\u2066", Message: "hi\u200b\x07 there\u202e",
		}, triage.Lead{Company: "Acme Inc", Name: "Jan", Message: "hi there"}},
		{"newlines kept in the message only", triage.LeadInput{Company: "Acme\nInc", Message: "line 1\r\nline 2\n\nline 4\ttab\n"},
			triage.Lead{Company: "Acme Inc", Message: "line 1\nline 2\n\nline 4 tab"}},
		{"extras cleaned, empty keys dropped", triage.LeadInput{Company: "Acme", Extra: map[string]string{
			" utm  source ": "news\u202eletter", "notes": "a\nb", "": "gone", "  ": "gone", "\u200b": "gone",
		}}, triage.Lead{Company: "Acme", Extra: map[string]string{"utm source": "newsletter", "notes": "a\nb"}}},
		{"only empty extra keys give no extras", triage.LeadInput{Company: "Acme", Extra: map[string]string{"": "x"}},
			triage.Lead{Company: "Acme"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := triage.NewLead(tt.in, now)
			if err != nil {
				t.Fatalf("NewLead: %v", err)
			}
			if diff := cmp.Diff(pending(tt.want), got); diff != "" {
				t.Errorf("NewLead (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewLead_CreatedAtIsUTC(t *testing.T) {
	t.Parallel()
	amsterdam := time.FixedZone("CET", 3600)
	got, err := triage.NewLead(triage.LeadInput{Company: "Acme"}, now.In(amsterdam))
	if err != nil {
		t.Fatal(err)
	}
	if got.CreatedAt != now || got.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt = %v, want %v in UTC", got.CreatedAt, now)
	}
}

func TestNewLead_Invalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    triage.LeadInput
		field string
	}{
		{"nothing to identify the company", triage.LeadInput{Name: "Jan", Phone: "0201234567"}, "company"},
		{"only invisible characters", triage.LeadInput{Company: "\u200b\u202e\x00 "}, "company"},
		{"email with display name", triage.LeadInput{Email: "Jan <jan@example.com>"}, "email"},
		{"email quoted display name", triage.LeadInput{Email: `"Jan" <jan@example.com>`}, "email"},
		{"two emails", triage.LeadInput{Email: "a@example.com, b@example.com"}, "email"},
		{"email without domain", triage.LeadInput{Email: "jan"}, "email"},
		{"email single-label domain", triage.LeadInput{Email: "jan@localhost"}, "email"},
		{"email IP literal", triage.LeadInput{Email: "jan@[127.0.0.1]"}, "email"},
		{"email numeric domain", triage.LeadInput{Email: "jan@127.0.0.1"}, "email"},
		{"bad website", triage.LeadInput{Website: "javascript:alert(1)"}, "website"},
		{"website with valid email still checked", triage.LeadInput{Email: "jan@example.com", Website: "http://localhost/"}, "website"},
		{"founded not a number", triage.LeadInput{Company: "Acme", Founded: "nineteen ninety"}, "founded"},
		{"founded 1799", triage.LeadInput{Company: "Acme", Founded: "1799"}, "founded"},
		{"founded next year", triage.LeadInput{Company: "Acme", Founded: "2027"}, "founded"},
		{"employees not a number", triage.LeadInput{Company: "Acme", Employees: "many"}, "employees"},
		{"employees fraction", triage.LeadInput{Company: "Acme", Employees: "2.5"}, "employees"},
		{"employees negative", triage.LeadInput{Company: "Acme", Employees: "-1"}, "employees"},
		{"employees implausible", triage.LeadInput{Company: "Acme", Employees: "10000001"}, "employees"},
		{"phone with letters", triage.LeadInput{Company: "Acme", Phone: "call me maybe"}, "phone"},
		{"phone with four digits", triage.LeadInput{Company: "Acme", Phone: "1234"}, "phone"},
		{"phone with 21 digits", triage.LeadInput{Company: "Acme", Phone: strings.Repeat("1", 21)}, "phone"},
		{"phone with a mention", triage.LeadInput{Company: "Acme", Phone: "<!channel> 123456"}, "phone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := triage.NewLead(tt.in, now)
			wantFieldError(t, err, tt.field)
			if diff := cmp.Diff(triage.Lead{}, got); diff != "" {
				t.Errorf("NewLead returned a lead with its error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewLead_LengthCaps(t *testing.T) {
	t.Parallel()
	// Multi-byte runes show that the caps count characters, not bytes.
	runes := func(n int) string { return strings.Repeat("é", n) }
	tests := []struct {
		field string
		max   int
		in    func(n int) triage.LeadInput // a valid input whose field has n characters
	}{
		{"company", triage.MaxShortField, func(n int) triage.LeadInput { return triage.LeadInput{Company: runes(n)} }},
		{"name", triage.MaxShortField, func(n int) triage.LeadInput { return triage.LeadInput{Company: "Acme", Name: runes(n)} }},
		{"email", triage.MaxEmail, func(n int) triage.LeadInput {
			return triage.LeadInput{Email: strings.Repeat("a", n-len("@example.com")) + "@example.com"}
		}},
		{"phone", triage.MaxPhone, func(n int) triage.LeadInput {
			// 20 digits at most, so pad with dashes.
			return triage.LeadInput{Company: "Acme", Phone: strings.Repeat("1-", 20) + strings.Repeat("-", n-40)}
		}},
		{"website", triage.MaxWebsite, func(n int) triage.LeadInput {
			return triage.LeadInput{Website: "https://example.com/" + strings.Repeat("a", n-len("https://example.com/"))}
		}},
		{"message", triage.MaxMessage, func(n int) triage.LeadInput { return triage.LeadInput{Company: "Acme", Message: runes(n)} }},
		{"source", triage.MaxShortField, func(n int) triage.LeadInput { return triage.LeadInput{Company: "Acme", Source: runes(n)} }},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			t.Parallel()
			if _, err := triage.NewLead(tt.in(tt.max), now); err != nil {
				t.Errorf("%s of exactly %d characters: %v", tt.field, tt.max, err)
			}
			_, err := triage.NewLead(tt.in(tt.max+1), now)
			fe := wantFieldError(t, err, tt.field)
			if want := fmt.Sprintf("(%d characters, at most %d)", tt.max+1, tt.max); !strings.Contains(fe.Problem, want) {
				t.Errorf("Problem = %q, want it to say %q", fe.Problem, want)
			}
		})
	}
	t.Run("counted after stripping invisible characters", func(t *testing.T) {
		t.Parallel()
		got, err := triage.NewLead(triage.LeadInput{Company: runes(triage.MaxShortField) + "\u200b\u202e"}, now)
		if err != nil {
			t.Fatal(err)
		}
		if got.Company != runes(triage.MaxShortField) {
			t.Errorf("Company = %q", got.Company)
		}
	})
}

func TestNewLead_Extras(t *testing.T) {
	t.Parallel()
	many := func(n int) map[string]string {
		m := map[string]string{}
		for i := range n {
			m[fmt.Sprintf("k%d", i)] = "v"
		}
		return m
	}
	tests := []struct {
		name  string
		extra map[string]string
		field string // "" = valid
	}{
		{"at the count cap", many(triage.MaxExtraKeys), ""},
		{"over the count cap", many(triage.MaxExtraKeys + 1), "extra"},
		{"key at the cap", map[string]string{strings.Repeat("k", triage.MaxExtraKey): "v"}, ""},
		{"key over the cap", map[string]string{strings.Repeat("k", triage.MaxExtraKey+1): "v"}, "extra"},
		{"value at the cap", map[string]string{"plan": strings.Repeat("é", triage.MaxExtraValue)}, ""},
		{"value over the cap names the key", map[string]string{"plan": strings.Repeat("é", triage.MaxExtraValue+1)}, "plan"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := triage.NewLead(triage.LeadInput{Company: "Acme", Extra: tt.extra}, now)
			if tt.field != "" {
				wantFieldError(t, err, tt.field)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.extra, got.Extra); diff != "" {
				t.Errorf("Extra (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNormaliseWebsite(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{in: "example.com", want: "https://example.com"},
		{in: "example.com/", want: "https://example.com/"},
		{in: "www.example.com", want: "https://www.example.com"},
		{in: "https://Example.COM", want: "https://example.com"},
		{in: "HTTP://EXAMPLE.COM/Path?q=A", want: "http://example.com/Path?q=A"},
		{in: "https://example.com/#contact", want: "https://example.com/"},
		{in: "https://example.com.", want: "https://example.com"},
		{in: "https://bücher.de/über", want: "https://xn--bcher-kva.de/%C3%BCber"},
		{in: "example.com/?next=https://example.com/x", want: "https://example.com/?next=https://example.com/x"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := triage.NormaliseWebsite(tt.in)
			if err != nil {
				t.Fatalf("NormaliseWebsite(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("NormaliseWebsite(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNormaliseWebsite_Rejected(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"javascript:alert(1)",
		"JavaScript://example.com/%0aalert(1)",
		"ftp://example.com",
		"file:///etc/passwd",
		"gopher://example.com",
		"data:text/html,hi",
		"https://user:pass@example.com",
		"https://user@example.com",
		"example.com:8080",
		"https://example.com:443",
		"http://127.0.0.1",
		"127.0.0.1",
		"http://[::1]/",
		"http://[2001:db8::1]:80/",
		"[::1]",
		"2130706433",
		"http://2130706433/",
		"0x7f.0.0.1",
		"http://0x7f000001/",
		"http://0X7F.1/",
		"http://127.0.0.0x1/",
		"0x7f.0x0.0x0.0x1",
		"017700000001",
		"http://10.0.0.1.",
		"localhost",
		"http://localhost/",
		"intranet",
		"https://",
		"https:///path",
		"",
		"http://%zz.com",
		"http://[::1",
		"https://ex_ample.com",
		"https://-bad.com",
		strings.Repeat(strings.Repeat("a", 60)+".", 5) + "com", // over 253 octets
	} {
		t.Run(in, func(t *testing.T) {
			t.Parallel()
			if got, err := triage.NormaliseWebsite(in); err == nil {
				t.Errorf("NormaliseWebsite(%q) = %q, want an error", in, got)
			}
		})
	}
	// Not names DNS can resolve: idna.Lookup does not check label lengths.
	for _, in := range []string{
		"https://a..com",
		"https://example..",
		strings.Repeat("a", 64) + ".com",
	} {
		t.Run(in, func(t *testing.T) {
			t.Parallel()
			if got, err := triage.NormaliseWebsite(in); err == nil {
				t.Errorf("NormaliseWebsite(%q) = %q, want an error", in, got)
			}
		})
	}
}

func TestNormaliseEmail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string // want "" = rejected
	}{
		{"jan@example.com", "jan@example.com"},
		{"Jan@EXAMPLE.com", "Jan@example.com"},
		{"jan+canary@voorbeeld.nl", "jan+canary@voorbeeld.nl"},
		{"jan@bücher.de", "jan@xn--bcher-kva.de"},
		{"jan@example.com.", ""},
		{"Jan <jan@example.com>", ""},
		{"<jan@example.com>", ""},
		{"jan@example.com (Jan)", ""},
		{" jan@example.com", ""},
		{"jan", ""},
		{"@example.com", ""},
		{"jan@", ""},
		{"jan@localhost", ""},
		{"jan@[::1]", ""},
		{"jan@2130706433", ""},
		{"jan@0x7f.0.0.1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := triage.NormaliseEmail(tt.in)
			if tt.want == "" {
				if err == nil {
					t.Errorf("NormaliseEmail(%q) = %q, want an error", tt.in, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("NormaliseEmail(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func fullInput() triage.LeadInput {
	return triage.LeadInput{
		Company: "Acme", Name: "Jan", Email: "jan@acme.nl", Phone: "0201234567", Website: "acme.nl",
		Message: "hi", Source: "form", Founded: "2001", Employees: "12",
		Extra: map[string]string{"utm_source": "news", "plan": "pro"},
	}
}

func TestLeadInput_Fingerprint(t *testing.T) {
	t.Parallel()
	base := fullInput().Fingerprint()
	if len(base) != 64 {
		t.Errorf("Fingerprint = %q, want 64 hex digits", base)
	}
	t.Run("equal for equal input", func(t *testing.T) {
		t.Parallel()
		if got := fullInput().Fingerprint(); got != base {
			t.Errorf("Fingerprint = %q, want %q", got, base)
		}
	})
	t.Run("independent of map order", func(t *testing.T) {
		t.Parallel()
		a, b := fullInput(), fullInput()
		a.Extra, b.Extra = map[string]string{}, map[string]string{}
		for i := range 50 {
			a.Extra[fmt.Sprintf("k%02d", i)] = fmt.Sprint(i)
		}
		for i := 49; i >= 0; i-- {
			b.Extra[fmt.Sprintf("k%02d", i)] = fmt.Sprint(i)
		}
		want := a.Fingerprint()
		for range 20 {
			if got := b.Fingerprint(); got != want {
				t.Fatalf("Fingerprint differs with map order: %q vs %q", got, want)
			}
		}
	})
	t.Run("nil and empty extras are equal", func(t *testing.T) {
		t.Parallel()
		a, b := fullInput(), fullInput()
		a.Extra, b.Extra = nil, map[string]string{}
		if a.Fingerprint() != b.Fingerprint() {
			t.Error("nil and empty Extra fingerprint differently")
		}
	})

	changes := []struct {
		name   string
		change func(*triage.LeadInput)
	}{
		{"company", func(in *triage.LeadInput) { in.Company = "Acme2" }},
		{"name", func(in *triage.LeadInput) { in.Name = "Piet" }},
		{"email", func(in *triage.LeadInput) { in.Email = "piet@acme.nl" }},
		{"phone", func(in *triage.LeadInput) { in.Phone = "0201234568" }},
		{"website", func(in *triage.LeadInput) { in.Website = "acme.com" }},
		{"message", func(in *triage.LeadInput) { in.Message = "hello" }},
		{"source", func(in *triage.LeadInput) { in.Source = "csv" }},
		{"founded", func(in *triage.LeadInput) { in.Founded = "2002" }},
		{"employees", func(in *triage.LeadInput) { in.Employees = "13" }},
		{"extra value", func(in *triage.LeadInput) { in.Extra["plan"] = "free" }},
		{"extra key", func(in *triage.LeadInput) { in.Extra["plan2"] = in.Extra["plan"]; delete(in.Extra, "plan") }},
		{"extra added", func(in *triage.LeadInput) { in.Extra["x"] = "" }},
		{"extra removed", func(in *triage.LeadInput) { delete(in.Extra, "plan") }},
		{"no extras", func(in *triage.LeadInput) { in.Extra = nil }},
		{"value moved to the next field", func(in *triage.LeadInput) { in.Name, in.Email = in.Name+in.Email, "" }},
		{"company and name swapped", func(in *triage.LeadInput) { in.Company, in.Name = in.Name, in.Company }},
		{"separator in an extra", func(in *triage.LeadInput) { in.Extra = map[string]string{"a=b": "c", "utm_source": "news"} }},
	}
	for _, c := range changes {
		t.Run("differs when "+c.name+" differs", func(t *testing.T) {
			t.Parallel()
			in := fullInput()
			c.change(&in)
			if in.Fingerprint() == base {
				t.Errorf("changing %s kept the fingerprint", c.name)
			}
		})
	}
	t.Run("extra key and value boundary", func(t *testing.T) {
		t.Parallel()
		a, b := fullInput(), fullInput()
		a.Extra = map[string]string{"a": "b=c"}
		b.Extra = map[string]string{"a=b": "c"}
		if a.Fingerprint() == b.Fingerprint() {
			t.Error(`{"a": "b=c"} and {"a=b": "c"} fingerprint the same`)
		}
	})
	t.Run("no collision from padding", func(t *testing.T) {
		t.Parallel()
		// Both encode as "6:x|1:y|5:c|1:d|0:|…": the length written is the
		// untrimmed one, the value the trimmed one.
		a := triage.LeadInput{Company: "x|1:y ", Name: "c    ", Email: "d"}
		b := triage.LeadInput{Company: "x     ", Name: "y", Email: "c|1:d"}
		if a.Fingerprint() == b.Fingerprint() {
			t.Errorf("%+v and %+v fingerprint the same", a, b)
		}
	})
}
