package checks

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func endToEndChecks() []Check {
	scan := []string{"dynamodb:DescribeTable", "dynamodb:Scan"}
	return []Check{
		{ID: "end-to-end.s3-rows", Title: "An uploaded .json file reached the table", Weight: 2,
			Actions: append(scan, "s3:ListAllMyBuckets", "s3:GetBucketLocation"), Run: wrap(checkS3Rows)},
		{ID: "end-to-end.summary-rows", Title: "A summary reached the table through SNS and SQS", Weight: 2, Actions: scan, Run: wrap(checkSummaryRows)},
		{ID: "end-to-end.log-groups", Title: "The three functions have logged", Weight: 1, Actions: []string{"logs:DescribeLogGroups"}, Run: wrap(checkLogGroups)},
		{ID: "end-to-end.function-errors", Title: "No recent errors in the functions' logs", Weight: 2,
			Actions: []string{"logs:DescribeLogGroups", "logs:FilterLogEvents", "lambda:GetFunctionConfiguration"}, Run: wrap(checkFunctionErrors)},
		{ID: "end-to-end.probe-s3", Title: "Probe: an upload now reaches the table", Weight: 3, Probe: true,
			Actions: []string{"s3:ListAllMyBuckets", "s3:GetBucketLocation", "dynamodb:DescribeTable", "s3:PutObject", "s3:ListBucketVersions", "s3:DeleteObject", "s3:DeleteObjectVersion", "dynamodb:Scan", "dynamodb:DeleteItem"},
			Run:     wrap(probeS3)},
		{ID: "end-to-end.probe-chain", Title: "Probe: an invoke now yields a summary row", Weight: 3, Probe: true,
			Actions: []string{"lambda:GetFunctionConfiguration", "dynamodb:DescribeTable", "lambda:InvokeFunction", "dynamodb:GetItem", "dynamodb:Scan", "dynamodb:DeleteItem"},
			Run:     wrap(probeChain)},
	}
}

const maxScanPages = 200

