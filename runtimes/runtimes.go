// Package runtimes is slab's one dated table of AWS Lambda managed runtimes:
// for each runtime identifier, the day Lambda deprecates it, the day it stops
// accepting new functions on it, and the day it stops accepting updates to
// functions on it. The sandbox's Lambda emulator enforces it and slab's checks
// report from it, so both always agree.
//
// The table is as of AsOf. AWS moves these dates (the block dates of every
// deprecated runtime were pushed back several times in 2025 and 2026), so each
// row names where its dates come from; refresh the table, not its callers.
//
// This package is a leaf: standard library only.
package runtimes

import (
	"sort"
	"time"
)

// AsOf is the day the table was last checked against its sources.
var AsOf = date(2026, 11, 27)

// Runtime is one row of the table. A zero date means the sources consulted
// publish no such date (a supported runtime with no schedule yet, or a block
// date AWS has not announced).
type Runtime struct {
	ID          string // runtime identifier, e.g. "nodejs22.x"
	Name        string // e.g. "Node.js 22"
	OS          string // "Amazon Linux 2" or "Amazon Linux 2023"
	Deprecated  time.Time
	BlockCreate time.Time
	BlockUpdate time.Time
	Source      string // where the dates come from
}

// Phase is where a runtime stands on a given day.
type Phase int

const (
	// Supported: patched and usable.
	Supported Phase = iota
	// Deprecated: no longer patched, functions can still be created and updated.
	Deprecated
	// CreateBlocked: deprecated, new functions are refused, updates still pass.
	CreateBlocked
	// UpdateBlocked: deprecated, both creating and updating functions are refused.
	UpdateBlocked
)

func (p Phase) String() string {
	switch p {
	case Supported:
		return "supported"
	case Deprecated:
		return "deprecated"
	case CreateBlocked:
		return "create blocked"
	case UpdateBlocked:
		return "update blocked"
	}
	return "unknown"
}

// Status is a runtime's phase on a day, with the row it was computed from.
type Status struct {
	Runtime
	Phase Phase
}

// CanCreate reports whether Lambda accepts CreateFunction with this runtime.
func (s Status) CanCreate() bool { return s.Phase < CreateBlocked }

// CanUpdate reports whether Lambda accepts updates of functions on this runtime.
func (s Status) CanUpdate() bool { return s.Phase < UpdateBlocked }

// Sources of the dates below, newest first. AWS's own table is
// https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html; these are
// dated public copies of it.
const (
	// aws/aws-rfdk pull request #1703 (2026-07-08): "Node.js 18 was deprecated
	// on AWS Lambda on Sep 1, 2025. Function create will be blocked starting
	// Feb 1, 2027 and function update blocked Mar 3, 2027."
	srcRFDK = "aws/aws-rfdk#1703, 2026-07-08"
	// aws-cloudformation/cfn-lint issue #4531 and pull request #4532
	// (2026-06-02): nodejs20.x block create Feb 1, 2027 and block update
	// Mar 3, 2027; "many create-block/update-block dates pushed to
	// 2027-02-01/2027-03-03"; java8.al2, java11, java17, python3.11 extended
	// by a year.
	srcCfnLint = "aws-cloudformation/cfn-lint#4532, 2026-06-02"
	// A runtime end-of-life rule set whose research is dated 2026-09-12,
	// agreeing with the two above and giving python3.10, ruby3.2, dotnet8,
	// provided.al2 and the AL2 Java/Python deprecation of 2027-06-30; and a
	// re:Post answer on python3.9 quoting the same 2027-02-01/2027-03-03.
	srcRuleSet = "runtime EOL rule set, researched 2026-09-12; re:Post python3.9 answer"
	// endoflife.date's aws-lambda page, which mirrors AWS's deprecation
	// and block-update columns.
	srcEOL = "endoflife.date/aws-lambda (deprecation, block update), 2026"
	// The brief slab was built from (2026-11-27) for the block-create date
	// of nodejs22.x.
	srcBrief = "slab lab brief, 2026-11-27"
	// The lab's corrections (docs/lab-corrections in the brief, late 2026),
	// which slab's lessons teach: nodejs18.x creation is blocked today with
	// InvalidParameterValueException, and nodejs20.x creation was blocked
	// on 2026-08-31 (no update-block date given). The Node.js rows follow
	// them, not srcRFDK and srcCfnLint, which report both create blocks
	// pushed to 2027-02-01: the lessons, the checks and the sandbox must
	// tell one story, and the trap the lab corrects is the refused
	// create. Confirm against real AWS when an account is at hand.
	srcCorrections = "slab lab corrections, late 2026"
	// AWS's lambda-runtimes page as published in late 2025, for the days
	// nodejs18.x blocked create (2026-02-03) and update (2026-03-09).
	srcAWS2025 = "docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html, late 2025"
	// cfn-lint's LmbdRuntimeLifecycle.json, which mirrors the "Deprecated
	// runtimes" table of AWS's lambda-runtimes page (deprecation, block
	// function create, block function update) for every runtime family,
	// including the ones whose updates were extended to 2025-11-01.
	srcCfnLintData = "aws-cloudformation/cfn-lint src/cfnlint/data/AdditionalSpecs/LmbdRuntimeLifecycle.json at 81cb349"
	// re:Post "The runtime parameter of nodejs14.x is no longer supported":
	// creation of nodejs14.x functions was first blocked 2024-01-09; the
	// table above carries the later, extended dates.
	srcRePost14 = "repost.aws QUHJZRlLlHRP25Cvw46Ge8BQ"
	// AWS's runtime-support-policy page (2019-2021 editions): the
	// Amazon Linux 1 runtimes retired before Lambda's current table, with
	// "Deprecation completed" dates.
	srcAWSPolicy = "docs.aws.amazon.com/lambda/latest/dg/runtime-support-policy.html, 2019-2021"
)

