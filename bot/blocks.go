package bot

import (
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
)

// Block Kit limits (SLACK-NOTES §4.6) with a margin, and the budgets that
// keep a whole card below Slack's ~12 000-character message limit whatever
// the lead holds: header 150 + fields 8×~150 + message 2900 + extras 800 +
// research 1300 + facts 800 + links 700 + votes/status ~1700 + criteria 400 +
// note and partner 500 ≈ 10 500.
const (
	maxHeader       = 150
	maxSection      = 2900
	maxFieldValue   = 250
	maxMessage      = 2400
	maxExtras       = 800
	maxExtraValue   = 200
	maxResearch     = 1300
	maxSummary      = 400
	maxFlags        = 8
	maxFlagDetail   = 160
	maxFacts        = 800
	maxLinks        = 700
	maxQuery        = 60  // bytes of one escaped search term
	maxSocialURL    = 150 // a longer profile URL is not linked
	maxSiteURL      = 200 // a longer website URL links to the root
	maxVoters       = 1000
	maxReason       = 500
	maxFallbackText = 300
	maxCriteriaLine = 400
	maxCriterionID  = 40 // runes of a criterion id shown in a code span
	maxDisagree     = 3  // criteria named in the card's disagreement note
	maxNote         = 400
	maxPartner      = 100
)

// cardWords renders the lead's card (heading, contact, votes, status,
// buttons) and a reply in its thread.
type cardWords struct{ words }

// card renders a lead's card from its current state: the
// notification text (already escaped) and the blocks. It is pure; now only
// feeds the "waiting for" note on old pending leads. Every piece of lead
// text is cut to fit and escaped where it goes into mrkdwn (plain_text
// shows it as it is), so no lead can produce an invalid message or a
// mention.
func (w cardWords) card(l triage.Lead, p triage.Policy, now time.Time) (text string, blocks []slack.Block) {
	id := l.ID.String()
	label := escTrunc(l.Label(), 120, false)
	if label == "" {
		label = id
	}

	text = fit(fmt.Sprintf("%s · %s (%s)", id, label, w.status(l.Status)), maxFallbackText)

	// The header is plain_text: the lead's characters as they are.
	head := plainCut(l.Label(), 120)
	if head == "" {
		head = id
	}
	blocks = append(blocks, slack.NewHeaderBlock(plain(plainCut(id+" · "+head, maxHeader))))

	if f := w.contactFields(l); len(f) > 0 {
		blocks = append(blocks, slack.NewSectionBlock(nil, f, nil))
	}
	blocks = append(blocks, outcomeWords(w).returningBlocks(l)...)
	if msg := clean(l.Message, true); msg != "" {
		body := quote(escTrunc(msg, maxMessage, true))
		blocks = append(blocks, section(bold(w.t("card.message"))+"\n"+body))
	}
	if s := w.extrasText(l.Extra); s != "" {
		blocks = append(blocks, section(bold(w.t("card.other_fields"))+"\n"+s))
	}
	blocks = append(blocks, researchWords(w).blocks(l)...)

	blocks = append(blocks, slack.NewDividerBlock())
	if len(p.Criteria) > 0 {
		blocks = append(blocks, section(w.criteriaLine(p.Criteria, triage.EvaluateCriteria(&l, p.Criteria))))
	}
	blocks = append(blocks, section(w.voteText(l, p)+"\n"+w.ownerText(l)+"\n"+w.statusText(l, p)))

	if l.Status == triage.StatusPending && !l.CreatedAt.IsZero() {
		if age := now.Sub(l.CreatedAt); age >= 24*time.Hour {
			days := int(age / (24 * time.Hour))
			blocks = append(blocks, slack.NewContextBlock("", mrkdwn(w.t("card.waiting", days))))
		}
	}

	blocks = append(blocks, crmWords(w).blocks(l)...)
	if btns := w.buttons(l); len(btns) > 0 {
		blocks = append(blocks, slack.NewActionBlock("", btns...))
	}
	blocks = append(blocks, outcomeWords(w).blocks(l)...)
	return text, blocks
}

// mrkdwn is a verbatim mrkdwn text object: Slack neither auto-links URLs nor
// parses mentions in it, so only our own "<…>" tokens are live.
func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, true)
}

