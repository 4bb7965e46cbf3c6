package logs_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/slab-lab/slab/internal/extern"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"

	"github.com/slab-lab/slab/sandbox/internal/core"
	"github.com/slab-lab/slab/sandbox/internal/logs"
	"github.com/slab-lab/slab/sandbox/internal/sbtest"
)

var ctx = context.Background()

// clock is a settable sandbox clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func start(t *testing.T) (*cwl.Client, *logs.Service, *sbtest.Env, *clock) {
	t.Helper()
	clk := &clock{t: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)}
	var svc *logs.Service
	env := sbtest.Start(t, func(c *core.Core) []core.Service {
		c.Now = clk.now
		svc = logs.New(c)
		return []core.Service{svc}
	})
	return cwl.NewFromConfig(env.Config), svc, env, clk
}

func ms(t time.Time) *int64 { v := t.UnixMilli(); return &v }

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("want %s, got %v", code, err)
	}
}

func TestLogGroupLifecycle(t *testing.T) {
	cli, _, _, _ := start(t)
	name := aws.String("/aws/lambda/s3-to-dynamodb-processor")
	if _, err := cli.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: name, Tags: map[string]string{"lab": "slab"}}); err != nil {
		t.Fatal(err)
	}
	_, err := cli.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: name})
	var exists *types.ResourceAlreadyExistsException
	if !errors.As(err, &exists) || exists.ErrorMessage() != "The specified log group already exists" {
		t.Fatalf("duplicate group: %v", err)
	}
	_, err = cli.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("bad name")})
	var inv *types.InvalidParameterException
	if !errors.As(err, &inv) {
		t.Fatalf("bad name: %v", err)
	}

	out, err := cli.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/aws/lambda/")})
	if err != nil || len(out.LogGroups) != 1 {
		t.Fatalf("describe: %v %v", out, err)
	}
	g := out.LogGroups[0]
	if aws.ToString(g.Arn) != "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/s3-to-dynamodb-processor:*" ||
		aws.ToString(g.LogGroupArn) != "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/s3-to-dynamodb-processor" {
		t.Fatalf("arns %s %s", aws.ToString(g.Arn), aws.ToString(g.LogGroupArn))
	}
	if g.RetentionInDays != nil || aws.ToInt64(g.StoredBytes) != 0 || aws.ToInt64(g.CreationTime) == 0 {
		t.Fatalf("fresh group: %+v", g)
	}

	if _, err := cli.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: name, RetentionInDays: aws.Int32(14)}); err != nil {
		t.Fatal(err)
	}
	_, err = cli.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: name, RetentionInDays: aws.Int32(2)})
	if !errors.As(err, &inv) || !strings.Contains(inv.ErrorMessage(), "Member must satisfy enum value set: [1, 3, 5, 7, 14") {
		t.Fatalf("retention 2: %v", err)
	}
	out, _ = cli.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{})
	if aws.ToInt32(out.LogGroups[0].RetentionInDays) != 14 {
		t.Fatalf("retention not set: %+v", out.LogGroups[0])
	}
	if _, err := cli.DeleteRetentionPolicy(ctx, &cwl.DeleteRetentionPolicyInput{LogGroupName: name}); err != nil {
		t.Fatal(err)
	}
	out, _ = cli.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{})
	if out.LogGroups[0].RetentionInDays != nil {
		t.Fatal("retention not removed")
	}

	if _, err := cli.DeleteLogGroup(ctx, &cwl.DeleteLogGroupInput{LogGroupName: name}); err != nil {
		t.Fatal(err)
	}
	_, err = cli.DeleteLogGroup(ctx, &cwl.DeleteLogGroupInput{LogGroupName: name})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) || nf.ErrorMessage() != "The specified log group does not exist." {
		t.Fatalf("delete missing: %v", err)
	}
	_, err = cli.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: name, RetentionInDays: aws.Int32(1)})
	if !errors.As(err, &nf) {
		t.Fatalf("retention on missing group: %v", err)
	}
}

