package bot

import (
	"context"

	"github.com/leadtriage/leadtriage/triage"
)

// pendingPage reads what "/qualify list" shows of the pending leads: the
// oldest maxListLeads (a reply holds no more), and how many are pending in
// all. Through the status index (triage.LeadPager) that is one page and a
// count of index keys, not every pending lead decoded.
func (cm *commands) pendingPage(ctx context.Context) ([]triage.Lead, int, error) {
	page, err := cm.svc.LeadsPage(ctx, triage.StatusPending, 0, maxListLeads)
	if err != nil {
		return nil, 0, err
	}
	total := len(page.Leads)
	if page.Next != 0 {
		if total, err = cm.svc.CountLeads(ctx, triage.StatusPending); err != nil {
			return nil, 0, err
		}
	}
	return page.Leads, total, nil
}
