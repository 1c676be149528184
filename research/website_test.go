package research_test

import (
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/leadtriage/leadtriage/research"
	"github.com/leadtriage/leadtriage/triage"
)

func localClient(timeout time.Duration) *http.Client {
	return research.NewSafeClient(research.SafeClientOptions{AllowPrivate: true, Timeout: timeout})
}

func TestFetchWebsite_HomePage(t *testing.T) {
	t.Parallel()
	page, err := os.ReadFile(filepath.Join("testdata", "web_home.html"))
	if err != nil {
		t.Fatal(err)
	}
	srv := mustServeAt(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			http.Redirect(w, r, "/en/", http.StatusMovedPermanently)
		case "/en/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write(page)
		default:
			http.NotFound(w, r)
		}
	}))

	// A deep link still fetches the home page.
	got, err := research.FetchWebsite(t.Context(), localClient(0), srv.URL+"/contact?x=1#top")
	if err != nil {
		t.Fatal(err)
	}
	want := triage.Website{
		URL:            srv.URL + "/",
		FinalURL:       srv.URL + "/en/",
		Status:         200,
		Reachable:      true,
		Title:          "Acme Widgets — Industrial widgets since 2015",
		Description:    "Acme makes widgets for factories in the Benelux.",
		CopyrightYears: []int{2015, 2026},
		Social: map[string]string{
			"linkedin":  "https://www.linkedin.com/company/acme-widgets",
			"x":         "https://x.com/acmewidgets",
			"facebook":  "https://www.facebook.com/acmewidgets",
			"instagram": "https://www.instagram.com/acme.widgets",
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("FetchWebsite (-want +got):\n%s", diff)
	}
}

func TestFetchWebsite_Failures(t *testing.T) {
	t.Parallel()
	html := func(ct, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			if ct == "" {
				w.Header()["Content-Type"] = nil // no sniffing by the server either
			} else {
				w.Header().Set("Content-Type", ct)
			}
			_, _ = io.WriteString(w, body)
		}
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    triage.Website // URL and FinalURL filled in below
		wantErr string
	}{
		{
			name: "503",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = io.WriteString(w, "<title>Down for maintenance</title>")
			},
			want:    triage.Website{Status: 503},
			wantErr: "HTTP 503",
		},
		{
			name:    "404",
			handler: http.NotFound,
			want:    triage.Website{Status: 404},
			wantErr: "HTTP 404",
		},
		{
			name:    "octet-stream is not parsed",
			handler: html("application/octet-stream", "<title>Not parsed</title>"),
			want:    triage.Website{Status: 200},
			wantErr: "not a web page (application/octet-stream)",
		},
		{
			name:    "png",
			handler: html("image/png", "\x89PNG\r\n\x1a\n"),
			want:    triage.Website{Status: 200},
			wantErr: "not a web page (image/png)",
		},
		{
			name:    "json",
			handler: html("application/json; charset=utf-8", `{"title":"x"}`),
			want:    triage.Website{Status: 200},
			wantErr: "not a web page (application/json)",
		},
		{
			name:    "garbage content type",
			handler: html("<script>", "<title>x</title>"),
			want:    triage.Website{Status: 200},
			wantErr: "not a web page",
		},
		{
			name:    "no content type, sniffed binary",
			handler: html("", "\x00\x01\x02\x03binary"),
			want:    triage.Website{Status: 200},
			wantErr: "not a web page (application/octet-stream)",
		},
		{
			name:    "no content type, sniffed HTML",
			handler: html("", "<!DOCTYPE html><html><head><title>Sniffed</title></head></html>"),
			want:    triage.Website{Status: 200, Reachable: true, Title: "Sniffed"},
		},
		{
			name:    "xhtml",
			handler: html("application/xhtml+xml", `<html xmlns="http://www.w3.org/1999/xhtml"><head><title>XHTML</title></head></html>`),
			want:    triage.Website{Status: 200, Reachable: true, Title: "XHTML"},
		},
		{
			name:    "empty page",
			handler: html("text/html", ""),
			want:    triage.Website{Status: 200, Reachable: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := mustServeAt(t, "127.0.0.1:0", tt.handler)
			got, err := research.FetchWebsite(t.Context(), localClient(0), srv.URL)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if gotErr != tt.wantErr {
				t.Fatalf("error = %q, want %q", gotErr, tt.wantErr)
			}
			tt.want.URL, tt.want.FinalURL = srv.URL+"/", srv.URL+"/"
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("FetchWebsite (-want +got):\n%s", diff)
			}
		})
	}
}

