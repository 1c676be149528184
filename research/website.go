// The website provider: fetch a lead's home page through the safe client
// and read what it says about the company.

package research

import (
	"bytes"
	"context"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/charset"

	"github.com/leadtriage/leadtriage/triage"
)

// Limits of what we read and keep from a home page.
const (
	maxPageBytes       = 1 << 20 // E6: the body is read up to here, no further
	maxTitleRunes      = 200
	maxDescriptionRune = 300
	maxMediaTypeLen    = 60
	firstCopyrightYear = 1990
)

// FetchWebsite fetches rawURL's home page (the root of its host; https://
// is assumed when the scheme is missing) with client, which must come from
// NewSafeClient, and reports: reachable or not, title, description,
// copyright years and social profile links. On failure it returns what it
// has (Status when an answer came) and an error whose message is short and
// safe to show on a card: "no answer", "timed out", "HTTP 503",
// "not a web page (image/png)", "refused: private address",
// "too many redirects", …
func FetchWebsite(ctx context.Context, client *http.Client, rawURL string) (triage.Website, error) {
	w := triage.Website{URL: rawURL}
	u, err := homePage(rawURL)
	if err != nil {
		return w, err
	}
	w.URL = u.String()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.URL, nil)
	if err != nil {
		return w, &fetchError{msg: "invalid URL", cause: err}
	}
	req.Header.Set("User-Agent", "leadtriage (lead research; +https://github.com/leadtriage/leadtriage)")
	req.Header.Set("Accept", "text/html,application/xhtml+xml;q=0.9")
	resp, err := client.Do(req)
	if err != nil {
		return w, newFetchError(err)
	}
	defer func() { _ = resp.Body.Close() }()
	w.Status = resp.StatusCode
	w.FinalURL = resp.Request.URL.String()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return w, statusError(resp.StatusCode)
	}
	contentType := resp.Header.Get("Content-Type")
	if contentType != "" {
		if err := checkHTML(contentType); err != nil {
			return w, err // E6: not read, not parsed
		}
	}
	// LimitReader, not MaxBytesReader: a page over the cap is still a page;
	// its head, which is what we want, is at the start.
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPageBytes))
	if err != nil {
		return w, newFetchError(err)
	}
	if contentType == "" {
		contentType = http.DetectContentType(body)
		if err := checkHTML(contentType); err != nil {
			return w, err
		}
	}
	page := parseHomePage(body, contentType)
	w.Reachable = true
	w.Title, w.Description = page.Title, page.Description
	w.CopyrightYears, w.Social = page.CopyrightYears, page.Social
	return w, nil
}

// homePage turns what a lead typed ("acme.nl", "https://www.acme.nl/about")
// into the URL of the home page.
func homePage(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, refuse("refused: no URL")
	}
	if !strings.Contains(raw, "://") {
		raw = "https://" + strings.TrimPrefix(raw, "//")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, &refusal{msg: "refused: invalid URL", cause: err}
	}
	// The address checks belong to the client (its options decide them);
	// these hold for every client.
	if err := (urlPolicy{allowPrivate: true}).check(u); err != nil {
		return nil, err
	}
	return &url.URL{Scheme: u.Scheme, Host: strings.ToLower(u.Host), Path: "/"}, nil
}

func checkHTML(contentType string) error {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return &fetchError{msg: "not a web page", cause: err}
	}
	if mt == "text/html" || mt == "application/xhtml+xml" {
		return nil
	}
	// ParseMediaType admits only token characters, so mt is safe to show.
	if len(mt) > maxMediaTypeLen {
		mt = mt[:maxMediaTypeLen]
	}
	return &fetchError{msg: "not a web page (" + mt + ")"}
}

