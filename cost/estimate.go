package cost

import (
	"fmt"
	"math"
	"sort"

	"github.com/slab-lab/slab/lab"
)

// HoursPerMonth is AWS's billing month (8,760 hours a year / 12).
const HoursPerMonth = 730

// RunsPerHour is rate(5 minutes): 12 runs an hour, 288 a day.
const RunsPerHour = 12

// kbPerGB converts KB (1,024 bytes) to GB (2^30 bytes), as AWS bills.
const kbPerGB = 1024 * 1024

// What one pass through the lab's lessons does besides the learner's own
// uploads and invokes (fixed; printed with the assumptions).
const (
	checkListCalls = 10 // `aws s3 ls`, `slab check`: S3 LIST requests
	checkScanReads = 10 // `slab check` and the lessons' scans: read request units
	checkSQSCalls  = 10 // `slab check`: GetQueueAttributes and friends
	poisonReceives = 5  // the guide's raw test message: received maxReceiveCount times, then the DLQ
)

// Assumptions drive the estimates; every one is printed and adjustable.
type Assumptions struct {
	Arch       string  `json:"arch"`        // arm64 or x86_64
	MemoryMB   int     `json:"memory_mb"`   // each function's memory
	DurationMS float64 `json:"duration_ms"` // billed duration of one invocation
	PayloadKB  float64 `json:"payload_kb"`  // a test upload, an SNS or SQS message
	ItemKB     float64 `json:"item_kb"`     // a DynamoDB row (1 WRU per started KB)
	ScanKB     float64 `json:"scan_kb"`     // what the event processor's Scan Limit 10 reads
	LogKB      float64 `json:"log_kb"`      // log written per invocation (START/END/REPORT + the handler's lines)
	Pollers    int     `json:"pollers"`     // SQS event source mapping pollers on an idle queue
	PollSecs   float64 `json:"poll_seconds"`
	Uploads    int     `json:"uploads"` // test files uploaded doing the lab once
	Invokes    int     `json:"invokes"` // manual invokes of the event processor doing the lab once
}

// DefaultAssumptions are the lab's settings (arm64, 256 MB) and typical
// sizes of its payloads and logs.
func DefaultAssumptions() Assumptions {
	return Assumptions{Arch: "arm64", MemoryMB: 256, DurationMS: 200, PayloadKB: 1, ItemKB: 0.5, ScanKB: 5, LogKB: 1, Pollers: 5, PollSecs: 20, Uploads: 3, Invokes: 3}
}

// Validate rejects impossible assumptions.
func (a Assumptions) Validate() error {
	switch {
	case a.Arch != "arm64" && a.Arch != "x86_64":
		return fmt.Errorf("arch %q: want arm64 or x86_64", a.Arch)
	case a.MemoryMB < 128 || a.MemoryMB > 10240:
		return fmt.Errorf("memory %d MB: Lambda allows 128 to 10,240", a.MemoryMB)
	case a.DurationMS <= 0 || a.DurationMS > 900000:
		return fmt.Errorf("duration %g ms: want more than 0 and at most 900,000 (15 minutes)", a.DurationMS)
	case a.PayloadKB <= 0 || a.ItemKB <= 0 || a.ScanKB < 0 || a.LogKB < 0:
		return fmt.Errorf("sizes must be positive (payload %g KB, item %g KB, scan %g KB, log %g KB)", a.PayloadKB, a.ItemKB, a.ScanKB, a.LogKB)
	case a.Pollers < 0 || a.PollSecs <= 0 || a.PollSecs > 20:
		return fmt.Errorf("pollers %d every %g s: want pollers >= 0 and a long-poll wait of 1 to 20 s", a.Pollers, a.PollSecs)
	case a.Uploads < 0 || a.Invokes < 0:
		return fmt.Errorf("uploads and invokes must not be negative")
	}
	return nil
}