// plain is a plain_text object: Slack shows s literally, so lead text goes
// in unescaped (plainCut), never through esc.
func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

func section(s string) *slack.SectionBlock {
	return slack.NewSectionBlock(mrkdwn(fit(s, maxSection)), nil, nil)
}

// bold is mrkdwn emphasis around words of ours (never lead text: that goes
// through esc first).
func bold(s string) string {
	return "*" + s + "*"
}

// label is a card line's "*Label:* " prefix.
func label(s string) string {
	return "*" + s + ":* "
}

func (w cardWords) contactFields(l triage.Lead) []*slack.TextBlockObject {
	var f []*slack.TextBlockObject
	add := func(title, value string) {
		if value != "" {
			f = append(f, mrkdwn("*"+title+"*\n"+value))
		}
	}
	add(w.t("card.field.contact"), escTrunc(l.Name, maxFieldValue, false))
	add(w.t("card.field.email"), escTrunc(l.Email, maxFieldValue, false))
	add(w.t("card.field.phone"), escTrunc(l.Phone, maxFieldValue, false))
	if strings.TrimSpace(l.Website) != "" {
		add(w.t("card.field.website"), websiteLink(l.Website))
	}
	add(w.t("card.field.source"), escTrunc(l.Source, maxFieldValue, false))
	if !l.CreatedAt.IsZero() {
		add(w.t("card.field.received"), dateToken(l.CreatedAt))
	}
	if l.Founded != 0 {
		add(w.t("card.field.founded"), strconv.Itoa(l.Founded))
	}
	if l.Employees != 0 {
		add(w.t("card.field.employees"), strconv.Itoa(l.Employees))
	}
	return f
}

