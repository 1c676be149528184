package intake_test

import (
	"encoding/json"
	"errors"
	"mime"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/leadtriage/leadtriage/intake"
	"github.com/leadtriage/leadtriage/triage"
)

func TestParseLead(t *testing.T) {
	t.Parallel()
	const jsonCT, formCT = "application/json", "application/x-www-form-urlencoded"
	tests := []struct {
		name      string
		ct, body  string
		want      triage.LeadInput
		wantField string // with bad: the field the FieldError names
		bad       bool
		wantErr   error
	}{
		{name: "KnownFields", ct: jsonCT,
			body: `{"company":"Acme","name":"Jan","email":"a@b.example","phone":"123456","website":"acme.example","message":"hi\nthere","source":"ads","founded":"2001","employees":7}`,
			want: triage.LeadInput{Company: "Acme", Name: "Jan", Email: "a@b.example", Phone: "123456", Website: "acme.example", Message: "hi\nthere", Source: "ads", Founded: "2001", Employees: "7"}},
		{name: "ExtrasRenderedAsStrings", ct: jsonCT,
			body: `{"company":"Acme","n":1.50,"big":12345678901234567890,"yes":true,"no":false,"skip":null,"s":"x"}`,
			want: triage.LeadInput{Company: "Acme", Extra: map[string]string{"n": "1.50", "big": "12345678901234567890", "yes": "true", "no": "false", "s": "x"}}},
		{name: "NullKnownFieldIsAbsent", ct: jsonCT, body: `{"company":"Acme","email":null}`, want: triage.LeadInput{Company: "Acme"}},
		{name: "KnownFieldsCaseInsensitive", ct: jsonCT, body: `{"Company":"Acme","EMAIL":"a@b.example"}`,
			want: triage.LeadInput{Company: "Acme", Email: "a@b.example"}},
		{name: "CaseVariantsCollide", ct: jsonCT, body: `{"company":"Acme","Company":"Evil"}`, bad: true, wantField: "Company"},
		{name: "ExtraKeepsSpelling", ct: jsonCT, body: `{"company":"Acme","UTM_Source":"x"}`,
			want: triage.LeadInput{Company: "Acme", Extra: map[string]string{"UTM_Source": "x"}}},
		{name: "WhitespaceAroundObject", ct: jsonCT, body: " \n{\"company\":\"Acme\"}\n ", want: triage.LeadInput{Company: "Acme"}},
		{name: "EmptyObject", ct: jsonCT, body: `{}`, want: triage.LeadInput{}},
		{name: "TwoObjects", ct: jsonCT, body: `{}{}`, bad: true, wantField: ""},
		{name: "NestedExtra", ct: jsonCT, body: `{"company":"Acme","x":{}}`, bad: true, wantField: "x"},
		{name: "EmployeesBool", ct: jsonCT, body: `{"employees":false}`, bad: true, wantField: "employees"},
		{name: "Form", ct: formCT, body: "company=Acme+BV&email=a%40b.example&ref=x%26y&empty=",
			want: triage.LeadInput{Company: "Acme BV", Email: "a@b.example", Extra: map[string]string{"ref": "x&y", "empty": ""}}},
		{name: "FormCharset", ct: formCT + "; charset=utf-8", body: "company=Acme", want: triage.LeadInput{Company: "Acme"}},
		{name: "FormRepeat", ct: formCT, body: "company=A&company=B", bad: true, wantField: "company"},
		{name: "FormNoName", ct: formCT, body: "=x", bad: true, wantField: ""},
		{name: "FormInvalidUTF8", ct: formCT, body: "company=%ff", bad: true, wantField: "company"},
		{name: "UnsupportedType", ct: "text/csv", body: "company\nAcme", wantErr: intake.ErrUnsupportedMediaType},
		{name: "BadMediaType", ct: "application/json; charset", body: `{}`, wantErr: intake.ErrUnsupportedMediaType},
		{name: "OtherCharset", ct: "application/json; charset=utf-16", body: `{}`, wantErr: intake.ErrUnsupportedMediaType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := intake.ParseLead(tt.ct, []byte(tt.body))
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
			case tt.bad:
				var fe *triage.FieldError
				if !errors.As(err, &fe) {
					t.Fatalf("err = %v, want a FieldError", err)
				}
				if fe.Field != tt.wantField {
					t.Errorf("field = %q, want %q (%v)", fe.Field, tt.wantField, err)
				}
			default:
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("input (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func FuzzParseLead(f *testing.F) {
	for _, s := range []struct{ ct, body string }{
		{"application/json", `{"company":"Acme","email":"a@b.example","founded":2015,"x":true}`},
		{"application/json; charset=utf-8", `{"website":"https://acme.example","employees":"12","n":null}`},
		{"application/json", `{"company":"Acme"} trailing`},
		{"application/json", `[{"company":"Acme"}]`},
		{"application/json", `{"a":{"b":[1,2]}}`},
		{"application/json", "{\"company\":\"\xff\u202e\"}"},
		{"application/x-www-form-urlencoded", "company=Acme&email=a%40b.example&utm=x"},
		{"application/x-www-form-urlencoded", "company=A&company=B&%zz"},
		{"application/x-www-form-urlencoded", "company=Acme%00&k%FF=%ED%A0%80&=x"},
		{"application/json", `{"company":"Acme \ud800","comp\u0000any":"x","":null}`},
		{"text/plain", "company=Acme"},
	} {
		f.Add(s.ct, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		in, err := intake.ParseLead(ct, body)
		if err != nil {
			var fe *triage.FieldError
			if !errors.Is(err, intake.ErrUnsupportedMediaType) && !errors.As(err, &fe) {
				t.Fatalf("error %v is neither ErrUnsupportedMediaType nor a FieldError", err)
			}
			if in.Company != "" || in.Extra != nil {
				t.Fatalf("an error came with a partial input: %+v", in)
			}
			return
		}
		mt, _, merr := mime.ParseMediaType(ct)
		if merr != nil {
			t.Fatalf("accepted an unparseable content type %q", ct)
		}
		if mt == "application/json" && !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		// The input rule holds for whatever was accepted, in either encoding.
		fields := map[string]string{"company": in.Company, "name": in.Name, "email": in.Email, "phone": in.Phone,
			"website": in.Website, "message": in.Message, "source": in.Source, "founded": in.Founded, "employees": in.Employees}
		for k, v := range in.Extra {
			if k == "" || !utf8.ValidString(k) || strings.TrimSpace(k) != k || strings.IndexFunc(k, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) >= 0 {
				t.Fatalf("accepted the field name %q", k)
			}
			fields[k] = v
		}
		for k, v := range fields {
			if !utf8.ValidString(v) || strings.IndexFunc(v, func(r rune) bool { return unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' }) >= 0 {
				t.Fatalf("accepted %s = %q", k, v)
			}
		}
		// Whatever parsed must go through validation without panicking.
		_, _ = triage.NewLead(in, epoch)
	})
}
