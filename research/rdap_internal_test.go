package research

import (
	"testing"
	"time"
)

// FuzzRDAPResponse feeds arbitrary bytes through the RDAP decoding path:
// whatever a server sends, the answer is a result or an error, never a panic.
func FuzzRDAPResponse(f *testing.F) {
	for _, seed := range []string{
		`{"objectClassName":"domain","ldhName":"acme.example","events":[{"eventAction":"registration","eventDate":"2020-01-02T03:04:05Z"}],"entities":[{"objectClassName":"entity","roles":["registrar"],"vcardArray":["vcard",[["version",{},"text","4.0"],["fn",{},"text","Registrar"]]]}]}`,
		`{"objectClassName":"domain","entities":[{"roles":["registrar"],"vcardArray":["vcard"]}]}`,
		`{"objectClassName":"domain","entities":[{"roles":["registrar"],"vcardArray":["vcard",[["fn"]]]}]}`,
		`{"objectClassName":"domain","entities":[{"roles":["registrar"],"vcardArray":["vcard",[[1,2,3,4]]]}]}`,
		`{"objectClassName":"domain","events":[{"eventAction":null,"eventDate":[]}]}`,
		`{"objectClassName":"entity"}`,
		`{"errorCode":429}`,
		`[]`, `null`, `""`, `{`, ``, "\x00\xff",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := parseRDAP(body)
		if err != nil && res != (rdapResult{}) {
			t.Errorf("error %v with a result %+v", err, res)
		}
		if err == nil && !res.Found {
			t.Errorf("no error and not found: %+v", res)
		}
		if len(res.Registrar) > 100+len("…") {
			t.Errorf("registrar of %d bytes", len(res.Registrar))
		}
	})
}

func TestParseRDAP_Date(t *testing.T) {
	t.Parallel()
	res, err := parseRDAP([]byte(`{"objectClassName":"domain","events":[{"eventAction":"expiration","eventDate":"2030-01-01T00:00:00Z"},{"eventAction":"registration","eventDate":"2020-01-02T03:04:05.5+02:00"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2020, 1, 2, 1, 4, 5, 5e8, time.UTC); !res.Registered.Equal(want) {
		t.Errorf("Registered = %v, want %v", res.Registered, want)
	}
}
