package bot

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// updateGolden rewrites the golden files: go test ./bot -update (or
// UPDATE_GOLDEN=1 go test ./bot).
var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// assertGolden compares got (JSON) with testdata/golden/<test name>.json
// after re-indenting both. On a mismatch it writes <name>.json.act next to
// the golden file so that the difference can be inspected with diff.
func assertGolden(t *testing.T, got []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, bytes.TrimSpace(got), "", "  "); err != nil {
		t.Fatalf("indenting output: %v", err)
	}
	buf.WriteByte('\n')
	got = unescapeHTML(buf.Bytes())
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	path := filepath.Join("testdata", "golden", name+".json")
	if *updateGolden || os.Getenv("UPDATE_GOLDEN") == "1" {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("writing golden file: %v", err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run go test ./bot -update to create it): %v", err)
	}
	var wantBuf bytes.Buffer
	if err := json.Indent(&wantBuf, bytes.TrimSpace(want), "", "  "); err != nil {
		t.Fatalf("indenting golden file %s: %v", path, err)
	}
	wantBuf.WriteByte('\n')
	if !bytes.Equal(unescapeHTML(wantBuf.Bytes()), got) {
		act := path + ".act"
		if err := os.WriteFile(act, got, 0o644); err != nil {
			t.Errorf("writing %s: %v", act, err)
		}
		t.Errorf("output differs from %s; actual output written to %s (diff them; go test ./bot -update accepts it)", path, act)
	}
}

// unescapeHTML undoes encoding/json's HTML escaping (\u003c for "<" and so
// on), which means the same in JSON but hides the mrkdwn tokens a reviewer
// of a golden file wants to see.
func unescapeHTML(b []byte) []byte {
	b = bytes.ReplaceAll(b, []byte(`\u003c`), []byte("<"))
	b = bytes.ReplaceAll(b, []byte(`\u003e`), []byte(">"))
	return bytes.ReplaceAll(b, []byte(`\u0026`), []byte("&"))
}