// extrasText lists the extra form fields in key order, as many as fit.
func (w cardWords) extrasText(extra map[string]string) string {
	keys := make([]string, 0, len(extra))
	for k := range extra {
		if clean(k, false) != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var lines []string
	n := 0
	for i, k := range keys {
		line := "*" + escTrunc(k, 64, false) + ":* " + escTrunc(extra[k], maxExtraValue, false)
		if n+len([]rune(line)) > maxExtras {
			lines = append(lines, "… "+w.t("more", len(keys)-i))
			break
		}
		lines = append(lines, line)
		n += len([]rune(line)) + 1
	}
	return strings.Join(lines, "\n")
}

var choiceOrder = []triage.Choice{triage.ChoiceQualify, triage.ChoiceDisqualify, triage.ChoiceUnsure}

func (w cardWords) voteText(l triage.Lead, p triage.Policy) string {
	q := max(p.Quorum, 1)
	n := len(l.Votes)
	if !triage.Revealed(&l, p) {
		// Blind voting: not who, not how, only how many (no herding).
		return label(w.t("card.votes")) + w.t("card.votes.blind", n, q)
	}
	if n == 0 {
		return label(w.t("card.votes")) + w.t("card.votes.none")
	}
	byChoice := map[triage.Choice][]string{}
	var other []string
	for user, c := range l.Votes {
		if slices.Contains(choiceOrder, c) {
			byChoice[c] = append(byChoice[c], user)
		} else {
			other = append(other, user)
		}
	}
	t := triage.Count(l.Votes)
	var b strings.Builder
	b.WriteString(label(w.t("card.votes")) + w.t("card.votes.count", n, q, w.tally(t)))
	budget := maxVoters
	for _, c := range choiceOrder {
		users := byChoice[c]
		if len(users) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n%s: %s", w.choiceTitle(c), w.mentions(users, &budget))
	}
	if len(other) > 0 {
		fmt.Fprintf(&b, "\n%s: %s", w.t("card.votes.other"), w.mentions(other, &budget))
	}
	return b.String()
}

func (w cardWords) choiceTitle(c triage.Choice) string {
	switch c {
	case triage.ChoiceQualify:
		return w.t("choice.qualify")
	case triage.ChoiceDisqualify:
		return w.t("choice.disqualify")
	default:
		return w.t("choice.unsure")
	}
}

// mentions lists users in id order while budget (runes) lasts.
func (w cardWords) mentions(users []string, budget *int) string {
	sort.Strings(users)
	var parts []string
	for i, u := range users {
		m := mention(u)
		if *budget-len([]rune(m))-2 < 0 {
			parts = append(parts, w.t("more", len(users)-i))
			break
		}
		*budget -= len([]rune(m)) + 2
		parts = append(parts, m)
	}
	return strings.Join(parts, ", ")
}

func (w cardWords) ownerText(l triage.Lead) string {
	owner := label(w.t("card.owner"))
	switch {
	case l.Owner != "":
		return owner + mention(l.Owner)
	case l.Status == triage.StatusPending || l.Status == triage.StatusQualified:
		return owner + w.t("card.owner.unclaimed")
	default:
		return owner + w.t("card.owner.none")
	}
}

func (w cardWords) statusText(l triage.Lead, p triage.Policy) string {
	st := label(w.t("card.status"))
	if l.Status == triage.StatusPending || !l.Status.Valid() {
		v := triage.Evaluate(&l, p)
		if v.Quorum && (v.Tie || !p.Auto) {
			who := w.t("card.team_lead")
			if slackUserID.MatchString(p.TeamLead) {
				who = mention(p.TeamLead)
			}
			if v.Tie {
				return st + w.t("card.status.tie", who)
			}
			return st + w.t("card.status.waiting_lead", who)
		}
		return st + w.t("card.status.vote_below")
	}
	s := st + w.status(l.Status)
	if d := l.Decision; d != nil {
		by := mention(d.By)
		if d.By == triage.DecidedByPolicy {
			by = w.t("card.decided_by_vote")
		}
		s += " " + w.t("card.decided_by", by)
		if !d.At.IsZero() {
			s += " " + w.t("card.decided_on", dateToken(d.At))
		}
		reason := d.Reason
		if d.By == triage.DecidedByPolicy && len(l.Votes) > 0 {
			// The vote's own reason, in words: a decided lead's votes are
			// the ones that decided it.
			reason = w.t("card.reason.vote", w.status(d.Outcome), w.tally(triage.Count(l.Votes)))
		}
		if r := escTrunc(reason, maxReason, false); r != "" {
			s += "\n" + label(w.t("card.reason")) + r
		}
		if pa := escTrunc(d.Partner, maxPartner, false); pa != "" {
			s += "\n" + label(w.t("card.partner")) + pa
		}
		if n := escTrunc(d.Note, maxNote, true); n != "" {
			// Every line of a long note costs "> ": cut after quoting.
			s += "\n" + bold(w.t("card.note")+":") + "\n" + fit(quote(n), maxNote)
		}
	}
	return s
}

// criteriaLine sums up the lead's criteria in one line: how many are
// answered, the must-haves (naming any answered no, which blocks automatic
// qualification), the weighted score and where people disagree. Criterion
// ids come from config.toml but are escaped all the same.
func (w cardWords) criteriaLine(cs []triage.Criterion, st triage.CriteriaStatus) string {
	parts := []string{label(w.t("card.criteria")) + w.t("card.criteria.answered", st.Answered, max(st.Total, len(cs)))}
	musts := 0
	for _, c := range cs {
		if c.Must {
			musts++
		}
	}
	switch {
	case len(st.MustNo) > 0:
		parts = append(parts, w.t("card.criteria.must_no", w.codeList(st.MustNo, maxDisagree), bold(w.t("answer.no"))))
	case len(st.MustOpen) > 0:
		parts = append(parts, w.t("card.criteria.must_open", len(st.MustOpen)))
	case musts > 0:
		parts = append(parts, w.t("card.criteria.must_met"))
	}
	if st.MaxScore > 0 {
		parts = append(parts, w.t("card.criteria.score", st.Score, st.MaxScore))
	}
	if d := w.disagreement(cs, st.Disagree); d != "" {
		parts = append(parts, w.t("card.criteria.disagree", d))
	}
	return fit(strings.Join(parts, " · "), maxCriteriaLine)
}

// disagreement names the criteria people answered differently, in config
// order: "`budget` (2 yes, 1 no)".
func (w cardWords) disagreement(cs []triage.Criterion, dis map[string][]triage.AnswerCount) string {
	var parts []string
	n := 0
	for _, c := range cs {
		counts, ok := dis[c.ID]
		if !ok {
			continue
		}
		n++
		if len(parts) == maxDisagree {
			continue
		}
		parts = append(parts, codeSpan(c.ID)+" ("+escTrunc(w.answerCounts(c, counts), 60, false)+")")
	}
	if n > len(parts) {
		parts = append(parts, w.t("more.short", n-len(parts)))
	}
	return strings.Join(parts, ", ")
}

// codeSpan shows a criterion id as code. A backtick would end the span early.
func codeSpan(id string) string {
	return "`" + escTrunc(strings.ReplaceAll(id, "`", "'"), maxCriterionID, false) + "`"
}

// buttons are the card's actions: the votes, Claim, Re-run research and
// Decide while the lead is pending; afterwards Decide (the dialog offers to
// reopen), plus Claim while a qualified lead has no owner. Each value is the
// lead id and nothing else (no PII in payloads). Who may decide is checked
// when the button is clicked, not here: the card looks the same to everyone.
func (w cardWords) buttons(l triage.Lead) []slack.BlockElement {
	id := l.ID.String()
	claim := slack.NewButtonBlockElement(actionClaim, id, plain(w.t("button.claim")))
	decide := slack.NewButtonBlockElement(actionDecide, id, plain(w.t("button.decide")))
	switch {
	case l.Status == triage.StatusPending:
		return []slack.BlockElement{
			slack.NewButtonBlockElement(actionVoteQualify, id, plain(w.t("button.qualify"))).WithStyle(slack.StylePrimary),
			slack.NewButtonBlockElement(actionVoteDisqualify, id, plain(w.t("button.disqualify"))).WithStyle(slack.StyleDanger),
			slack.NewButtonBlockElement(actionVoteUnsure, id, plain(w.t("button.unsure"))),
			claim,
			slack.NewButtonBlockElement(actionResearch, id, plain(w.t("button.research"))),
			decide,
		}
	case l.Status == triage.StatusQualified && l.Owner == "":
		return []slack.BlockElement{claim, decide}
	case l.Status.Valid():
		return []slack.BlockElement{decide}
	}
	return nil
}

// researchWords renders what research found, on the card: facts, website,
// registry, credit (credit.go) and the flags (flagtext.go).
type researchWords struct{ words }

// blocks renders what pre-research found: the summary and flags,
// the key facts, and search links for what a person checks by hand. Before
// research has run it is one "pending" line.
func (w researchWords) blocks(l triage.Lead) []slack.Block {
	r := l.Research
	if r.At.IsZero() {
		return []slack.Block{slack.NewContextBlock("", mrkdwn(w.t("research.pending")))}
	}
	blocks := []slack.Block{section(w.text(r))}
	if s := w.factsText(r.Facts); s != "" {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(fit(s, maxFacts))))
	}
	if s := w.searchLinks(l); s != "" {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(fit(s, maxLinks))))
	}
	return blocks
}