// countingTransport counts the body bytes the fetcher reads.
type countingTransport struct {
	base http.RoundTripper
	read atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(r)
	if resp != nil {
		resp.Body = &countingBody{ReadCloser: resp.Body, n: &c.read}
	}
	return resp, err
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// E6: a 100 MiB page is read up to the cap and no further; its head is
// still parsed.
func TestFetchWebsite_HugePageIsCut(t *testing.T) {
	t.Parallel()
	const total = 100 << 20
	var written atomic.Int64
	srv := mustServeAt(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		n, err := io.WriteString(w, "<html><head><title>Huge</title></head><body>")
		written.Add(int64(n))
		chunk := []byte(strings.Repeat("<p>filler</p>", 2500))
		for err == nil && written.Load() < total {
			n, err = w.Write(chunk)
			written.Add(int64(n))
		}
	}))
	client := localClient(0)
	counter := &countingTransport{base: client.Transport}
	client.Transport = counter

	got, err := research.FetchWebsite(t.Context(), client, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != "Huge" || !got.Reachable {
		t.Fatalf("got title %q reachable %v, want \"Huge\", true", got.Title, got.Reachable)
	}
	if n := counter.read.Load(); n > 1<<20+64<<10 {
		t.Fatalf("read %d body bytes, want at most 1 MiB and a little", n)
	}
	srv.Close() // waits for the handler: it stops once the client hangs up
	if n := written.Load(); n >= total {
		t.Fatalf("server wrote all %d bytes: the client read the whole stream", n)
	}
}

// E6: a server that drips its answer is cut off by the time-out.
func TestFetchWebsite_SlowServerTimesOut(t *testing.T) {
	t.Parallel()
	tests := map[string]http.HandlerFunc{
		"drips the body": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusOK)
			_, _ = io.WriteString(w, "<html><head><title>")
			rc := http.NewResponseController(w)
			_ = rc.Flush()
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for range 600 {
				select {
				case <-r.Context().Done():
					return
				case <-tick.C:
				}
				if _, err := io.WriteString(w, "x"); err != nil || rc.Flush() != nil {
					return
				}
			}
		},
		"never answers": func(_ http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		},
	}
	for name, h := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := mustServeAt(t, "127.0.0.1:0", h)
			got, err := research.FetchWebsite(t.Context(), localClient(300*time.Millisecond), srv.URL)
			if err == nil || err.Error() != "timed out" {
				t.Fatalf("error = %v, want \"timed out\"", err)
			}
			if got.Reachable {
				t.Fatal("Reachable = true for a page that never arrived")
			}
		})
	}
}

func TestFetchWebsite_NormalisesInput(t *testing.T) {
	t.Parallel()
	c := research.NewSafeClient(research.SafeClientOptions{})
	tests := []struct{ in, wantURL string }{
		{"acme.example:8080/about", "https://acme.example:8080/"},
		{"  HTTP://ACME.example:8443/a?b#c ", "http://acme.example:8443/"},
		{"//acme.example:22", "https://acme.example:22/"},
	}
	for _, tt := range tests {
		got, err := research.FetchWebsite(t.Context(), c, tt.in)
		if !errors.Is(err, research.ErrRefused) {
			t.Errorf("FetchWebsite(%q): error %v, want a refused port", tt.in, err)
		}
		if got.URL != tt.wantURL {
			t.Errorf("FetchWebsite(%q).URL = %q, want %q", tt.in, got.URL, tt.wantURL)
		}
	}
}