func TestDescribeLogGroupsPaginator(t *testing.T) {
	cli, _, _, _ := start(t)
	for i := 0; i < 7; i++ {
		if _, err := cli.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String(fmt.Sprintf("/aws/lambda/fn-%d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cli.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("other")}); err != nil {
		t.Fatal(err)
	}
	p := cwl.NewDescribeLogGroupsPaginator(cli, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/aws/lambda/"), Limit: aws.Int32(3)})
	var names []string
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, g := range page.LogGroups {
			names = append(names, aws.ToString(g.LogGroupName))
		}
	}
	if pages != 3 || len(names) != 7 || names[0] != "/aws/lambda/fn-0" || names[6] != "/aws/lambda/fn-6" {
		t.Fatalf("pages %d names %v", pages, names)
	}
	_, err := cli.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{NextToken: aws.String("%%%")})
	wantCode(t, err, "InvalidParameterException")
	_, err = cli.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{Limit: aws.Int32(51)})
	wantCode(t, err, "InvalidParameterException")
	pat, err := cli.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePattern: aws.String("FN-3")})
	if err != nil || len(pat.LogGroups) != 1 {
		t.Fatalf("pattern: %v %v", pat, err)
	}
}

func TestStreamsAndEvents(t *testing.T) {
	cli, _, _, clk := start(t)
	g := aws.String("/aws/lambda/sqs-processor")
	_, err := cli.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: g, LogStreamName: aws.String("a")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) || nf.ErrorMessage() != "The specified log group does not exist." {
		t.Fatalf("stream in missing group: %v", err)
	}
	if _, err := cli.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: g}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"2026/11/27/[$LATEST]aaa", "2026/11/27/[$LATEST]bbb", "2026/11/27/[$LATEST]ccc"} {
		if _, err := cli.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: g, LogStreamName: aws.String(s)}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = cli.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: g, LogStreamName: aws.String("2026/11/27/[$LATEST]aaa")})
	var exists *types.ResourceAlreadyExistsException
	if !errors.As(err, &exists) {
		t.Fatalf("duplicate stream: %v", err)
	}
	_, err = cli.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: g, LogStreamName: aws.String("bad:name")})
	wantCode(t, err, "InvalidParameterException")

	now := clk.t
	put := func(stream string, evs ...types.InputLogEvent) *cwl.PutLogEventsOutput {
		t.Helper()
		out, err := cli.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: g, LogStreamName: aws.String("2026/11/27/[$LATEST]" + stream), LogEvents: evs})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	ev := func(at time.Time, msg string) types.InputLogEvent {
		return types.InputLogEvent{Timestamp: ms(at), Message: aws.String(msg)}
	}
	out := put("aaa", ev(now.Add(-3*time.Minute), "START RequestId: 1"), ev(now.Add(-2*time.Minute), "ERROR Runtime.ImportModuleError: Cannot find module 'aws-sdk'"), ev(now.Add(-time.Minute), "END RequestId: 1"))
	if out.RejectedLogEventsInfo != nil || aws.ToString(out.NextSequenceToken) == "" {
		t.Fatalf("put: %+v", out)
	}
	put("bbb", ev(now.Add(-150*time.Second), "WARN slow"), ev(now.Add(-30*time.Second), "INFO done"))

	// Rejections: too old (> 14 days), too new (> 2 h ahead).
	rej := put("ccc", ev(now.Add(-15*24*time.Hour), "ancient"), ev(now.Add(-15*24*time.Hour+time.Hour), "ancient too"))
	if rej.RejectedLogEventsInfo == nil || aws.ToInt32(rej.RejectedLogEventsInfo.TooOldLogEventEndIndex) != 1 || rej.RejectedLogEventsInfo.TooNewLogEventStartIndex != nil {
		t.Fatalf("too old: %+v", rej.RejectedLogEventsInfo)
	}
	rej = put("ccc", ev(now, "fine"), ev(now.Add(3*time.Hour), "future"))
	if rej.RejectedLogEventsInfo == nil || aws.ToInt32(rej.RejectedLogEventsInfo.TooNewLogEventStartIndex) != 1 || rej.RejectedLogEventsInfo.TooOldLogEventEndIndex != nil {
		t.Fatalf("too new: %+v", rej.RejectedLogEventsInfo)
	}
	_, err = cli.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: g, LogStreamName: aws.String("2026/11/27/[$LATEST]ccc"), LogEvents: []types.InputLogEvent{ev(now.Add(-25*time.Hour), "a"), ev(now, "b")}})
	var span *types.InvalidParameterException
	if !errors.As(err, &span) || !strings.Contains(span.ErrorMessage(), "cannot span more than 24 hours") {
		t.Fatalf("span: %v", err)
	}

	_, err = cli.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: g, LogStreamName: aws.String("2026/11/27/[$LATEST]aaa"), LogEvents: []types.InputLogEvent{ev(now, "b"), ev(now.Add(-time.Second), "a")}})
	var inv *types.InvalidParameterException
	if !errors.As(err, &inv) || inv.ErrorMessage() != "Log events in a single PutLogEvents request must be in chronological order." {
		t.Fatalf("unordered: %v", err)
	}
	_, err = cli.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: g, LogStreamName: aws.String("nope"), LogEvents: []types.InputLogEvent{ev(now, "x")}})
	if !errors.As(err, &nf) || nf.ErrorMessage() != "The specified log stream does not exist." {
		t.Fatalf("missing stream: %v", err)
	}

	// DescribeLogStreams by name and by last event time.
	ds, err := cli.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: g})
	if err != nil || len(ds.LogStreams) != 3 || aws.ToString(ds.LogStreams[0].LogStreamName) != "2026/11/27/[$LATEST]aaa" {
		t.Fatalf("describe streams: %v %v", ds, err)
	}
	a := ds.LogStreams[0]
	if aws.ToInt64(a.FirstEventTimestamp) != *ms(now.Add(-3 * time.Minute)) || aws.ToInt64(a.LastEventTimestamp) != *ms(now.Add(-time.Minute)) || aws.ToInt64(a.LastIngestionTime) != *ms(now) {
		t.Fatalf("stream times: %+v", a)
	}
	if !strings.HasSuffix(aws.ToString(a.Arn), ":log-group:/aws/lambda/sqs-processor:log-stream:2026/11/27/[$LATEST]aaa") {
		t.Fatalf("stream arn %s", aws.ToString(a.Arn))
	}
	ds, err = cli.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: g, OrderBy: types.OrderByLastEventTime, Descending: aws.Bool(true), Limit: aws.Int32(1)})
	if err != nil || len(ds.LogStreams) != 1 || aws.ToString(ds.LogStreams[0].LogStreamName) != "2026/11/27/[$LATEST]ccc" || ds.NextToken == nil {
		t.Fatalf("latest stream: %v %v", ds, err)
	}
	var order []string
	sp := cwl.NewDescribeLogStreamsPaginator(cli, &cwl.DescribeLogStreamsInput{LogGroupName: g, OrderBy: types.OrderByLastEventTime, Descending: aws.Bool(true), Limit: aws.Int32(1)})
	for sp.HasMorePages() && len(order) < 10 {
		page, err := sp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range page.LogStreams {
			order = append(order, strings.TrimPrefix(aws.ToString(s.LogStreamName), "2026/11/27/[$LATEST]"))
		}
	}
	if strings.Join(order, ",") != "ccc,bbb,aaa" {
		t.Fatalf("by last event time, descending: %v", order)
	}
	_, err = cli.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: g, OrderBy: types.OrderByLastEventTime, LogStreamNamePrefix: aws.String("2026")})
	if !errors.As(err, &inv) || inv.ErrorMessage() != "Cannot order by LastEventTime with a logStreamNamePrefix." {
		t.Fatalf("orderBy with prefix: %v", err)
	}

	// GetLogEvents: newest page by default, oldest with startFromHead.
	stream := aws.String("2026/11/27/[$LATEST]aaa")
	gl, err := cli.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: g, LogStreamName: stream, Limit: aws.Int32(2)})
	if err != nil || len(gl.Events) != 2 || !strings.Contains(aws.ToString(gl.Events[0].Message), "ImportModuleError") {
		t.Fatalf("tail page: %v %v", gl, err)
	}
	if f, b := aws.ToString(gl.NextForwardToken), aws.ToString(gl.NextBackwardToken); !strings.HasPrefix(f, "f/") || !strings.HasSuffix(f, "/s") || !strings.HasPrefix(b, "b/") {
		t.Fatalf("tokens %s %s", f, b)
	}
	back, err := cli.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: g, LogStreamName: stream, NextToken: gl.NextBackwardToken})
	if err != nil || len(back.Events) != 1 || aws.ToString(back.Events[0].Message) != "START RequestId: 1" {
		t.Fatalf("backward: %v %v", back, err)
	}
	var msgs []string
	gp := cwl.NewGetLogEventsPaginator(cli, &cwl.GetLogEventsInput{LogGroupName: g, LogStreamName: stream, StartFromHead: aws.Bool(true), Limit: aws.Int32(1)}, func(o *cwl.GetLogEventsPaginatorOptions) {
		o.StopOnDuplicateToken = true
	})
	for i := 0; gp.HasMorePages() && i < 10; i++ {
		page, err := gp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Events {
			msgs = append(msgs, aws.ToString(e.Message))
		}
	}
	if gp.HasMorePages() || len(msgs) != 3 || msgs[0] != "START RequestId: 1" || msgs[2] != "END RequestId: 1" {
		t.Fatalf("forward paging: %v (more %v)", msgs, gp.HasMorePages())
	}
	win, err := cli.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: g, LogStreamName: stream, StartTime: ms(now.Add(-2 * time.Minute)), EndTime: ms(now.Add(-time.Minute)), StartFromHead: aws.Bool(true)})
	if err != nil || len(win.Events) != 1 {
		t.Fatalf("window: %v %v", win, err)
	}
	_, err = cli.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: g, LogStreamName: aws.String("none")})
	if !errors.As(err, &nf) {
		t.Fatalf("get from missing stream: %v", err)
	}
	_, err = cli.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: g, LogStreamName: stream, NextToken: aws.String("x/1/s")})
	wantCode(t, err, "InvalidParameterException")

	// FilterLogEvents: interleaved across streams, patterns, paging.
	fl, err := cli.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: g})
	if err != nil || len(fl.Events) != 6 {
		t.Fatalf("filter all: %v %v", fl, err)
	}
	var streams []string
	for _, e := range fl.Events {
		streams = append(streams, strings.TrimPrefix(aws.ToString(e.LogStreamName), "2026/11/27/[$LATEST]"))
		if len(aws.ToString(e.EventId)) < 40 {
			t.Fatalf("event id %q", aws.ToString(e.EventId))
		}
	}
	if strings.Join(streams, ",") != "aaa,bbb,aaa,aaa,bbb,ccc" {
		t.Fatalf("interleaving: %v", streams)
	}
	patterns := map[string]int{
		`ERROR`:                       1,
		`"Cannot find module"`:        1,
		`RequestId -END`:              1,
		`?WARN ?ERROR`:                2,
		`%Request[I]d: \d%`:           2,
		`"cannot find module"`:        0,
		`ImportModuleError 'aws-sdk'`: 1,
	}
	for p, n := range patterns {
		f, err := cli.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: g, FilterPattern: aws.String(p)})
		if err != nil || len(f.Events) != n {
			t.Errorf("pattern %s: %d events (%v), want %d", p, len(f.Events), err, n)
		}
	}
	_, err = cli.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: g, FilterPattern: aws.String(`{ $.level = "ERROR" }`)})
	wantCode(t, err, "InvalidParameterException")
	f2, err := cli.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: g, LogStreamNames: []string{"2026/11/27/[$LATEST]bbb"}, StartTime: ms(now.Add(-time.Minute))})
	if err != nil || len(f2.Events) != 1 || aws.ToString(f2.Events[0].Message) != "INFO done" {
		t.Fatalf("stream+start filter: %v %v", f2, err)
	}
	var paged []string
	fp := cwl.NewFilterLogEventsPaginator(cli, &cwl.FilterLogEventsInput{LogGroupName: g, Limit: aws.Int32(4)})
	for fp.HasMorePages() && len(paged) < 20 {
		page, err := fp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Events {
			paged = append(paged, aws.ToString(e.Message))
		}
	}
	if len(paged) != 6 || paged[5] != "fine" {
		t.Fatalf("filter paging: %v", paged)
	}
	_, err = cli.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: g, LogStreamNames: []string{"a"}, LogStreamNamePrefix: aws.String("a")})
	wantCode(t, err, "InvalidParameterException")

	// Stored bytes roll up to the group; deleting a stream removes them.
	dg, _ := cli.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{})
	if aws.ToInt64(dg.LogGroups[0].StoredBytes) == 0 {
		t.Fatal("storedBytes not counted")
	}
	if _, err := cli.DeleteLogStream(ctx, &cwl.DeleteLogStreamInput{LogGroupName: g, LogStreamName: stream}); err != nil {
		t.Fatal(err)
	}
	fl, _ = cli.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: g})
	if len(fl.Events) != 3 {
		t.Fatalf("after stream delete: %d events", len(fl.Events))
	}
}

