package triage

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"
)

// StatsWindow is the period the App Home's numbers cover.
const StatsWindow = 30 * 24 * time.Hour

// Stats is the team's work in numbers over a period.
type Stats struct {
	Since        time.Time // leads created at or after this count
	Received     int       // leads created in the period
	Qualified    int       // of those, qualified now
	Disqualified int       // of those, disqualified now
	Referred     int       // of those, referred now
	Decided      int       // of those, with a decision
	// MedianDecision is the median time from creation to decision over the
	// decided leads; 0 when none is decided.
	MedianDecision time.Duration
}

// computeStats counts the leads created at or after since. Statuses are the
// leads' current ones, so a reopened lead counts as neither received-and-
// decided nor in an outcome until it is decided again.
func computeStats(leads []Lead, since time.Time) Stats {
	st := Stats{Since: since}
	var times []time.Duration
	for _, l := range leads {
		if l.CreatedAt.Before(since) {
			continue
		}
		st.Received++
		switch l.Status {
		case StatusQualified:
			st.Qualified++
		case StatusDisqualified:
			st.Disqualified++
		case StatusReferred:
			st.Referred++
		}
		if l.Decision != nil && l.Status != StatusPending {
			st.Decided++
			times = append(times, max(l.Decision.At.Sub(l.CreatedAt), 0))
		}
	}
	st.MedianDecision = median(times)
	return st
}

// median returns the middle value, or the mean of the two middle values for
// an even count; 0 for none. It sorts d.
func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	m := len(d) / 2
	if len(d)%2 == 1 {
		return d[m]
	}
	return d[m-1] + (d[m]-d[m-1])/2
}

// Home is what one person's App Home shows.
type Home struct {
	AwaitingVote []Lead // pending leads the person has not voted on, oldest first
	Owned        []Lead // the person's pending or qualified leads, newest first
	Pending      []Lead // every pending lead, oldest first
	Stats        Stats  // the last StatsWindow
}

// Home gathers user's App Home as of now. Pending leads come from the
// store's status index, the user's own through the owner index (OwnerIndex;
// from a store without one, among every qualified lead); the numbers read the leads created in the
// last StatsWindow through the created-at index (TimeIndex), or, from a
// store without one, read every lead and keep those.
func (s *Service) Home(ctx context.Context, user string, now time.Time) (Home, error) {
	pending, err := s.Store.Leads(ctx, LeadFilter{Status: StatusPending})
	if err != nil {
		return Home{}, fmt.Errorf("listing pending leads: %w", err)
	}
	owned, err := s.ownedLeads(ctx, user, pending)
	if err != nil {
		return Home{}, err
	}
	since := now.Add(-StatsWindow)
	var all []Lead
	if ix, ok := s.Store.(TimeIndex); ok {
		all, err = ix.LeadsCreated(ctx, since, endOfTime)
	} else {
		all, err = s.Store.Leads(ctx, LeadFilter{})
	}
	if err != nil {
		return Home{}, fmt.Errorf("listing leads for the numbers: %w", err)
	}
	h := Home{Pending: pending, Stats: computeStats(all, since)}
	for _, l := range pending {
		if _, voted := l.Votes[user]; !voted && user != "" {
			h.AwaitingVote = append(h.AwaitingVote, l)
		}
	}
	h.Owned = owned
	slices.SortStableFunc(h.Owned, func(a, b Lead) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmpID(b.ID, a.ID)
	})
	return h, nil
}

// ownedLeads are user's pending and qualified leads: through the owner
// index (OwnerIndex), or, from a store without one, among pending and every
// qualified lead.
func (s *Service) ownedLeads(ctx context.Context, user string, pending []Lead) ([]Lead, error) {
	if user == "" {
		return nil, nil
	}
	if ix, ok := s.Store.(OwnerIndex); ok {
		owned, err := ix.LeadsOwned(ctx, user)
		if err != nil {
			return nil, fmt.Errorf("listing %s's leads: %w", user, err)
		}
		return owned, nil
	}
	qualified, err := s.Store.Leads(ctx, LeadFilter{Status: StatusQualified})
	if err != nil {
		return nil, fmt.Errorf("listing qualified leads: %w", err)
	}
	var owned []Lead
	for _, l := range slices.Concat(pending, qualified) {
		if l.Owner == user {
			owned = append(owned, l)
		}
	}
	return owned, nil
}

