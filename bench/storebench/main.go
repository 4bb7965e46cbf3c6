// Command storebench measures the sandbox store from outside, the way a
// learner's tools meet it: it starts one or more `slab sandbox` binaries
// (for example the build an issue starts from and the current one) on free
// ports with their own data directories, and drives each in turn with the
// same aws-sdk-go-v2 client, so old and new are compared in one run on one
// machine.
//
//	go build -o /tmp/slab-old ./cmd/slab   # at the old commit
//	go build -o /tmp/slab-new ./cmd/slab
//	go run ./bench/storebench -slab old=/tmp/slab-old -slab new=/tmp/slab-new
//
// Modes (-mode, comma-separated): throughput (PutItem and SendMessage,
// sequential and 16-way), reads (GetItem, Scan and ReceiveMessage latency
// while 16 writers run), replay (restart time of a data directory holding
// -items DynamoDB items in its journal), upload (peak RSS of the sandbox
// process during a -upload-mb PutObject, then restart time with it stored).
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

type target struct{ name, exe string }

type targets []target

func (t *targets) String() string { return fmt.Sprint(*t) }
func (t *targets) Set(v string) error {
	name, exe, ok := strings.Cut(v, "=")
	if !ok {
		name, exe = filepath.Base(v), v
	}
	*t = append(*t, target{name, exe})
	return nil
}

var (
	dur      = flag.Duration("duration", 3*time.Second, "how long each throughput phase runs")
	workers  = flag.Int("workers", 16, "concurrent callers of the parallel phases")
	items    = flag.Int("items", 29000, "items written before the replay measurement")
	uploadMB = flag.Int("upload-mb", 1024, "size of the upload measured by -mode upload")
	rounds   = flag.Int("rounds", 1, "measure each mode this many times, alternating the binaries (load drifts)")
)

func main() {
	var ts targets
	flag.Var(&ts, "slab", "name=path of a slab binary to measure (repeatable)")
	modes := flag.String("mode", "throughput,reads", "comma-separated: throughput, reads, replay, upload")
	flag.Parse()
	if len(ts) == 0 {
		fmt.Fprintln(os.Stderr, "storebench: give at least one -slab name=path")
		os.Exit(2)
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Printf("load average at start: %s", b)
	}
	for _, m := range strings.Split(*modes, ",") {
		var order []target
		for range *rounds {
			order = append(order, ts...)
		}
		for _, t := range order {
			var err error
			switch m {
			case "throughput":
				err = throughput(t)
			case "reads":
				err = reads(t)
			case "replay":
				err = replay(t)
			case "upload":
				err = upload(t)
			default:
				err = fmt.Errorf("unknown mode %q", m)
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "storebench: %s %s: %v\n", t.name, m, err)
				os.Exit(1)
			}
		}
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Printf("load average at end: %s", b)
	}
}

// sandbox is one running `slab sandbox`.
type sandbox struct {
	cmd     *exec.Cmd
	url     string
	dir     string
	started time.Time
	ready   time.Duration
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// start runs exe as a sandbox on dir ("" makes a fresh one) and waits until
// it answers.
func start(exe, dir string) (*sandbox, error) {
	if dir == "" {
		d, err := os.MkdirTemp("", "storebench-")
		if err != nil {
			return nil, err
		}
		dir = d
	}
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "sandbox", "--addr", addr, "--data-dir", filepath.Join(dir, "data"))
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+dir+"/cfg", "XDG_DATA_HOME="+dir+"/xdg", "XDG_CACHE_HOME="+dir+"/cache")
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	sb := &sandbox{cmd: cmd, url: "http://" + addr, dir: dir, started: time.Now()}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	for time.Since(sb.started) < 120*time.Second {
		resp, err := http.Get(sb.url + "/_slab/health")
		if err == nil {
			resp.Body.Close()
			sb.ready = time.Since(sb.started)
			return sb, nil
		}
		time.Sleep(2 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	return nil, errors.New("sandbox did not answer within 120 s")
}

// stop ends the sandbox with SIGINT (a clean close, state flushed).
func (sb *sandbox) stop() error {
	_ = sb.cmd.Process.Signal(os.Interrupt)
	return sb.cmd.Wait()
}

// peakRSS is the process's high-water resident set (VmHWM), in MiB.
func (sb *sandbox) peakRSS() float64 { return procKB(sb.cmd.Process.Pid, "VmHWM:") / 1024 }

func procKB(pid int, field string) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field); ok {
			v, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return v
		}
	}
	return -1
}