func TestRetentionExpiresEvents(t *testing.T) {
	cli, svc, _, clk := start(t)
	g := "/aws/lambda/event-to-sns-processor"
	old := clk.t
	if err := svc.Append(core.Scope{Account: core.DefaultAccount, Region: "us-east-1"}, g, "s", []logs.Event{{Time: old, Message: "old"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String(g), RetentionInDays: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	clk.t = clk.t.Add(36 * time.Hour)
	out, err := cli.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String(g), LogStreamName: aws.String("s"), LogEvents: []types.InputLogEvent{
		{Timestamp: ms(clk.t.Add(-30 * time.Hour)), Message: aws.String("expired on arrival")}, {Timestamp: ms(clk.t.Add(-7 * time.Hour)), Message: aws.String("new")},
	}})
	if err != nil || out.RejectedLogEventsInfo == nil || aws.ToInt32(out.RejectedLogEventsInfo.ExpiredLogEventEndIndex) != 0 {
		t.Fatalf("expired rejection: %+v %v", out, err)
	}
	fl, err := cli.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String(g)})
	if err != nil || len(fl.Events) != 1 || aws.ToString(fl.Events[0].Message) != "new" {
		t.Fatalf("after retention: %v %v", fl, err)
	}
}

func TestAppendCreatesGroupAndStream(t *testing.T) {
	cli, svc, _, clk := start(t)
	sc := core.Scope{Account: core.DefaultAccount, Region: "us-east-1"}
	err := svc.Append(sc, "/aws/lambda/fn", "2026/11/27/[$LATEST]x", []logs.Event{
		{Time: clk.t.Add(time.Second), Message: "second"}, {Time: clk.t, Message: "first"},
	})
	if err != nil {
		t.Fatal(err)
	}
	gl, err := cli.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("/aws/lambda/fn"), LogStreamName: aws.String("2026/11/27/[$LATEST]x"), StartFromHead: aws.Bool(true)})
	if err != nil || len(gl.Events) != 2 || aws.ToString(gl.Events[0].Message) != "first" {
		t.Fatalf("appended: %v %v", gl, err)
	}
	if err := svc.Append(sc, "bad group!", "s", nil); err == nil {
		t.Fatal("invalid group name accepted")
	}
	// Another region is another namespace.
	other := cwl.NewFromConfig(sbtest.Config(strings.TrimSuffix(aws.ToString(cli.Options().BaseEndpoint), "/"), "AKIDSANDBOXTEST", "eu-west-1"))
	dg, err := other.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{})
	if err != nil || len(dg.LogGroups) != 0 {
		t.Fatalf("region isolation: %v %v", dg, err)
	}
}