// endOfTime is the latest time a time index can hold (Unix nanoseconds in
// an int64): "created since" has no upper end.
var endOfTime = time.Unix(0, math.MaxInt64)

func cmpID(a, b LeadID) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// AddFromSlack adds a lead a person typed or pasted in Slack: created by
// user, via "slack", with source "slack" unless in says otherwise. A repeat
// of the same input within ImplicitKeyTTL returns the first lead with
// created=false. Invalid input is a *FieldError naming the field.
func (s *Service) AddFromSlack(ctx context.Context, user string, in LeadInput) (Lead, bool, error) {
	if strings.TrimSpace(in.Source) == "" {
		in.Source = "slack"
	}
	return s.Submit(ctx, in, Submission{CreatedBy: user, Via: "slack"})
}

// MaxMessageFromSlack caps the message LeadInputFromMessage keeps, in runes:
// a forwarded e-mail thread can be long, and the card shows only the start.
const MaxMessageFromSlack = 2000

var (
	// slackLink is Slack's link markup: <url>, <url|label>, <mailto:a@b|a@b>.
	// Mentions (<@U…>, <#C…>, <!here>) start with @, # or ! and are left alone.
	slackLink = regexp.MustCompile(`<((?:https?://|mailto:)[^<>|\s]+)(?:\|[^<>]*)?>`)
	emailRe   = regexp.MustCompile(`[\p{L}\p{N}._%+'-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+`)
	// urlRe finds web addresses: with a scheme, or starting with www., or a
	// bare domain (checked further by looksLikeDomain).
	urlRe = regexp.MustCompile(`(?i)(?:https?://[^\s<>"'|]+|\b[\p{L}\p{N}][\p{L}\p{N}-]*(?:\.[\p{L}\p{N}][\p{L}\p{N}-]*)+(?:/[^\s<>"'|]*)?)`)
	// headerName is a mail header label before a display name: "From:",
	// "*Van:*", "Reply-To:".
	headerName = regexp.MustCompile(`^[*_>\s]*(?i:from|van|von|de|sender|afzender|reply-to|contact|name|naam)[*_]*\s*:[*_]*\s*`)
)

// unwrapSlack turns Slack's link markup into the plain address and decodes
// the three entities Slack escapes in message text.
func unwrapSlack(s string) string {
	s = slackLink.ReplaceAllStringFunc(s, func(m string) string {
		u := slackLink.FindStringSubmatch(m)[1]
		return strings.TrimPrefix(u, "mailto:")
	})
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}

// LeadInputFromText reads what followed /qualify: an e-mail address becomes
// Email, a URL or bare domain Website, anything else Company. It does not
// validate: NewLead does, and names the field that is wrong.
func LeadInputFromText(text string) LeadInput {
	t := cleanLine(unwrapSlack(text))
	if t == "" {
		return LeadInput{}
	}
	if !strings.ContainsAny(t, " ") {
		if strings.Contains(t, "@") && !strings.Contains(t, "://") {
			return LeadInput{Email: strings.TrimPrefix(t, "mailto:")}
		}
		if strings.Contains(t, "://") || looksLikeDomain(hostPart(t)) {
			return LeadInput{Website: t}
		}
	}
	return LeadInput{Company: t}
}