func (a Assumptions) gbSeconds() float64 { return a.DurationMS / 1000 * float64(a.MemoryMB) / 1024 }

func (a Assumptions) durationItem() string {
	if a.Arch == "x86_64" {
		return LambdaGBSecondX86
	}
	return LambdaGBSecondARM
}

// chunks is how many 64 KB chunks SNS and SQS bill a message as.
func (a Assumptions) chunks() float64 { return math.Max(1, math.Ceil(a.PayloadKB/64)) }

// wru is write request units per row: 1 per started KB.
func (a Assumptions) wru() float64 { return math.Max(1, math.Ceil(a.ItemKB)) }

// rru is read request units per Scan: eventually consistent, half a unit
// per started 4 KB.
func (a Assumptions) rru() float64 { return math.Max(0.5, math.Ceil(a.ScanKB/4)*0.5) }

// Describe lists the assumptions as a learner reads them.
func (a Assumptions) Describe() []string {
	return []string{
		fmt.Sprintf("functions: %s, %d MB, %g ms billed per invocation (%.4g GB-s) [--arch, --memory, --duration-ms]", a.Arch, a.MemoryMB, a.DurationMS, a.gbSeconds()),
		fmt.Sprintf("messages and test uploads: %g KB (%g SNS/SQS chunk) [--payload-kb]; rows %g KB (%g WRU) [--item-kb]; the Scan reads %g KB (%g RRU)", a.PayloadKB, a.chunks(), a.ItemKB, a.wru(), a.ScanKB, a.rru()),
		fmt.Sprintf("logs: %g KB per invocation, never expiring [--log-kb]", a.LogKB),
		fmt.Sprintf("the SQS event source mapping: %d pollers long-polling every %g s while idle (%s requests a day) [--pollers]", a.Pollers, a.PollSecs, num(float64(a.Pollers)*86400/a.PollSecs)),
		fmt.Sprintf("the schedule: rate(5 minutes), %d runs a day, each: event processor + Scan + Publish + SQS delivery + receive/delete + queue processor + PutItem", RunsPerHour*24),
		fmt.Sprintf("doing the lab once: %d test uploads [--uploads], %d manual invokes through the chain [--invokes], one SNS test message, the guide's raw test message (%d failed receives, then the DLQ), ~%d S3 LIST, %d SQS and %d read units of checks", a.Uploads, a.Invokes, poisonReceives, checkListCalls, checkSQSCalls, checkScanReads),
		fmt.Sprintf("a month is %d hours", HoursPerMonth),
	}
}

// Line is one priced quantity of one resource.
type Line struct {
	Resource string  `json:"resource"` // "Lambda function event-to-sns-processor"
	Item     string  `json:"item"`     // price table key
	What     string  `json:"what"`     // "requests", "duration"
	Quantity float64 `json:"quantity"`
	Unit     string  `json:"unit"`
	Price    Price   `json:"price"`
	ListUSD  float64 `json:"list_usd"`
}

// FreeUse is how much of one always-free allowance a scenario uses.
type FreeUse struct {
	Allowance string  `json:"allowance"` // free table key
	Used      float64 `json:"used"`
	Free      float64 `json:"free"`
	SavedUSD  float64 `json:"saved_usd"`
}

// Estimate is one scenario.
type Estimate struct {
	Scenario string    `json:"scenario"` // once, hours, day, month
	Title    string    `json:"title"`
	Hours    float64   `json:"hours"`
	Lines    []Line    `json:"lines"`
	ListUSD  float64   `json:"list_usd"`
	FreeUse  []FreeUse `json:"free_use,omitempty"`
	BillUSD  float64   `json:"likely_bill_usd"`
}

type builder struct {
	p     Prices
	lines []Line
}

func (b *builder) add(resource, item, what string, qty float64) {
	if qty == 0 {
		return
	}
	pr := b.p.Get(item)
	b.lines = append(b.lines, Line{Resource: resource, Item: item, What: what, Quantity: qty, Unit: pr.Unit, Price: pr, ListUSD: pr.Of(qty)})
}

