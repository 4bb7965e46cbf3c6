package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/slab-lab/slab/awsenv"
	"github.com/slab-lab/slab/grade"
	"github.com/slab-lab/slab/internal/atomicfile"
	"github.com/slab-lab/slab/lab"
	"github.com/slab-lab/slab/sandbox"
)

type gradeOptions struct {
	Roster      string
	Rubric      string
	Format      string
	Out         string
	OutMode     string
	Concurrency int
	Timeout     time.Duration
	Resume      bool
	FullEvid    bool
}

func newGradeCmd(ios *IOStreams, g *globalOptions) *cobra.Command {
	o := &gradeOptions{}
	cmd := &cobra.Command{
		Use:   "grade --roster FILE",
		Short: "Grade many student accounts with read-only checks",
		Long: `Grade a class: run every read-only check (never the probes; nothing is changed)
against each student's account, many students at once, and report the scores.

The roster is a CSV with a header. Column student, plus one way into the account:
  profile                                   a profile of the grader's AWS config
  account_id,role_name[,external_id]        a role assumed with the grader's credentials
                                            (see ` + "`slab grader-policy --trust`" + `)
  access_key_id,secret_access_key           static keys (a sandbox with --accounts, LocalStack)
and optionally region and name_suffix (a per-student suffix on every lab name).

Target: --aws for real accounts, --endpoint-url URL for an emulator (e.g. a
` + "`slab sandbox --accounts FILE`" + ` elsewhere); without either, a ` + "`slab sandbox`" + ` already
running for this state directory.

The table goes to stdout; --format csv|json|junit|markdown --out FILE writes a report
file too. Rows are appended to FILE.partial.jsonl as students finish, so an
interrupted run keeps them; --resume grades only the students not in it (and again
those who could not be graded). --rubric FILE overrides weights: JSON
{"weights": {"check-id": 3}} or CSV check_id,weight; weight 0 leaves a check out.

Exit status: 0 every student graded, 3 some student could not be graded (or a check
could not tell), 2 usage errors (roster, rubric, flags), 130 interrupted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runGrade(cmd.Context(), ios, g, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Roster, "roster", "", "CSV roster: student plus profile, or account_id+role_name, or access keys")
	f.StringVar(&o.Rubric, "rubric", "", "weights overriding the checks': JSON {\"weights\":{...}} or CSV check_id,weight")
	f.IntVar(&o.Concurrency, "concurrency", 8, "students graded at once")
	f.DurationVar(&o.Timeout, "timeout", 2*time.Minute, "time limit per student")
	f.StringVar(&o.Format, "format", "csv", "report file format: "+strings.Join(grade.Formats, ", "))
	f.StringVar(&o.Out, "out", "", "write the report to this file (and rows as they finish to FILE.partial.jsonl)")
	f.StringVar(&o.OutMode, "out-mode", "0600", "permissions of the --out file, in octal: reports hold what students stored, readable by the grader alone unless asked")
	f.BoolVar(&o.FullEvid, "full-evidence", false, "keep every evidence item whole in the JSON report (otherwise cut at 2 KB with a note)")
	f.BoolVar(&o.Resume, "resume", false, "skip students already graded in --out's partial file")
	return cmd
}

func runGrade(ctx context.Context, ios *IOStreams, g *globalOptions, o *gradeOptions) error {
	if o.Roster == "" {
		return usageErr("--roster FILE is required")
	}
	valid := false
	for _, f := range grade.Formats {
		valid = valid || f == o.Format
	}
	if !valid {
		return usageErr("--format %q: want %s", o.Format, strings.Join(grade.Formats, ", "))
	}
	if o.Concurrency < 1 {
		return usageErr("--concurrency must be at least 1")
	}
	if o.Timeout <= 0 {
		return usageErr("--timeout must be positive")
	}
	outMode, err := strconv.ParseUint(o.OutMode, 8, 32)
	if err != nil || outMode > 0o777 {
		return usageErr("--out-mode %q: want octal permissions such as 0600 or 0644", o.OutMode)
	}
	if o.Resume && o.Out == "" {
		return usageErr("--resume needs --out (the partial file sits beside it)")
	}
	rf, err := os.Open(o.Roster)
	if err != nil {
		return usageErr("--roster: %v", err)
	}
	students, err := grade.ParseRoster(rf, o.Roster)
	rf.Close()
	if err != nil {
		return usageErr("%v", err)
	}
	if len(students) == 0 {
		return usageErr("roster %s lists no students", o.Roster)
	}
	rubric := &grade.Rubric{}
	if o.Rubric != "" {
		if rubric, err = grade.LoadRubric(o.Rubric); err != nil {
			return usageErr("%v", err)
		}
	}
	overrides, err := g.nameOverrides()
	if err != nil {
		return err
	}
	names, err := lab.DefaultNames().Apply(overrides)
	if err != nil {
		return usageErr("%v", err)
	}
	base, err := gradeTarget(g)
	if err != nil {
		return err
	}

	var done []grade.Row
	var partial *grade.Partial
	if o.Out != "" {
		if err := os.MkdirAll(filepath.Dir(o.Out), 0o755); err != nil {
			return usageErr("--out: %v", err)
		}
		ppath := grade.PartialPath(o.Out)
		if o.Resume {
			if done, err = grade.ReadPartial(ppath); err != nil {
				return usageErr("--resume: %v", err)
			}
		}
		if partial, err = grade.OpenPartial(ppath, o.Resume); err != nil {
			return usageErr("--out: %v", err)
		}
		defer partial.Close()
	}
	inRoster := map[string]bool{}
	for _, s := range students {
		inRoster[s.Name] = true
	}
	skip := map[string]bool{}
	var kept []grade.Row
	for _, r := range done {
		// Students who could not be graded are tried again.
		if inRoster[r.Student] && r.Error == "" {
			skip[r.Student] = true
			kept = append(kept, r)
		}
	}
	if len(skip) > 0 {
		fmt.Fprintf(ios.ErrOut, "slab: resuming: %d of %d students already graded\n", len(skip), len(students))
	}

	remaining := len(students) - len(skip)
	// The progress line redraws itself: only on a terminal's stderr.
	showProgress := ios.ErrOut == os.Stderr && term.IsTerminal(os.Stderr.Fd())
	prog := &gradeProgress{w: ios.ErrOut, on: showProgress, total: remaining, start: time.Now()}
	prog.draw()
	var writeErr error
	var wmu sync.Mutex
	started := time.Now()
	rows := grade.Run(ctx, students, grade.Options{
		Base: base, Names: names, Concurrency: o.Concurrency, Timeout: o.Timeout, Rubric: rubric, Skip: skip, Version: version, FullEvidence: o.FullEvid,
		OnRow: func(r grade.Row) {
			if partial != nil {
				if err := partial.Append(r); err != nil {
					wmu.Lock()
					writeErr = err
					wmu.Unlock()
				}
			}
			prog.add(r)
		},
	})
	prog.finish()
	rows = append(rows, kept...)
	sortRows(rows)
	class := grade.Class{Rows: rows, Rubric: rubric, Target: gradeTargetLine(base), Version: version, GeneratedAt: started, Duration: time.Since(started)}
	if err := grade.Table(ios.Out, class); err != nil {
		return err
	}
	if writeErr != nil {
		fmt.Fprintf(ios.ErrOut, "slab: could not append to %s: %v\n", grade.PartialPath(o.Out), writeErr)
	}
	if ctx.Err() != nil {
		if o.Out != "" {
			fmt.Fprintf(ios.ErrOut, "slab: interrupted: %d of %d students graded are kept in %s; run again with --resume\n",
				len(rows), len(students), grade.PartialPath(o.Out))
		}
		return ctx.Err()
	}
	if o.Out != "" {
		var buf bytes.Buffer
		if err := grade.Write(&buf, o.Format, class); err != nil {
			return err
		}
		if err := atomicfile.Write(o.Out, buf.Bytes(), os.FileMode(outMode)); err != nil {
			return fmt.Errorf("write %s: %w", o.Out, err)
		}
		if writeErr == nil {
			partial.Close()
			_ = os.Remove(grade.PartialPath(o.Out))
		}
		fmt.Fprintf(ios.ErrOut, "slab: wrote %s (%s, %d students)\n", o.Out, o.Format, len(rows))
	}
	if n := class.Counts(); n.Errored > 0 {
		return &exitError{code: exitUnreachable, silent: true}
	}
	return nil
}

func sortRows(rows []grade.Row) {
	sort.Slice(rows, func(i, j int) bool { return rows[i].Student < rows[j].Student })
}

// gradeTarget is the grader's target: --aws, --endpoint-url, or a running
// `slab sandbox`. Grading never starts a sandbox of its own: an empty one
// has no students.
func gradeTarget(g *globalOptions) (awsenv.Target, error) {
	t := awsenv.Target{Region: g.Region, Profile: g.Profile, Adaptive: true}
	switch {
	case g.AWS:
		t.Kind = awsenv.AWS
	case g.EndpointURL != "":
		t.Kind = awsenv.Endpoint
		t.Endpoint = g.EndpointURL
	default:
		dir, err := g.sandboxDataDir()
		if err != nil {
			return t, err
		}
		url, ok := sandbox.Running(dir)
		if !ok {
			return t, usageErr("slab grade needs a target: --aws, --endpoint-url URL, or a `slab sandbox --accounts FILE` running")
		}
		t.Kind, t.Endpoint = awsenv.Endpoint, url
	}
	return t, nil
}

func gradeTargetLine(t awsenv.Target) string {
	region := t.Region
	if region == "" {
		region = "default region"
	}
	if t.Kind == awsenv.AWS {
		return "AWS (" + region + ")"
	}
	return "ENDPOINT " + t.Endpoint + " (" + region + ")"
}

// gradeProgress is the one-line progress on a terminal's stderr.
type gradeProgress struct {
	mu                   sync.Mutex
	w                    io.Writer
	on                   bool
	total, done, errored int
	start                time.Time
}

func (p *gradeProgress) add(r grade.Row) {
	p.mu.Lock()
	p.done++
	if r.Error != "" {
		p.errored++
	}
	p.mu.Unlock()
	p.draw()
}

func (p *gradeProgress) draw() {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "\r\x1b[Kgrading: %d/%d students, %d could not be graded, %s", p.done, p.total, p.errored, time.Since(p.start).Round(time.Second))
}

func (p *gradeProgress) finish() {
	if p.on {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}
