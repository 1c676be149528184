package intake_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/leadtriage/leadtriage/intake"
	"github.com/leadtriage/leadtriage/storage"
	"github.com/leadtriage/leadtriage/triage"
)

var adminAuth = map[string]string{"Authorization": "Bearer " + apiToken}

// messyCSV is an export of a Dutch spreadsheet as Excel writes it: a BOM,
// semicolons, Dutch headers, a quoted field with a newline and a quoted
// semicolon, a blank line, a column no lead field has, and bad rows (an
// invalid address, a row with too few fields, a row with no company, e-mail
// or website).
const messyCSV = "\ufeffBedrijf;Naam;E-mail;Telefoon;Website;Opmerking;Branche\r\n" +
	"Bakkerij de Vries;Anna de Vries;anna@bakkerijdevries.nl;+31 20 123 4567;https://bakkerijdevries.nl;\"Wil graag een demo;\r\nliefst volgende week\";Food\r\n" + // line 2-3
	"Jansen B.V.;Jan Jansen;geen-adres;;;;Bouw\r\n" + // line 4: bad e-mail
	"\r\n" + // line 5: blank
	"Pietersen;Piet;piet@pietersen.example;;;\r\n" + // line 6: too few fields
	";Zonder Bedrijf;;0612345678;;alleen een naam;\r\n" + // line 7: nothing to identify it
	"Klaassen Installatie;Karin Klaassen;karin@klaassen.example;;klaassen.example;;Techniek\r\n" // line 8

func postCSV(t *testing.T, e *env, query, body string) *struct {
	Created int `json:"created"`
	Repeats int `json:"repeats"`
	Errors  []struct {
		Line  int    `json:"line"`
		Field string `json:"field"`
		Error string `json:"error"`
	} `json:"errors"`
} {
	t.Helper()
	w := e.do(t, request{path: "/api/import" + query, body: body, contentType: "text/csv", header: adminAuth})
	if w.Code != http.StatusOK {
		t.Fatalf("import: %d %s", w.Code, w.Body.String())
	}
	v := decode[struct {
		Created int `json:"created"`
		Repeats int `json:"repeats"`
		Errors  []struct {
			Line  int    `json:"line"`
			Field string `json:"field"`
			Error string `json:"error"`
		} `json:"errors"`
	}](t, w)
	return &v
}

