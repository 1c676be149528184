package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/intake"
	"github.com/leadtriage/leadtriage/storage"
	"github.com/leadtriage/leadtriage/triage"
)

// cliCSV is a Dutch spreadsheet export: BOM, semicolons, a quoted newline
// and a bad row (line 4).
const cliCSV = "\ufeffBedrijf;Naam;E-mail;Opmerking\n" +
	"Bakkerij de Vries;Anna;anna@bakkerij.example;\"twee\nregels\"\n" +
	"Fout BV;Piet;geen-adres;\n" +
	"Klaassen;Karin;karin@klaassen.example;\n"

func runCLI(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, func(k string) string { return env[k] }, &out, &errb)
	return code, out.String(), errb.String()
}

// TestCLI_OnTheFile runs the data commands with --db, as while the bot is
// stopped.
func TestCLI_OnTheFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "leads.db")
	csvPath := filepath.Join(dir, "leads.csv")
	if err := os.WriteFile(csvPath, []byte(cliCSV), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, nil, "import", csvPath, "--db", db, "--dry-run")
	if code != 0 || !strings.Contains(out, "would import 2") {
		t.Fatalf("dry run: %d %q %q", code, out, errOut)
	}
	for i, want := range []string{"imported 2, already there 0, skipped 1", "imported 0, already there 2, skipped 1"} {
		code, out, errOut = runCLI(t, nil, "import", csvPath, "--db", db)
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("import %d: %d %q %q, want %q", i+1, code, out, errOut, want)
		}
		if !strings.Contains(errOut, "line 4, email:") || !strings.Contains(errOut, "] 3/3 rows") {
			t.Errorf("import %d: stderr %q: want the bad line and the progress bar", i+1, errOut)
		}
	}

	code, out, _ = runCLI(t, nil, "export", "--db", db, "--format", "json")
	var exp struct {
		Leads []struct{ ID, Company, Message string }
	}
	if code != 0 || json.Unmarshal([]byte(out), &exp) != nil || len(exp.Leads) != 2 || exp.Leads[0].Message != "twee\nregels" {
		t.Fatalf("export: %d %q", code, out)
	}
	code, out, _ = runCLI(t, nil, "subject", "--db", db, "--email", "anna@bakkerij.example")
	if code != 0 || !strings.Contains(out, `"company":"Bakkerij de Vries"`) {
		t.Errorf("subject: %d %q", code, out)
	}
	backup := filepath.Join(dir, "backup.db")
	if code, _, errOut = runCLI(t, nil, "backup", backup, "--db", db); code != 0 {
		t.Fatalf("backup: %q", errOut)
	}
	code, out, _ = runCLI(t, nil, "forget", "--db", db, "--email", "anna@bakkerij.example")
	if code != 0 || !strings.Contains(out, "forgotten: L-1") {
		t.Errorf("forget: %d %q", code, out)
	}
	raw, _ := os.ReadFile(db)
	if bytes.Contains(raw, []byte("anna@bakkerij")) {
		t.Error("the erased address is still in the file")
	}
	// The backup taken before still has her: it restores.
	restored, err := storage.Open(backup)
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	if _, err := restored.Lead(context.Background(), 1); err != nil {
		t.Errorf("backup lacks L-1: %v", err)
	}
	if code, _, errOut = runCLI(t, nil, "forget", "--db", db); code != 1 || !strings.Contains(errOut, "give one of email, domain or id") {
		t.Errorf("forget without a subject: %d %q", code, errOut)
	}
	if code, _, _ = runCLI(t, nil, "import", "--db", db); code != 2 {
		t.Errorf("import without a file: %d, want 2", code)
	}
}

