package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// findChromium returns the browser the tests drive. CI installs Debian's
// chromium (.ci/run); there a missing browser fails the test, elsewhere it
// skips it.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("CHROMIUM"), "chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium not found: the browser tests need it in CI (.ci/run installs Debian's chromium)")
	}
	t.Skip("chromium not found; install it (apt-get install chromium) to run the browser tests")
	return ""
}

// browser is a headless Chromium tab on the playground page.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string
	shot int
	dir  string
}

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	path := findChromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // CI runs as root
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-dev-shm-usage", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return &browser{t: t, ctx: ctx, base: base, dir: t.ArtifactDir()}
}

func (b *browser) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.screenshot("failed")
		b.t.Fatalf("%s: %v", what, err)
	}
}

// waitJS waits until the expression is true in the page.
func (b *browser) waitJS(what, expr string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		b.screenshot("failed")
		page, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.getElementById('thread').innerText + '\n----\n' + document.getElementById('main').innerText.slice(-3000)`))
		b.t.Fatalf("waiting for %s: %v\npage:\n%s", what, err, page)
	}
}

// screenshot saves the viewport as the next numbered artefact.
func (b *browser) screenshot(name string) string {
	b.shot++
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	path := filepath.Join(b.dir, fmt.Sprintf("%02d-%s.png", b.shot, name))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Errorf("saving screenshot: %v", err)
	}
	return path
}

// element saves a screenshot of one element, for the README (docs/).
func (b *browser) element(name, sel string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("screenshot of %s: %v", sel, err)
	}
	if err := os.WriteFile(filepath.Join(b.dir, name), png, 0o644); err != nil {
		b.t.Errorf("saving screenshot: %v", err)
	}
	if os.Getenv("UPDATE_DOCS") == "1" {
		if err := os.WriteFile(filepath.Join("docs", name), png, 0o644); err != nil {
			b.t.Errorf("updating docs/%s: %v", name, err)
		}
	}
}

// eval evaluates a JS expression that gives a string.
func (b *browser) eval(expr string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[any](expr))
	if err != nil {
		b.t.Fatalf("evaluating %s: %v", expr, err)
	}
	s, _ := v.(string)
	return s
}

// click clicks the element sel finds, in the page itself: the page swaps
// in fresh HTML when anything changes, so a node found a moment earlier
// may be gone by the time a CDP click lands.
func (b *browser) click(sel string) {
	b.t.Helper()
	b.waitJS(sel, fmt.Sprintf(`document.querySelector(%q) !== null`, sel))
	b.eval(fmt.Sprintf(`document.querySelector(%q).click()`, sel))
}

// send types text into the composer form's input and submits it.
func (b *browser) send(form, text string) {
	b.t.Helper()
	b.waitJS(form, fmt.Sprintf(`document.querySelector(%q) !== null`, form))
	b.eval(fmt.Sprintf(`(() => { const f = document.querySelector(%q); f.querySelector('input[name=text]').value = %q; f.requestSubmit(); })()`, form, text))
}

// as switches the page's user with the <select name="user">, as a person would.
func (b *browser) as(user string) {
	b.t.Helper()
	b.run("switching to "+user,
		chromedp.SetValue(chromedp.CSS(`select[name="user"]`), user))
	b.eval(`document.querySelector('select[name="user"]').dispatchEvent(new Event('change', {bubbles: true}))`)
	b.waitJS("the page as "+user, fmt.Sprintf(`document.body.dataset.user === %q`, user))
}

// card is a JS expression for the card of a lead in the channel.
func card(id string) string {
	return fmt.Sprintf(`[...document.querySelectorAll('#main .msg[data-ts]')].find(m => m.querySelector('.blk-header') && m.querySelector('.blk-header').textContent.startsWith(%q))`, id+" ")
}

func (b *browser) cardTS(id string) string {
	b.t.Helper()
	b.waitJS("the card of "+id, card(id)+` !== undefined`)
	return b.eval(card(id) + `.dataset.ts`)
}

// TestPlayground_Browser drives the playground page in headless Chromium
// through the walk: a lead with research flags, blind votes by three
// people, the reveal and decision, a criterion answered in the thread, the
// decide dialog's inline error, /qualify list, a reminder after a
// fast-forward, and the App Home. Each step leaves a screenshot in the
// test's artefact directory (go test -artifacts); UPDATE_DOCS=1 refreshes
// the README's screenshots in docs/.
func TestPlayground_Browser(t *testing.T) {
	t.Parallel()
	app := mustStartPlayground(t)
	b := newBrowser(t, "http://"+app.Main.Addr())

	// A lead typed into the page's form goes through POST /leads; its card
	// shows the research flags of a "three-year-old" company on a young domain.
	b.run("opening the page", chromedp.Navigate(b.base+"/?user=UANNA"), chromedp.WaitVisible(chromedp.CSS(`#new-lead`)))
	founded := strconv.Itoa(time.Now().Year() - 3)
	b.run("submitting a lead",
		chromedp.SetValue(chromedp.CSS(`#new-lead input[name=company]`), "NovaByte Solutions"),
		chromedp.SetValue(chromedp.CSS(`#new-lead input[name=name]`), "Mark de Wit"),
		chromedp.SetValue(chromedp.CSS(`#new-lead input[name=email]`), "mark@novabyte-solutions.nl"),
		chromedp.SetValue(chromedp.CSS(`#new-lead input[name=website]`), "novabyte-solutions.nl"),
		chromedp.SetValue(chromedp.CSS(`#new-lead input[name=founded]`), founded),
		chromedp.SetValue(chromedp.CSS(`#new-lead textarea[name=message]`), "We are a three-year-old software company."),
		chromedp.Click(chromedp.CSS(`#new-lead button[type=submit]`)))
	b.waitJS("the form's answer", `document.getElementById('lead-result').textContent === 'Created L-1'`)
	ts1 := b.cardTS("L-1")
	b.waitJS("research flags on the card", card("L-1")+`.textContent.includes('domain_young') && `+card("L-1")+`.textContent.includes('claim_mismatch')`)
	b.screenshot("card-with-research")
	b.element("playground-card.png", fmt.Sprintf(`#main .msg[data-ts=%q]`, ts1))

	// A second lead, for the decide dialog and the reminder.
	if err := app.Playground.PostLead(t.Context(), map[string]string{"company": "Hendriks Installatietechniek B.V.", "email": "info@hendriks-installatie.nl", "website": "hendriks-installatie.nl"}); err != nil {
		t.Fatal(err)
	}
	ts2 := b.cardTS("L-2")

	// Three people vote; the count stays blind until the quorum.
	vote := func(user, action string) {
		b.as(user)
		b.click(fmt.Sprintf(`#main .msg[data-ts=%q] button[data-action-id=%q][data-value="L-1"]`, ts1, action))
	}
	vote("UANNA", "lead.vote.qualify")
	b.waitJS("one blind vote", card("L-1")+`.textContent.includes('1 of 3 votes')`)
	vote("UBRAM", "lead.vote.qualify")
	b.waitJS("two blind votes", card("L-1")+`.textContent.includes('2 of 3 votes') && !`+card("L-1")+`.textContent.includes('Anna de Vries')`)
	b.screenshot("blind-two-of-three")
	vote("UCHLOE", "lead.vote.disqualify")
	b.waitJS("the reveal and the decision", card("L-1")+`.textContent.includes('@Anna de Vries') && `+card("L-1")+`.textContent.includes('qualified by the team')`)
	b.screenshot("revealed-and-decided")

	// A criterion answered in the thread with a reply.
	b.as("UANNA")
	b.click(fmt.Sprintf(`#main .msg[data-ts=%q] [data-open-thread]`, ts2))
	b.waitJS("the checklist in the thread", `document.querySelector('#thread').textContent.includes('budget')`)
	b.send(`#thread-composer`, "budget: yes")
	b.waitJS("the answer on the checklist", `[...document.querySelectorAll('#thread .msg')].some(m => m.querySelector('.blk-section') && /budget/i.test(m.textContent) && m.textContent.includes('@Anna de Vries'))`)
	b.screenshot("thread-answer")
	b.element("playground-thread.png", `#thread`)

	// The decide dialog: submitting without an outcome is an inline error.
	b.as("ULEAD")
	b.click(fmt.Sprintf(`#main .msg[data-ts=%q] button[data-action-id="lead.decide"]`, ts2))
	b.waitJS("the decide dialog", `document.querySelector('#modal form.modal') !== null`)
	b.click(`#modal form.modal button[type=submit]`)
	b.waitJS("the inline error", `document.querySelector('#modal .in-error') && document.querySelector('#modal .in-error').textContent.includes('Pick an outcome')`)
	b.screenshot("decide-dialog-error")
	b.click(`#modal [data-close-modal]`)
	b.waitJS("the dialog closed", `!document.querySelector('#modal form.modal')`)

	// A message in the channel becomes a lead with the "Qualify this
	// message" shortcut: a dialog prefilled from the message.
	b.as("UANNA")
	b.send(`#composer`, "Forwarded from the website chat: Lisa Vos of Acme BV, lisa@acme-bv.nl, wants a demo next week.")
	b.waitJS("Anna's message", `[...document.querySelectorAll('#main .msg')].some(m => m.textContent.includes('lisa@acme-bv.nl'))`)
	b.eval(`[...document.querySelectorAll('#main .msg')].find(m => m.textContent.includes('lisa@acme-bv.nl')).querySelector('[data-shortcut]').click()`)
	b.waitJS("the add-lead dialog, prefilled", `[...document.querySelectorAll('#modal input')].some(i => i.value === 'lisa@acme-bv.nl')`)
	b.screenshot("add-lead-dialog")
	b.click(`#modal form.modal button[type=submit]`)
	b.waitJS("the dialog closed", `!document.querySelector('#modal form.modal')`)
	b.cardTS("L-3")

	// /qualify list answers only the person who asked.
	b.as("UBRAM")
	b.send(`#composer`, "/qualify list")
	b.waitJS("the list, only for Bram", `[...document.querySelectorAll('#main .msg.ephemeral')].some(m => m.textContent.includes('L-2'))`)
	b.screenshot("qualify-list")
	b.as("UCHLOE")
	b.waitJS("Chloe's own page", `document.body.dataset.user === 'UCHLOE' && document.querySelector('#main .msg[data-ts]') !== null`)
	if got := b.eval(`[...document.querySelectorAll('#main .msg.ephemeral')].map(m => m.innerText).join('\n')`); strings.Contains(got, "L-2") {
		t.Errorf("Chloe sees Bram's /qualify list:\n%s", got)
	}

	// Fast-forward past reminders.after: a reminder in L-2's thread.
	b.click(`button[data-forward="5h"]`)
	b.click(fmt.Sprintf(`#main .msg[data-ts=%q] [data-open-thread]`, ts2))
	b.waitJS("the reminder", `document.querySelector('#thread button[data-action-id="lead.snooze.day"]') !== null`)
	b.screenshot("reminder")

	// A day later: the escalation reaches the team lead by DM, and the
	// morning digest is in its channel.
	b.click(`button[data-forward="25h"]`)
	b.as("ULEAD")
	b.click(`[data-nav="DULEAD"]`)
	b.waitJS("the escalation DM", `[...document.querySelectorAll('#main .msg')].some(m => m.textContent.includes('L-2'))`)
	b.screenshot("escalation-dm")
	b.click(`[data-nav="CDIGEST"]`)
	b.waitJS("the digest", `[...document.querySelectorAll('#main .msg')].some(m => m.textContent.includes('L-2') && m.textContent.includes('L-3'))`)
	b.screenshot("digest")

	// The App Home, published when the Home tab opens.
	b.click(`[data-nav="home"]`)
	b.waitJS("the Home tab", `document.querySelector('#main .home .blk') !== null`)
	b.screenshot("app-home")
	b.element("playground-home.png", `main.channel`)

	text := b.eval(`document.querySelector('#main').innerText`)
	if !strings.Contains(text, "L-2") {
		t.Errorf("the Home tab does not list the pending L-2:\n%s", text)
	}
}
