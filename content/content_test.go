package content

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/slab-lab/slab/internal/extern"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"text/template"
)

// lessonData mirrors the fields the renderer passes to every lesson.
type lessonData struct {
	Target, Region, Account, Endpoint, SandboxExport string

	Role, Table, Bucket, S3Function, EventFunction, QueueFunction, Topic, Queue, DLQ, Rule string

	RoleArn, BucketArn, TopicArn, QueueArn, QueueURL, DLQArn, DLQURL, RuleArn,
	S3FunctionArn, EventFunctionArn, QueueFunctionArn string

	Arch, StateID string
}

type sample struct {
	name string
	data lessonData
	aws  string // what {{aws}} renders to
}

func newSample(target, region, account string) sample {
	const stateID = "k3x9q2"
	d := lessonData{
		Target: target, Region: region, Account: account, Arch: "arm64", StateID: stateID,
		Role: "lambda-integration-role", Table: "lambda-integration-data",
		Bucket:     "lambda-integration-" + account + "-" + stateID,
		S3Function: "s3-to-dynamodb-processor", EventFunction: "event-to-sns-processor", QueueFunction: "sqs-processor",
		Topic: "lambda-integration-notifications", Queue: "lambda-integration-queue", DLQ: "lambda-integration-queue-dlq",
		Rule: "lambda-integration-schedule",
	}
	aws := "aws"
	switch target {
	case "sandbox":
		d.Endpoint = "http://127.0.0.1:4566"
		d.SandboxExport = "export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=" + region
		aws = "aws --endpoint-url http://127.0.0.1:4566"
	case "endpoint":
		d.Endpoint = "http://localhost:4566"
		aws = "aws --endpoint-url http://localhost:4566"
	}
	d.RoleArn = "arn:aws:iam::" + account + ":role/" + d.Role
	d.BucketArn = "arn:aws:s3:::" + d.Bucket
	d.TopicArn = fmt.Sprintf("arn:aws:sns:%s:%s:%s", region, account, d.Topic)
	d.QueueArn = fmt.Sprintf("arn:aws:sqs:%s:%s:%s", region, account, d.Queue)
	d.DLQArn = fmt.Sprintf("arn:aws:sqs:%s:%s:%s", region, account, d.DLQ)
	d.QueueURL = fmt.Sprintf("https://sqs.%s.amazonaws.com/%s/%s", region, account, d.Queue)
	d.DLQURL = fmt.Sprintf("https://sqs.%s.amazonaws.com/%s/%s", region, account, d.DLQ)
	d.RuleArn = fmt.Sprintf("arn:aws:events:%s:%s:rule/%s", region, account, d.Rule)
	fn := func(name string) string {
		return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", region, account, name)
	}
	d.S3FunctionArn, d.EventFunctionArn, d.QueueFunctionArn = fn(d.S3Function), fn(d.EventFunction), fn(d.QueueFunction)
	return sample{name: fmt.Sprintf("%s/%s/%s", target, region, account), data: d, aws: aws}
}

var samples = []sample{
	newSample("sandbox", "us-east-1", "000000000000"),
	newSample("sandbox", "eu-west-1", "000000000000"),
	newSample("aws", "us-east-1", "123456789012"),
	newSample("aws", "eu-west-1", "123456789012"),
	newSample("aws", "eu-west-1", "$ACCOUNT_ID"),
	newSample("endpoint", "ap-southeast-2", "000000000000"),
}

// stubNode stands in for lambdas.NodeSource: content must not import lambdas.
// The backticks and ${} make sure the lessons paste it into a quoted heredoc.
const stubNode = "// stub %s\nexport const handler = async (event) => {\n  console.log(`event ${JSON.stringify(event)}`);\n  return { ok: true };\n};\n"

func funcs(aws string) template.FuncMap {
	return template.FuncMap{
		"aws": func() string { return aws },
		// The real one (package steps) names the target as slab's flags do.
		"slab": func() string {
			switch {
			case aws == "aws":
				return "slab --aws"
			case strings.Contains(aws, "localhost"):
				return "slab --endpoint-url http://localhost:4566"
			}
			return "slab"
		},
		"nodeSource": func(name string) (string, error) {
			switch name {
			case "s3-processor", "event-processor", "queue-processor":
				return fmt.Sprintf(stubNode, name), nil
			}
			return "", fmt.Errorf("no Node.js source %q", name)
		},
		"json": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
		// The real one (package steps) reads package runtimes; a table of
		// the same shape is enough to check the lesson's Markdown.
		"runtimeTable": func(ids ...string) string {
			out := "| runtime | deprecated |\n|---|---|\n"
			for _, id := range ids {
				out += "| " + id + " | 2025-09-01 |\n"
			}
			return out
		},
	}
}