func TestTags(t *testing.T) {
	cli, _, _, _ := start(t)
	g := aws.String("/aws/lambda/tagged")
	if _, err := cli.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: g, Tags: map[string]string{"a": "1"}}); err != nil {
		t.Fatal(err)
	}
	arn := "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/tagged"
	if _, err := cli.TagResource(ctx, &cwl.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{"b": "2"}}); err != nil {
		t.Fatal(err)
	}
	lt, err := cli.ListTagsForResource(ctx, &cwl.ListTagsForResourceInput{ResourceArn: aws.String(arn + ":*")})
	if err != nil || lt.Tags["a"] != "1" || lt.Tags["b"] != "2" {
		t.Fatalf("tags: %v %v", lt, err)
	}
	if _, err := cli.UntagResource(ctx, &cwl.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	//nolint:staticcheck // TagLogGroup is deprecated but the CLI still offers it.
	if _, err := cli.TagLogGroup(ctx, &cwl.TagLogGroupInput{LogGroupName: g, Tags: map[string]string{"c": "3"}}); err != nil {
		t.Fatal(err)
	}
	//nolint:staticcheck
	if _, err := cli.UntagLogGroup(ctx, &cwl.UntagLogGroupInput{LogGroupName: g, Tags: []string{"b"}}); err != nil {
		t.Fatal(err)
	}
	//nolint:staticcheck
	old, err := cli.ListTagsLogGroup(ctx, &cwl.ListTagsLogGroupInput{LogGroupName: g})
	if err != nil || len(old.Tags) != 1 || old.Tags["c"] != "3" {
		t.Fatalf("legacy tags: %v %v", old, err)
	}
	_, err = cli.ListTagsForResource(ctx, &cwl.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:logs:us-east-1:000000000000:log-group:nope")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("tags of missing group: %v", err)
	}
	_, err = cli.TagResource(ctx, &cwl.TagResourceInput{ResourceArn: aws.String("not-an-arn"), Tags: map[string]string{"x": "y"}})
	wantCode(t, err, "InvalidParameterException")
}