// text is the summary and one line per flag, worst first as
// research ordered them, as many as fit.
func (w researchWords) text(r triage.Research) string {
	var b strings.Builder
	b.WriteString(bold(w.t("research.title")))
	if s := w.summary(r); s != "" {
		b.WriteString("\n" + s)
	} else if len(r.Flags) == 0 {
		b.WriteString("\n" + w.t("research.none"))
	}
	n := utf8.RuneCountInString(b.String())
	for i, fl := range r.Flags {
		line := w.flagLine(fl)
		// Keep room for the "and N more" line.
		if i == maxFlags || n+1+utf8.RuneCountInString(line) > maxResearch-30 {
			b.WriteString("\n… " + w.t("research.more_flags", len(r.Flags)-i))
			break
		}
		b.WriteString("\n" + line)
		n += 1 + utf8.RuneCountInString(line)
	}
	return fit(b.String(), maxResearch)
}

// flagLine is one flag: severity, code, detail and where it came from.
func (w researchWords) flagLine(fl triage.Flag) string {
	// A backtick in the code would end the code span early.
	code := escTrunc(strings.ReplaceAll(fl.Code, "`", "'"), 40, false)
	line := severityEmoji(fl.Code) + " `" + code + "`"
	if d := w.flagDetail(fl); d != "" {
		line += " " + d
	}
	// "_companies_house_" would not render as italics; spaces do.
	if src := escTrunc(strings.ReplaceAll(fl.Source, "_", " "), 30, false); src != "" {
		line += " _" + src + "_"
	}
	return line
}