func TestParseHomePage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, contentType, page string
		want                    triage.Website
	}{
		{
			name: "title and description",
			page: `<html><head><title>
				Acme   B.V.
			</title><meta name="Description" content="  We make
				widgets.  "></head></html>`,
			want: triage.Website{Title: "Acme B.V.", Description: "We make widgets."},
		},
		{
			name: "og:description and og:title as fallback",
			page: `<head><meta property="og:title" content="OG Acme"><meta property="og:description" content="OG description"></head>`,
			want: triage.Website{Title: "OG Acme", Description: "OG description"},
		},
		{
			name: "meta description wins over og:description",
			page: `<meta property="og:description" content="og"><meta name="description" content="plain">`,
			want: triage.Website{Description: "plain"},
		},
		{
			name: "svg title is not the page title",
			page: `<body><svg><title>icon</title></svg><title>Real</title></body>`,
			want: triage.Website{Title: "Real"},
		},
		{
			name: "entities and non-ASCII",
			page: `<title>Caf&eacute; &amp; Bäckerei — 東京 &#x1F600;</title>`,
			want: triage.Website{Title: "Café & Bäckerei — 東京 😀"},
		},
		{
			name:        "windows-1252 by header",
			contentType: "text/html; charset=windows-1252",
			page:        "<title>Caf\xe9 M\xfcller</title>",
			want:        triage.Website{Title: "Café Müller"},
		},
		{
			name: "iso-8859-1 by meta",
			page: "<meta charset=\"iso-8859-1\"><title>Caf\xe9</title>",
			want: triage.Website{Title: "Café"},
		},
		{
			name: "invalid UTF-8 replaced",
			page: "<title>ok \xff\xfe done</title><p>" + strings.Repeat("ü", 600) + "</p>",
			want: triage.Website{Title: "ok \uFFFD done"},
		},
		{
			name: "long title and description cut",
			page: "<title>" + strings.Repeat("a", 500) + "</title><meta name=description content=\"" + strings.Repeat("é ", 400) + "\">",
			want: triage.Website{Title: strings.Repeat("a", 199) + "…", Description: strings.TrimSpace(strings.Repeat("é ", 150)) + "…"},
		},
		{
			name: "control characters dropped",
			page: "<title>A\x01c\x00me\u200b</title>",
			want: triage.Website{Title: "Ac\uFFFDme\u200b"},
		},
		{
			name: "copyright range with en dash",
			page: `<footer>© 2019–2026 Acme</footer>`,
			want: triage.Website{CopyrightYears: []int{2019, 2026}},
		},
		{
			name: "copyright entity",
			page: `<footer><p>&copy; 2021 Acme B.V. All rights reserved.</p></footer>`,
			want: triage.Website{CopyrightYears: []int{2021}},
		},
		{
			name: "copyright list",
			page: `<footer>Copyright 2015, 2020 Acme Ltd</footer>`,
			want: triage.Website{CopyrightYears: []int{2015, 2020}},
		},
		{
			name: "copyright mark and name before the year, markup in between",
			page: `<footer>Copyright &copy; <a href="/">Acme Widgets B.V.</a> <span>2018</span> - 2024</footer>`,
			want: triage.Website{CopyrightYears: []int{2018, 2024}},
		},
		{
			name: "several notices, duplicates, out of range years",
			page: `<p>© 1985 Old</p><p>© 2031 Future</p><p>(c) 2024 Acme</p><div>© 2024</div><p>copyright 2003-2005</p>`,
			want: triage.Website{CopyrightYears: []int{2003, 2005, 2024}},
		},
		{
			name: "years without a notice, and in scripts, are ignored",
			page: `<p>Founded in 2001. Call 2024 1234.</p><script>var c = "© 2012";</script>`,
			want: triage.Website{},
		},
		{
			name: "social profiles",
			page: `
				<a href="https://twitter.com/intent/tweet?text=hi">tweet</a>
				<a href="https://www.facebook.com/sharer/sharer.php?u=x">share</a>
				<a href="https://www.linkedin.com/shareArticle?mini=true">share</a>
				<a href="https://twitter.com/share">share</a>
				<a href="https://nl.linkedin.com/company/acme/?originalSubdomain=nl#about">LinkedIn</a>
				<a href="https://www.linkedin.com/company/other">second LinkedIn</a>
				<a href="http://mobile.twitter.com/AcmeHQ?ref=site">Twitter</a>
				<a href="//m.facebook.com/AcmeBV/">Facebook</a>
				<a href="https://instagram.com/p/Cxyz/">a post</a>
				<a href="https://www.instagram.com/acme_bv/?hl=nl">Instagram</a>
				<a href="javascript:alert('https://x.com/evil')">no</a>
				<a href="https://x.com.evil.example/acme">not x</a>`,
			want: triage.Website{Social: map[string]string{
				"linkedin":  "https://www.linkedin.com/company/acme",
				"x":         "https://twitter.com/AcmeHQ",
				"facebook":  "https://www.facebook.com/AcmeBV",
				"instagram": "https://www.instagram.com/acme_bv",
			}},
		},
		{
			name: "personal LinkedIn, facebook profile.php, x.com",
			page: `<a href="https://www.linkedin.com/in/jan-jansen-123/">Jan</a>
				<a href="https://www.facebook.com/profile.php?id=100012345&amp;ref=x">fb</a>
				<a href="https://x.com/acme/status/1234">a post</a><a href="https://x.com/acme">X</a>`,
			want: triage.Website{Social: map[string]string{
				"linkedin": "https://www.linkedin.com/in/jan-jansen-123",
				"facebook": "https://www.facebook.com/profile.php?id=100012345",
				"x":        "https://x.com/acme",
			}},
		},
		{
			name: "garbage",
			page: "<<<>>><title><title></title></tit<a href=\"https://x.com/\x00\"><meta name=description content>",
			want: triage.Website{Title: "<title>"}, // a title's content is text, as in a browser
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := research.ParseHomePage([]byte(tt.page), tt.contentType)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("ParseHomePage (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseHomePage(f *testing.F) {
	if page, err := os.ReadFile(filepath.Join("testdata", "web_home.html")); err == nil {
		f.Add(page, "text/html; charset=utf-8")
	}
	f.Add([]byte("<title>a</title><meta name=description content=b>© 2019–2026"), "")
	f.Add([]byte("<svg><title>x</svg><title>y"), "text/html; charset=shift_jis")
	f.Add([]byte("\xef\xbb\xbf<title>bom</title>"), "")
	f.Add([]byte("\xff\xfe<\x00t\x00"), "text/html; charset=utf-16")
	f.Add([]byte(`<a href="https://linkedin.com/company/%zz">`), "text/html; charset=bogus")
	f.Add([]byte(strings.Repeat("© 2001 ", 1000)), "")
	maxYear := time.Now().Year() + 1
	f.Fuzz(func(t *testing.T, page []byte, contentType string) {
		w := research.ParseHomePage(page, contentType)
		for _, s := range []string{w.Title, w.Description} {
			if !utf8.ValidString(s) || strings.TrimSpace(s) != s {
				t.Fatalf("unclean text %q", s)
			}
		}
		if n := utf8.RuneCountInString(w.Title); n > 200 {
			t.Fatalf("title has %d runes", n)
		}
		if n := utf8.RuneCountInString(w.Description); n > 300 {
			t.Fatalf("description has %d runes", n)
		}
		if !slices.IsSorted(w.CopyrightYears) || len(slices.Compact(slices.Clone(w.CopyrightYears))) != len(w.CopyrightYears) {
			t.Fatalf("years not sorted and distinct: %v", w.CopyrightYears)
		}
		for _, y := range w.CopyrightYears {
			if y < 1990 || y > maxYear {
				t.Fatalf("year %d out of range", y)
			}
		}
		for k, v := range w.Social {
			if !strings.HasPrefix(v, "https://") || strings.ContainsAny(v, "#\" <>") {
				t.Fatalf("social %s = %q", k, v)
			}
		}
	})
}