// TestCLI_OverHTTP runs a data command against a running admin API.
func TestCLI_OverHTTP(t *testing.T) {
	t.Parallel()
	db, err := storage.Open(filepath.Join(t.TempDir(), "bot.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const token = "cli-test-token-0123456789"
	svc := &triage.Service{Store: db}
	srv := httptest.NewServer(intake.New(intake.Config{APIToken: token, Store: db}, svc, nil).Handler())
	defer srv.Close()
	if _, _, err := svc.Submit(context.Background(), triage.LeadInput{Company: "Running BV"}, triage.Submission{Via: "webhook"}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, map[string]string{"LEADTRIAGE_API_TOKEN": token}, "export", "--url", srv.URL)
	if code != 0 || !strings.Contains(out, "Running BV") || !strings.HasPrefix(out, "id,status,") {
		t.Errorf("export over HTTP: %d %q %q", code, out, errOut)
	}
	code, _, errOut = runCLI(t, map[string]string{"LEADTRIAGE_API_TOKEN": "wrong-token-0123456789"}, "export", "--url", srv.URL)
	if code != 1 || !strings.Contains(errOut, "401") {
		t.Errorf("wrong token: %d %q", code, errOut)
	}
	code, _, errOut = runCLI(t, nil, "export", "--url", srv.URL)
	if code != 1 || !strings.Contains(errOut, "LEADTRIAGE_API_TOKEN") {
		t.Errorf("no token: %d %q", code, errOut)
	}
}

// TestCLI_ImportAnnouncedOnce: a file the CLI sends in several parts gets
// one summary in the channel, with the whole file's counts, queued before
// its cards — not one summary per part.
func TestCLI_ImportAnnouncedOnce(t *testing.T) {
	t.Parallel()
	db, err := storage.Open(filepath.Join(t.TempDir(), "bot.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const token = "cli-test-token-0123456789"
	svc := &triage.Service{Store: db, Channel: "CTRIAGE"}
	srv := httptest.NewServer(intake.New(intake.Config{APIToken: token, Store: db}, svc, nil).Handler())
	defer srv.Close()

	var csvText strings.Builder
	csvText.WriteString("company,email\n")
	const rows = 2*importChunk + 50
	for i := range rows {
		fmt.Fprintf(&csvText, "Firma %d BV,info%d@firma.example\n", i, i)
	}
	csvText.WriteString("Kapot BV,geen-adres\n") // one bad row
	path := filepath.Join(t.TempDir(), "leads.csv")
	if err := os.WriteFile(path, []byte(csvText.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, map[string]string{"LEADTRIAGE_API_TOKEN": token}, "import", "--url", srv.URL, "--source", "beurs", path)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("imported %d", rows)) {
		t.Fatalf("import: %d %q %q", code, out, errOut)
	}
	items, err := db.DueOutbox(context.Background(), time.Now().Add(24*time.Hour), 10*rows)
	if err != nil {
		t.Fatal(err)
	}
	var summaries []triage.OutboxItem
	firstCard := -1
	for i, it := range items {
		switch it.Kind {
		case triage.OutboxAnnounce:
			summaries = append(summaries, it)
			if firstCard >= 0 {
				t.Errorf("the summary is queued after a card (item %d of %d)", i, len(items))
			}
		case triage.OutboxPostCard:
			if firstCard < 0 {
				firstCard = i
			}
		}
	}
	if len(summaries) != 1 {
		t.Fatalf("%d summaries for one import, want 1", len(summaries))
	}
	if n := summaries[0].Notice; n == nil || n.Count != rows || n.Rejected != 1 || n.Source != "beurs" {
		t.Errorf("summary = %+v, want %d leads, 1 bad row, source beurs", summaries[0].Notice, rows)
	}
}

// A lead imported on the file while the bot is stopped is what the bot would
// have made of it: with the bot's configuration, its lead.created webhook
// event is queued too, and goes out when the bot starts.
func TestCLI_OnTheFileQueuesTheEvents(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "leads.db")
	csvPath := filepath.Join(dir, "leads.csv")
	if err := os.WriteFile(csvPath, []byte(cliCSV), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := writeTestConfig(t, dir, appOptions{mode: "http", quorum: 3, dbPath: db,
		extra: "[[webhooks]]\nurl = \"https://hooks.example/leads\"\nevents = [\"lead.created\"]\n"}, "http://127.0.0.1:1/api/")
	if code, out, errOut := runCLI(t, nil, "import", csvPath, "--db", db, "-config", cfg); code != 0 {
		t.Fatalf("import: %d %q %q", code, out, errOut)
	}
	store, err := storage.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	due, err := store.DueCRM(context.Background(), time.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 2 {
		t.Errorf("crm items after the offline import = %d, want the 2 leads' lead.created events", len(due))
	}
	for _, it := range due {
		if it.Kind != triage.OutboxEvent || it.Text != triage.EventTypeCreated {
			t.Errorf("queued %s %q, want an event lead.created", it.Kind, it.Text)
		}
	}
}
