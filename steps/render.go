package steps

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"text/template"
	"time"

	"github.com/slab-lab/slab/awscli"
	"github.com/slab-lab/slab/content"
	"github.com/slab-lab/slab/lab"
	"github.com/slab-lab/slab/lambdas"
	"github.com/slab-lab/slab/runtimes"
)

// AccountPlaceholder stands for the account id when it is unknown (no
// credentials yet); the lessons show how to set it.
const AccountPlaceholder = "$ACCOUNT_ID"

// Context is everything a lesson is rendered for.
type Context struct {
	Target   string // "sandbox", "aws", "endpoint"
	Region   string
	Account  string // AccountPlaceholder when unknown
	Endpoint string // "" on AWS
	StateID  string
	Names    lab.Names
	// Slab is how the learner runs slab in a shell, as slab was started:
	// "slab" when it is on PATH, `go run ./cmd/slab` from a checkout, or the
	// executable's absolute path. "" means "slab".
	Slab string
}

// Data is the template data of a lesson; the field names are the lessons'
// contract (see content/lessons).
type Data struct {
	Target, Region, Account, Endpoint, SandboxExport, StateID, Arch                  string
	Role, Table, Bucket, S3Function, EventFunction, QueueFunction, Topic, Queue, DLQ string
	Rule                                                                             string
	RoleArn, BucketArn, TopicArn, QueueArn, QueueURL, DLQArn, DLQURL, RuleArn        string
	S3FunctionArn, EventFunctionArn, QueueFunctionArn                                string
}

// DefaultArch is the architecture the lab deploys (Graviton: cheaper per GB-s).
const DefaultArch = "arm64"

// Data derives the template data: names, ARNs and URLs for the target.
func (c Context) Data() Data {
	n := c.Names
	acct := c.Account
	if acct == "" {
		acct = AccountPlaceholder
	}
	region := c.Region
	partition := "aws"
	if strings.HasPrefix(region, "cn-") {
		partition = "aws-cn"
	} else if strings.HasPrefix(region, "us-gov-") {
		partition = "aws-us-gov"
	}
	arn := func(svc, res string) string {
		return fmt.Sprintf("arn:%s:%s:%s:%s:%s", partition, svc, region, acct, res)
	}
	bucket := n.Bucket
	if bucket == "" {
		bucket = n.BucketPrefix + acct + "-$(date +%s)"
	}
	queueURL := func(name string) string {
		if c.Endpoint != "" {
			return strings.TrimRight(c.Endpoint, "/") + "/" + acct + "/" + name
		}
		return fmt.Sprintf("https://sqs.%s.amazonaws.com/%s/%s", region, acct, name)
	}
	d := Data{
		Target: c.Target, Region: region, Account: acct, Endpoint: c.Endpoint, StateID: c.StateID, Arch: DefaultArch,
		Role: n.Role, Table: n.Table, Bucket: bucket, S3Function: n.S3Function, EventFunction: n.EventFunction,
		QueueFunction: n.QueueFunction, Topic: n.Topic, Queue: n.Queue, DLQ: n.DLQ, Rule: n.Rule,
		RoleArn:          fmt.Sprintf("arn:%s:iam::%s:role/%s", partition, acct, n.Role),
		BucketArn:        fmt.Sprintf("arn:%s:s3:::%s", partition, bucket),
		TopicArn:         arn("sns", n.Topic),
		QueueArn:         arn("sqs", n.Queue),
		QueueURL:         queueURL(n.Queue),
		DLQArn:           arn("sqs", n.DLQ),
		DLQURL:           queueURL(n.DLQ),
		RuleArn:          arn("events", "rule/"+n.Rule),
		S3FunctionArn:    arn("lambda", "function:"+n.S3Function),
		EventFunctionArn: arn("lambda", "function:"+n.EventFunction),
		QueueFunctionArn: arn("lambda", "function:"+n.QueueFunction),
	}
	if c.Target == "sandbox" {
		d.SandboxExport = SandboxExport(c.Endpoint, region)
	}
	return d
}

// SandboxExport is the line a learner pastes into another terminal to point
// the AWS CLI and SDKs at the sandbox (awscli.Export).
func SandboxExport(endpoint, region string) string { return awscli.Export(endpoint, region) }

// CLI is the command renderer for the context's target: the lessons'
// {{aws}} and every hint use it, so they carry the same flags.
func (c Context) CLI() awscli.CLI { return awscli.CLI{Endpoint: c.Endpoint} }