// finish totals the lines and applies the always-free allowances (the whole
// monthly allowance, assuming nothing else in the account uses it).
func (b *builder) finish(scenario, title string, hours float64) Estimate {
	e := Estimate{Scenario: scenario, Title: title, Hours: hours, Lines: b.lines}
	used := map[string]float64{}
	for _, l := range b.lines {
		e.ListUSD += l.ListUSD
		used[freeKey(l.Item)] += l.Quantity
	}
	free := Free()
	left := map[string]float64{}
	for k, v := range free {
		left[k] = v
	}
	saved := map[string]float64{}
	for _, l := range b.lines {
		k := freeKey(l.Item)
		covered := math.Min(l.Quantity, left[k])
		left[k] -= covered
		saved[k] += l.Price.Of(covered)
	}
	var keys []string
	for k := range used {
		if _, ok := free[k]; ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var totalSaved float64
	for _, k := range keys {
		e.FreeUse = append(e.FreeUse, FreeUse{Allowance: k, Used: used[k], Free: free[k], SavedUSD: saved[k]})
		totalSaved += saved[k]
	}
	e.BillUSD = math.Max(0, e.ListUSD-totalSaved)
	return e
}

func fn(name string) string       { return "Lambda function " + name }
func tableRes(name string) string { return "DynamoDB table " + name }

// Once is doing the lab once: the test uploads and invocations, the test
// messages and the checks (the standing cost of the hours deployed is
// Standing's).
func Once(p Prices, a Assumptions, n lab.Names) Estimate {
	b := &builder{p: p}
	inv := a.gbSeconds()
	up, iv := float64(a.Uploads), float64(a.Invokes)
	bucket := "S3 bucket " + bucketLabel(n)
	b.add(bucket, S3Put, "test uploads and listings (PUT, LIST)", up+checkListCalls)
	b.add(bucket, S3Get, "the s3 processor reads each upload (GET)", up)
	b.add(fn(n.S3Function), LambdaRequests, "invocations, one per upload", up)
	b.add(fn(n.S3Function), a.durationItem(), "duration", up*inv)
	b.add(fn(n.EventFunction), LambdaRequests, "manual invokes", iv)
	b.add(fn(n.EventFunction), a.durationItem(), "duration", iv*inv)
	b.add(tableRes(n.Table), DynamoDBReads, "the event processor's Scans and the checks' reads", iv*a.rru()+checkScanReads)
	b.add("SNS topic "+n.Topic, SNSPublishes, "the invokes' summaries and one test message", (iv+1)*a.chunks())
	b.add("SNS topic "+n.Topic, SNSDeliveries, "to the queue", iv+1)
	sqsReq := (iv*2+2)*a.chunks() + (1+poisonReceives)*a.chunks() + checkSQSCalls
	b.add("SQS queue "+n.Queue, SQSRequests, "receives and deletes, the raw test message, checks", sqsReq)
	b.add(fn(n.QueueFunction), LambdaRequests, "invocations (the raw test message fails 5 times)", iv+poisonReceives)
	b.add(fn(n.QueueFunction), a.durationItem(), "duration", (iv+poisonReceives)*inv)
	b.add(tableRes(n.Table), DynamoDBWrites, "rows: one per upload, one summary per invoke", (up+iv)*a.wru())
	invocations := up + 2*iv + poisonReceives
	b.add("log groups /aws/lambda/*", LogsIngestion, "log ingestion", invocations*a.LogKB/kbPerGB)
	return b.finish("once", "doing the lab once", 0)
}

// Standing is the cost of the lab staying deployed for hours: the schedule
// driving the chain every five minutes, the mapping polling the queue, and
// storage growing (the average over the period is half of what accumulates,
// on top of the test uploads).
func Standing(p Prices, a Assumptions, n lab.Names, hours float64, scenario, title string) Estimate {
	b := &builder{p: p}
	runs := hours * RunsPerHour
	inv := a.gbSeconds()
	months := hours / HoursPerMonth
	b.add("EventBridge rule "+n.Rule, EventsScheduled, "the rule firing every five minutes", runs)
	b.add(fn(n.EventFunction), LambdaRequests, "scheduled invocations", runs)
	b.add(fn(n.EventFunction), a.durationItem(), "duration", runs*inv)
	b.add(tableRes(n.Table), DynamoDBReads, "one Scan per run", runs*a.rru())
	b.add("SNS topic "+n.Topic, SNSPublishes, "one summary per run", runs*a.chunks())
	b.add("SNS topic "+n.Topic, SNSDeliveries, "to the queue", runs)
	b.add("SQS queue "+n.Queue, SQSRequests, "the mapping's long polls while idle", hours*3600/a.PollSecs*float64(a.Pollers))
	b.add("SQS queue "+n.Queue, SQSRequests, "receive and delete per run", runs*2*a.chunks())
	b.add(fn(n.QueueFunction), LambdaRequests, "invocations, one per run", runs)
	b.add(fn(n.QueueFunction), a.durationItem(), "duration", runs*inv)
	b.add(tableRes(n.Table), DynamoDBWrites, "one summary row per run", runs*a.wru())
	b.add(tableRes(n.Table), DynamoDBStorage, "rows accumulating", runs*a.ItemKB/2/kbPerGB*months)
	ingested := runs * 2 * a.LogKB / kbPerGB
	b.add("log groups /aws/lambda/*", LogsIngestion, "log ingestion", ingested)
	b.add("log groups /aws/lambda/*", LogsStorage, "logs accumulating (never expire)", ingested/2*months)
	b.add("S3 bucket "+bucketLabel(n), S3Storage, "the test uploads (every version is kept)", float64(a.Uploads)*a.PayloadKB/kbPerGB*months)
	return b.finish(scenario, title, hours)
}

func bucketLabel(n lab.Names) string {
	if n.Bucket != "" {
		return n.Bucket
	}
	return n.BucketPrefix + "<account>-<time>"
}

// Report is everything `slab cost` shows; its JSON form is documented in
// README.md ("slab cost --format json").
type Report struct {
	Schema      int                `json:"schema"`
	Target      string             `json:"target,omitempty"`
	Region      string             `json:"region"`
	Prices      Prices             `json:"prices"`
	Assumptions Assumptions        `json:"assumptions"`
	Free        map[string]float64 `json:"free_allowances"`
	Estimates   []Estimate         `json:"estimates"`
	Usage       *Usage             `json:"usage,omitempty"`
	Notes       []string           `json:"notes"`
}

// Build prices every scenario: once, the hours deployed, a day, a month.
func Build(p Prices, a Assumptions, n lab.Names, hours float64) Report {
	r := Report{Schema: 1, Region: p.Region, Prices: p, Assumptions: a, Free: Free()}
	r.Estimates = []Estimate{
		Once(p, a, n),
		Standing(p, a, n, hours, "hours", fmt.Sprintf("deployed for %s", hoursText(hours))),
		Standing(p, a, n, 24, "day", "left running for a day"),
		Standing(p, a, n, HoursPerMonth, "month", fmt.Sprintf("left running for a month (%d h)", HoursPerMonth)),
	}
	r.Notes = append(append(append([]string{}, p.Notes...), TableNotes()...), FreeNotes()...)
	return r
}

// Find returns the estimate of a scenario.
func (r Report) Find(scenario string) *Estimate {
	for i := range r.Estimates {
		if r.Estimates[i].Scenario == scenario {
			return &r.Estimates[i]
		}
	}
	return nil
}

func hoursText(h float64) string {
	if h == 1 {
		return "1 hour"
	}
	return fmt.Sprintf("%g hours", h)
}
