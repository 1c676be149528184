package bot

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/triage"
)

// pagerStore is the fixture's store with the database's paging passed
// through (hookStore hides it), recording how leads are read.
type pagerStore struct {
	fullStore
	pager triage.LeadPager

	mu     sync.Mutex
	listed []triage.LeadFilter // Leads calls
	paged  []int               // LeadsAfter limits
	newest []string            // NewestLeads users
}

func (s *pagerStore) Leads(ctx context.Context, f triage.LeadFilter) ([]triage.Lead, error) {
	s.mu.Lock()
	s.listed = append(s.listed, f)
	s.mu.Unlock()
	return s.fullStore.Leads(ctx, f)
}

func (s *pagerStore) LeadsAfter(ctx context.Context, f triage.LeadFilter, after triage.LeadID) ([]triage.Lead, bool, error) {
	s.mu.Lock()
	s.paged = append(s.paged, f.Limit)
	s.mu.Unlock()
	return s.pager.LeadsAfter(ctx, f, after)
}

func (s *pagerStore) NewestLeads(ctx context.Context, user string, limit int) ([]triage.Lead, int, error) {
	s.mu.Lock()
	s.newest = append(s.newest, user)
	s.mu.Unlock()
	return s.pager.(triage.NewestIndex).NewestLeads(ctx, user, limit)
}

func (s *pagerStore) CountLeads(ctx context.Context, status triage.Status) (int, error) {
	return s.pager.CountLeads(ctx, status)
}

// "/qualify list" reads one page of pending leads and their count through
// the status index, never every pending lead, and still says how many it
// left out.
func TestBot_CommandList_ReadsOnlyItsPage(t *testing.T) {
	t.Parallel()
	var ps *pagerStore
	f := newCmdFixture(t, func(s fullStore) fullStore {
		ps = &pagerStore{fullStore: s, pager: s.(*hookStore).fullStore.(triage.LeadPager)}
		return ps
	})
	const n = maxListLeads + 20
	for i := range n {
		f.submit(t, fmt.Sprintf("Company %03d", i), time.Duration(n-i)*time.Minute)
	}
	ps.mu.Lock()
	ps.listed = nil
	ps.mu.Unlock()

	r := f.exec(t, cmdUser, "list", nil)
	checkLimits(t, r)
	got := replyText(t, r)
	if want := fmt.Sprintf("Pending leads, oldest first:* %d", n); !strings.Contains(got, want) {
		t.Errorf("reply lacks %q:\n%s", want, got)
	}
	shown := strings.Count(got, "Company ")
	if !strings.Contains(got, "Company 000") || shown == 0 || shown > maxListLeads {
		t.Errorf("%d leads shown, from the oldest, want at most %d:\n%s", shown, maxListLeads, got)
	}
	if want := fmt.Sprintf("… and %d more", n-shown); !strings.Contains(got, want) {
		t.Errorf("reply lacks %q", want)
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if len(ps.listed) != 0 {
		t.Errorf("list read whole lists %+v, want only a page", ps.listed)
	}
	if len(ps.paged) != 1 || ps.paged[0] != maxListLeads {
		t.Errorf("pages read with limits %v, want one of %d", ps.paged, maxListLeads)
	}
}

// "/qualify list all" and "list mine" read the newest leads they show
// through the store's index (NewestIndex), never every lead, and say how
// many there are in all.
func TestBot_CommandListAllMine_ReadOnlyTheirPage(t *testing.T) {
	t.Parallel()
	var ps *pagerStore
	f := newCmdFixture(t, func(s fullStore) fullStore {
		ps = &pagerStore{fullStore: s, pager: s.(*hookStore).fullStore.(triage.LeadPager)}
		return ps
	})
	const n = maxListLeads + 20
	var last triage.Lead
	for i := range n {
		last = f.submit(t, fmt.Sprintf("Company %03d", i), time.Duration(n-i)*time.Minute)
	}
	if _, err := f.svc.Claim(t.Context(), last.ID, cmdUser); err != nil {
		t.Fatal(err)
	}
	ps.mu.Lock()
	ps.listed = nil
	ps.mu.Unlock()

	all := replyText(t, f.exec(t, cmdUser, "list all", nil))
	if want := fmt.Sprintf("All leads, newest first:* %d", n); !strings.Contains(all, want) {
		t.Errorf("list all lacks %q:\n%s", want, all)
	}
	if !strings.Contains(all, fmt.Sprintf("Company %03d", n-1)) || strings.Contains(all, "Company 000") {
		t.Errorf("list all does not start from the newest:\n%s", all)
	}
	mine := replyText(t, f.exec(t, cmdUser, "list mine", nil))
	if !strings.Contains(mine, fmt.Sprintf("Company %03d", n-1)) || strings.Count(mine, "Company ") != 1 {
		t.Errorf("list mine = %s, want the one claimed lead", mine)
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if len(ps.listed) != 0 {
		t.Errorf("list all/mine read whole lists %+v, want only their pages", ps.listed)
	}
	if strings.Join(ps.newest, ",") != ","+cmdUser {
		t.Errorf("NewestLeads calls for %q, want all then %s", ps.newest, cmdUser)
	}
}
