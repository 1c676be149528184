package crm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/leadtriage/leadtriage/leadtext"
	"github.com/leadtriage/leadtriage/triage"
)

// CRM is a CRM the hand-off writes to: HubSpot or Pipedrive. Every method
// is idempotent, so the worker may call it again after a crash or a 429.
// A non-2xx answer is a *StatusError (Retryable decides what is tried
// again); ErrGone says the record was deleted in the CRM.
type CRM interface {
	// Name is the system's name in CRMRecord.System: "hubspot", "pipedrive".
	Name() string
	// Qualify finds or creates the company and the contact (by domain and
	// e-mail, never a duplicate), finds or creates the deal (owned by the
	// CRM user mapped from h.Owner; unowned when none is mapped or found)
	// and attaches the note once. It returns every record it made or found.
	Qualify(ctx context.Context, h Handoff) ([]triage.CRMRecord, error)
	// Note attaches the note to the company and contact that already exist
	// (a declined or referred lead); it creates nothing else, and nothing
	// at all when neither exists.
	Note(ctx context.Context, h Handoff) ([]triage.CRMRecord, error)
	// DealState reads a deal back: won or lost, with its value in whole
	// currency units; "" while it is open.
	DealState(ctx context.Context, rec triage.CRMRecord) (triage.OutcomeKind, int64, error)
	// Ping asks the CRM, with the token, a question every token may answer
	// (the account it belongs to), so `leadtriage check` finds a wrong
	// token before the first qualified lead does. A refusal is a
	// *StatusError (401/403).
	Ping(ctx context.Context) error
}

// ErrGone is DealState's answer for a deal deleted in the CRM: there is
// nothing more to read back.
var ErrGone = errors.New("crm record deleted")

// Handoff is what a CRM is told about a lead.
type Handoff struct {
	Lead triage.Lead
	// Criteria are the team's criteria, for the questions in the note (an
	// answer to a criterion not in the list shows its id).
	Criteria []triage.Criterion
	// OwnerEmail is the CRM user that owns the deal: crm.owners mapped
	// from the lead's Slack owner; "" leaves the deal unowned.
	OwnerEmail string
	// Permalink is the Slack thread's link.
	Permalink string
	// People names Slack users in the note (user id → name or e-mail); an
	// id not in it is shown as it is.
	People map[string]string
}

// records are the lead's earlier records in this system.
func (h Handoff) records(system string) []triage.CRMRecord {
	var out []triage.CRMRecord
	for _, r := range h.Lead.CRM {
		if r.System == system {
			out = append(out, r)
		}
	}
	return out
}

// record finds the lead's earlier record of kind in system.
func (h Handoff) record(system, kind string) (triage.CRMRecord, bool) {
	for _, r := range h.records(system) {
		if r.Kind == kind && r.ID != "" {
			return r, true
		}
	}
	return triage.CRMRecord{}, false
}

// noted reports whether this decision's note was already made: a note
// recorded at or after the decision (an earlier decision's note, before
// the lead was reopened, does not count).
func (h Handoff) noted(system string) bool {
	var decided time.Time
	if h.Lead.Decision != nil {
		decided = h.Lead.Decision.At
	}
	for _, r := range h.records(system) {
		if r.Kind == "note" && !r.At.Before(decided) {
			return true
		}
	}
	return false
}

// DealName is the deal's name in the CRM. It ends in the lead id, so a
// repeat after a crash between creating the deal and recording it finds
// the deal by name.
func DealName(l triage.Lead) string {
	label := "lead"
	// Not l.Label(): a free-mail lead's deal is named for the person, not
	// for gmail.com.
	for _, s := range []string{l.Company, companyDomain(l), l.Name, l.Email} {
		if s = strings.TrimSpace(s); s != "" {
			label = s
			break
		}
	}
	return fmt.Sprintf("%s (%s)", truncate(label, 200), l.ID)
}