func (c Context) funcs() template.FuncMap {
	return template.FuncMap{
		// slab is the invocation of slab for this target: the sandbox is
		// its default; AWS and other endpoints are named.
		"slab": func() string {
			inv := c.Slab
			if inv == "" {
				inv = "slab"
			}
			switch c.Target {
			case "aws":
				return inv + " --aws"
			case "endpoint":
				return inv + " --endpoint-url " + c.Endpoint
			}
			return inv
		},
		"aws": func() string { return c.CLI().Prefix() },
		"nodeSource": func(name string) (string, error) {
			src, ok := lambdas.NodeSource(name)
			if !ok {
				return "", fmt.Errorf("no Node.js source for %q", name)
			}
			return strings.TrimRight(src, "\n"), nil
		},
		"json": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
		"runtimeTable": func(ids ...string) (string, error) { return RuntimeTable(time.Now(), ids...) },
	}
}

// RuntimeTable is a Markdown table of the runtimes' dates from slab's one
// runtime table, with where each stands at now, so that the lessons cannot
// disagree with what the checks and the sandbox enforce.
func RuntimeTable(now time.Time, ids ...string) (string, error) {
	var b strings.Builder
	b.WriteString("| runtime | deprecated | new functions blocked | updates blocked | on " + now.UTC().Format("2006-01-02") + " |\n|---|---|---|---|---|\n")
	for _, id := range ids {
		st, ok := runtimes.StatusAt(id, now)
		if !ok {
			return "", fmt.Errorf("runtime %q is not in the runtime table", id)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", id, tableDay(st.Deprecated), tableDay(st.BlockCreate), tableDay(st.BlockUpdate), st.Phase)
	}
	b.WriteString("\nDates as of slab's runtime table of " + runtimes.AsOf.Format("2006-01-02") + "; AWS moves them, so `slab check` reads the same table.")
	return b.String(), nil
}

func tableDay(d time.Time) string {
	if d.IsZero() {
		return "not announced"
	}
	return d.Format("2006-01-02")
}

// RenderLesson renders any lesson (a step id, or overview, troubleshooting,
// cleanup, exam-tips) for the context.
func RenderLesson(name string, c Context) (string, error) {
	src, err := content.Lesson(name)
	if err != nil {
		return "", err
	}
	tmpl, err := template.New(name).Option("missingkey=error").Funcs(c.funcs()).Parse(src)
	if err != nil {
		return "", fmt.Errorf("lesson %s: %w", name, err)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, c.Data()); err != nil {
		return "", fmt.Errorf("lesson %s: %w", name, err)
	}
	return buf.String(), nil
}

// Render renders the step's lesson.
func (s *Step) Render(c Context) (string, error) { return RenderLesson(s.ID, c) }

// Command is one copyable block of shell commands from a lesson.
type Command struct {
	// Title is the paragraph or heading that introduces the block.
	Title string
	Text  string
	// Alt marks an alternative path (```bash alt): the Node.js option, the
	// one-command cleanup, an optional experiment. The main sequence of a
	// lesson is its blocks without Alt, run in order.
	Alt bool
}

var fence = regexp.MustCompile("(?ms)^```bash([ \t][^\n]*)?\n(.*?)^```[ \t]*$")

// Commands extracts the ```bash blocks of rendered markdown, in order.
func Commands(markdown string) []Command {
	var out []Command
	for _, m := range fence.FindAllStringSubmatchIndex(markdown, -1) {
		var tags []string
		if m[2] >= 0 {
			tags = strings.Fields(markdown[m[2]:m[3]])
		}
		alt := false
		for _, t := range tags {
			alt = alt || t == "alt"
		}
		body := markdown[m[4]:m[5]]
		out = append(out, Command{Title: titleBefore(markdown[:m[0]]), Text: strings.TrimRight(body, "\n"), Alt: alt})
	}
	return out
}

// titleBefore returns the paragraph (or heading) just above a block, joined
// into one line.
func titleBefore(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	end := len(lines) - 1
	for end >= 0 && strings.TrimSpace(lines[end]) == "" {
		end--
	}
	start := end
	for start > 0 {
		prev := strings.TrimSpace(lines[start-1])
		if prev == "" || strings.HasPrefix(prev, "```") || strings.HasPrefix(prev, "#") || strings.HasPrefix(lines[start], "#") {
			break
		}
		start--
	}
	var parts []string
	for _, l := range lines[max(start, 0) : end+1] {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "```") || strings.HasPrefix(l, "<!--") {
			continue
		}
		parts = append(parts, strings.TrimLeft(l, "#*-> "))
	}
	return strings.TrimRight(strings.Join(parts, " "), ":")
}
