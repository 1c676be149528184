package research

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/leadtriage/leadtriage/triage"
)

// Creditsafe Connect API (docs: https://www.creditsafe.com/gb/en/enterprise/integrations/api-documentation.html).
const (
	creditsafeBaseURL = "https://connect.creditsafe.com/v1"
	// A token lives an hour; renewing a little early avoids a 401 mid-lookup.
	creditsafeTokenTTL = 50 * time.Minute
)

// creditsafe is the built-in CreditBureau. It logs in with the user name
// and password, keeps the token, and logs in again once when a call says
// the token is no longer good.
type creditsafe struct {
	r          *Researcher
	user, pass string
	base       string

	mu         sync.Mutex
	token      string
	tokenUntil time.Time
}

var _ CreditBureau = (*creditsafe)(nil)

func (c *creditsafe) Name() string { return "creditsafe" }

var errTokenRefused = failure("key refused") // getJSON's answer to a 401 or 403

// Creditsafe shapes, only the fields we read. POST /authenticate answers
// {"token":"…"}; GET /companies answers {"totalSize":n,"companies":[{"id":
// "GB-0-07495895","country":"GB","regNo":"07495895","name":"…","status":
// "Active",…}]}; GET /companies/{id} answers {"report":{…}} with
// companySummary (businessName, companyRegistrationNumber, companyStatus
// {status, description}) and creditScore {currentCreditRating {commonValue
// "A"…"E", commonDescription, creditLimit {currency, value}, providerValue
// {value}, providerDescription}, latestRatingChangeDate}.
type csToken struct {
	Token string `json:"token"`
}

type csSearch struct {
	TotalSize int `json:"totalSize"`
	Companies []struct {
		ID      string `json:"id"`
		Country string `json:"country"`
		RegNo   string `json:"regNo"`
		Name    string `json:"name"`
		Status  string `json:"status"`
	} `json:"companies"`
}

type csReport struct {
	Report struct {
		CompanyID      string `json:"companyId"`
		CompanySummary struct {
			BusinessName              string `json:"businessName"`
			CompanyRegistrationNumber string `json:"companyRegistrationNumber"`
			CompanyStatus             struct {
				Status      string `json:"status"`
				Description string `json:"description"`
			} `json:"companyStatus"`
		} `json:"companySummary"`
		CreditScore struct {
			CurrentCreditRating struct {
				CommonValue       string `json:"commonValue"`
				CommonDescription string `json:"commonDescription"`
				CreditLimit       struct {
					Currency string          `json:"currency"`
					Value    json.RawMessage `json:"value"` // a number, a numeric string or "Credit Limit not applicable"
				} `json:"creditLimit"`
				ProviderValue struct {
					Value json.RawMessage `json:"value"` // "85", 85 or "Not Rated"
				} `json:"providerValue"`
				ProviderDescription string `json:"providerDescription"`
			} `json:"currentCreditRating"`
			LatestRatingChangeDate string `json:"latestRatingChangeDate"`
		} `json:"creditScore"`
	} `json:"report"`
}

// Check finds the company by registration number, else by name and
// country, and reads its credit report.
func (c *creditsafe) Check(ctx context.Context, q CreditQuery) (*triage.Credit, error) {
	params := url.Values{"countries": {q.Country}, "pageSize": {"5"}}
	if q.RegNo != "" {
		params.Set("regNo", q.RegNo)
	} else {
		params.Set("name", q.Name)
	}
	var s csSearch
	if err := c.get(ctx, "/companies?"+params.Encode(), &s); err != nil {
		if errors.Is(err, errNoMatch) {
			return nil, nil
		}
		return nil, err
	}
	id := ""
	for _, co := range s.Companies {
		if co.ID != "" && (q.RegNo != "" || sameCompany(co.Name, q.Name)) {
			id = co.ID
			break
		}
	}
	if id == "" {
		return nil, nil
	}
	var rep csReport
	if err := c.get(ctx, "/companies/"+url.PathEscape(id)+"?language=en", &rep); err != nil {
		if errors.Is(err, errNoMatch) {
			return nil, failure("report missing")
		}
		return nil, err
	}
	return c.credit(rep), nil
}

