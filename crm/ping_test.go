package crm_test

import (
	"errors"
	"testing"

	"github.com/leadtriage/leadtriage/crm"
	"github.com/leadtriage/leadtriage/crm/crmfake"
)

// Ping is what `leadtriage check` asks: fine with the right token, a 401
// StatusError (not retryable) with a wrong one.
func TestPing(t *testing.T) {
	t.Parallel()
	hs := crmfake.NewHubSpot(t, hsToken)
	pd := crmfake.NewPipedrive(t, pdToken)
	for _, tc := range []struct {
		name      string
		good, bad crm.CRM
	}{
		{"hubspot", crm.NewHubSpot(hsToken, hs.URL, loopback(), nil), crm.NewHubSpot("pat-eu1-wrong", hs.URL, loopback(), nil)},
		{"pipedrive", crm.NewPipedrive(pdToken, pd.URL, loopback(), nil), crm.NewPipedrive("wrong", pd.URL, loopback(), nil)},
	} {
		if err := tc.good.Ping(t.Context()); err != nil {
			t.Errorf("%s: Ping with the token = %v, want nil", tc.name, err)
		}
		var se *crm.StatusError
		if err := tc.bad.Ping(t.Context()); !errors.As(err, &se) || se.Status != 401 || se.Retryable() {
			t.Errorf("%s: Ping with a wrong token = %v, want a final 401", tc.name, err)
		}
	}
}
