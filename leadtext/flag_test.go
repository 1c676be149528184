package leadtext_test

import (
	"testing"

	"github.com/leadtriage/leadtriage/leadtext"
	"github.com/leadtriage/leadtriage/triage"
)

// The wording itself is checked against bot's English catalogue in
// bot/leadtext_internal_test.go; here, which text a flag gets.
func TestFlagDetail(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		flag triage.Flag
		want string
	}{
		{"worded from Args, not the stored Detail", triage.Flag{Code: triage.FlagFreeEmail, Detail: "old words",
			Args: map[string]string{triage.ArgDomain: "gmail.com"}}, "Free-mail address at gmail.com: no company domain behind it."},
		{"stored before Args: its Detail", triage.Flag{Code: triage.FlagFreeEmail, Detail: "Free-mail."}, "Free-mail."},
		{"empty Args: its Detail", triage.Flag{Code: triage.FlagFreeEmail, Detail: "Free-mail.", Args: map[string]string{}}, "Free-mail."},
		{"a code this version does not know: its Detail", triage.Flag{Code: "new_code", Detail: "New.",
			Args: map[string]string{"x": "y"}}, "New."},
		{"thousands and the plural", triage.Flag{Code: triage.FlagDomainYoung, Args: map[string]string{
			triage.ArgDomain: "acme.nl", triage.ArgDate: "2023-03-12", triage.ArgDays: "1200"}},
			"acme.nl was registered on 12 March 2023, 1,200 days ago."},
		{"a date argument that is no date is kept", triage.Flag{Code: triage.FlagPreviouslyDisq, Args: map[string]string{
			triage.ArgLead: "L-1", triage.ArgStatus: "referred", triage.ArgDate: "soon"}}, "L-1 was referred on soon: no reason recorded"},
	}
	for _, tc := range cases {
		if got := leadtext.FlagDetail(tc.flag); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}