func (c *creditsafe) credit(rep csReport) *triage.Credit {
	sum := rep.Report.CompanySummary
	cur := rep.Report.CreditScore.CurrentCreditRating
	cr := &triage.Credit{
		Name:        truncate(sum.BusinessName, 120),
		Number:      truncate(sum.CompanyRegistrationNumber, 40),
		Rating:      truncate(strings.ToUpper(strings.TrimSpace(cur.CommonValue)), 2),
		Description: truncate(cur.CommonDescription, 60),
		Score:       truncate(rawString(cur.ProviderValue.Value), 20),
		Currency:    truncate(cur.CreditLimit.Currency, 3),
		Status:      truncate(firstNonEmpty(sum.CompanyStatus.Description, sum.CompanyStatus.Status), 60),
	}
	if v, err := strconv.ParseFloat(strings.ReplaceAll(rawString(cur.CreditLimit.Value), ",", ""), 64); err == nil && v > 0 && v < 1e15 {
		cr.Limit = int64(v)
	}
	if cr.Limit == 0 {
		cr.Currency = ""
	}
	cr.Date = c.r.now().UTC().Truncate(24 * time.Hour)
	if t, err := time.Parse(time.RFC3339, rep.Report.CreditScore.LatestRatingChangeDate); err == nil {
		cr.Date = t.UTC()
	}
	// Creditsafe's common scale: A very low, B low, C moderate, D high
	// risk, E not rated (often: no longer trading).
	cr.HighRisk = cr.Rating == "D"
	cr.Insolvent = insolventStatus(sum.CompanyStatus.Status + " " + sum.CompanyStatus.Description)
	return cr
}

// insolventStatus reports whether a bureau's status words say bankrupt, in
// administration or dissolved (in English, and the Dutch terms Dutch
// bureaus use).
func insolventStatus(s string) bool {
	s = strings.ToLower(s)
	for _, w := range []string{"bankrupt", "insolven", "administration", "liquidat", "receivership",
		"dissolved", "struck off", "closed", "ceased", "faillissement", "failliet", "surseance", "ontbonden", "opgeheven"} {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

func rawString(b json.RawMessage) string {
	var s string
	if json.Unmarshal(b, &s) == nil {
		return strings.TrimSpace(s)
	}
	var n json.Number
	if json.Unmarshal(b, &n) == nil {
		return n.String()
	}
	return ""
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}

// get does one authenticated GET; when the token is refused it logs in
// again once (tokens expire) before giving up.
func (c *creditsafe) get(ctx context.Context, path string, v any) error {
	for attempt := 0; ; attempt++ {
		token, err := c.login(ctx, attempt > 0)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
		if err != nil {
			return failure("bad Creditsafe URL")
		}
		req.Header.Set("Authorization", "Bearer "+token)
		err = c.r.getJSON(ctx, "creditsafe", req, v)
		if errors.Is(err, errTokenRefused) && attempt == 0 {
			continue
		}
		if errors.Is(err, errTokenRefused) {
			return failure("login refused")
		}
		return err
	}
}

// login returns a token, logging in when there is none, it is old, or
// fresh is set.
func (c *creditsafe) login(ctx context.Context, fresh bool) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.r.now()
	if !fresh && c.token != "" && now.Before(c.tokenUntil) {
		return c.token, nil
	}
	c.token = ""
	body, err := json.Marshal(map[string]string{"username": c.user, "password": c.pass})
	if err != nil {
		return "", failure("login failed")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/authenticate", bytes.NewReader(body))
	if err != nil {
		return "", failure("bad Creditsafe URL")
	}
	req.Header.Set("Content-Type", "application/json")
	var t csToken
	if err := c.r.getJSON(ctx, "creditsafe", req, &t); err != nil {
		if errors.Is(err, errTokenRefused) || errors.Is(err, errNoMatch) {
			return "", failure("login refused")
		}
		return "", err
	}
	if t.Token == "" {
		return "", failure("bad answer")
	}
	c.token, c.tokenUntil = t.Token, now.Add(creditsafeTokenTTL)
	return c.token, nil
}
