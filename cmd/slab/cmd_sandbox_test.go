package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSandboxAccountsFileWithoutSecret: an accounts file of the old form
// (no secret_access_key column) is refused with a usage error naming the
// column, before anything listens.
func TestSandboxAccountsFileWithoutSecret(t *testing.T) {
	dir := isolate(t)
	accounts := filepath.Join(t.TempDir(), "accounts.csv")
	if err := os.WriteFile(accounts, []byte("access_key_id,account_id\nAKIASTUDENT1,111111111111\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runSlab(t, "--state-dir", dir, "sandbox", "--memory", "--addr", "127.0.0.1:0", "--accounts", accounts)
	if code != 2 || !strings.Contains(stderr, "secret_access_key") {
		t.Fatalf("exit %d, want 2 naming secret_access_key: %s", code, stderr)
	}
}
