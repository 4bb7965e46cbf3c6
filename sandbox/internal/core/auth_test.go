package core

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadAccounts(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) string {
		p := filepath.Join(dir, "a.csv")
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	keys, err := LoadAccounts(write("account_id,access_key_id,secret_access_key,user\n111111111111,AKIAROOT,s1,\n222222222222,AKIAUSER,s2,alice\n"))
	if err != nil {
		t.Fatal(err)
	}
	root, ok := keys.Lookup("AKIAROOT")
	if !ok || root.Secret != "s1" || root.Principal.ARN != "arn:aws:iam::111111111111:root" || root.Principal.ID != "111111111111" {
		t.Fatalf("root key: %+v", root)
	}
	user, ok := keys.Lookup("AKIAUSER")
	if !ok || user.Principal.Type != "user" || user.Principal.ARN != "arn:aws:iam::222222222222:user/alice" || !strings.HasPrefix(user.Principal.ID, "AIDA") || len(user.Principal.ID) != 21 {
		t.Fatalf("user key: %+v", user)
	}
	if _, ok := keys.Lookup("test"); ok {
		t.Fatal("an accounts file must not also accept test/test")
	}
	for _, c := range []struct{ file, want string }{
		{"access_key_id,account_id\nA,111111111111\n", "no secret_access_key column"},
		{"access_key_id,secret_access_key\nA,s\n", "no account_id column"},
		{"access_key_id,secret_access_key,account_id\nA,,111111111111\n", "has no secret_access_key"},
		{"access_key_id,secret_access_key,account_id\nA,s,111111111111\nA,t,111111111111\n", "listed twice"},
		{"access_key_id,secret_access_key,account_id\nA,s,1111\n", "12-digit"},
	} {
		_, err := LoadAccounts(write(c.file))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.file, err, c.want)
		}
	}
	if _, err := LoadAccounts(write("access_key_id,account_id\n")); !errors.Is(err, ErrAccountsColumn) {
		t.Errorf("missing column is not ErrAccountsColumn: %v", err)
	}
}