// LeadInputFromMessage makes a best guess at a lead from a pasted or
// forwarded message: its first e-mail address, the display name next to it
// ("Jan Jansen <jan@acme.nl>"), the first web address in the text (not the
// domain inside an e-mail address, nor a social or mail site a signature
// links to), and the text itself as the message. The result goes into
// the add-lead dialog for a person to check, so guessing wrong is cheap.
func LeadInputFromMessage(text string) LeadInput {
	plain := cleanText(unwrapSlack(text))
	var in LeadInput
	in.Message = truncateRunes(plain, MaxMessageFromSlack)

	if loc := emailRe.FindStringIndex(plain); loc != nil {
		in.Email = strings.Trim(plain[loc[0]:loc[1]], ".")
		in.Name = displayName(plain[:loc[0]])
	}

	// Search for web addresses with the e-mail addresses blanked out, so the
	// domain inside "jan@acme.nl" is not taken for a website.
	rest := emailRe.ReplaceAllStringFunc(plain, func(m string) string { return strings.Repeat(" ", len(m)) })
	for _, loc := range urlRe.FindAllStringIndex(rest, -1) {
		cand := strings.TrimRight(rest[loc[0]:loc[1]], ".,;:!?)]}")
		host := strings.ToLower(hostPart(cand))
		if !hasScheme(cand) && !looksLikeDomain(host) {
			continue
		}
		if noiseHost(strings.TrimPrefix(host, "www.")) {
			continue
		}
		in.Website = cand
		break
	}
	return in
}

// displayName reads the name just before an address, on the same line:
// `Jan Jansen <`, `Jan Jansen (`, or after a header label without brackets
// (`From: "Jan Jansen" `, as Slack shows a forwarded e-mail).
func displayName(before string) string {
	line := before[strings.LastIndexByte(before, '\n')+1:]
	name := strings.TrimRight(line, " ")
	switch {
	case strings.HasSuffix(name, "<"), strings.HasSuffix(name, "("), strings.HasSuffix(name, "["):
		name = name[:len(name)-1]
	case !headerName.MatchString(name):
		return ""
	}
	name = headerName.ReplaceAllString(strings.TrimSpace(name), "")
	name = strings.Trim(name, `"'*_ `)
	if name == "" || strings.ContainsAny(name, "@<>:") || len([]rune(name)) > 100 {
		return ""
	}
	return name
}

func hasScheme(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
}

// hostPart is the host of a URL or bare address: "https://www.acme.nl/x" → "www.acme.nl".
func hostPart(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	return s
}

// fileExtensions are "TLDs" that in running text are far more often a file name.
var fileExtensions = map[string]bool{
	"pdf": true, "doc": true, "docx": true, "xls": true, "xlsx": true, "ppt": true, "pptx": true,
	"png": true, "jpg": true, "jpeg": true, "gif": true, "txt": true, "csv": true, "html": true,
	"htm": true, "php": true, "js": true, "exe": true, "json": true, "xml": true, "mp4": true, "mov": true,
}

// looksLikeDomain reports whether h is plausibly a DNS name: two or more
// labels, the last of letters only and not a file extension.
func looksLikeDomain(h string) bool {
	h = strings.TrimSuffix(strings.ToLower(h), ".")
	labels := strings.Split(h, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
			return false
		}
	}
	tld := labels[len(labels)-1]
	if n := len([]rune(tld)); n < 2 || n > 24 || fileExtensions[tld] {
		return false
	}
	if strings.HasPrefix(tld, "xn--") {
		return true
	}
	for _, r := range tld {
		if !('a' <= r && r <= 'z') && r < 0x80 {
			return false
		}
	}
	return true
}

// noiseHosts are sites a signature links to that are not the company's own.
var noiseHosts = []string{
	"linkedin.com", "twitter.com", "x.com", "facebook.com", "instagram.com", "youtube.com",
	"google.com", "goo.gl", "slack.com", "aka.ms", "outlook.com", "office.com", "microsoft.com",
	"apple.com", "calendly.com", "zoom.us", "bit.ly", "gmail.com", "hotmail.com", "live.com",
	"yahoo.com", "icloud.com",
}

func noiseHost(h string) bool {
	for _, n := range noiseHosts {
		if h == n || strings.HasSuffix(h, "."+n) {
			return true
		}
	}
	return false
}