var table = []Runtime{
	{ID: "nodejs24.x", Name: "Node.js 24", OS: "Amazon Linux 2023", Deprecated: date(2028, 4, 30), BlockUpdate: date(2028, 7, 1), Source: srcEOL},
	{ID: "nodejs22.x", Name: "Node.js 22", OS: "Amazon Linux 2023", Deprecated: date(2027, 4, 30), BlockCreate: date(2027, 6, 1), BlockUpdate: date(2027, 7, 1), Source: srcEOL + "; " + srcBrief},
	{ID: "nodejs20.x", Name: "Node.js 20", OS: "Amazon Linux 2023", Deprecated: date(2026, 4, 30), BlockCreate: date(2026, 8, 31), Source: srcCorrections},
	{ID: "nodejs18.x", Name: "Node.js 18", OS: "Amazon Linux 2", Deprecated: date(2025, 9, 1), BlockCreate: date(2026, 2, 3), BlockUpdate: date(2026, 3, 9), Source: srcCorrections + "; " + srcAWS2025},
	{ID: "python3.14", Name: "Python 3.14", OS: "Amazon Linux 2023", Deprecated: date(2029, 6, 30), BlockUpdate: date(2029, 8, 31), Source: srcEOL},
	{ID: "python3.13", Name: "Python 3.13", OS: "Amazon Linux 2023", Deprecated: date(2029, 6, 30), BlockUpdate: date(2029, 8, 31), Source: srcEOL},
	{ID: "python3.12", Name: "Python 3.12", OS: "Amazon Linux 2023", Deprecated: date(2028, 10, 31), BlockUpdate: date(2029, 1, 10), Source: srcEOL},
	{ID: "python3.11", Name: "Python 3.11", OS: "Amazon Linux 2", Deprecated: date(2027, 6, 30), Source: srcRuleSet},
	{ID: "python3.10", Name: "Python 3.10", OS: "Amazon Linux 2", Deprecated: date(2026, 10, 31), BlockCreate: date(2027, 2, 1), BlockUpdate: date(2027, 3, 3), Source: srcRuleSet},
	{ID: "python3.9", Name: "Python 3.9", OS: "Amazon Linux 2", Deprecated: date(2025, 12, 15), BlockCreate: date(2027, 2, 1), BlockUpdate: date(2027, 3, 3), Source: srcRuleSet},
	{ID: "java25", Name: "Java 25", OS: "Amazon Linux 2023", Deprecated: date(2029, 6, 30), BlockUpdate: date(2029, 8, 31), Source: srcEOL},
	{ID: "java21", Name: "Java 21", OS: "Amazon Linux 2023", Deprecated: date(2029, 6, 30), BlockUpdate: date(2029, 8, 31), Source: srcEOL},
	{ID: "java17", Name: "Java 17", OS: "Amazon Linux 2", Deprecated: date(2027, 6, 30), Source: srcRuleSet},
	{ID: "java11", Name: "Java 11", OS: "Amazon Linux 2", Deprecated: date(2027, 6, 30), Source: srcRuleSet},
	{ID: "java8.al2", Name: "Java 8", OS: "Amazon Linux 2", Deprecated: date(2027, 6, 30), Source: srcRuleSet},
	{ID: "dotnet10", Name: ".NET 10", OS: "Amazon Linux 2023", Deprecated: date(2028, 11, 14), BlockUpdate: date(2029, 1, 15), Source: srcEOL},
	{ID: "dotnet8", Name: ".NET 8", OS: "Amazon Linux 2023", Deprecated: date(2026, 11, 10), BlockCreate: date(2027, 2, 1), BlockUpdate: date(2027, 3, 3), Source: srcRuleSet},
	{ID: "ruby3.4", Name: "Ruby 3.4", OS: "Amazon Linux 2023", Deprecated: date(2028, 3, 31), BlockUpdate: date(2028, 5, 31), Source: srcEOL},
	{ID: "ruby3.3", Name: "Ruby 3.3", OS: "Amazon Linux 2023", Deprecated: date(2027, 3, 31), BlockUpdate: date(2027, 5, 31), Source: srcEOL},
	{ID: "ruby3.2", Name: "Ruby 3.2", OS: "Amazon Linux 2", Deprecated: date(2026, 3, 31), BlockCreate: date(2027, 2, 1), BlockUpdate: date(2027, 3, 3), Source: srcRuleSet},
	{ID: "provided.al2023", Name: "OS-only Runtime", OS: "Amazon Linux 2023", Deprecated: date(2029, 6, 30), BlockUpdate: date(2029, 8, 31), Source: srcEOL},
	{ID: "provided.al2", Name: "OS-only Runtime", OS: "Amazon Linux 2", Deprecated: date(2026, 7, 31), BlockCreate: date(2027, 2, 1), BlockUpdate: date(2027, 3, 3), Source: srcRuleSet},

	// Lambda's deprecated runtimes: every family, all blocked by now. They
	// are still values of the API's Runtime enum (except dotnet7), so
	// Lambda refuses them with InvalidParameterValueException, not with
	// the enum's ValidationException.
	{ID: "nodejs16.x", Name: "Node.js 16", OS: "Amazon Linux 2", Deprecated: date(2024, 6, 12), BlockCreate: date(2025, 10, 1), BlockUpdate: date(2025, 11, 1), Source: srcCfnLintData},
	{ID: "nodejs14.x", Name: "Node.js 14", OS: "Amazon Linux 2", Deprecated: date(2023, 12, 4), BlockCreate: date(2024, 7, 9), BlockUpdate: date(2025, 11, 1), Source: srcCfnLintData + "; " + srcRePost14},
	{ID: "nodejs12.x", Name: "Node.js 12", OS: "Amazon Linux 2", Deprecated: date(2023, 3, 31), BlockCreate: date(2023, 3, 31), BlockUpdate: date(2023, 4, 30), Source: srcCfnLintData},
	{ID: "nodejs10.x", Name: "Node.js 10", OS: "Amazon Linux 2", Deprecated: date(2021, 7, 30), BlockCreate: date(2021, 7, 30), BlockUpdate: date(2022, 2, 14), Source: srcCfnLintData},
	{ID: "nodejs8.10", Name: "Node.js 8.10", OS: "Amazon Linux", Deprecated: date(2020, 3, 6), BlockCreate: date(2020, 3, 6), BlockUpdate: date(2020, 3, 6), Source: srcCfnLintData + "; " + srcAWSPolicy},
	{ID: "nodejs6.10", Name: "Node.js 6.10", OS: "Amazon Linux", Deprecated: date(2019, 8, 12), BlockCreate: date(2019, 8, 12), BlockUpdate: date(2019, 8, 12), Source: srcCfnLintData + "; " + srcAWSPolicy},
	{ID: "nodejs4.3-edge", Name: "Node.js 4.3 edge", OS: "Amazon Linux", Deprecated: date(2019, 4, 30), BlockCreate: date(2019, 4, 30), BlockUpdate: date(2019, 4, 30), Source: srcAWSPolicy},
	{ID: "nodejs4.3", Name: "Node.js 4.3", OS: "Amazon Linux", Deprecated: date(2020, 3, 5), BlockCreate: date(2020, 3, 5), BlockUpdate: date(2020, 3, 5), Source: srcCfnLintData + "; " + srcAWSPolicy},
	{ID: "nodejs", Name: "Node.js 0.10", OS: "Amazon Linux", Deprecated: date(2016, 10, 31), BlockCreate: date(2016, 10, 31), BlockUpdate: date(2016, 10, 31), Source: srcCfnLintData + "; " + srcAWSPolicy},
	{ID: "python3.8", Name: "Python 3.8", OS: "Amazon Linux 2", Deprecated: date(2024, 10, 14), BlockCreate: date(2025, 10, 1), BlockUpdate: date(2025, 11, 1), Source: srcCfnLintData},
	{ID: "python3.7", Name: "Python 3.7", OS: "Amazon Linux", Deprecated: date(2023, 12, 4), BlockCreate: date(2024, 1, 9), BlockUpdate: date(2025, 11, 1), Source: srcCfnLintData},
	{ID: "python3.6", Name: "Python 3.6", OS: "Amazon Linux", Deprecated: date(2022, 7, 18), BlockCreate: date(2022, 7, 18), BlockUpdate: date(2022, 8, 29), Source: srcCfnLintData},
	{ID: "python2.7", Name: "Python 2.7", OS: "Amazon Linux", Deprecated: date(2021, 7, 15), BlockCreate: date(2021, 7, 15), BlockUpdate: date(2022, 5, 30), Source: srcCfnLintData},
	{ID: "java8", Name: "Java 8", OS: "Amazon Linux", Deprecated: date(2024, 1, 8), BlockCreate: date(2024, 2, 8), BlockUpdate: date(2025, 11, 1), Source: srcCfnLintData},
	{ID: "dotnet7", Name: ".NET 7 (container only)", OS: "Amazon Linux 2", Deprecated: date(2024, 5, 14), BlockCreate: date(2024, 5, 14), BlockUpdate: date(2024, 5, 14), Source: srcCfnLintData},
	{ID: "dotnet6", Name: ".NET 6", OS: "Amazon Linux 2", Deprecated: date(2024, 11, 12), BlockCreate: date(2025, 10, 1), BlockUpdate: date(2025, 11, 1), Source: srcCfnLintData},
	{ID: "dotnetcore3.1", Name: ".NET Core 3.1", OS: "Amazon Linux 2", Deprecated: date(2023, 4, 3), BlockCreate: date(2023, 4, 3), BlockUpdate: date(2023, 5, 3), Source: srcCfnLintData},
	{ID: "dotnetcore2.1", Name: ".NET Core 2.1", OS: "Amazon Linux", Deprecated: date(2022, 1, 5), BlockCreate: date(2022, 1, 5), BlockUpdate: date(2022, 4, 13), Source: srcCfnLintData},
	{ID: "dotnetcore2.0", Name: ".NET Core 2.0", OS: "Amazon Linux", Deprecated: date(2019, 5, 30), BlockCreate: date(2019, 5, 30), BlockUpdate: date(2019, 5, 30), Source: srcCfnLintData + "; " + srcAWSPolicy},
	{ID: "dotnetcore1.0", Name: ".NET Core 1.0", OS: "Amazon Linux", Deprecated: date(2019, 6, 27), BlockCreate: date(2019, 7, 30), BlockUpdate: date(2019, 7, 30), Source: srcCfnLintData + "; " + srcAWSPolicy},
	{ID: "ruby2.7", Name: "Ruby 2.7", OS: "Amazon Linux 2", Deprecated: date(2023, 12, 7), BlockCreate: date(2024, 1, 9), BlockUpdate: date(2025, 11, 1), Source: srcCfnLintData},
	{ID: "ruby2.5", Name: "Ruby 2.5", OS: "Amazon Linux", Deprecated: date(2021, 7, 30), BlockCreate: date(2021, 7, 30), BlockUpdate: date(2022, 3, 31), Source: srcCfnLintData},
	{ID: "go1.x", Name: "Go 1.x", OS: "Amazon Linux", Deprecated: date(2024, 1, 8), BlockCreate: date(2024, 2, 8), BlockUpdate: date(2025, 11, 1), Source: srcCfnLintData},
	{ID: "provided", Name: "Custom Runtime", OS: "Amazon Linux", Deprecated: date(2024, 1, 8), BlockCreate: date(2024, 2, 8), BlockUpdate: date(2025, 11, 1), Source: srcCfnLintData},
}