func TestAdmin_Import(t *testing.T) {
	t.Parallel()

	t.Run("MessyCSVTwice", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		dry := postCSV(t, e, "?dry_run=true", messyCSV)
		if dry.Created != 2 || len(e.leads(t)) != 0 {
			t.Fatalf("dry run: created %d, stored %d leads; want 2 and 0", dry.Created, len(e.leads(t)))
		}
		res := postCSV(t, e, "?source=spreadsheet", messyCSV)
		if res.Created != 2 || res.Repeats != 0 {
			t.Errorf("first import: created %d, repeats %d; want 2, 0", res.Created, res.Repeats)
		}
		var got []string
		for _, er := range res.Errors {
			got = append(got, fmt.Sprintf("%d:%s", er.Line, er.Field))
		}
		if want := []string{"6:", "4:email", "7:company"}; !cmp.Equal(got, want) {
			t.Errorf("errors (line:field) = %v, want %v (%+v)", got, want, res.Errors)
		}
		leads := e.leads(t)
		if len(leads) != 2 {
			t.Fatalf("stored %d leads, want 2", len(leads))
		}
		anna := leads[0]
		if anna.Company != "Bakkerij de Vries" || anna.Email != "anna@bakkerijdevries.nl" || anna.Phone != "+31 20 123 4567" ||
			anna.Message != "Wil graag een demo;\nliefst volgende week" || anna.Source != "spreadsheet" || anna.Extra["Branche"] != "Food" {
			t.Errorf("first lead = %+v", anna)
		}
		if n := len(e.outbox(t)); n != 2 {
			t.Errorf("outbox holds %d items, want the 2 cards", n)
		}

		// Again, and again after the idempotency keys expired: nothing new.
		for _, after := range []time.Duration{0, 72 * time.Hour} {
			e.clock.Advance(after)
			again := postCSV(t, e, "?source=spreadsheet", messyCSV)
			if again.Created != 0 || again.Repeats != 2 {
				t.Errorf("import again after %v: created %d, repeats %d; want 0, 2", after, again.Created, again.Repeats)
			}
		}
		if n := len(e.leads(t)); n != 2 {
			t.Errorf("stored %d leads after importing twice, want 2", n)
		}
	})

	// More than a handful of new leads: one summary for the channel, queued
	// before the cards so that it comes first; a repeat of a row in the
	// same file counts as a repeat. A dry run and a small import queue none.
	t.Run("SummaryBeforeTheCards", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		var b strings.Builder
		b.WriteString("company,email\n")
		for i := range 7 {
			fmt.Fprintf(&b, "Firma %d,info@firma%d.example\n", i, i)
		}
		b.WriteString("Firma 0,info@firma0.example\n") // the same row again
		b.WriteString("Kapot,geen-adres\n")
		if dry := postCSV(t, e, "?dry_run=true", b.String()); dry.Created != 7 || dry.Repeats != 1 || len(e.outbox(t)) != 0 {
			t.Fatalf("dry run: created %d, repeats %d, outbox %d; want 7, 1, 0", dry.Created, dry.Repeats, len(e.outbox(t)))
		}
		res := postCSV(t, e, "?source=beurs", b.String())
		if res.Created != 7 || res.Repeats != 1 || len(res.Errors) != 1 {
			t.Fatalf("import: %+v; want 7 created, 1 repeat, 1 error", res)
		}
		items := e.outbox(t)
		if len(items) != 8 {
			t.Fatalf("outbox holds %d items, want the summary and 7 cards", len(items))
		}
		want := triage.Notice{Kind: triage.NoticeImported, Count: 7, Repeats: 1, Rejected: 1, Source: "beurs"}
		if first := items[0]; first.Kind != triage.OutboxAnnounce || first.Channel != "CTRIAGE" || first.Notice == nil || !cmp.Equal(*first.Notice, want) {
			t.Errorf("first item = %+v (notice %+v), want the summary %+v", first, first.Notice, want)
		}
		for _, it := range items[1:] {
			if it.Kind != triage.OutboxPostCard {
				t.Errorf("item %+v, want a card", it)
			}
		}

		small := newEnv(t)
		postCSV(t, small, "", "company,email\nA,a@a.example\nB,b@b.example\n")
		for _, it := range small.outbox(t) {
			if it.Kind == triage.OutboxAnnounce {
				t.Errorf("a small import queued a summary: %+v", it)
			}
		}
	})

	t.Run("CommaAndMap", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		res := postCSV(t, e, "?map=organisation%20name=company,contact=email", "Organisation name,Contact\nAcme,info@acme.example\n")
		if res.Created != 1 {
			t.Fatalf("created %d, want 1 (%+v)", res.Created, res.Errors)
		}
		if l := e.leads(t)[0]; l.Company != "Acme" || l.Email != "info@acme.example" {
			t.Errorf("lead = %+v", l)
		}
	})

	t.Run("BadInputChangesNothing", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		for _, tt := range []struct {
			name, query, body, ct string
			want                  int
		}{
			{"NoKnownColumn", "", "foo;bar\n1;2\n", "text/csv", 400},
			{"BadMap", "?map=a=nonsense", "a\n1\n", "text/csv", 400},
			{"JSON", "", `{"company":"x"}`, "application/json", 415},
			{"Empty", "", "", "text/csv", 400},
			{"BadAnnounce", "?announce=loud", messyCSV, "text/csv", 400},
			{"BadTotals", "?announce=totals&created=many&repeats=0&rejected=0", messyCSV, "text/csv", 400},
			{"NegativeTotals", "?announce=totals&created=9&repeats=-1&rejected=0", messyCSV, "text/csv", 400},
		} {
			w := e.do(t, request{path: "/api/import" + tt.query, body: tt.body, contentType: tt.ct, header: adminAuth})
			if w.Code != tt.want {
				t.Errorf("%s: %d %s, want %d", tt.name, w.Code, w.Body.String(), tt.want)
			}
		}
		w := e.do(t, request{path: "/api/import", body: messyCSV, contentType: "text/csv"})
		if w.Code != http.StatusUnauthorized {
			t.Errorf("without the token: %d, want 401", w.Code)
		}
		if n := len(e.leads(t)); n != 0 {
			t.Errorf("%d leads stored by bad requests", n)
		}
	})
}

