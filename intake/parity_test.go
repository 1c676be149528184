package intake_test

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestServer_PostLeads_InputParity: one input rule for JSON and forms. Each
// row says the same thing in both encodings and must get the same answer,
// through the real handler: a 400 naming the same field and nothing stored,
// or a 201 with the same lead.
func TestServer_PostLeads_InputParity(t *testing.T) {
	t.Parallel()
	const bad, ok = http.StatusBadRequest, http.StatusCreated
	tests := []struct {
		name       string
		json, form string
		wantStatus int
		wantField  string
	}{
		// Issue 10: JSON used to drop these bytes silently ("Acme BV").
		{"InvalidUTF8", "{\"company\":\"Acme \xff\xfe BV\"}", "company=Acme+%FF%FE+BV", bad, "company"},
		{"InvalidUTF8InExtra", "{\"company\":\"Acme\",\"note\":\"\xc3\"}", "company=Acme&note=%C3", bad, "note"},
		{"LoneSurrogate", `{"company":"Acme \ud800 BV"}`, "company=Acme+%ED%A0%80+BV", bad, "company"},
		{"NUL", `{"company":"Acme\u0000BV"}`, "company=Acme%00BV", bad, "company"},
		{"Bell", `{"company":"Acme","message":"hi\u0007"}`, "company=Acme&message=hi%07", bad, "message"},
		{"Escape", `{"company":"\u001b[31mAcme"}`, "company=%1B%5B31mAcme", bad, "company"},
		{"DEL", `{"company":"Acme\u007f"}`, "company=Acme%7F", bad, "company"},
		{"C1Control", `{"company":"Acme\u0085"}`, "company=Acme%C2%85", bad, "company"},
		{"KeyWithNUL", `{"company":"Acme","comp\u0000any":"Evil"}`, "company=Acme&comp%00any=Evil", bad, "comp\x00any"},
		{"KeyWithNewline", `{"company":"Acme","utm\n":"x"}`, "company=Acme&utm%0A=x", bad, "utm\n"},
		{"KeyInvalidUTF8", "{\"company\":\"Acme\",\"k\xff\":\"x\"}", "company=Acme&k%FF=x", bad, "k\uFFFD"},
		{"KeyZeroWidth", `{"company":"Acme","ut\u200bm":"x"}`, "company=Acme&ut%E2%80%8Bm=x", bad, "ut\u200bm"},
		{"KeyBidiOverride", `{"company":"Acme","\u202eutm":"x"}`, "company=Acme&%E2%80%AEutm=x", bad, "\u202eutm"},
		{"KeySpacesAround", `{"company":"Acme"," utm":"x"}`, "company=Acme&+utm=x", bad, " utm"},
		{"EmptyKey", `{"company":"Acme","":"x"}`, "company=Acme&=x", bad, ""},
		{"EmptyKeyEmptyValue", `{"company":"Acme","":""}`, "company=Acme&=", bad, ""},
		{"DuplicateKey", `{"company":"Acme","company":"Evil"}`, "company=Acme&company=Evil", bad, "company"},
		{"DuplicateKnownOtherCase", `{"email":"a@acme.example","EMAIL":"b@acme.example"}`, "email=a%40acme.example&EMAIL=b%40acme.example", bad, "EMAIL"},
		{"DuplicateExtraOtherCase", `{"company":"Acme","utm":"a","UTM":"b"}`, "company=Acme&utm=a&UTM=b", bad, "UTM"},
		{"DuplicateEmptyField", `{"company":"Acme","phone":"","phone":"123456"}`, "company=Acme&phone=&phone=123456", bad, "phone"},

		// What people type is kept: tabs and line breaks in a message,
		// emoji joined with U+200D, a replacement character written on purpose.
		{"TabsAndLineBreaks", `{"company":"Acme","message":"a\tb\r\nc"}`, "company=Acme&message=a%09b%0D%0Ac", ok, ""},
		{"EmojiWithJoiner", `{"company":"Acme 👩‍💻"}`, "company=Acme+%F0%9F%91%A9%E2%80%8D%F0%9F%92%BB", ok, ""},
		{"ReplacementCharacterWritten", `{"company":"Acme","note":"\ufffd"}`, "company=Acme&note=%EF%BF%BD", ok, ""},
		{"ExtraKeptWithSpelling", `{"company":"Acme","UTM_Source":"x"}`, "company=Acme&UTM_Source=x", ok, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			type answer struct {
				Status int
				Field  string
			}
			var leads [2][]string // company and extras of the stored lead, per encoding
			for i, enc := range []struct{ ct, body string }{
				{"application/json", tt.json},
				{"application/x-www-form-urlencoded", tt.form},
			} {
				e := newEnv(t)
				w := e.do(t, request{body: enc.body, contentType: enc.ct, header: map[string]string{"Authorization": "Bearer " + secret}})
				got := answer{Status: w.Code}
				if w.Code >= 400 {
					if f := decode[errorResponse](t, w).Field; f != nil {
						got.Field = *f
					}
				}
				if diff := cmp.Diff(answer{tt.wantStatus, tt.wantField}, got); diff != "" {
					t.Errorf("%s: answer (-want +got):\n%s\nbody %s", enc.ct, diff, w.Body)
				}
				ls := e.leads(t)
				if tt.wantStatus != ok {
					if len(ls) != 0 {
						t.Errorf("%s: a refused request stored %d leads", enc.ct, len(ls))
					}
					continue
				}
				if len(ls) != 1 {
					t.Fatalf("%s: stored %d leads, want 1", enc.ct, len(ls))
				}
				leads[i] = []string{ls[0].Company, ls[0].Message}
				for k, v := range ls[0].Extra {
					leads[i] = append(leads[i], k+"="+v)
				}
			}
			if diff := cmp.Diff(leads[0], leads[1]); diff != "" {
				t.Errorf("JSON and form stored different leads (-json +form):\n%s", diff)
			}
		})
	}
}