func render(t *testing.T, name string, s sample) string {
	t.Helper()
	text, err := Lesson(name)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := template.New(name).Option("missingkey=error").Funcs(funcs(s.aws)).Parse(text)
	if err != nil {
		t.Fatalf("%s: parse: %v", name, err)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, s.data); err != nil {
		t.Fatalf("%s (%s): execute: %v", name, s.name, err)
	}
	return buf.String()
}

var stepOrder = []string{
	"iam-role", "dynamodb-table", "s3-bucket", "s3-processor",
	"sns-sqs", "event-processor", "queue-processor", "end-to-end",
}

var wantLessons = append([]string{"cleanup", "exam-tips", "overview", "troubleshooting"}, stepOrder...)

var requiredIDs = []string{
	"role-propagation", "runtime-deprecated", "aws-sdk-v2-import", "location-constraint",
	"lost-shell-variables", "s3-invoke-permission", "notification-not-firing", "queue-policy",
	"raw-delivery", "poison-message", "visibility-timeout", "esm-permission", "duplicate-rows",
	"item-too-large", "scan-limit", "schedule-running", "invoke-base64", "versioned-bucket",
	"log-groups", "not-ready-yet", "sns-topic-env", "events-invoke-permission",
	"lambda-permission-errors", "sns-sqs-not-working", "schedule-not-firing",
}

// --- markdown helpers -------------------------------------------------------

type block struct {
	lang    string
	text    string
	line    int    // 1-based line of the opening fence
	section string // the enclosing ## heading
}

type heading struct {
	level int
	text  string
}

// parse splits markdown into fenced blocks and headings outside them.
func parse(md string) ([]block, []heading) {
	var blocks []block
	var heads []heading
	var cur *block
	var body []string
	section := ""
	for i, line := range strings.Split(md, "\n") {
		if cur != nil {
			if strings.TrimSpace(line) == "```" {
				cur.text = strings.Join(body, "\n")
				blocks = append(blocks, *cur)
				cur, body = nil, nil
				continue
			}
			body = append(body, line)
			continue
		}
		if lang, ok := strings.CutPrefix(strings.TrimSpace(line), "```"); ok {
			// The info string may carry tags after the language ("bash alt").
			first, _, _ := strings.Cut(strings.TrimSpace(lang), " ")
			cur = &block{lang: first, line: i + 1, section: section}
			continue
		}
		if m := regexp.MustCompile(`^(#{1,6}) (.+)$`).FindStringSubmatch(line); m != nil {
			heads = append(heads, heading{len(m[1]), strings.TrimSpace(m[2])})
			if len(m[1]) == 2 {
				section = m[2]
			}
		}
	}
	return blocks, heads
}