func severityEmoji(code string) string {
	switch s := triage.Severity(code); {
	case s >= 80:
		return ":red_circle:"
	case s >= 50:
		return ":large_orange_circle:"
	default:
		return ":white_circle:"
	}
}

// factsText lists the key facts, skipping what was not found. Every link in
// it is one we checked: the website with its host as the label, social
// profiles only on the sites they claim to be on.
func (w researchWords) factsText(f triage.Facts) string {
	var parts []string
	if f.RoleAddress {
		// info@, sales@: someone still has to find the person who decides.
		parts = append(parts, w.t("research.role_address"))
	}
	if !f.DomainRegistered.IsZero() {
		reg := w.t("research.domain_registered", w.longDate(f.DomainRegistered.UTC()))
		if f.Registrar != "" {
			reg += " (" + escTrunc(f.Registrar, 60, false) + ")"
		}
		parts = append(parts, reg)
	}
	if len(f.MX) > 0 {
		parts = append(parts, w.t("research.mail")+": "+escTrunc(strings.Join(f.MX, ", "), 120, false))
	}
	if s := w.siteText(f.Website); s != "" {
		parts = append(parts, s)
	}
	if s := socialLinks(f.Website.Social); s != "" {
		parts = append(parts, w.t("research.profiles")+": "+s)
	}
	if rg := f.Registry; rg != nil {
		if s := w.registryText(*rg); s != "" {
			parts = append(parts, s)
		}
	}
	if s := w.firstSeenText(f); s != "" {
		parts = append(parts, s)
	}
	if c := f.Credit; c != nil {
		if s := w.creditText(*c); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " · ")
}

func (w researchWords) siteText(site triage.Website) string {
	title := escTrunc(site.Title, 80, false)
	raw := site.FinalURL
	if raw == "" {
		raw = site.URL
	}
	var lnk string
	// A host this long is no real company's; the title alone will do.
	if u, ok := checkedURL(raw); ok && len(u.Hostname()) <= 100 {
		lnk = hostLink(u, maxSiteURL)
	}
	switch {
	case title != "" && lnk != "":
		return w.t("research.site") + ": “" + title + "” (" + lnk + ")"
	case title != "":
		return w.t("research.site") + ": “" + title + "”"
	case lnk != "" && site.Reachable:
		return w.t("research.site") + ": " + lnk
	}
	return ""
}

// socialSites are the profiles the card links to, in display order, with
// the hosts each may live on.
var socialSites = []struct {
	key, label string
	hosts      []string
}{
	{"linkedin", "LinkedIn", []string{"linkedin.com"}},
	{"x", "X", []string{"x.com", "twitter.com"}},
	{"facebook", "Facebook", []string{"facebook.com"}},
	{"instagram", "Instagram", []string{"instagram.com"}},
}

// socialLinks links the profiles found on the website, labelled with the
// site's name. A URL that is not https on that very site is left out: the
// label must not vouch for somewhere else.
func socialLinks(social map[string]string) string {
	var links []string
	for _, site := range socialSites {
		u, ok := checkedURL(social[site.key])
		if !ok || u.Scheme != "https" || !onHost(u.Hostname(), site.hosts) {
			continue
		}
		u.RawQuery, u.ForceQuery = "", false // tracking parameters, not the profile
		target := u.String()
		if len(target) > maxSocialURL {
			continue
		}
		links = append(links, link(target, site.label))
	}
	return strings.Join(links, ", ")
}

// onHost reports whether host is one of hosts or a subdomain of one.
func onHost(host string, hosts []string) bool {
	for _, h := range hosts {
		if host == h || strings.HasSuffix(host, "."+h) {
			return true
		}
	}
	return false
}