// parseHomePage reads an HTML page (at most its first MiB) for what
// FetchWebsite reports: Title, Description, CopyrightYears and Social; the
// other fields stay zero. contentType may name the charset; without one the
// page's <meta charset> is used, else UTF-8 with invalid bytes replaced.
// It never fails: garbage in, empty fields out.
func parseHomePage(page []byte, contentType string) triage.Website {
	if len(page) > maxPageBytes {
		page = page[:maxPageBytes]
	}
	page = toUTF8(page, contentType)

	var (
		p        pageParser
		z        = html.NewTokenizer(bytes.NewReader(page))
		rawText  string // inside <script>, <style>, …: not visible text
		svgDepth int    // <title> inside inline SVG is not the page's title
	)
	p.social = map[string]string{}
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		switch tt {
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			switch tok.Data {
			case "script", "style", "noscript", "template", "textarea":
				if tt == html.StartTagToken {
					rawText = tok.Data
				}
			case "svg", "math":
				if tt == html.StartTagToken {
					svgDepth++
				}
			case "title":
				if tt == html.StartTagToken && svgDepth == 0 && !p.titleDone {
					p.inTitle = true
				}
			case "meta":
				p.meta(tok)
			case "a", "link":
				p.link(tok)
			}
		case html.EndTagToken:
			tok := z.Token()
			switch tok.Data {
			case rawText:
				rawText = ""
			case "svg", "math":
				svgDepth = max(svgDepth-1, 0)
			case "title":
				if p.inTitle {
					p.inTitle, p.titleDone = false, true
				}
			}
		case html.TextToken:
			switch {
			case p.inTitle:
				p.title.Write(z.Text())
			case rawText == "":
				p.text.Write(z.Text())
				p.text.WriteByte(' ')
			}
		}
	}

	w := triage.Website{
		Title:          clean(p.title.String(), maxTitleRunes),
		Description:    clean(p.description, maxDescriptionRune),
		CopyrightYears: copyrightYears(p.text.String()+" "+p.copyright, time.Now().Year()+1),
	}
	if w.Title == "" {
		w.Title = clean(p.ogTitle, maxTitleRunes)
	}
	if w.Description == "" {
		w.Description = clean(p.ogDescription, maxDescriptionRune)
	}
	if len(p.social) > 0 {
		w.Social = p.social
	}
	return w
}

type pageParser struct {
	inTitle, titleDone bool
	title, text        strings.Builder
	description        string
	ogTitle            string
	ogDescription      string
	copyright          string
	social             map[string]string
}

func (p *pageParser) meta(tok html.Token) {
	var name, content string
	for _, a := range tok.Attr {
		switch a.Key {
		case "name", "property":
			if name == "" {
				name = strings.ToLower(strings.TrimSpace(a.Val))
			}
		case "content":
			content = a.Val
		}
	}
	setOnce := func(dst *string) {
		if *dst == "" {
			*dst = content
		}
	}
	switch name {
	case "description":
		setOnce(&p.description)
	case "og:description", "twitter:description":
		setOnce(&p.ogDescription)
	case "og:title", "twitter:title":
		setOnce(&p.ogTitle)
	case "copyright", "dcterms.rights", "dc.rights":
		setOnce(&p.copyright)
	}
}

func (p *pageParser) link(tok html.Token) {
	for _, a := range tok.Attr {
		if a.Key != "href" {
			continue
		}
		if network, profile, ok := socialProfile(a.Val); ok {
			if _, seen := p.social[network]; !seen {
				p.social[network] = profile
			}
		}
	}
}

// toUTF8 decodes page by its declared or sniffed charset. Unless the
// charset is certain (BOM or Content-Type), a page that is mostly UTF-8 is
// taken as UTF-8: the sniffer guesses windows-1252 for a page whose first
// KiB is ASCII or holds one stray byte, and <meta charset> is often wrong.
func toUTF8(page []byte, contentType string) []byte {
	enc, name, certain := charset.DetermineEncoding(page, contentType)
	if name == "utf-8" || (!certain && mostlyUTF8(page)) {
		return page
	}
	out, err := enc.NewDecoder().Bytes(page)
	if err != nil {
		return page
	}
	return out
}

// mostlyUTF8 reports whether page has no bytes above ASCII, or more valid
// multi-byte UTF-8 sequences than invalid bytes; legacy 8-bit text almost
// never forms valid multi-byte sequences.
func mostlyUTF8(page []byte) bool {
	valid, invalid := 0, 0
	for i := 0; i < len(page); {
		if page[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(page[i:])
		if r == utf8.RuneError && size == 1 {
			invalid++
		} else {
			valid++
		}
		i += size
	}
	return valid >= invalid
}

// clean makes server text fit for a card: valid UTF-8, no control
// characters, whitespace collapsed, at most max runes.
func clean(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && !unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:max-1])) + "…"
}

var (
	// A copyright notice: the mark, then within a short stretch of words
	// (the company's name) one or more years, ranges or lists of years.
	copyrightRE = regexp.MustCompile(`(?i)(?:©|\(c\)|\bcopyright\b)[^0-9<>]{0,60}?((?:\b(?:19|20)\d\d\b(?:\s*(?:-|–|—|to|tot|/)\s*\b(?:19|20)\d\d\b)?(?:\s*(?:,|&|and|en)\s*|\s*))+)`)
	yearRE      = regexp.MustCompile(`\b(?:19|20)\d\d\b`)
)