// companyDomain is the company's own domain: not the free-mail provider
// of a gmail.com address.
func companyDomain(l triage.Lead) string {
	d := strings.ToLower(strings.TrimSpace(l.Domain))
	if d == "" {
		return ""
	}
	at := strings.LastIndexByte(l.Email, '@')
	if at >= 0 && strings.EqualFold(l.Email[at+1:], d) {
		if l.Research.Facts.FreeMail || l.Research.Facts.Disposable {
			return ""
		}
		for _, f := range l.Research.Flags {
			if f.Code == triage.FlagFreeEmail || f.Code == triage.FlagDisposableEmail {
				return ""
			}
		}
	}
	return d
}

// companyName is the name a new company gets: the lead's company, else
// its domain.
func companyName(l triage.Lead) string {
	if n := strings.TrimSpace(l.Company); n != "" {
		return truncate(n, 200)
	}
	return companyDomain(l)
}

// NoteHTML is the note: the decision, the research flags, the votes, the
// criteria answers and the Slack thread's link. Both CRMs render notes as
// HTML, so every text from the lead or the team is escaped.
func NoteHTML(h Handoff) string {
	l := h.Lead
	esc := html.EscapeString
	var b strings.Builder
	fmt.Fprintf(&b, "<p><strong>leadtriage %s</strong>", esc(l.ID.String()))
	if d := l.Decision; d != nil {
		fmt.Fprintf(&b, ": %s", esc(string(d.Outcome)))
		if d.Reason != "" {
			fmt.Fprintf(&b, " (%s)", esc(d.Reason))
		}
		if d.Partner != "" {
			fmt.Fprintf(&b, ", referred to %s", esc(d.Partner))
		}
		if d.By != "" {
			fmt.Fprintf(&b, " by %s", esc(h.person(d.By)))
		}
	}
	b.WriteString("</p>")
	if d := l.Decision; d != nil && d.Note != "" {
		fmt.Fprintf(&b, "<p>%s</p>", esc(d.Note))
	}
	if l.Message != "" {
		fmt.Fprintf(&b, "<p>They wrote: %s</p>", esc(truncate(l.Message, 2000)))
	}
	if len(l.Research.Flags) > 0 {
		b.WriteString("<p>Research flags:</p><ul>")
		for _, f := range l.Research.Flags {
			fmt.Fprintf(&b, "<li>%s: %s</li>", esc(f.Code), esc(leadtext.FlagDetail(f)))
		}
		b.WriteString("</ul>")
	}
	if len(l.Votes) > 0 {
		voters := make([]string, 0, len(l.Votes))
		for u := range l.Votes {
			voters = append(voters, u)
		}
		sort.Strings(voters)
		t := triage.Count(l.Votes)
		fmt.Fprintf(&b, "<p>Votes: %d qualify, %d disqualify, %d unsure</p><ul>", t.Qualify, t.Disqualify, t.Unsure)
		for _, u := range voters {
			fmt.Fprintf(&b, "<li>%s: %s</li>", esc(h.person(u)), esc(string(l.Votes[u])))
		}
		b.WriteString("</ul>")
	}
	if len(l.Answers) > 0 {
		b.WriteString("<p>Criteria:</p><ul>")
		seen := map[string]bool{}
		for _, c := range h.Criteria {
			if a, ok := l.Answers[c.ID]; ok {
				seen[c.ID] = true
				writeAnswer(&b, c.Question, a)
			}
		}
		rest := make([]string, 0, len(l.Answers))
		for id := range l.Answers {
			if !seen[id] {
				rest = append(rest, id)
			}
		}
		sort.Strings(rest)
		for _, id := range rest {
			writeAnswer(&b, id, l.Answers[id])
		}
		b.WriteString("</ul>")
	}
	if p := safeLink(h.Permalink); p != "" {
		fmt.Fprintf(&b, `<p><a href="%s">The Slack thread</a></p>`, esc(p))
	}
	if k := noteKey(h); k != "" {
		fmt.Fprintf(&b, "<p>%s</p>", esc(k))
	}
	return b.String()
}

