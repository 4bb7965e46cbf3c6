package runtimes

import (
	"strings"
	"testing"
	"time"
)

func TestStatusAtBoundaries(t *testing.T) {
	day := func(s string) time.Time {
		d, err := time.Parse("2006-01-02", s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	second := time.Second
	tests := []struct {
		id    string
		at    time.Time
		phase Phase
	}{
		{"nodejs18.x", day("2025-08-31"), Supported},
		{"nodejs18.x", day("2025-09-01"), Deprecated},
		{"nodejs18.x", day("2026-02-03").Add(-second), Deprecated},
		{"nodejs18.x", day("2026-02-03"), CreateBlocked},
		{"nodejs18.x", day("2026-03-09").Add(-second), CreateBlocked},
		{"nodejs18.x", day("2026-03-09"), UpdateBlocked},
		// The lab's first trap: the guide's runtime is refused today.
		{"nodejs18.x", AsOf, UpdateBlocked},
		{"nodejs20.x", day("2026-04-29"), Supported},
		{"nodejs20.x", day("2026-04-30"), Deprecated},
		{"nodejs20.x", day("2026-08-31").Add(-second), Deprecated},
		{"nodejs20.x", day("2026-08-31"), CreateBlocked},
		// No update-block date in the sources: creation stays the only block.
		{"nodejs20.x", AsOf, CreateBlocked},
		{"nodejs20.x", day("2030-01-01"), CreateBlocked},
		{"nodejs22.x", AsOf, Supported},
		{"nodejs22.x", day("2027-04-30"), Deprecated},
		{"nodejs22.x", day("2027-06-01"), CreateBlocked},
		{"nodejs22.x", day("2027-07-01"), UpdateBlocked},
		{"nodejs24.x", AsOf, Supported},
		// No create date published: the update block implies it.
		{"nodejs24.x", day("2028-07-01"), UpdateBlocked},
		{"provided.al2023", AsOf, Supported},
		{"provided.al2", AsOf, Deprecated},
		{"python3.9", AsOf, Deprecated},
		{"python3.9", day("2027-03-03"), UpdateBlocked},
		{"python3.13", AsOf, Supported},
	}
	for _, tc := range tests {
		st, ok := StatusAt(tc.id, tc.at)
		if !ok {
			t.Fatalf("%s unknown", tc.id)
		}
		if st.Phase != tc.phase {
			t.Errorf("%s at %s: phase %v, want %v", tc.id, tc.at.Format(time.RFC3339), st.Phase, tc.phase)
		}
		wantCreate := tc.phase < CreateBlocked
		wantUpdate := tc.phase < UpdateBlocked
		if st.CanCreate() != wantCreate || st.CanUpdate() != wantUpdate {
			t.Errorf("%s at %s: create %v update %v", tc.id, tc.at, st.CanCreate(), st.CanUpdate())
		}
	}
}

func TestUnknownRuntime(t *testing.T) {
	if _, ok := StatusAt("nodejs99.x", AsOf); ok {
		t.Fatal("nodejs99.x should be unknown")
	}
}

func TestTableIsConsistent(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range All() {
		if seen[r.ID] {
			t.Errorf("%s listed twice", r.ID)
		}
		seen[r.ID] = true
		if r.Source == "" || r.Name == "" || r.OS == "" {
			t.Errorf("%s: missing name, OS or source", r.ID)
		}
		if r.Deprecated.IsZero() {
			t.Errorf("%s: every managed runtime has a projected deprecation date", r.ID)
		}
		if !r.BlockCreate.IsZero() && r.BlockCreate.Before(r.Deprecated) {
			t.Errorf("%s: create blocked before deprecation", r.ID)
		}
		if !r.BlockCreate.IsZero() && !r.BlockUpdate.IsZero() && r.BlockUpdate.Before(r.BlockCreate) {
			t.Errorf("%s: update blocked before create", r.ID)
		}
	}
	if ids := IDs(); len(ids) != len(seen) || ids[0] > ids[len(ids)-1] {
		t.Errorf("IDs not sorted or incomplete: %v", ids)
	}
}

func TestBlockedMessage(t *testing.T) {
	want := "The runtime parameter of nodejs18.x is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions."
	if got := BlockedMessage("nodejs18.x"); got != want {
		t.Fatalf("got %q", got)
	}
	if !strings.Contains(Phase(9).String(), "unknown") {
		t.Fatal("out-of-range phase should print as unknown")
	}
}

// Every family's retired runtimes are in the table with all three dates
// and a source, and every one is blocked today.
func TestRetiredRuntimesOfEveryFamily(t *testing.T) {
	retired := []string{"nodejs", "nodejs4.3", "nodejs4.3-edge", "nodejs6.10", "nodejs8.10", "nodejs10.x", "nodejs12.x", "nodejs14.x", "nodejs16.x",
		"python2.7", "python3.6", "python3.7", "python3.8", "java8", "dotnetcore1.0", "dotnetcore2.0", "dotnetcore2.1", "dotnetcore3.1",
		"dotnet6", "dotnet7", "ruby2.5", "ruby2.7", "go1.x", "provided"}
	for _, id := range retired {
		st, ok := StatusAt(id, AsOf)
		if !ok {
			t.Errorf("%s: not in the table", id)
			continue
		}
		if st.Deprecated.IsZero() || st.BlockCreate.IsZero() || st.BlockUpdate.IsZero() || st.Source == "" {
			t.Errorf("%s: incomplete row %+v", id, st.Runtime)
		}
		if st.Phase != UpdateBlocked {
			t.Errorf("%s: phase %v today, want update blocked", id, st.Phase)
		}
		if st.BlockUpdate.Before(st.BlockCreate) {
			t.Errorf("%s: updates blocked before creation", id)
		}
	}
	// Every dated runtime but the container-only dotnet7 is a value of the
	// API's enum, which is what makes Lambda answer it with the
	// deprecation message rather than a ValidationException.
	for _, r := range All() {
		if InEnum(r.ID) == (r.ID == "dotnet7") {
			t.Errorf("%s: InEnum %v", r.ID, InEnum(r.ID))
		}
	}
}