func (w researchWords) registryText(rg triage.Registry) string {
	var parts []string
	if s := escTrunc(rg.Name, 80, false); s != "" {
		parts = append(parts, s)
	}
	if s := escTrunc(rg.Number, 30, false); s != "" {
		parts = append(parts, w.t("research.registry.number", s))
	}
	if s := escTrunc(rg.Status, 30, false); s != "" {
		parts = append(parts, s)
	}
	if !rg.Incorporated.IsZero() {
		parts = append(parts, w.t("research.registry.incorporated", w.longDate(rg.Incorporated.UTC())))
	}
	if rg.Employees > 0 {
		parts = append(parts, w.t("research.registry.employees", rg.Employees))
	}
	if len(parts) == 0 {
		return ""
	}
	return w.registryLabel(rg.Source) + ": " + strings.Join(parts, ", ")
}

func (w researchWords) registryLabel(source string) string {
	switch source {
	case "kvk":
		return "KvK"
	case "companies_house":
		return "Companies House"
	}
	if s := escTrunc(source, 30, false); s != "" {
		return s
	}
	return w.t("research.registry")
}

// Search pages for what a person checks by hand. The URLs are ours; only
// the escaped search term comes from the lead.
const (
	searchLinkedInCompanies = "https://www.linkedin.com/search/results/companies/?keywords="
	searchLinkedInPeople    = "https://www.linkedin.com/search/results/people/?keywords="
	searchGoogle            = "https://www.google.com/search?q="
	searchKvK               = "https://www.kvk.nl/zoeken/?source=all&q="
	searchCompaniesHouse    = "https://find-and-update.company-information.service.gov.uk/search/companies?q="
)

// searchLinks builds one-click searches for the lead's company name, or its
// domain when it gave no company; "" when it gave neither.
func (w researchWords) searchLinks(l triage.Lead) string {
	term, quoted := queryTerm(l.Company, maxQuery), true
	if term == "" {
		term, quoted = queryTerm(l.Domain, maxQuery), false
	}
	if term == "" {
		return ""
	}
	q := url.QueryEscape(term)
	google := q
	if quoted {
		google = url.QueryEscape(`"` + term + `"`)
	}
	links := []string{
		link(searchLinkedInCompanies+q, w.t("research.search.linkedin_companies")),
		link(searchLinkedInPeople+q, w.t("research.search.linkedin_people")),
		link(searchGoogle+google, "Google"),
	}
	domain := strings.ToLower(l.Domain)
	var src string
	if rg := l.Research.Facts.Registry; rg != nil {
		src = rg.Source
	}
	kvk := strings.HasSuffix(domain, ".nl") || src == "kvk"
	ch := strings.HasSuffix(domain, ".uk") || src == "companies_house"
	if !kvk && !ch {
		kvk, ch = true, true
	}
	if kvk {
		links = append(links, link(searchKvK+q, "KvK"))
	}
	if ch {
		links = append(links, link(searchCompaniesHouse+q, "Companies House"))
	}
	return w.t("research.search") + ": " + strings.Join(links, " · ")
}

// maxDraft is what a draft may take of a section, with its code fences.
const maxDraft = maxSection - 8

// replyContent renders a thread reply: text is mrkdwn the domain composed;
// plain, a draft people copy, may quote the lead, so it is cleaned, escaped
// and put in a code block (which also keeps Slack from formatting it). The
// draft is cut to fit one section; when text and draft do not fit one
// together they get a section each. Without a draft the reply is text only,
// as before.
func (w cardWords) replyContent(text, plain string) (fallback string, blocks []slack.Block) {
	body := codeBlock(plain)
	if body == "" {
		return text, nil
	}
	if strings.TrimSpace(text) == "" {
		return w.t("draft.fallback"), []slack.Block{section(body)}
	}
	if utf8.RuneCountInString(text)+1+utf8.RuneCountInString(body) <= maxSection {
		return text, []slack.Block{section(text + "\n" + body)}
	}
	return text, []slack.Block{section(text), section(body)}
}

// codeBlock shows plain escaped inside ``` fences; "" for no text. Three
// backticks inside would close the block early, so they become quotes
// (after cleaning, which could otherwise join backticks split by invisible
// characters).
func codeBlock(plain string) string {
	s := escTrunc(strings.ReplaceAll(clean(plain, true), "```", "'''"), maxDraft, true)
	if s == "" {
		return ""
	}
	return "```\n" + s + "\n```"
}
