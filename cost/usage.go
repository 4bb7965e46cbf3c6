package cost

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"

	"github.com/slab-lab/slab/lab"
)

// UsageReader reads what exists in a target. The caller implements it over
// the SDK (cmd/slab does), so this package stays free of AWS clients;
// tests fake it. A resource that does not exist is found=false, not an
// error.
type UsageReader interface {
	// Buckets lists the account's bucket names (the lab's is found by its
	// prefix and account when the state does not name it).
	Buckets(ctx context.Context) ([]string, error)
	// BucketUsage counts every object version and delete marker, and the
	// bytes the versions hold.
	BucketUsage(ctx context.Context, bucket string) (versions, markers, bytes int64, found bool, err error)
	// TableUsage counts the items (Scan with Select COUNT) and the table's
	// size (DescribeTable, refreshed by AWS about every six hours).
	TableUsage(ctx context.Context, table string) (items, bytes int64, found bool, err error)
	// LogGroupUsage is the group's storedBytes (DescribeLogGroups).
	LogGroupUsage(ctx context.Context, group string) (stored int64, found bool, err error)
	// ReportLines returns up to limit of the group's REPORT lines, one per
	// invocation.
	ReportLines(ctx context.Context, group string, limit int) ([]string, error)
}

// reportLimit bounds the REPORT lines read per function.
const reportLimit = 10000

// Usage is what exists now and what it costs.
type Usage struct {
	Bucket        string     `json:"bucket,omitempty"`
	Versions      int64      `json:"object_versions"`
	DeleteMarkers int64      `json:"delete_markers"`
	BucketBytes   int64      `json:"bucket_bytes"`
	Table         string     `json:"table,omitempty"`
	Items         int64      `json:"items"`
	TableBytes    int64      `json:"table_bytes"`
	LogGroups     []LogUsage `json:"log_groups"`
	// Lines price it: storage per month for what is stored now, and the
	// invocations seen so far.
	Lines         []Line    `json:"lines"`
	StorageUSD    float64   `json:"storage_usd_per_month"`
	InvocationUSD float64   `json:"invocations_usd"`
	FreeUse       []FreeUse `json:"free_use,omitempty"`
	BillUSD       float64   `json:"likely_bill_usd"`
	Notes         []string  `json:"notes,omitempty"`
}

// LogUsage is one function's log group.
type LogUsage struct {
	Function    string  `json:"function"`
	Group       string  `json:"group"`
	Found       bool    `json:"found"`
	StoredBytes int64   `json:"stored_bytes"`
	Invocations int     `json:"invocations"` // REPORT lines seen
	GBSeconds   float64 `json:"gb_seconds"`
	Truncated   bool    `json:"truncated,omitempty"`
}

var reportRE = regexp.MustCompile(`Billed Duration:\s*([0-9.]+)\s*ms\s+Memory Size:\s*([0-9]+)\s*MB`)

// ParseReport reads the billed duration and memory of a Lambda REPORT line:
// "REPORT RequestId: ... Duration: 12.3 ms Billed Duration: 13 ms Memory
// Size: 256 MB Max Memory Used: 40 MB".
func ParseReport(line string) (billedMS float64, memoryMB int, ok bool) {
	m := reportRE.FindStringSubmatch(line)
	if m == nil {
		return 0, 0, false
	}
	ms, err1 := strconv.ParseFloat(m[1], 64)
	mb, err2 := strconv.Atoi(m[2])
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return ms, mb, true
}

// Measure reads what exists in the target and prices it: storage per month
// for what is stored now, and the invocations the logs show so far.
func Measure(ctx context.Context, r UsageReader, n lab.Names, account string, p Prices, a Assumptions) (*Usage, error) {
	u := &Usage{}
	bucket := n.Bucket
	if bucket == "" {
		names, err := r.Buckets(ctx)
		if err != nil {
			return nil, fmt.Errorf("list buckets: %w", err)
		}
		var labs []string
		for _, b := range names {
			if n.IsLabBucket(b, account) {
				labs = append(labs, b)
			}
		}
		sort.Strings(labs)
		if len(labs) > 0 {
			bucket = labs[len(labs)-1]
			if len(labs) > 1 {
				u.Notes = append(u.Notes, fmt.Sprintf("%d lab buckets found; measured the newest, %s", len(labs), bucket))
			}
		}
	}
	if bucket != "" {
		v, m, bytes, found, err := r.BucketUsage(ctx, bucket)
		if err != nil {
			return nil, fmt.Errorf("bucket %s: %w", bucket, err)
		}
		if found {
			u.Bucket, u.Versions, u.DeleteMarkers, u.BucketBytes = bucket, v, m, bytes
		}
	}
	items, tbytes, found, err := r.TableUsage(ctx, n.Table)
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", n.Table, err)
	}
	if found {
		u.Table, u.Items, u.TableBytes = n.Table, items, tbytes
	}
	for _, f := range []string{n.S3Function, n.EventFunction, n.QueueFunction} {
		lu := LogUsage{Function: f, Group: "/aws/lambda/" + f}
		stored, found, err := r.LogGroupUsage(ctx, lu.Group)
		if err != nil {
			return nil, fmt.Errorf("log group %s: %w", lu.Group, err)
		}
		lu.Found, lu.StoredBytes = found, stored
		if found {
			lines, err := r.ReportLines(ctx, lu.Group, reportLimit)
			if err != nil {
				return nil, fmt.Errorf("log group %s: %w", lu.Group, err)
			}
			for _, l := range lines {
				if ms, mb, ok := ParseReport(l); ok {
					lu.Invocations++
					lu.GBSeconds += ms / 1000 * float64(mb) / 1024
				}
			}
			lu.Truncated = len(lines) >= reportLimit
		}
		u.LogGroups = append(u.LogGroups, lu)
	}

	b := &builder{p: p}
	if u.Bucket != "" {
		b.add("S3 bucket "+u.Bucket, S3Storage, "stored now, per month", float64(u.BucketBytes)/(1<<30))
	}
	if u.Table != "" {
		b.add(tableRes(u.Table), DynamoDBStorage, "stored now, per month", float64(u.TableBytes)/(1<<30))
	}
	for _, lu := range u.LogGroups {
		if lu.StoredBytes > 0 {
			b.add("log group "+lu.Group, LogsStorage, "stored now, per month", float64(lu.StoredBytes)/(1<<30))
		}
	}
	storage := len(b.lines)
	for _, lu := range u.LogGroups {
		if lu.Invocations > 0 {
			b.add(fn(lu.Function), LambdaRequests, "invocations seen in the logs", float64(lu.Invocations))
			b.add(fn(lu.Function), a.durationItem(), "billed duration seen in the logs", lu.GBSeconds)
		}
	}
	e := b.finish("usage", "what exists now", 0)
	u.Lines, u.FreeUse, u.BillUSD = e.Lines, e.FreeUse, e.BillUSD
	for i, l := range e.Lines {
		if i < storage {
			u.StorageUSD += l.ListUSD
		} else {
			u.InvocationUSD += l.ListUSD
		}
	}
	u.Notes = append(u.Notes, "DynamoDB's table size is refreshed by AWS about every six hours; log storage is what CloudWatch reports (compressed)")
	return u, nil
}