// noteKey names the decision a note is about ("leadtriage L-42 decided
// 2026-12-05T11:00:00Z"), so a repeat after a crash between making the
// note and recording it finds the note instead of making a second; a
// later decision (after a reopen) gets a note of its own.
func noteKey(h Handoff) string {
	if h.Lead.Decision == nil {
		return ""
	}
	return fmt.Sprintf("leadtriage %s decided %s", h.Lead.ID, h.Lead.Decision.At.UTC().Format(time.RFC3339))
}

// hasKey reports whether a note's body (as the CRM gives it back) is the
// one for key.
func hasKey(body, key string) bool {
	return key != "" && strings.Contains(html.UnescapeString(body), key)
}

func writeAnswer(b *strings.Builder, question string, a triage.Answer) {
	esc := html.EscapeString
	fmt.Fprintf(b, "<li>%s: %s", esc(question), esc(a.Value))
	if a.Note != "" {
		fmt.Fprintf(b, " (%s)", esc(a.Note))
	}
	b.WriteString("</li>")
}

func (h Handoff) person(id string) string {
	if n := h.People[id]; n != "" {
		return n
	}
	return id
}

// safeLink keeps only an https link: a permalink is Slack's, but a note
// must never carry a javascript: URL whatever the caller passed.
func safeLink(u string) string {
	if strings.HasPrefix(u, "https://") {
		return u
	}
	return ""
}

func truncate(s string, n int) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) <= n {
		return string(r)
	}
	return string(r[:n-1]) + "…"
}

// maxAnswer bounds what a client reads of one answer.
const maxAnswer = 4 << 20

// client is what HubSpot and Pipedrive share: one JSON call with auth, and
// the mapping of a non-2xx answer to a *StatusError.
type client struct {
	http *http.Client
	now  func() time.Time
	// auth sets the credentials on a request.
	auth func(*http.Request)
	// retryAfter reads the CRM's own rate-limit hints when Retry-After is
	// absent; 0 when there are none.
	retryAfter func(h http.Header, body []byte) time.Duration
}

// newClient is a CRM's HTTP client: hc nil is one with a 30-second
// time-out, now nil is time.Now.
func newClient(hc *http.Client, now func() time.Time, retryAfter func(http.Header, []byte) time.Duration, auth func(*http.Request)) client {
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	if now == nil {
		now = time.Now
	}
	return client{http: hc, now: now, auth: auth, retryAfter: retryAfter}
}

// baseURL is base without a trailing slash; def when base is "".
func baseURL(base, def string) string {
	if base == "" {
		base = def
	}
	return strings.TrimRight(base, "/")
}

// do sends one request: in (if not nil) as JSON, the 2xx answer decoded
// into out (if not nil).
func (c *client) do(ctx context.Context, method, url string, in, out any) error {
	var body io.Reader
	if in != nil {
		buf, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encoding request: %w", err)
		}
		body = bytes.NewReader(buf)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return fmt.Errorf("building request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c.auth(req)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("reading answer: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		se := statusError(resp, raw, c.now())
		if se.RetryAfter == 0 && c.retryAfter != nil && se.Status == http.StatusTooManyRequests {
			se.RetryAfter = max(0, min(c.retryAfter(resp.Header, raw), maxRetryAfter))
		}
		return se
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("decoding answer: %w", err)
	}
	return nil
}

// madeSoFar are the records a Qualify that failed half-way had found or
// made, each a {kind, id} pair ("" id = not yet), without links: the sender
// records them, so that a retry builds on them instead of relying on the
// CRM's search, which lags behind its writes, to find them again.
func madeSoFar(system string, at time.Time, found ...[2]string) []triage.CRMRecord {
	var recs []triage.CRMRecord
	for _, r := range found {
		if r[1] != "" {
			recs = append(recs, triage.CRMRecord{System: system, Kind: r[0], ID: r[1], At: at})
		}
	}
	return recs
}