// sectionText returns the text under a ## heading, up to the next ## heading.
func sectionText(md, title string) string {
	lines := strings.Split(md, "\n")
	var out []string
	in, fence := false, false
	for _, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			fence = !fence
		}
		if !fence && strings.HasPrefix(l, "## ") {
			if in {
				break
			}
			in = strings.TrimSpace(l[3:]) == title
			continue
		}
		if in {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// commands joins continuation lines so each logical command is one string.
func commands(script string) []string {
	var out []string
	var cur strings.Builder
	for _, l := range strings.Split(script, "\n") {
		t := strings.TrimRight(l, " ")
		if strings.HasSuffix(t, "\\") {
			cur.WriteString(strings.TrimSuffix(t, "\\"))
			cur.WriteString(" ")
			continue
		}
		if strings.HasSuffix(t, "|") {
			cur.WriteString(t + " ")
			continue
		}
		cur.WriteString(t)
		out = append(out, strings.Join(strings.Fields(cur.String()), " "))
		cur.Reset()
	}
	return out
}

// --- heredocs ---------------------------------------------------------------

type heredoc struct {
	target string // file written by cat > FILE, if any
	tag    string
	quoted bool
	dash   bool
	body   []string
	closed bool
}

var heredocStart = regexp.MustCompile(`<<(-?)\s*(?:'([A-Za-z_]\w*)'|"([A-Za-z_]\w*)"|([A-Za-z_]\w*))`)
var catTarget = regexp.MustCompile(`cat\s*>\s*(\S+)`)

// heredocs finds the heredocs of a script and the lines outside them.
func heredocs(script string) (docs []heredoc, outside []string) {
	lines := strings.Split(script, "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		outside = append(outside, line)
		for _, m := range heredocStart.FindAllStringSubmatch(line, -1) {
			h := heredoc{dash: m[1] == "-"}
			switch {
			case m[2] != "":
				h.tag, h.quoted = m[2], true
			case m[3] != "":
				h.tag, h.quoted = m[3], true
			default:
				h.tag = m[4]
			}
			if c := catTarget.FindStringSubmatch(line); c != nil {
				h.target = c[1]
			}
			for i++; i < len(lines); i++ {
				if lines[i] == h.tag {
					h.closed = true
					break
				}
				h.body = append(h.body, lines[i])
			}
			docs = append(docs, h)
		}
	}
	return docs, outside
}

// --- shell variables ----------------------------------------------------------

var allowedEnv = map[string]bool{
	"HOME": true, "PATH": true, "PWD": true, "AWS_REGION": true, "AWS_DEFAULT_REGION": true,
	"AWS_PROFILE": true, "AWS_PAGER": true,
}

var (
	assignRe = regexp.MustCompile(`(?:^|[\s;&|(!])(?:export\s+|local\s+|readonly\s+)?([A-Za-z_]\w*)=`)
	forRe    = regexp.MustCompile(`\bfor\s+([A-Za-z_]\w*)\s+in\b`)
	readRe   = regexp.MustCompile(`\bread\s+(?:-\w+\s+)*([A-Za-z_]\w*)`)
)

const (
	stNormal = iota
	stSingle
	stDouble
	stHeredoc // like double quotes, but " is literal
)

// varUses lists the $NAME / ${NAME} expansions in text as bash would see them
// (not inside single quotes, comments excluded), following $( ) nesting.
func varUses(text string, initial int) []string {
	type frame struct{ state, parens int }
	stack := []frame{{state: initial}}
	var uses []string
	rs := []rune(text)
	for i := 0; i < len(rs); i++ {
		top := &stack[len(stack)-1]
		c := rs[i]
		switch top.state {
		case stSingle:
			if c == '\'' {
				top.state = stNormal
			}
			continue
		case stNormal:
			switch c {
			case '\\':
				i++
				continue
			case '\'':
				top.state = stSingle
				continue
			case '"':
				stack = append(stack, frame{state: stDouble})
				continue
			case '#':
				if i == 0 || rs[i-1] == ' ' || rs[i-1] == '\t' || rs[i-1] == '\n' || rs[i-1] == ';' {
					for i < len(rs) && rs[i] != '\n' {
						i++
					}
				}
				continue
			case '(':
				top.parens++
				continue
			case ')':
				if top.parens > 0 {
					top.parens--
				} else if len(stack) > 1 {
					stack = stack[:len(stack)-1]
				}
				continue
			}
		case stDouble, stHeredoc:
			if c == '\\' {
				i++
				continue
			}
			if c == '"' && top.state == stDouble {
				if len(stack) > 1 {
					stack = stack[:len(stack)-1]
				}
				continue
			}
		}
		if c != '$' || i+1 >= len(rs) {
			continue
		}
		n := rs[i+1]
		switch {
		case n == '(':
			stack = append(stack, frame{state: stNormal})
			i++
		case n == '{':
			j := i + 2
			for j < len(rs) && (rs[j] == '#' || rs[j] == '!') {
				j++
			}
			k := j
			for k < len(rs) && (rs[k] == '_' || rs[k] >= 'A' && rs[k] <= 'Z' || rs[k] >= 'a' && rs[k] <= 'z' || k > j && rs[k] >= '0' && rs[k] <= '9') {
				k++
			}
			if k > j {
				uses = append(uses, string(rs[j:k]))
			}
		case n == '_' || n >= 'A' && n <= 'Z' || n >= 'a' && n <= 'z':
			k := i + 1
			for k < len(rs) && (rs[k] == '_' || rs[k] >= 'A' && rs[k] <= 'Z' || rs[k] >= 'a' && rs[k] <= 'z' || rs[k] >= '0' && rs[k] <= '9') {
				k++
			}
			uses = append(uses, string(rs[i+1:k]))
		}
	}
	return uses
}

// undefinedVars reports variables a block expands without setting them itself:
// each block must work in a fresh shell.
func undefinedVars(script string) []string {
	docs, outside := heredocs(script)
	code := strings.Join(outside, "\n")
	defined := map[string]bool{}
	for _, re := range []*regexp.Regexp{assignRe, forRe, readRe} {
		for _, m := range re.FindAllStringSubmatch(code, -1) {
			defined[m[1]] = true
		}
	}
	uses := varUses(code, stNormal)
	for _, h := range docs {
		if !h.quoted {
			uses = append(uses, varUses(strings.Join(h.body, "\n"), stHeredoc)...)
		}
	}
	var missing []string
	for _, u := range uses {
		if !defined[u] && !allowedEnv[u] && !slices.Contains(missing, u) {
			missing = append(missing, u)
		}
	}
	return missing
}

// --- tests ------------------------------------------------------------------

func TestNamesAndLesson(t *testing.T) {
	want := slices.Clone(wantLessons)
	slices.Sort(want)
	if got := Names(); !slices.Equal(got, want) {
		t.Fatalf("Names() = %v\nwant %v", got, want)
	}
	for _, n := range want {
		if text, err := Lesson(n); err != nil || strings.TrimSpace(text) == "" {
			t.Errorf("Lesson(%q): %v (empty: %v)", n, err, text == "")
		}
	}
	for _, bad := range []string{"", "nope", "../content", "overview.md", "lessons/overview"} {
		if _, err := Lesson(bad); err == nil {
			t.Errorf("Lesson(%q) succeeded", bad)
		}
	}
}

func TestLessonsRender(t *testing.T) {
	for _, name := range Names() {
		for _, s := range samples {
			out := render(t, name, s)
			if strings.Contains(out, "{{") || strings.Contains(out, "<no value>") {
				t.Errorf("%s (%s): unrendered template text", name, s.name)
			}
		}
	}
}

func TestStepSections(t *testing.T) {
	want := []string{"What and why", "Changed since the original guide", "Commands", "What to expect", "On the exam", "If it goes wrong"}
	for i, name := range stepOrder {
		out := render(t, name, samples[0])
		blocks, heads := parse(out)
		if !strings.HasPrefix(out, fmt.Sprintf("# Step %d: ", i+1)) {
			t.Errorf("%s: must start with %q", name, fmt.Sprintf("# Step %d: Title", i+1))
		}
		var h2 []string
		for _, h := range heads {
			if h.level == 1 && !strings.HasPrefix(h.text, fmt.Sprintf("Step %d: ", i+1)) {
				t.Errorf("%s: extra top-level heading %q", name, h.text)
			}
			if h.level == 2 {
				h2 = append(h2, h.text)
			}
		}
		if !slices.Equal(h2, want) {
			t.Errorf("%s: ## sections = %q\nwant %q", name, h2, want)
		}
		changed := sectionText(out, "Changed since the original guide")
		if !regexp.MustCompile(`(?m)^> `).MatchString(changed) {
			t.Errorf("%s: the changed-since note must be a blockquote", name)
		}
		count := map[string]map[string]int{}
		for _, b := range blocks {
			if count[b.section] == nil {
				count[b.section] = map[string]int{}
			}
			count[b.section][b.lang]++
			if b.lang == "" {
				t.Errorf("%s:%d: code block without a language", name, b.line)
			}
		}
		if count["Commands"]["bash"] == 0 {
			t.Errorf("%s: Commands has no ```bash block", name)
		}
		for sec, langs := range count {
			if sec != "Commands" && langs["bash"] > 0 {
				t.Errorf("%s: ```bash block in %q (only Commands holds runnable commands)", name, sec)
			}
		}
		if count["What to expect"]["json"]+count["What to expect"]["text"] == 0 {
			t.Errorf("%s: What to expect has no ```json or ```text sample", name)
		}
		if !strings.Contains(sectionText(out, "On the exam"), "Domain") {
			t.Errorf("%s: On the exam names no DOP-C02 domain", name)
		}
		if !strings.Contains(sectionText(out, "If it goes wrong"), "troubleshooting.md#") {
			t.Errorf("%s: If it goes wrong links no troubleshooting section", name)
		}
	}
}

func TestTroubleshootingIDs(t *testing.T) {
	ids := TroubleshootingIDs()
	for _, id := range requiredIDs {
		if !slices.Contains(ids, id) {
			t.Errorf("troubleshooting: missing id %q", id)
		}
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Errorf("troubleshooting: duplicate id %q", id)
		}
		seen[id] = true
	}
	text, _ := Lesson(TroubleshootingLesson)
	lines := strings.Split(text, "\n")
	noCommands := map[string]bool{"free-tier": true, "exam-domains": true}
	for i, l := range lines {
		m := idMarker.FindStringSubmatch(strings.TrimSpace(l))
		if m == nil {
			continue
		}
		if i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "### ") {
			t.Errorf("troubleshooting: id %q is not directly followed by a ### heading", m[1])
			continue
		}
		end := len(lines)
		for j := i + 1; j < len(lines); j++ {
			if idMarker.MatchString(strings.TrimSpace(lines[j])) || strings.HasPrefix(lines[j], "## ") {
				end = j
				break
			}
		}
		body := strings.Join(lines[i:end], "\n")
		for _, part := range []string{"**Symptom.**", "**Cause.**", "**Fix.**"} {
			if !strings.Contains(body, part) {
				t.Errorf("troubleshooting %s: no %s", m[1], part)
			}
		}
		if !noCommands[m[1]] && !strings.Contains(body, "```bash") {
			t.Errorf("troubleshooting %s: the fix has no ```bash block", m[1])
		}
	}
}