func TestAdmin_Export(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	seed(t, e)
	ctx := context.Background()
	if _, err := e.store.UpdateLead(ctx, 1, func(l *triage.Lead) ([]triage.OutboxItem, error) {
		l.Company = "=HYPERLINK(\"http://evil.example\")"
		l.Votes = map[string]triage.Choice{"U1": triage.ChoiceQualify, "U2": triage.ChoiceQualify, "U3": triage.ChoiceUnsure}
		l.Answers = map[string]triage.Answer{"budget": {Value: "yes", By: "U1", At: epoch}}
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}

	w := serve(e, httpRequest(t, http.MethodGet, "/api/export?format=csv", adminAuth))
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/csv") {
		t.Fatalf("csv export: %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	recs, err := csv.NewReader(w.Body).ReadAll()
	if err != nil {
		t.Fatalf("reading the export: %v", err)
	}
	if len(recs) != 4 {
		t.Fatalf("%d rows, want a header and 3 leads", len(recs))
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for _, h := range []string{"id", "status", "decision", "decision_reason", "owner", "votes_qualify", "research_flags", "decision_s", "answer.budget"} {
		if _, ok := col[h]; !ok {
			t.Errorf("no column %q in %v", h, recs[0])
		}
	}
	l1, l2 := recs[1], recs[2]
	if l1[col["company"]] != `'=HYPERLINK("http://evil.example")` {
		t.Errorf("company = %q: a formula must be defused", l1[col["company"]])
	}
	if l1[col["votes_qualify"]] != "2" || l1[col["votes_unsure"]] != "1" || l1[col["answer.budget"]] != "yes" {
		t.Errorf("L-1 votes/answers = %v", l1)
	}
	if l2[col["status"]] != "qualified" || l2[col["decision_reason"]] != "good fit" || l2[col["decided_by"]] != "ULEAD" {
		t.Errorf("L-2 decision = %v", l2)
	}

	w = serve(e, httpRequest(t, http.MethodGet, "/api/export?format=json&status=qualified", adminAuth))
	list := decode[struct {
		Leads []apiLead `json:"leads"`
	}](t, w)
	if len(list.Leads) != 1 || list.Leads[0].ID != "L-2" {
		t.Errorf("json export of qualified = %+v", list.Leads)
	}
	if w := serve(e, httpRequest(t, http.MethodGet, "/api/export?format=xml", adminAuth)); w.Code != http.StatusBadRequest {
		t.Errorf("format=xml: %d, want 400", w.Code)
	}
}

func TestAdmin_Subject(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	seed(t, e)
	ctx := context.Background()
	for _, c := range []string{"First BV", "Second BV"} {
		if _, _, err := e.svc.Submit(ctx, triage.LeadInput{Company: c, Email: canaryPII, Phone: "+31 6 1234 5678"}, triage.Submission{Via: "webhook"}); err != nil {
			t.Fatal(err)
		}
	}
	w := serve(e, httpRequest(t, http.MethodGet, "/api/subject?email="+url.QueryEscape(strings.ToUpper(canaryPII)), adminAuth))
	got := decode[struct {
		Email string `json:"email"`
		Leads []struct {
			ID, Company, Phone string
			Events             []json.RawMessage
		} `json:"leads"`
	}](t, w)
	if !strings.EqualFold(got.Email, canaryPII) || len(got.Leads) != 2 || got.Leads[0].Company != "First BV" || got.Leads[1].Phone != "+31 6 1234 5678" || len(got.Leads[0].Events) == 0 {
		t.Errorf("subject = %+v", got)
	}
	if w := serve(e, httpRequest(t, http.MethodGet, "/api/subject?email=nobody", adminAuth)); w.Code != http.StatusBadRequest {
		t.Errorf("email=nobody: %d, want 400", w.Code)
	}
}

func TestAdmin_Forget(t *testing.T) {
	t.Parallel()
	var db *storage.DB
	e := newEnv(t, func(c *intake.Config) {
		c.AuditSalt = []byte("salt")
		c.AfterForget = func(ctx context.Context) error { return db.Compact(ctx) }
	})
	db = e.store.(*storage.DB)
	seed(t, e)
	ctx := context.Background()
	const canaryCompany = "Canary Erasure Holding CANARYCO"
	l, _, err := e.svc.Submit(ctx, triage.LeadInput{Company: canaryCompany, Email: canaryPII, Message: "call me"}, triage.Submission{Via: "webhook", IdempotencyKey: "k1"})
	if err != nil {
		t.Fatal(err)
	}
	// The card and its checklist were posted: their ts are on the lead.
	if _, err := e.store.UpdateLead(ctx, l.ID, func(l *triage.Lead) ([]triage.OutboxItem, error) {
		l.Slack = triage.SlackRef{Channel: "CTRIAGE", TS: "1764892800.000100", ChecklistTS: "1764892801.000200"}
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}

	w := e.do(t, request{path: "/api/forget", body: `{"email":"` + strings.ToUpper(canaryPII) + `","by":"ops@team"}`, contentType: "application/json", header: adminAuth})
	if w.Code != http.StatusOK {
		t.Fatalf("forget: %d %s", w.Code, w.Body.String())
	}
	res := decode[struct {
		Forgotten    []string `json:"forgotten"`
		SlackDeleted int      `json:"slack_deleted"`
	}](t, w)
	if !cmp.Equal(res.Forgotten, []string{l.ID.String()}) || res.SlackDeleted != 2 {
		t.Errorf("forget = %+v, want [%s] and 2 deletions", res, l.ID)
	}
	if _, err := e.svc.Lead(ctx, l.ID); err == nil {
		t.Errorf("%s still stored", l.ID)
	}
	var deletes []string
	for _, it := range e.outbox(t) {
		if bytes.Contains(it.Payload, []byte("CANARY")) {
			t.Errorf("outbox item %d (%s) holds the canary", it.ID, it.Kind)
		}
		if it.Kind == triage.OutboxDeleteMessage {
			deletes = append(deletes, string(it.Payload))
		}
	}
	if want := []string{"1764892801.000200", "1764892800.000100"}; !cmp.Equal(deletes, want) {
		t.Errorf("chat.delete queued for %v, want %v", deletes, want)
	}
	if strings.Contains(strings.ToLower(e.logs.String()), "canary") {
		t.Errorf("the logs name the subject: %s", e.logs.String())
	}
	key, _, ok, err := e.store.LastJob(ctx, triage.ForgottenJobPrefix)
	if err != nil || !ok || !strings.Contains(key, triage.AuditHash([]byte("salt"), canaryPII)) || !strings.Contains(key, "|ops@team|") {
		t.Errorf("audit entry = %q, %v, %v", key, ok, err)
	}
	// The file itself: no erased byte survives, the rest does.
	raw, err := os.ReadFile(db.Path())
	if err != nil {
		t.Fatal(err)
	}
	for _, canary := range []string{"CANARY@", "CANARYCO", "call me"} {
		if bytes.Contains(raw, []byte(canary)) {
			t.Errorf("the database file still holds %q", canary)
		}
	}
	if err := db.Check(); err != nil {
		t.Errorf("after compaction: %v", err)
	}
	if n := len(e.leads(t)); n != 3 {
		t.Errorf("%d leads left, want the 3 others", n)
	}
	// The sequence survived the compaction: the next lead gets a new id.
	l2, _, err := e.svc.Submit(ctx, triage.LeadInput{Company: "After"}, triage.Submission{Via: "webhook"})
	if err != nil || l2.ID <= l.ID {
		t.Errorf("after forget: %v %v, want an id above %s", l2.ID, err, l.ID)
	}

	// Again: nothing left to forget, still 200.
	w = e.do(t, request{path: "/api/forget", body: `{"email":"` + canaryPII + `"}`, contentType: "application/json", header: adminAuth})
	if again := decode[struct{ Forgotten []string }](t, w); w.Code != 200 || len(again.Forgotten) != 0 {
		t.Errorf("forget again: %d %s", w.Code, w.Body.String())
	}
	for _, body := range []string{`{}`, `{"email":"a@b.example","id":"L-1"}`, `{"id":"x"}`, `{"mail":"a@b"}`, `not json`} {
		if w := e.do(t, request{path: "/api/forget", body: body, contentType: "application/json", header: adminAuth}); w.Code != http.StatusBadRequest {
			t.Errorf("forget %s: %d, want 400", body, w.Code)
		}
	}
}

// TestAdmin_Backup takes a backup through the API while 200 leads are being
// written and restores it: bbolt's check passes and every lead acknowledged
// before the backup began is in it.
func TestAdmin_Backup(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	const writers = 200
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		acked    []triage.LeadID // acknowledged before the backup began
		begun    atomic.Bool
		halfway  = make(chan struct{})
		ackCount atomic.Int32
	)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, _, err := e.svc.Submit(ctx, triage.LeadInput{Company: fmt.Sprintf("Concurrent %d", i)}, triage.Submission{Via: "webhook"})
			if err != nil {
				t.Errorf("submit %d: %v", i, err)
				return
			}
			if !begun.Load() {
				mu.Lock()
				acked = append(acked, l.ID)
				mu.Unlock()
			}
			if ackCount.Add(1) == writers/2 {
				close(halfway)
			}
		}()
	}
	<-halfway
	mu.Lock()
	begun.Store(true)
	before := append([]triage.LeadID{}, acked...)
	mu.Unlock()
	w := serve(e, httpRequest(t, http.MethodGet, "/api/backup", adminAuth))
	wg.Wait()
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("backup: %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	path := filepath.Join(t.TempDir(), "restored.db")
	if err := os.WriteFile(path, w.Body.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	restored, err := storage.Open(path)
	if err != nil {
		t.Fatalf("opening the backup: %v", err)
	}
	defer restored.Close()
	if err := restored.Check(); err != nil {
		t.Fatalf("the backup fails bbolt's check: %v", err)
	}
	if len(before) < writers/2 {
		t.Fatalf("only %d leads acknowledged before the backup", len(before))
	}
	for _, id := range before {
		if _, err := restored.Lead(ctx, id); err != nil {
			t.Errorf("acknowledged %s missing from the backup: %v", id, err)
		}
	}
	if w := serve(e, httpRequest(t, http.MethodGet, "/api/backup", nil)); w.Code != http.StatusUnauthorized {
		t.Errorf("backup without the token: %d", w.Code)
	}
}

// TestAdmin_ForgetRacesRetention erases a lead through the API while the
// retention purge deletes the same lead: it is gone once, its messages get
// one chat.delete each, and the store passes bbolt's check.
func TestAdmin_ForgetRacesRetention(t *testing.T) {
	t.Parallel()
	for i := range 10 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			var db *storage.DB
			e := newEnv(t, func(c *intake.Config) {
				c.AfterForget = func(ctx context.Context) error { return db.Compact(ctx) }
			})
			db = e.store.(*storage.DB)
			ctx := context.Background()
			l, _, err := e.svc.Submit(ctx, triage.LeadInput{Company: "Expired", Email: canaryPII}, triage.Submission{Via: "webhook"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.store.UpdateLead(ctx, l.ID, func(l *triage.Lead) ([]triage.OutboxItem, error) {
				l.Slack = triage.SlackRef{Channel: "CTRIAGE", TS: "1764892800.000100", ChecklistTS: "1764892801.000200"}
				return nil, triage.Decide(l, triage.StatusDisqualified, "no budget", "ULEAD", epoch)
			}); err != nil {
				t.Fatal(err)
			}
			var (
				wg     sync.WaitGroup
				purged []triage.LeadID
				w      *httptest.ResponseRecorder
			)
			wg.Add(2)
			go func() {
				defer wg.Done()
				var err error
				purged, err = e.svc.PurgeExpired(ctx, time.Hour, epoch.Add(2*time.Hour))
				if err != nil {
					t.Errorf("PurgeExpired: %v", err)
				}
			}()
			go func() {
				defer wg.Done()
				w = e.do(t, request{path: "/api/forget", body: `{"id":"` + l.ID.String() + `"}`, contentType: "application/json", header: adminAuth})
			}()
			wg.Wait()
			res := decode[struct{ Forgotten []string }](t, w)
			if n := len(purged) + len(res.Forgotten); n != 1 {
				t.Errorf("purged %v and forgot %v: want the lead erased exactly once", purged, res.Forgotten)
			}
			if _, err := e.svc.Lead(ctx, l.ID); err == nil {
				t.Error("the lead survived")
			}
			var deletes int
			for _, it := range e.outbox(t) {
				if it.Kind == triage.OutboxDeleteMessage {
					deletes++
				} else {
					t.Errorf("outbox item %s left for the erased lead", it.Kind)
				}
			}
			if deletes != 2 {
				t.Errorf("%d chat.delete queued, want 2 (card and checklist, once)", deletes)
			}
			if err := db.Check(); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestAdmin_ExportPages: an export larger than one page of leads streams
// every lead exactly once, in CSV and JSON, with the answer columns of
// leads on every page (the header is read in a first pass).
func TestAdmin_ExportPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	const n = 2*500 + 7 // more than two pages (exportPage)
	for i := range n {
		if _, _, err := e.svc.Submit(ctx, triage.LeadInput{Company: fmt.Sprintf("Page %04d BV", i)}, triage.Submission{Via: "webhook"}); err != nil {
			t.Fatal(err)
		}
	}
	// The only answer is on the last page: its column must still be there.
	if _, err := e.store.UpdateLead(ctx, triage.LeadID(n), func(l *triage.Lead) ([]triage.OutboxItem, error) {
		l.Answers = map[string]triage.Answer{"timing": {Value: "later", By: "U1", At: epoch}}
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	w := serve(e, httpRequest(t, http.MethodGet, "/api/export?format=csv", adminAuth))
	recs, err := csv.NewReader(w.Body).ReadAll()
	if err != nil || w.Code != http.StatusOK {
		t.Fatalf("csv export: %d %v", w.Code, err)
	}
	if len(recs) != n+1 {
		t.Fatalf("%d rows, want a header and %d leads", len(recs), n)
	}
	last := len(recs[0]) - 1
	if recs[0][last] != "answer.timing" || recs[n][last] != "later" {
		t.Errorf("answer column %q, last lead's answer %q", recs[0][last], recs[n][last])
	}
	seen := map[string]bool{}
	for _, r := range recs[1:] {
		if seen[r[0]] {
			t.Fatalf("lead %s exported twice", r[0])
		}
		seen[r[0]] = true
	}
	w = serve(e, httpRequest(t, http.MethodGet, "/api/export?format=json", adminAuth))
	list := decode[struct {
		Leads []apiLead `json:"leads"`
	}](t, w)
	if len(list.Leads) != n || list.Leads[0].ID != "L-1" || list.Leads[n-1].ID != fmt.Sprintf("L-%d", n) {
		t.Errorf("json export: %d leads, want %d in id order", len(list.Leads), n)
	}
	if w := serve(e, httpRequest(t, http.MethodGet, "/api/export?format=json&status=nonsense", adminAuth)); w.Code != http.StatusBadRequest {
		t.Errorf("bad status: %d, want 400 before any body", w.Code)
	}
}