// scanFor scans the table with a filter until keep returns true for an
// item or the table ends; it returns the number of items read.
func (r *run) scanFor(ctx context.Context, in *dynamodb.ScanInput, keep func(map[string]dtypes.AttributeValue) bool) (scanned int, err error) {
	in.TableName = aws.String(r.names.Table)
	for page := 0; page < maxScanPages; page++ {
		out, err := r.c.DynamoDB.Scan(ctx, in)
		if err != nil {
			return scanned, err
		}
		scanned += int(out.ScannedCount)
		for _, it := range out.Items {
			if keep(it) {
				return scanned, nil
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return scanned, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	return scanned, nil
}

func str(it map[string]dtypes.AttributeValue, k string) string {
	if v, ok := it[k].(*dtypes.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func checkS3Rows(ctx context.Context, r *run) Result {
	if _, stop := r.needTable(ctx); stop != nil {
		return *stop
	}
	b, stop := r.needBucket(ctx)
	if stop != nil {
		return *stop
	}
	var corrected, guide string
	scanned, err := r.scanFor(ctx, &dynamodb.ScanInput{
		FilterExpression:         aws.String("(begins_with(#i, :p) OR #b = :b) AND contains(#f, :j)"),
		ProjectionExpression:     aws.String("#i, #f"),
		ExpressionAttributeNames: map[string]string{"#i": "id", "#f": "fileName", "#b": "bucket"},
		ExpressionAttributeValues: map[string]dtypes.AttributeValue{
			":p": &dtypes.AttributeValueMemberS{Value: b.Name + "/"},
			":b": &dtypes.AttributeValueMemberS{Value: b.Name},
			":j": &dtypes.AttributeValueMemberS{Value: ".json"},
		},
	}, func(it map[string]dtypes.AttributeValue) bool {
		id, file := str(it, "id"), str(it, "fileName")
		if !strings.HasSuffix(file, ".json") {
			return false
		}
		if strings.HasPrefix(id, b.Name+"/") && strings.Contains(id, "#") {
			corrected = id
			return true
		}
		if guide == "" {
			guide = id
		}
		return false
	})
	if err != nil {
		return errorResult(err, "the rows of "+r.names.Table)
	}
	ev := fmt.Sprintf("dynamodb:Scan %s: %d items read", r.names.Table, scanned)
	switch {
	case corrected != "":
		return pass("a .json upload from "+b.Name+" reached the table (row "+corrected+")", ev)
	case guide != "":
		return warn("a .json upload reached the table, from the guide's code (row "+guide+"): ids from Date.now() duplicate rows on redelivery",
			hint("deploy the corrected s3 processor of `slab show s3-processor`", see(tsDuplicateRows)), ev)
	}
	return fail("no row for a .json upload from "+b.Name+" in "+r.names.Table,
		hint("upload a file as in `slab show end-to-end` and check again; if it still fails, the notification or the function is broken", see(tsNotificationFires), see(tsSDKv2)), ev)
}

func checkSummaryRows(ctx context.Context, r *run) Result {
	if _, stop := r.needTable(ctx); stop != nil {
		return *stop
	}
	found, scanned, err := r.summaryRow(ctx)
	if err != nil {
		return errorResult(err, "the rows of "+r.names.Table)
	}
	ev := fmt.Sprintf("dynamodb:Scan %s for summary-*: %d items read", r.names.Table, scanned)
	if found != "" {
		return pass("a summary reached the table through SNS and SQS (row "+found+")", ev)
	}
	return fail("no summary-* row in "+r.names.Table+": no summary made it from the event processor through SNS and SQS",
		hint("invoke the event processor as in `slab show end-to-end`, wait 20 s, check again", see(tsSNSSQS)), ev)
}

// summaryRow finds a summary-* row: the evidence that the chain ran end to
// end. No table means no row.
func (r *run) summaryRow(ctx context.Context) (found string, scanned int, err error) {
	t, err := r.table(ctx)
	if err != nil || t == nil {
		return "", 0, err
	}
	scanned, err = r.scanFor(ctx, &dynamodb.ScanInput{
		FilterExpression:          aws.String("begins_with(#i, :s)"),
		ProjectionExpression:      aws.String("#i"),
		ExpressionAttributeNames:  map[string]string{"#i": "id"},
		ExpressionAttributeValues: map[string]dtypes.AttributeValue{":s": &dtypes.AttributeValueMemberS{Value: "summary-"}},
	}, func(it map[string]dtypes.AttributeValue) bool {
		found = str(it, "id")
		return found != ""
	})
	return found, scanned, err
}

func (r *run) functions() []string {
	return []string{r.names.S3Function, r.names.EventFunction, r.names.QueueFunction}
}

// logGroups reads the three log groups at once.
func (r *run) logGroups(ctx context.Context) ([]bool, error) {
	fns := r.functions()
	exists := make([]bool, len(fns))
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			exists[i], errs[i] = r.logGroupExists(ctx, fn)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("log group %s: %w", logGroupOf(fns[i]), err)
		}
	}
	return exists, nil
}

func checkLogGroups(ctx context.Context, r *run) Result {
	var missing, present []string
	exists, err := r.logGroups(ctx)
	if err != nil {
		return errorResult(err, "the log groups")
	}
	for i, fn := range r.functions() {
		if exists[i] {
			present = append(present, logGroupOf(fn))
		} else {
			missing = append(missing, logGroupOf(fn))
		}
	}
	// Say what was seen, both ways: "present" over an empty list read as
	// if something were there.
	var ev []string
	if len(present) > 0 {
		ev = append(ev, "logs:DescribeLogGroups: found "+strings.Join(present, ", "))
	}
	if len(missing) > 0 {
		ev = append(ev, "logs:DescribeLogGroups: not found "+strings.Join(missing, ", "))
	}
	if len(missing) > 0 {
		return fail("no log group "+strings.Join(missing, ", ")+": Lambda creates it at a function's first invocation, so that function never ran (or cannot log)",
			hint("run the tests of `slab show end-to-end`", see(tsLogEventsNotFound), see(tsPermissionErrors)), ev...)
	}
	return pass("the three functions have log groups", ev...)
}

// logError is one error line found in a function's log.
type logError struct {
	fn, kind, line string
}

// nodeWarning is a Node.js process warning ("(node:1896) Warning: ...",
// "(node:7) [DEP0040] DeprecationWarning: ..."): written to stderr, so
// logged at ERROR level, but no error of the function's.
var nodeWarning = regexp.MustCompile(`\(node:\d+\) (\[[A-Z0-9]+\] )?[A-Za-z]*Warning: `)

func classifyLog(msg string) string {
	switch {
	case nodeWarning.MatchString(msg) && !strings.Contains(msg, "errorType"):
		return ""
	case strings.Contains(msg, "Cannot find module 'aws-sdk'"):
		return "sdkv2"
	case strings.Contains(msg, "Cannot find module '@aws-sdk/"), strings.Contains(msg, "Cannot find package '@aws-sdk/"):
		return "sdkv3"
	case strings.Contains(msg, "ImportModuleError"):
		return "import"
	case strings.Contains(msg, "Task timed out"):
		return "timeout"
	case strings.Contains(msg, `"level":"error"`), strings.Contains(msg, "\tERROR\t"), strings.Contains(msg, "Invoke Error"),
		strings.Contains(msg, "Runtime.ExitError"), strings.Contains(msg, "Runtime.Unhandled"), strings.Contains(msg, `"errorType"`),
		strings.HasPrefix(strings.TrimSpace(msg), "ERROR"):
		return "error"
	}
	return ""
}

// errorPattern pre-filters on the server; classifyLog decides.
const errorPattern = `?ERROR ?error ?Error ?"Task timed out" ?ImportModuleError`

// logErrors reads the error lines of a function's log since since. Errors
// from before the function's last update describe code or settings that
// are gone: they are counted as ignored.
func (r *run) logErrors(ctx context.Context, fn string, since, now time.Time) ([]logError, int, error) {
	cutoff := since
	if cfg, err := r.function(ctx, fn); err == nil && cfg != nil {
		if t, err := time.Parse("2006-01-02T15:04:05.000-0700", aws.ToString(cfg.LastModified)); err == nil && t.After(cutoff) {
			cutoff = t
		}
	}
	in := &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName:  aws.String(logGroupOf(fn)),
		StartTime:     aws.Int64(since.UnixMilli()),
		EndTime:       aws.Int64(now.Add(time.Minute).UnixMilli()),
		FilterPattern: aws.String(errorPattern),
	}
	var found []logError
	ignored := 0
	for page := 0; page < 10; page++ {
		out, err := r.c.Logs.FilterLogEvents(ctx, in)
		if isNotFound(err) {
			break
		}
		if err != nil {
			return nil, 0, err
		}
		for _, e := range out.Events {
			kind := classifyLog(aws.ToString(e.Message))
			if kind == "" {
				continue
			}
			if time.UnixMilli(aws.ToInt64(e.Timestamp)).Before(cutoff) {
				ignored++
				continue
			}
			found = append(found, logError{fn: fn, kind: kind, line: strings.TrimSpace(aws.ToString(e.Message))})
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	return found, ignored, nil
}

func checkFunctionErrors(ctx context.Context, r *run) Result {
	now := r.now()
	since := now.Add(-24 * time.Hour)
	exists, err := r.logGroups(ctx)
	if err != nil {
		return errorResult(err, "the log groups")
	}
	fns := r.functions()
	type scanned struct {
		found   []logError
		ignored int
		err     error
	}
	outs := make([]scanned, len(fns))
	var wg sync.WaitGroup
	groups := 0
	for i, fn := range fns {
		if !exists[i] {
			continue
		}
		groups++
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i].found, outs[i].ignored, outs[i].err = r.logErrors(ctx, fn, since, now)
		}()
	}
	wg.Wait()
	var found []logError
	var ignored int
	for i, o := range outs {
		if o.err != nil {
			return errorResult(o.err, "the log of "+fns[i])
		}
		found = append(found, o.found...)
		ignored += o.ignored
	}
	if groups == 0 {
		return skip("needs the functions' log groups, which do not exist yet", "end-to-end.log-groups")
	}
	var ev []string
	if ignored > 0 {
		ev = append(ev, fmt.Sprintf("%d older error lines from before a function's last update were ignored", ignored))
	}
	if len(found) == 0 {
		return pass("no errors in the last 24 hours of the functions' logs", append(ev, "logs:FilterLogEvents "+errorPattern+": no error lines")...)
	}
	byKind := map[string][]logError{}
	for _, e := range found {
		byKind[e.kind] = append(byKind[e.kind], e)
	}
	sample := func(es []logError) []string {
		var out []string
		for i, e := range es {
			if i == 3 {
				out = append(out, fmt.Sprintf("... and %d more", len(es)-3))
				break
			}
			line := e.line
			if len(line) > 300 {
				line = line[:300] + "..."
			}
			out = append(out, e.fn+": "+line)
		}
		return out
	}
	fnsOf := func(es []logError) string {
		var fns []string
		for _, e := range es {
			fns = append(fns, e.fn)
		}
		return strings.Join(uniq(fns), ", ")
	}
	// Three import failures, three fixes: the guide's v2 code on a runtime
	// that has only v3; v3 code where no v3 is provided (a runtime older
	// than nodejs18.x, or an emulator without the SDK); and a handler
	// module missing from the package.
	if es := byKind["sdkv2"]; len(es) > 0 {
		return fail(fmt.Sprintf("%s cannot start: Runtime.ImportModuleError: Cannot find module 'aws-sdk' (the guide's SDK v2 code; the runtime ships only SDK v3)", fnsOf(es)),
			hint("deploy the SDK v3 code (@aws-sdk/client-s3, @aws-sdk/lib-dynamodb, @aws-sdk/client-sns) of the lessons, or the Go build on provided.al2023", see(tsSDKv2)),
			append(ev, sample(es)...)...)
	}
	if es := byKind["sdkv3"]; len(es) > 0 {
		return fail(fmt.Sprintf("%s cannot start: its SDK v3 code finds no @aws-sdk client (the runtime it runs on does not provide SDK v3)", fnsOf(es)),
			hint("the code is right; the runtime lacks the SDK: on AWS use nodejs22.x (nodejs16.x and older ship only v2) or bundle the clients in the zip; on an emulator, give its Node.js the @aws-sdk packages", see(tsSDKv3)),
			append(ev, sample(es)...)...)
	}
	if es := byKind["import"]; len(es) > 0 {
		return fail(fmt.Sprintf("%s cannot start: Runtime.ImportModuleError (the handler's module is not in the package)", fnsOf(es)),
			hint("check that the zip holds the handler's file at its root (index.mjs for --handler index.handler) and redeploy", see(tsFunctionError)),
			append(ev, sample(es)...)...)
	}
	var parts []string
	var lines []string
	h := see(tsFunctionError)
	if es := byKind["timeout"]; len(es) > 0 {
		parts = append(parts, fmt.Sprintf("%d timeouts (Task timed out) in %s", len(es), fnsOf(es)))
		lines = append(lines, sample(es)...)
	}
	if es := byKind["error"]; len(es) > 0 {
		parts = append(parts, fmt.Sprintf("%d unhandled errors in %s", len(es), fnsOf(es)))
		lines = append(lines, sample(es)...)
		for _, e := range es {
			if strings.Contains(e.line, "SNS_TOPIC_ARN") || strings.Contains(e.line, "TopicArn") {
				h = hint(h, see(tsTopicEnv))
				break
			}
		}
	}
	return fail("recent errors: "+strings.Join(parts, "; ")+" — e.g. "+firstLine(lines), h, append(ev, lines...)...)
}

func firstLine(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	l := lines[0]
	if len(l) > 160 {
		l = l[:160] + "..."
	}
	return l
}
