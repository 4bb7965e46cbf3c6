// Package grade runs the read-only checks against every account of a class
// roster at once and renders the class's scores (terminal table, CSV, JSON,
// JUnit, Markdown). It never mutates a student's account: no probes run.
// Rows are handed out as each student finishes, so a caller can append them
// to a partial file and resume an interrupted run.
package grade

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
)

// Student is one roster row: who, and how to reach their account.
type Student struct {
	Name string
	Line int // line in the roster file (1 is the header)

	Profile string
	// AccountID + RoleName: assumed from the grader's credentials.
	AccountID, RoleName, ExternalID string
	// Static keys (sandbox, LocalStack-style endpoints).
	AccessKeyID, SecretAccessKey, SessionToken string

	Region     string
	NameSuffix string
}

// Way says how the student's account is reached, for messages.
func (s Student) Way() string {
	switch {
	case s.AccessKeyID != "":
		return "access key " + s.AccessKeyID
	case s.RoleName != "":
		return fmt.Sprintf("role %s in %s", s.RoleName, s.AccountID)
	case s.Profile != "":
		return "profile " + s.Profile
	}
	return "nothing"
}

// RosterError is a problem with the roster file (exit 2 in the CLI).
type RosterError struct {
	File string
	Line int
	Msg  string
}

func (e *RosterError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("roster %s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("roster %s: %s", e.File, e.Msg)
}

// Columns are the roster's known columns.
var Columns = []string{"student", "profile", "account_id", "role_name", "external_id",
	"access_key_id", "secret_access_key", "session_token", "region", "name_suffix"}

var accountRE = regexp.MustCompile(`^[0-9]{12}$`)

// ParseRoster reads a roster CSV (with a header line). file names it in errors.
func ParseRoster(r io.Reader, file string) ([]Student, error) {
	rd := csv.NewReader(r)
	rd.TrimLeadingSpace = true
	rd.FieldsPerRecord = -1
	rd.Comment = '#'
	header, err := rd.Read()
	if errors.Is(err, io.EOF) {
		return nil, &RosterError{File: file, Msg: "empty file: the first line must be a header such as student,profile"}
	}
	if err != nil {
		return nil, rosterCSVErr(file, err)
	}
	known := map[string]bool{}
	for _, c := range Columns {
		known[c] = true
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !known[h] {
			return nil, &RosterError{File: file, Line: 1, Msg: fmt.Sprintf("unknown column %q (known: %s)", h, strings.Join(Columns, ", "))}
		}
		if _, dup := col[h]; dup {
			return nil, &RosterError{File: file, Line: 1, Msg: fmt.Sprintf("column %q appears twice", h)}
		}
		col[h] = i
	}
	if _, ok := col["student"]; !ok {
		return nil, &RosterError{File: file, Line: 1, Msg: "no student column"}
	}
	var out []Student
	seen := map[string]int{}
	for {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, rosterCSVErr(file, err)
		}
		line, _ := rd.FieldPos(0)
		get := func(name string) string {
			i, ok := col[name]
			if !ok || i >= len(rec) {
				return ""
			}
			return strings.TrimSpace(rec[i])
		}
		if len(rec) > len(header) {
			return nil, &RosterError{File: file, Line: line, Msg: fmt.Sprintf("%d fields, the header has %d", len(rec), len(header))}
		}
		s := Student{Name: get("student"), Line: line, Profile: get("profile"), AccountID: get("account_id"), RoleName: get("role_name"),
			ExternalID: get("external_id"), AccessKeyID: get("access_key_id"), SecretAccessKey: get("secret_access_key"),
			SessionToken: get("session_token"), Region: get("region"), NameSuffix: get("name_suffix")}
		if s.Name == "" {
			blank := true
			for _, f := range rec {
				if strings.TrimSpace(f) != "" {
					blank = false
				}
			}
			if blank {
				continue
			}
			return nil, &RosterError{File: file, Line: line, Msg: "no student name"}
		}
		if prev, dup := seen[s.Name]; dup {
			return nil, &RosterError{File: file, Line: line, Msg: fmt.Sprintf("student %q is already on line %d", s.Name, prev)}
		}
		seen[s.Name] = line
		if err := s.validate(); err != nil {
			return nil, &RosterError{File: file, Line: line, Msg: fmt.Sprintf("student %q: %v", s.Name, err)}
		}
		out = append(out, s)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func rosterCSVErr(file string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &RosterError{File: file, Line: pe.Line, Msg: pe.Err.Error()}
	}
	return &RosterError{File: file, Msg: err.Error()}
}

func (s Student) validate() error {
	keys := s.AccessKeyID != "" || s.SecretAccessKey != ""
	role := s.RoleName != ""
	ways := 0
	for _, b := range []bool{s.Profile != "", role, keys} {
		if b {
			ways++
		}
	}
	switch {
	case ways == 0:
		return errors.New("names no way into the account: give profile, or account_id and role_name, or access_key_id and secret_access_key")
	case ways > 1:
		return errors.New("names more than one way into the account: give only one of profile, account_id+role_name, access keys")
	case keys && (s.AccessKeyID == "" || s.SecretAccessKey == ""):
		return errors.New("access_key_id and secret_access_key go together")
	case role && s.AccountID == "":
		return errors.New("role_name needs account_id")
	case s.ExternalID != "" && !role:
		return errors.New("external_id only applies with role_name")
	case s.SessionToken != "" && !keys:
		return errors.New("session_token only applies with access keys")
	}
	if s.AccountID != "" && !accountRE.MatchString(s.AccountID) {
		return fmt.Errorf("account_id %q is not 12 digits", s.AccountID)
	}
	return nil
}