func config(url string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(url),
		HTTPClient:   &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
	}
}

var ctx = context.Background()

func ddb(url string) *dynamodb.Client { return dynamodb.NewFromConfig(config(url)) }
func sqsc(url string) *sqs.Client     { return sqs.NewFromConfig(config(url)) }
func s3c(url string) *s3.Client {
	return s3.NewFromConfig(config(url), func(o *s3.Options) { o.UsePathStyle = true })
}

func makeTable(c *dynamodb.Client, name string) error {
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
	})
	if err != nil {
		return err
	}
	for range 200 {
		out, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err == nil && out.Table.TableStatus == ddbtypes.TableStatusActive {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("table never became ACTIVE")
}

func item(id string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{
		"id":      &ddbtypes.AttributeValueMemberS{Value: id},
		"payload": &ddbtypes.AttributeValueMemberS{Value: strings.Repeat("x", 200)},
		"n":       &ddbtypes.AttributeValueMemberN{Value: "42"},
	}
}

// rate runs op from n goroutines for the phase duration and returns calls/s.
func rate(n int, op func(i int64) error) (float64, error) {
	var count atomic.Int64
	var firstErr atomic.Value
	deadline := time.Now().Add(*dur)
	var wg sync.WaitGroup
	t0 := time.Now()
	for range n {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				if err := op(count.Add(1)); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return 0, err
	}
	return float64(count.Load()) / time.Since(t0).Seconds(), nil
}

func queue(c *sqs.Client, name string) (string, error) {
	out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		return "", err
	}
	return *out.QueueUrl, nil
}

func throughput(t target) error {
	sb, err := start(t.exe, "")
	if err != nil {
		return err
	}
	defer os.RemoveAll(sb.dir)
	defer sb.stop()
	d, q := ddb(sb.url), sqsc(sb.url)
	if err := makeTable(d, "bench"); err != nil {
		return err
	}
	qurl, err := queue(q, "bench")
	if err != nil {
		return err
	}
	put := func(i int64) error {
		_, err := d.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("bench"), Item: item(strconv.FormatInt(i, 10))})
		return err
	}
	send := func(i int64) error {
		_, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(qurl), MessageBody: aws.String("message " + strconv.FormatInt(i, 10))})
		return err
	}
	for _, p := range []struct {
		name string
		n    int
		op   func(int64) error
	}{{"PutItem", 1, put}, {"PutItem", *workers, put}, {"SendMessage", 1, send}, {"SendMessage", *workers, send}} {
		r, err := rate(p.n, p.op)
		if err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		fmt.Printf("%-6s %-12s %2d-way  %8.0f calls/s\n", t.name, p.name, p.n, r)
	}
	return nil
}

// latencies reports p50, p95 and max of op, called in a loop by one reader
// while writers run op's competition.
func latencies(n int, op func() error, writers func(stop <-chan struct{})) (p50, p95, max time.Duration, err error) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { writers(stop) })
	time.Sleep(200 * time.Millisecond)
	ds := make([]time.Duration, 0, n)
	for range n {
		t0 := time.Now()
		if err = op(); err != nil {
			break
		}
		ds = append(ds, time.Since(t0))
	}
	close(stop)
	wg.Wait()
	if err != nil {
		return
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2], ds[len(ds)*95/100], ds[len(ds)-1], nil
}