var linkRe = regexp.MustCompile(`\]\(([a-z0-9-]*)(?:\.md)?(?:#([a-z0-9-]+))?\)`)

func TestLinks(t *testing.T) {
	ids := TroubleshootingIDs()
	for _, name := range Names() {
		out := render(t, name, samples[2])
		for _, m := range linkRe.FindAllStringSubmatch(out, -1) {
			file, anchor := m[1], m[2]
			if file == "" {
				file = name
			}
			if _, err := Lesson(file); err != nil {
				t.Errorf("%s: link to missing lesson %q", name, m[0])
				continue
			}
			if anchor != "" && file == TroubleshootingLesson && !slices.Contains(ids, anchor) {
				t.Errorf("%s: link to missing troubleshooting id %q", name, anchor)
			}
		}
	}
}

// bareAWS finds an aws command that does not go through {{aws}}: at the start of a
// line, after a pipe, ;, &&, $( or a keyword, optionally behind VAR=value prefixes.
var bareAWS = regexp.MustCompile(`(?:^|[;&|(]|\$\(|\b(?:if|then|do|else|while|until)\b|!)\s*(?:[A-Z_][A-Z0-9_]*=\S*\s+)*aws(?:\s|$)`)

func TestCommandsUseAWSFunc(t *testing.T) {
	for _, name := range Names() {
		text, _ := Lesson(name)
		blocks, _ := parse(text)
		for _, b := range blocks {
			if b.lang != "bash" {
				continue
			}
			_, outside := heredocs(b.text)
			for _, l := range outside {
				if strings.HasPrefix(strings.TrimSpace(l), "#") {
					continue
				}
				if bareAWS.MatchString(l) {
					t.Errorf("%s:%d: bare aws command, use {{aws}}: %s", name, b.line, strings.TrimSpace(l))
				}
			}
		}
	}
}