// TestAWSCLITail runs the AWS CLI v2's `logs tail` (FilterLogEvents with
// interleaving and startTime) against the sandbox.
func TestAWSCLITail(t *testing.T) {
	cli := extern.AWSCLIv2(t)
	client, _, env, clk := start(t)
	// The CLI computes --since from the real clock, so the sandbox must
	// run on it too (the fixed test clock would make these events "too new").
	clk.t = time.Now()
	g := aws.String("/aws/lambda/tail-me")
	if _, err := client.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: g}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: g, LogStreamName: aws.String("s1")}); err != nil {
		t.Fatal(err)
	}
	// The CLI computes --since from the real clock, so stamp events with it.
	now := time.Now()
	_, err := client.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: g, LogStreamName: aws.String("s1"), LogEvents: []types.InputLogEvent{
		{Timestamp: ms(now.Add(-2 * time.Minute)), Message: aws.String("hello from the sandbox")},
		{Timestamp: ms(now.Add(-time.Minute)), Message: aws.String("ERROR boom")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(cli, "--endpoint-url", env.URL, "logs", "tail", "/aws/lambda/tail-me", "--since", "15m", "--filter-pattern", "ERROR")
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDSANDBOXTEST", "AWS_SECRET_ACCESS_KEY=secret", "AWS_DEFAULT_REGION=us-east-1", "AWS_PAGER=", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("aws logs tail: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "s1 ERROR boom") || strings.Contains(string(out), "hello") {
		t.Fatalf("tail output:\n%s", out)
	}
}