// enum is the Lambda API's Runtime enum (the service model behind
// aws-sdk-go-v2/service/lambda v1.114.4). CreateFunction and
// UpdateFunctionConfiguration refuse any other value with a
// ValidationException before looking at dates; values in it that the
// table does not date (runtimes newer than the table) are accepted.
var enum = []string{
	"nodejs", "nodejs4.3", "nodejs6.10", "nodejs8.10", "nodejs10.x", "nodejs12.x", "nodejs14.x", "nodejs16.x",
	"nodejs18.x", "nodejs20.x", "nodejs22.x", "nodejs24.x", "java8", "java8.al2", "java11", "java17", "java21",
	"java25", "python2.7", "python3.6", "python3.7", "python3.8", "python3.9", "python3.10", "python3.11",
	"python3.12", "python3.13", "python3.14", "dotnetcore1.0", "dotnetcore2.0", "dotnetcore2.1", "dotnetcore3.1",
	"dotnet6", "dotnet8", "dotnet10", "nodejs4.3-edge", "go1.x", "ruby2.5", "ruby2.7", "ruby3.2", "ruby3.3",
	"ruby3.4", "ruby4.0", "provided", "provided.al2", "provided.al2023", "nodejs26.x", "python3.15",
	"java8.al2023", "java11.al2023", "java17.al2023",
}

