package bot

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/leadtriage/leadtriage/storage/storagetest"
	"github.com/leadtriage/leadtriage/triage"
	"github.com/leadtriage/leadtriage/triage/triagetest"
)

func newAccessBot(t *testing.T, a Access) (*Bot, *slackfake.Server, *triagetest.Clock) {
	t.Helper()
	db := storagetest.MustOpen(t)
	c := triagetest.NewClock(dispatchNow)
	policy := triage.Policy{Quorum: 3, TeamLead: "ULEAD"}
	svc := &triage.Service{Store: db, Policy: policy, Channel: dispatchChannel, Now: c.Now}
	fake := slackfake.New(t)
	b := New(Config{Channel: dispatchChannel, Policy: policy, Now: c.Now, Access: a}, fake.Client(), svc, db, nil)
	t.Cleanup(func() {
		if err := b.Drain(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return b, fake, c
}

func TestBot_Allowed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		access        Access
		user, channel string
		want          bool
		wantMsg       string
	}{
		{"EveryoneByDefault", Access{}, "UANY", "CANY", true, ""},
		{"ListedUser", Access{Users: []string{"UIN"}}, "UIN", "", true, ""},
		{"UnlistedUser", Access{Users: []string{"UIN"}}, "UOUT", "", false, "You are not on the list of people who use leadtriage here. Ask <@ULEAD> to add you (access.users in config.toml)."},
		{"NoUser", Access{Users: []string{"UIN"}}, "", "", false, "You are not on the list of people who use leadtriage here. Ask <@ULEAD> to add you (access.users in config.toml)."},
		{"GroupMember", Access{Usergroups: []string{"SSALES"}}, "UMEMBER", "", true, ""},
		{"NotAGroupMember", Access{Usergroups: []string{"SSALES"}}, "UOUT", "", false, "You are not on the list of people who use leadtriage here. Ask <@ULEAD> to add you (access.users in config.toml)."},
		{"UnknownGroupFailsClosed", Access{Usergroups: []string{"SGONE"}}, "UMEMBER", "", false, accessCheckFailed},
		{"ListedChannel", Access{Channels: []string{"CSALES"}}, "UANY", "CSALES", true, ""},
		{"TriageChannelAlways", Access{Channels: []string{"CSALES"}}, "UANY", dispatchChannel, true, ""},
		{"OtherChannel", Access{Channels: []string{"CSALES"}}, "UANY", "CRANDOM", false, "leadtriage takes commands and shortcuts only in <#CTRIAGE>, <#CSALES>."},
		{"NoChannelIsNotChecked", Access{Channels: []string{"CSALES"}}, "UANY", "", true, ""},
		{"UserBeforeChannel", Access{Users: []string{"UIN"}, Channels: []string{"CSALES"}}, "UOUT", "CRANDOM", false, "You are not on the list of people who use leadtriage here. Ask <@ULEAD> to add you (access.users in config.toml)."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, fake, _ := newAccessBot(t, tc.access)
			fake.AddUsergroup("SSALES", "UMEMBER")
			ok, msg := b.gate.allowed(t.Context(), tc.user, tc.channel)
			if ok != tc.want || msg != tc.wantMsg {
				t.Errorf("allowed = %v, %q; want %v, %q", ok, msg, tc.want, tc.wantMsg)
			}
		})
	}
}

// TestBot_Allowed_GroupCache: members are cached for 5 minutes on the
// bot's clock, then refreshed in the background while the old list still
// answers, and looked up before answering once an hour old.
func TestBot_Allowed_GroupCache(t *testing.T) {
	t.Parallel()
	b, fake, clk := newAccessBot(t, Access{Usergroups: []string{"SSALES"}})
	fake.AddUsergroup("SSALES", "UMEMBER")
	lookups := func() int { return len(fake.Calls("usergroups.users.list")) }
	check := func(user string, want bool) {
		t.Helper()
		if ok, msg := b.gate.allowed(t.Context(), user, ""); ok != want {
			t.Fatalf("allowed(%s) = %v (%q), want %v", user, ok, msg, want)
		}
	}
	drain := func() {
		t.Helper()
		if err := b.Drain(t.Context()); err != nil {
			t.Fatal(err)
		}
	}

	check("UMEMBER", true)
	check("UOTHER", false)
	if n := lookups(); n != 1 {
		t.Fatalf("%d lookups, want 1", n)
	}
	fake.AddUsergroup("SSALES", "UOTHER") // UMEMBER leaves, UOTHER joins
	clk.Advance(4 * time.Minute)
	check("UMEMBER", true) // cached
	if n := lookups(); n != 1 {
		t.Fatalf("%d lookups within the TTL, want 1", n)
	}

	clk.Advance(2 * time.Minute)
	check("UMEMBER", true) // stale but usable; a refresh starts
	drain()
	if n := lookups(); n != 2 {
		t.Fatalf("%d lookups after expiry, want 2 (one background refresh)", n)
	}
	check("UMEMBER", false)
	check("UOTHER", true)

	// A failed background refresh keeps the old members a while...
	clk.Advance(6 * time.Minute)
	fake.Fail("usergroups.users.list", slackfake.Fault{Status: http.StatusInternalServerError})
	check("UOTHER", true)
	drain()
	if n := lookups(); n != 3 {
		t.Fatalf("%d lookups, want 3", n)
	}
	// ...but not past an hour: then a failed lookup refuses.
	clk.Advance(time.Hour)
	fake.Fail("usergroups.users.list", slackfake.Fault{Error: "ratelimited"})
	if ok, msg := b.gate.allowed(t.Context(), "UOTHER", ""); ok || msg != accessCheckFailed {
		t.Fatalf("allowed with an hour-old list and Slack failing = %v, %q; want a refusal", ok, msg)
	}
	check("UOTHER", true) // Slack answers again
	if n := lookups(); n != 5 {
		t.Errorf("%d lookups, want 5", n)
	}
}