// TestLogsSurviveRestart checks that groups, streams and events round-trip
// through the store's journal.
func TestLogsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	c1 := core.New()
	s1 := logs.New(c1)
	if err := c1.Store.Open(dir); err != nil {
		t.Fatal(err)
	}
	sc := core.Scope{Account: core.DefaultAccount, Region: "us-east-1"}
	at := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	if err := s1.Append(sc, "/aws/lambda/f", "s", []logs.Event{{Time: at, Message: "kept"}}); err != nil {
		t.Fatal(err)
	}
	if err := c1.Store.Close(); err != nil {
		t.Fatal(err)
	}
	var svc *logs.Service
	env := sbtest.Start(t, func(c *core.Core) []core.Service {
		c.Now = func() time.Time { return at.Add(time.Minute) }
		svc = logs.New(c)
		if err := c.Store.Open(dir); err != nil {
			t.Fatal(err)
		}
		return []core.Service{svc}
	})
	cli := cwl.NewFromConfig(env.Config)
	out, err := cli.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("/aws/lambda/f"), LogStreamName: aws.String("s")})
	if err != nil || len(out.Events) != 1 || aws.ToString(out.Events[0].Message) != "kept" {
		t.Fatalf("after restart: %v %v", out, err)
	}
	ds, err := cli.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String("/aws/lambda/f")})
	if err != nil || aws.ToInt64(ds.LogStreams[0].LastEventTimestamp) != at.UnixMilli() {
		t.Fatalf("stream after restart: %v %v", ds, err)
	}
}