// InEnum reports whether id is a value of the API's Runtime enum.
func InEnum(id string) bool {
	for _, e := range enum {
		if e == id {
			return true
		}
	}
	return false
}

// Enum returns the API's Runtime enum in the model's order, as Lambda's
// ValidationException lists it.
func Enum() []string { return append([]string(nil), enum...) }

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// Lookup returns the table row of a runtime identifier.
func Lookup(id string) (Runtime, bool) {
	for _, r := range table {
		if r.ID == id {
			return r, true
		}
	}
	return Runtime{}, false
}

// StatusAt returns where runtime id stands at t. Each phase starts at 00:00
// UTC of its date. A runtime whose updates are blocked is also blocked for
// creation even when the sources give no separate create date. ok is false
// for an identifier the table does not know.
func StatusAt(id string, t time.Time) (Status, bool) {
	r, ok := Lookup(id)
	if !ok {
		return Status{}, false
	}
	return Status{Runtime: r, Phase: r.phaseAt(t)}, true
}

func (r Runtime) phaseAt(t time.Time) Phase {
	reached := func(d time.Time) bool { return !d.IsZero() && !t.Before(d) }
	switch {
	case reached(r.BlockUpdate):
		return UpdateBlocked
	case reached(r.BlockCreate):
		return CreateBlocked
	case reached(r.Deprecated):
		return Deprecated
	}
	return Supported
}

// All returns every row, sorted by identifier.
func All() []Runtime {
	out := append([]Runtime(nil), table...)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// IDs returns every known identifier, sorted.
func IDs() []string {
	var ids []string
	for _, r := range All() {
		ids = append(ids, r.ID)
	}
	return ids
}

// BlockedMessage is Lambda's InvalidParameterValueException text for a
// create or update refused because of the runtime.
func BlockedMessage(id string) string {
	return "The runtime parameter of " + id + " is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions."
}