func TestBashBlocks(t *testing.T) {
	bash := extern.Tool(t, "bash", "bash")
	dir := t.TempDir()
	n := 0
	checked := map[string]bool{} // identical blocks across samples are checked once
	for _, name := range Names() {
		for _, s := range samples {
			blocks, _ := parse(render(t, name, s))
			for _, b := range blocks {
				if b.lang != "bash" {
					continue
				}
				if checked[b.text] {
					continue
				}
				checked[b.text] = true
				where := fmt.Sprintf("%s:%d (%s)", name, b.line, s.name)
				n++
				file := filepath.Join(dir, fmt.Sprintf("block%d.sh", n))
				if err := os.WriteFile(file, []byte(b.text+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				out, err := exec.Command(bash, "-n", file).CombinedOutput()
				if err != nil || len(out) > 0 {
					t.Errorf("%s: bash -n: %v\n%s\n--- block ---\n%s", where, err, out, b.text)
				}
				if missing := undefinedVars(b.text); len(missing) > 0 {
					t.Errorf("%s: uses %v without setting them in the block (a fresh shell per block)\n%s", where, missing, b.text)
				}
				docs, _ := heredocs(b.text)
				for _, h := range docs {
					checkHeredoc(t, where, h)
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no bash blocks found")
	}
}

func checkHeredoc(t *testing.T, where string, h heredoc) {
	t.Helper()
	if h.dash {
		t.Errorf("%s: <<- heredoc; write heredocs without indentation", where)
	}
	if !h.closed {
		t.Errorf("%s: heredoc %s has no terminator at the start of a line", where, h.tag)
		return
	}
	if len(h.body) > 0 && strings.TrimLeft(h.body[0], " \t") != h.body[0] {
		t.Errorf("%s: heredoc body is indented", where)
	}
	body := strings.Join(h.body, "\n")
	expands := strings.ContainsAny(body, "$`")
	if !h.quoted && !expands {
		t.Errorf("%s: unquoted heredoc <<%s with nothing to expand: quote it <<'%s'", where, h.tag, h.tag)
	}
	if strings.HasSuffix(h.target, ".json") {
		if h.quoted && strings.Contains(body, "$") {
			t.Errorf("%s: quoted heredoc for %s contains $ that will not expand", where, h.target)
		}
		var v any
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Errorf("%s: %s is not valid JSON: %v\n%s", where, h.target, err, body)
		}
	}
}

func TestOutputSamplesAreJSON(t *testing.T) {
	for _, name := range Names() {
		for _, s := range samples {
			blocks, _ := parse(render(t, name, s))
			for _, b := range blocks {
				if b.lang != "json" {
					continue
				}
				var v any
				if err := json.Unmarshal([]byte(b.text), &v); err != nil {
					t.Errorf("%s:%d (%s): ```json block does not parse: %v\n%s", name, b.line, s.name, err, b.text)
				}
			}
		}
	}
}

// allCommands renders a lesson and returns its logical bash commands.
func allCommands(t *testing.T, name string, s sample) []string {
	blocks, _ := parse(render(t, name, s))
	var out []string
	for _, b := range blocks {
		if b.lang == "bash" {
			out = append(out, commands(b.text)...)
		}
	}
	return out
}

func find(cmds []string, substr string) []string {
	var out []string
	for _, c := range cmds {
		if strings.Contains(c, substr) {
			out = append(out, c)
		}
	}
	return out
}

func TestCorrectedLab(t *testing.T) {
	for _, s := range samples {
		d := s.data
		a := s.aws
		byLesson := map[string][]string{}
		for _, name := range Names() {
			byLesson[name] = allCommands(t, name, s)
		}
		all := []string{}
		for _, name := range Names() {
			all = append(all, byLesson[name]...)
		}

		for _, c := range find(all, "lambda invoke") {
			if !strings.Contains(c, "--cli-binary-format raw-in-base64-out") || !strings.HasPrefix(c, `AWS_PAGER="" `) {
				t.Errorf("%s: invoke without --cli-binary-format raw-in-base64-out or AWS_PAGER: %s", s.name, c)
			}
		}
		for _, c := range find(all, "logs tail") {
			if !strings.HasPrefix(c, `AWS_PAGER="" `) {
				t.Errorf("%s: logs tail without AWS_PAGER=\"\": %s", s.name, c)
			}
		}
		for _, c := range find(all, "s3api create-bucket") {
			if d.Region == "us-east-1" && strings.Contains(c, "--create-bucket-configuration") {
				t.Errorf("%s: create-bucket with a LocationConstraint in us-east-1: %s", s.name, c)
			}
			if d.Region != "us-east-1" && !strings.Contains(c, "--create-bucket-configuration LocationConstraint="+d.Region) {
				t.Errorf("%s: create-bucket without LocationConstraint=%s: %s", s.name, d.Region, c)
			}
		}
		if len(find(byLesson["s3-bucket"], "s3api create-bucket")) != 1 {
			t.Errorf("%s: s3-bucket should create the bucket once", s.name)
		}

		// Every create of a taggable resource carries the lab tag.
		for _, op := range []string{"iam create-role", "dynamodb create-table", "lambda create-function", "sns create-topic", "sqs create-queue", "events put-rule"} {
			for _, c := range find(all, op) {
				if !strings.Contains(c, "slab:lab") || !strings.Contains(c, d.StateID) {
					t.Errorf("%s: %s without the slab:lab and slab:state tags: %s", s.name, op, c)
				}
			}
		}
		if len(find(byLesson["s3-bucket"], "slab:lab")) == 0 {
			t.Errorf("%s: the bucket is not tagged", s.name)
		}

		mustHave := map[string][]string{
			"overview":       {a + " sts get-caller-identity", "ACCOUNT_ID=$(" + a + " sts get-caller-identity --query Account --output text)"},
			"iam-role":       {a + " iam wait role-exists --role-name " + d.Role, "ACCOUNT_ID=$(" + a + " sts get-caller-identity --query Account --output text)"},
			"dynamodb-table": {a + " dynamodb wait table-exists --table-name " + d.Table, "--billing-mode PAY_PER_REQUEST"},
			"s3-bucket":      {"--versioning-configuration Status=Enabled"},
			"s3-processor": {
				"--source-arn " + d.BucketArn, "--source-account " + d.Account, "--principal s3.amazonaws.com",
				"s3api put-bucket-notification-configuration --bucket " + d.Bucket,
			},
			"sns-sqs": {
				`--attributes "$(jq -c '{Policy: tojson}' sqs-policy.json)"`, "--queue-url " + d.QueueURL,
				`VisibilityTimeout: "180"`, "--queue-name " + d.DLQ, "RawMessageDelivery=false",
			},
			"event-processor": {
				"SNS_TOPIC_ARN=" + d.TopicArn, `--schedule-expression "rate(5 minutes)"`, "--principal events.amazonaws.com",
				"--source-arn " + d.RuleArn, "Arn=" + d.EventFunctionArn,
			},
			"queue-processor": {
				"--batch-size 10 --function-response-types ReportBatchItemFailures", "--event-source-arn " + d.QueueArn,
			},
			"end-to-end": {"s3://" + d.Bucket + "/", "events disable-rule --name " + d.Rule, "summary-"},
			"cleanup":    {a + " dynamodb wait table-not-exists --table-name " + d.Table, "slab cleanup"},
		}
		for name, needles := range mustHave {
			joined := strings.Join(byLesson[name], "\n")
			for _, n := range needles {
				if !strings.Contains(joined, n) {
					t.Errorf("%s: %s commands lack %q", s.name, name, n)
				}
			}
		}

		// The queue's redrive policy: DLQ with maxReceiveCount 5.
		sqs := render(t, "sns-sqs", s)
		if !strings.Contains(sqs, `"deadLetterTargetArn": "`+d.DLQArn+`"`) || !strings.Contains(sqs, `"maxReceiveCount": 5`) {
			t.Errorf("%s: sns-sqs lacks the redrive policy to %s with maxReceiveCount 5", s.name, d.DLQ)
		}

		// Functions: both options, Go handler names, Node.js 22 with the embedded source.
		fnSteps := map[string]string{"s3-processor": d.S3Function, "event-processor": d.EventFunction, "queue-processor": d.QueueFunction}
		for step, fn := range fnSteps {
			out := render(t, step, s)
			for _, n := range []string{
				"### Option A: Go on provided.al2023 (works in the sandbox and on AWS)",
				"### Option B: Node.js 22 with the AWS SDK for JavaScript v3",
				fmt.Sprintf("// stub %s\n", step),
			} {
				if !strings.Contains(out, n) {
					t.Errorf("%s: %s lacks %q", s.name, step, n)
				}
			}
			joined := strings.Join(byLesson[step], "\n")
			for _, n := range []string{
				fmt.Sprintf("%s package %s --arch arm64 -o %s.zip", funcs(s.aws)["slab"].(func() string)(), step, step),
				fmt.Sprintf("lambda create-function --function-name %s --runtime provided.al2023 --handler %s --architectures arm64 --role %s --zip-file fileb://%s.zip --timeout 30 --memory-size 256", fn, step, d.RoleArn, step),
				fmt.Sprintf("lambda create-function --function-name %s --runtime nodejs22.x --handler index.handler", fn),
				a + " lambda wait function-active-v2 --function-name " + fn,
			} {
				if !strings.Contains(joined, n) {
					t.Errorf("%s: %s commands lack %q", s.name, step, n)
				}
			}
		}

		// The sandbox export line appears only where there is one.
		ov := render(t, "overview", s)
		if d.SandboxExport != "" && !strings.Contains(ov, "```bash\n"+d.SandboxExport+"\n```") {
			t.Errorf("%s: overview does not show the sandbox export line in a bash block", s.name)
		}
		if d.SandboxExport == "" && strings.Contains(ov, "AWS_ACCESS_KEY_ID") {
			t.Errorf("%s: overview shows sandbox credentials off the sandbox", s.name)
		}
		for _, n := range []string{"2026-11", "AWS CLI v2", "jq", "$0.20 per 1M", "--aws", "--endpoint-url"} {
			if !strings.Contains(ov, n) {
				t.Errorf("%s: overview lacks %q", s.name, n)
			}
		}

		// Cleanup runs in dependency order.
		order := []string{
			"events remove-targets", "events delete-rule", "put-bucket-notification-configuration",
			"delete-event-source-mapping", "lambda delete-function", "sns unsubscribe", "sns delete-topic",
			"sqs delete-queue", "s3api list-object-versions", "s3api delete-objects", "s3api delete-bucket",
			"dynamodb delete-table", "dynamodb wait table-not-exists", "logs delete-log-group",
			"iam detach-role-policy", "iam delete-role-policy", "iam remove-role-from-instance-profile", "iam delete-role ",
		}
		cl := strings.Join(byLesson["cleanup"], "\n") + "\n"
		last := -1
		for _, op := range order {
			i := strings.Index(cl, op)
			if i < 0 {
				t.Errorf("%s: cleanup lacks %q", s.name, op)
				continue
			}
			if i < last {
				t.Errorf("%s: cleanup runs %q too early", s.name, op)
			}
			last = i
		}
	}
}

func TestExamTipsDomains(t *testing.T) {
	out := render(t, "exam-tips", samples[0])
	for _, d := range []string{"SDLC Automation", "Configuration Management and IaC", "Resilient Cloud Solutions",
		"Monitoring and Logging", "Incident and Event Response", "Security and Compliance"} {
		if !strings.Contains(out, "## ") || !regexp.MustCompile(`(?m)^## \d\. `+regexp.QuoteMeta(d)+`$`).MatchString(out) {
			t.Errorf("exam-tips: no section for the domain %q", d)
		}
	}
}

func TestVarUses(t *testing.T) {
	cases := []struct {
		script string
		want   []string
	}{
		{`echo "$A" '$B' ${C} "$(jq -cn --arg id "$D" '{id: $id}')"`, []string{"A", "C", "D"}},
		{"X=1\necho $X $Y # $Z", []string{"Y"}},
		{"for F in a b; do echo \"$F\"; done", nil},
		{"cat > a.json <<EOF\n{\"t\": \"$(date)\", \"a\": \"$ACC\"}\nEOF\n", []string{"ACC"}},
		{"cat > a.js <<'EOF'\nconsole.log(`${x}`)\nEOF\n", nil},
		{"cmd | while IFS= read -r ID; do echo \"$ID\"; done", nil},
		{"sleep $((attempt * 5))", nil},
	}
	for _, c := range cases {
		got := undefinedVars(c.script)
		if !slices.Equal(got, c.want) {
			t.Errorf("undefinedVars(%q) = %v, want %v", c.script, got, c.want)
		}
	}
	if !bareAWS.MatchString(`X=$(aws sts get-caller-identity)`) || !bareAWS.MatchString(`  aws s3 ls`) ||
		!bareAWS.MatchString(`AWS_PAGER="" aws lambda invoke`) || bareAWS.MatchString(`"aws:SourceArn": "x"`) {
		t.Error("bareAWS does not match as intended")
	}
}
