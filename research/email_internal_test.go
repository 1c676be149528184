package research

import "testing"

// A domain on both lists would get both flags; the refresh steps in
// data/README.md rely on this test to catch it.
func TestDomainLists_Disjoint(t *testing.T) {
	t.Parallel()
	if len(freemailList.exact) < 100 || len(disposableList.exact) < 50 {
		t.Fatalf("lists too short: %d free-mail, %d disposable", len(freemailList.exact), len(disposableList.exact))
	}
	for d := range disposableList.exact {
		if _, ok := freemailList.match(d); ok {
			t.Errorf("%s is on both lists", d)
		}
	}
	for d := range disposableList.any {
		if freemailList.any[d] {
			t.Errorf("%s.* is on both lists", d)
		}
	}
}