func reads(t target) error {
	sb, err := start(t.exe, "")
	if err != nil {
		return err
	}
	defer os.RemoveAll(sb.dir)
	defer sb.stop()
	d, q := ddb(sb.url), sqsc(sb.url)
	if err := makeTable(d, "bench"); err != nil {
		return err
	}
	if err := makeTable(d, "small"); err != nil {
		return err
	}
	for i := range 100 {
		if _, err := d.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("small"), Item: item(strconv.Itoa(i))}); err != nil {
			return err
		}
	}
	qurl, err := queue(q, "bench")
	if err != nil {
		return err
	}
	var seq atomic.Int64
	writers := func(stop <-chan struct{}) {
		var wg sync.WaitGroup
		for w := range *workers {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					i := seq.Add(1)
					if w%2 == 0 {
						_, _ = d.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("bench"), Item: item(strconv.FormatInt(i, 10))})
					} else {
						_, _ = q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(qurl), MessageBody: aws.String("m")})
					}
				}
			})
		}
		wg.Wait()
	}
	ops := []struct {
		name string
		op   func() error
	}{
		{"GetItem", func() error {
			_, err := d.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("small"), Key: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "7"}}})
			return err
		}},
		{"Scan(100)", func() error {
			_, err := d.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("small")})
			return err
		}},
		{"ReceiveMessage", func() error {
			_, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(qurl), MaxNumberOfMessages: 10, VisibilityTimeout: 30})
			return err
		}},
	}
	for _, o := range ops {
		p50, p95, max, err := latencies(500, o.op, writers)
		if err != nil {
			return fmt.Errorf("%s: %w", o.name, err)
		}
		fmt.Printf("%-6s %-15s under %d writers: p50 %6.2f ms  p95 %6.2f ms  max %6.2f ms\n", t.name, o.name, *workers, ms(p50), ms(p95), ms(max))
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// replay writes -items items, kills the sandbox (so they stay in the
// journal, not the snapshot) and times the restart.
func replay(t target) error {
	sb, err := start(t.exe, "")
	if err != nil {
		return err
	}
	defer os.RemoveAll(sb.dir)
	d := ddb(sb.url)
	if err := makeTable(d, "bench"); err != nil {
		return err
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	var ferr atomic.Value
	for range *workers {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(*items) {
					return
				}
				if _, err := d.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("bench"), Item: item(strconv.FormatInt(i, 10))}); err != nil {
					ferr.CompareAndSwap(nil, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err, _ := ferr.Load().(error); err != nil {
		return err
	}
	_ = sb.cmd.Process.Kill()
	_ = sb.cmd.Wait()
	fi, _ := os.Stat(filepath.Join(sb.dir, "data", "journal.jsonl"))
	var size int64
	if fi != nil {
		size = fi.Size()
	}
	sb2, err := start(t.exe, sb.dir)
	if err != nil {
		return err
	}
	defer sb2.stop()
	out, err := ddb(sb2.url).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("bench")})
	if err != nil {
		return err
	}
	fmt.Printf("%-6s replay of %d items (journal %.1f MB): ready in %v, %d items after restart\n", t.name, *items, float64(size)/1e6, sb2.ready.Round(time.Millisecond), aws.ToInt64(out.Table.ItemCount))
	return nil
}

// zeroReader yields n pseudo-random bytes without holding them.
type zeroReader struct {
	n   int64
	buf []byte
}

func (z *zeroReader) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > z.n {
		p = p[:z.n]
	}
	for len(z.buf) < len(p) {
		z.buf = append(z.buf, z.buf...)
	}
	n := copy(p, z.buf)
	z.n -= int64(n)
	return n, nil
}

func upload(t target) error {
	sb, err := start(t.exe, "")
	if err != nil {
		return err
	}
	defer os.RemoveAll(sb.dir)
	c := s3c(sb.url)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bench")}); err != nil {
		return err
	}
	before := procKB(sb.cmd.Process.Pid, "VmRSS:") / 1024
	seed := make([]byte, 64<<10)
	_, _ = rand.Read(seed)
	size := int64(*uploadMB) << 20
	// A plain PUT with a known length and an unsigned payload, as the CLI
	// does for objects under its multipart threshold.
	req, err := http.NewRequest(http.MethodPut, sb.url+"/bench/big", &zeroReader{n: size, buf: seed})
	if err != nil {
		return err
	}
	req.ContentLength = size
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0")
	req.Header.Set("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
	req.Header.Set("x-amz-date", time.Now().UTC().Format("20060102T150405Z"))
	t0 := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	took := time.Since(t0)
	if resp.StatusCode != 200 {
		fmt.Printf("%-6s upload of %d MB: HTTP %d %s\n", t.name, *uploadMB, resp.StatusCode, bytes.TrimSpace(body))
	} else {
		fmt.Printf("%-6s upload of %d MB in %v: RSS before %.0f MB, peak %.0f MB\n", t.name, *uploadMB, took.Round(time.Millisecond), before, sb.peakRSS())
	}
	if err := sb.stop(); err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	sb2, err := start(t.exe, sb.dir)
	if err != nil {
		return err
	}
	fmt.Printf("%-6s restart with the upload stored: ready in %v, peak RSS %.0f MB\n", t.name, sb2.ready.Round(time.Millisecond), sb2.peakRSS())
	if resp.StatusCode == 200 {
		h, err := s3c(sb2.url).HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bench"), Key: aws.String("big")})
		if err != nil {
			return fmt.Errorf("after restart: %w", err)
		}
		fmt.Printf("%-6s after restart the object has %d bytes\n", t.name, aws.ToInt64(h.ContentLength))
	}
	return sb2.stop()
}