// copyrightYears finds the years of copyright notices in text: distinct,
// sorted, from 1990 up to maxYear (next year: some sites run ahead).
func copyrightYears(text string, maxYear int) []int {
	var years []int
	// The regexp runs only on a short window after each mark: Go's regexp
	// engine costs ~70 ms on a whole 1 MiB page, a byte scan ~1 ms.
	for i, seen := 0, 0; i < len(text) && seen < maxCopyrightMarks; i++ {
		if !copyrightMarkAt(text, i) {
			continue
		}
		seen++
		m := copyrightRE.FindStringSubmatch(text[i:min(len(text), i+copyrightWindow)])
		if m == nil {
			continue
		}
		for _, y := range yearRE.FindAllString(m[1], 20) {
			n, err := strconv.Atoi(y)
			if err != nil || n < firstCopyrightYear || n > maxYear || slices.Contains(years, n) {
				continue
			}
			years = append(years, n)
		}
	}
	slices.Sort(years)
	return years
}

// Bounds of the copyright scan: a real page has a notice or two.
const (
	maxCopyrightMarks = 100
	copyrightWindow   = 256
)

// copyrightMarkAt reports whether a copyright mark starts at text[i]: ©,
// (c) or the word copyright in any case.
func copyrightMarkAt(text string, i int) bool {
	switch rest := text[i:]; {
	case strings.HasPrefix(rest, "©"):
		return true
	case len(rest) >= 3 && rest[0] == '(' && rest[1]|0x20 == 'c' && rest[2] == ')':
		return true
	case len(rest) >= 9 && rest[0]|0x20 == 'c' && strings.EqualFold(rest[:9], "copyright"):
		return true
	}
	return false
}

// Paths that are features of a network, not somebody's profile.
var (
	xReserved = map[string]bool{"intent": true, "share": true, "home": true, "hashtag": true,
		"search": true, "i": true, "login": true, "signup": true, "explore": true, "settings": true,
		"messages": true, "notifications": true, "privacy": true, "tos": true}
	facebookReserved = map[string]bool{"sharer": true, "sharer.php": true, "share.php": true,
		"share": true, "dialog": true, "plugins": true, "login": true, "login.php": true, "tr": true,
		"groups": true, "events": true, "watch": true, "hashtag": true, "policies": true,
		"help": true, "privacy": true, "photo.php": true, "story.php": true, "permalink.php": true}
	instagramReserved = map[string]bool{"p": true, "reel": true, "reels": true, "explore": true,
		"accounts": true, "stories": true, "tv": true, "direct": true, "about": true, "legal": true}
	xHandleRE = regexp.MustCompile(`^[A-Za-z0-9_]{1,15}$`)
	slugRE    = regexp.MustCompile(`^[\p{L}\p{N}._-]{1,100}$`)
)

// socialProfile recognises a link to a company's or person's profile and
// returns its network ("linkedin", "x", "facebook", "instagram") and the
// profile's URL, rebuilt from its parts: https, no query, no fragment.
func socialProfile(href string) (network, profile string, ok bool) {
	u, err := url.Parse(strings.TrimSpace(href))
	if err != nil || u.Host == "" || (u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https") {
		return "", "", false
	}
	host := strings.ToLower(u.Hostname())
	for _, prefix := range []string{"www.", "m.", "mobile.", "web."} {
		host = strings.TrimPrefix(host, prefix)
	}
	var segs []string
	for s := range strings.SplitSeq(u.Path, "/") {
		if s != "" {
			segs = append(segs, s)
		}
	}
	if len(segs) == 0 {
		return "", "", false
	}
	first := segs[0]
	switch {
	case host == "linkedin.com" || strings.HasSuffix(host, ".linkedin.com"):
		if len(segs) >= 2 && (first == "company" || first == "in") && slugRE.MatchString(segs[1]) {
			return "linkedin", "https://www.linkedin.com/" + first + "/" + url.PathEscape(segs[1]), true
		}
	case host == "x.com" || host == "twitter.com":
		if len(segs) == 1 && xHandleRE.MatchString(first) && !xReserved[strings.ToLower(first)] {
			return "x", "https://" + host + "/" + first, true
		}
	case host == "facebook.com":
		low := strings.ToLower(first)
		switch {
		case low == "profile.php":
			if id := u.Query().Get("id"); id != "" && isDigits(id) && len(id) <= 30 {
				return "facebook", "https://www.facebook.com/profile.php?id=" + id, true
			}
		case !facebookReserved[low] && slugRE.MatchString(first):
			return "facebook", "https://www.facebook.com/" + url.PathEscape(first), true
		}
	case host == "instagram.com":
		if !instagramReserved[strings.ToLower(first)] && slugRE.MatchString(first) {
			return "instagram", "https://www.instagram.com/" + url.PathEscape(first), true
		}
	}
	return "", "", false
}
