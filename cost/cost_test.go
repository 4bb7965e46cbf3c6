package cost

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/slab-lab/slab/lab"
)

func near(got, want float64) bool {
	return math.Abs(got-want) <= 1e-9+1e-6*math.Abs(want)
}

// TestMonthLeftRunning checks the arithmetic of the month left running
// against figures computed by hand, with the default assumptions (arm64,
// 256 MB, 200 ms, 1 KB payloads and logs, 0.5 KB rows, a 5 KB Scan, 5
// pollers every 20 s, 3 test uploads of 1 KB kept).
//
// Both regions share (730 h x 12 runs/h = 8,760 runs; 0.2 s x 0.25 GB =
// 0.05 GB-s per invocation; two invocations per run):
//
//	Lambda requests   2 x 8,760 = 17,520 x $0.20/1M              = $0.003504
//	Lambda duration   17,520 x 0.05 = 876 GB-s x $0.0000133334    = $0.0116800584
//	SNS publishes     8,760 x $0.50/1M                            = $0.00438
//	SQS requests      5 pollers x 3,600/20 x 730 = 657,000 polls
//	                  + 2 x 8,760 receive/delete = 674,520 x $0.40/1M = $0.269808
//	rows stored       8,760 x 0.5 KB / 2 (average) = 2,190 KB = 0.0020885468 GB-month
//	logs ingested     17,520 KB = 0.0167083740 GB; stored 0.0083541870 GB-month
//	uploads stored    3 KB = 0.0000028610 GB-month
//
// us-east-1:
//
//	RRU 8,760 x $0.125/1M = $0.001095; WRU 8,760 x $0.625/1M = $0.005475
//	rows 0.0020885468 x $0.25 = $0.0005221367
//	logs 0.0167083740 x $0.50 = $0.0083541870; 0.0083541870 x $0.03 = $0.0002506256
//	S3 0.0000028610 x $0.023 = $0.0000000658
//	list  = 0.003504 + 0.0116800584 + 0.001095 + 0.005475 + 0.0005221367 + 0.00438
//	      + 0.269808 + 0.0083541870 + 0.0002506256 + 0.0000000658 = $0.3050690735
//	bill  = what no allowance covers: RRU + WRU + S3 = $0.0065700658
//
// eu-central-1:
//
//	RRU 8,760 x $0.1525/1M = $0.0013359; WRU 8,760 x $0.7625/1M = $0.0066795
//	rows 0.0020885468 x $0.306 = $0.0006390953
//	logs 0.0167083740 x $0.63 = $0.0105262756; 0.0083541870 x $0.0324 = $0.0002706757
//	S3 0.0000028610 x $0.0245 = $0.0000000701
//	list  = 0.003504 + 0.0116800584 + 0.0013359 + 0.0066795 + 0.0006390953 + 0.00438
//	      + 0.269808 + 0.0105262756 + 0.0002706757 + 0.0000000701 = $0.3088235751
//	bill  = 0.0013359 + 0.0066795 + 0.0000000701 = $0.0080154701
func TestMonthLeftRunning(t *testing.T) {
	cases := []struct {
		region     string
		list, bill float64
		sqs, ddbW  float64
	}{
		{"us-east-1", 0.3050690735, 0.0065700658, 0.269808, 0.005475},
		{"eu-central-1", 0.3088235751, 0.0080154701, 0.269808, 0.0066795},
	}
	for _, c := range cases {
		t.Run(c.region, func(t *testing.T) {
			p, ok := Table(c.region)
			if !ok {
				t.Fatal("no table")
			}
			r := Build(p, DefaultAssumptions(), lab.DefaultNames(), 1)
			m := r.Find("month")
			if m == nil || m.Hours != 730 {
				t.Fatalf("month: %+v", m)
			}
			if !near(m.ListUSD, c.list) || !near(m.BillUSD, c.bill) {
				t.Errorf("list %.10f bill %.10f, want %.10f and %.10f", m.ListUSD, m.BillUSD, c.list, c.bill)
			}
			var sqs, wru float64
			for _, l := range m.Lines {
				switch l.Item {
				case SQSRequests:
					sqs += l.ListUSD
				case DynamoDBWrites:
					wru += l.ListUSD
				}
			}
			if !near(sqs, c.sqs) || !near(wru, c.ddbW) {
				t.Errorf("sqs %.10f wru %.10f", sqs, wru)
			}
			// The report shows the monthly figure with its assumptions and
			// the table's date.
			var buf bytes.Buffer
			WriteText(&buf, r)
			out := buf.String()
			for _, want := range []string{"as of 2026-11", "left running for a month (730 h)", USD(c.list), USD(c.bill),
				"arm64, 256 MB, 200 ms", "5 pollers long-polling every 20 s", "288 runs a day", "2025-07-15", "657,000 requests"} {
				if !strings.Contains(out, want) {
					t.Errorf("text lacks %q:\n%s", want, out)
				}
			}
			t.Logf("\n%s", out)
		})
	}
}

// TestOnce checks doing the lab once in us-east-1, by hand:
//
//	S3 PUT/LIST 3 uploads + 10 listings = 13 x $0.005/1,000   = $0.000065
//	S3 GET      3 x $0.0004/1,000                             = $0.0000012
//	Lambda      3 (s3) + 3 (event) + 3 + 5 (queue, the raw message 5 times) = 14
//	            requests x $0.20/1M = $0.0000028; 14 x 0.05 = 0.7 GB-s x $0.0000133334 = $0.00000933338
//	RRU         3 Scans + 10 = 13 x $0.125/1M                = $0.000001625
//	SNS         3 + 1 test = 4 x $0.50/1M                     = $0.000002
//	SQS         3 x 2 + 2 (test) + 1 + 5 (raw message) + 10 = 24 x $0.40/1M = $0.0000096
//	WRU         3 + 3 = 6 x $0.625/1M                         = $0.00000375
//	logs        14 KB = 0.0000133514 GB x $0.50               = $0.0000066757
//	list = 0.0000662 + 0.0000028 + 0.00000933338 + 0.000001625 + 0.000002 + 0.0000096
//	     + 0.00000375 + 0.0000066757 = $0.0001019841; bill (S3, RRU, WRU: no allowance) = $0.000071575
func TestOnce(t *testing.T) {
	p, _ := Table("us-east-1")
	e := Once(p, DefaultAssumptions(), lab.DefaultNames())
	if !near(e.ListUSD, 0.0001019841) || !near(e.BillUSD, 0.000071575) {
		t.Fatalf("list %.10f bill %.10f", e.ListUSD, e.BillUSD)
	}
}

func TestAssumptionsChangeTheFigures(t *testing.T) {
	p, _ := Table("us-east-1")
	a := DefaultAssumptions()
	a.Arch, a.MemoryMB, a.DurationMS, a.Pollers = "x86_64", 512, 1000, 0
	m := Standing(p, a, lab.DefaultNames(), 730, "month", "month")
	var gbs float64
	for _, l := range m.Lines {
		if l.Item == LambdaGBSecondX86 {
			gbs += l.Quantity
		}
		if l.Item == LambdaGBSecondARM {
			t.Fatal("arm64 line with --arch x86_64")
		}
	}
	// 17,520 invocations x 1 s x 0.5 GB = 8,760 GB-s.
	if !near(gbs, 8760) {
		t.Fatalf("GB-s %v", gbs)
	}
	bad := DefaultAssumptions()
	bad.Arch = "sparc"
	if bad.Validate() == nil {
		t.Fatal("sparc accepted")
	}
	bad = DefaultAssumptions()
	bad.MemoryMB = 64
	if bad.Validate() == nil {
		t.Fatal("64 MB accepted")
	}
}

func TestTableCoversRegionsWithProvenance(t *testing.T) {
	want := []string{"ap-southeast-2", "eu-central-1", "eu-west-1", "us-east-1", "us-west-2"}
	if got := Regions(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("regions %v", got)
	}
	for _, r := range want {
		p, ok := Table(r)
		if !ok || p.AsOf != "2026-11" || p.Source == "" || p.Checked == "" {
			t.Fatalf("%s: %+v", r, p)
		}
		if !p.Confirmed && len(p.Notes) == 0 {
			t.Errorf("%s is unconfirmed without a note saying so", r)
		}
		for _, k := range ItemKeys {
			if _, ok := p.Items[k]; !ok {
				t.Errorf("%s lacks %s", r, k)
			}
		}
	}
	p, ok := Table("sa-east-1")
	if ok || p.Region != "us-east-1" || !strings.Contains(p.Notes[0], "no prices for sa-east-1") {
		t.Fatalf("fallback: %v %+v", ok, p)
	}
	// us-east-1 is the lab-corrections.md table.
	us, _ := Table("us-east-1")
	for k, v := range map[string]float64{LambdaRequests: 0.20, LambdaGBSecondX86: 0.0000166667, LambdaGBSecondARM: 0.0000133334, S3Storage: 0.023, S3Put: 0.005,
		S3Get: 0.0004, DynamoDBWrites: 0.625, DynamoDBReads: 0.125, DynamoDBStorage: 0.25, SNSPublishes: 0.50, SQSRequests: 0.40, LogsIngestion: 0.50, LogsStorage: 0.03} {
		if us.Items[k].USD != v {
			t.Errorf("us-east-1 %s = %v, want %v", k, us.Items[k].USD, v)
		}
	}
}

func TestParseReport(t *testing.T) {
	ms, mb, ok := ParseReport("REPORT RequestId: 3f1a2b3c-0000-4000-8000-000000000000\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 256 MB\tMax Memory Used: 41 MB\tInit Duration: 98.76 ms")
	if !ok || ms != 13 || mb != 256 {
		t.Fatalf("%v %v %v", ms, mb, ok)
	}
	if _, _, ok := ParseReport("START RequestId: x Version: $LATEST"); ok {
		t.Fatal("START parsed as REPORT")
	}
}

type fakeUsage struct {
	buckets []string
	reports map[string][]string
}

func (f fakeUsage) Buckets(context.Context) ([]string, error) { return f.buckets, nil }
func (f fakeUsage) BucketUsage(_ context.Context, b string) (int64, int64, int64, bool, error) {
	return 12, 2, 2 << 20, true, nil
}
func (f fakeUsage) TableUsage(context.Context, string) (int64, int64, bool, error) {
	return 40, 1 << 20, true, nil
}
func (f fakeUsage) LogGroupUsage(_ context.Context, g string) (int64, bool, error) {
	if strings.HasSuffix(g, "sqs-processor") {
		return 0, false, nil
	}
	return 1 << 30, true, nil
}
func (f fakeUsage) ReportLines(_ context.Context, g string, _ int) ([]string, error) {
	return f.reports[g], nil
}

// TestMeasure prices what exists: 2 MB in the bucket, 1 MB in the table, 1
// GB in each of two log groups, and 3 invocations of 1,000 ms at 256 MB.
//
//	storage per month: 2/1024 GB x $0.023 = $0.0000449219; table 1/1024 GB x $0.25
//	= $0.0002441406; logs 2 GB x $0.03 = $0.06 -> $0.0602890625
//	invocations: 3 x $0.20/1M = $0.0000006; 3 x 0.25 GB-s = 0.75 x $0.0000133334
//	= $0.00001000005 -> $0.00001060005
//	bill: S3 and table storage are not covered (the table's 25 GB is): $0.0000449219
func TestMeasure(t *testing.T) {
	n := lab.DefaultNames()
	rep := "REPORT RequestId: r Duration: 999.1 ms Billed Duration: 1000 ms Memory Size: 256 MB Max Memory Used: 50 MB"
	f := fakeUsage{
		buckets: []string{"lambda-integration-123456789012-1700000000", "lambda-integration-123456789012-1800000000", "lambda-integration-999999999999-1", "other"},
		reports: map[string][]string{"/aws/lambda/" + n.S3Function: {rep, "START RequestId: r", rep}, "/aws/lambda/" + n.EventFunction: {rep}},
	}
	p, _ := Table("us-east-1")
	u, err := Measure(context.Background(), f, n, "123456789012", p, DefaultAssumptions())
	if err != nil {
		t.Fatal(err)
	}
	if u.Bucket != "lambda-integration-123456789012-1800000000" || u.Versions != 12 || u.DeleteMarkers != 2 || u.Items != 40 {
		t.Fatalf("%+v", u)
	}
	if u.LogGroups[0].Invocations != 2 || u.LogGroups[1].Invocations != 1 || u.LogGroups[2].Found {
		t.Fatalf("log groups %+v", u.LogGroups)
	}
	if !near(u.StorageUSD, 0.0602890625) || !near(u.InvocationUSD, 0.00001060005) || !near(u.BillUSD, 0.0000449219) {
		t.Fatalf("storage %.10f invocations %.10f bill %.10f", u.StorageUSD, u.InvocationUSD, u.BillUSD)
	}
	r := Build(p, DefaultAssumptions(), n, 1)
	r.Usage = u
	var buf bytes.Buffer
	WriteText(&buf, r)
	if !strings.Contains(buf.String(), "What exists now") || !strings.Contains(buf.String(), "12 object versions, 2 delete markers") {
		t.Fatalf("%s", buf.String())
	}
}

type fakePriceList struct {
	docs map[string][]string // by item filter "group" or usagetype
	err  error
}

func (f fakePriceList) GetProducts(_ context.Context, service string, filters map[string]string) ([]string, error) {
	if f.err != nil {
		return nil, f.err
	}
	if filters["regionCode"] == "" {
		return nil, errors.New("no region filter")
	}
	key := filters["group"]
	if key == "" {
		key = filters["usagetype"]
	}
	return f.docs[service+"/"+key], nil
}

func doc(unit string, tiers ...[2]string) string {
	dims := map[string]any{}
	for i, t := range tiers {
		dims[string(rune('a'+i))] = map[string]any{"unit": unit, "beginRange": t[0], "pricePerUnit": map[string]string{"USD": t[1]}}
	}
	b, _ := json.Marshal(map[string]any{"product": map[string]any{"attributes": map[string]string{}},
		"terms": map[string]any{"OnDemand": map[string]any{"sku.term": map[string]any{"priceDimensions": dims}}}})
	return string(b)
}

func TestRefreshFromPriceList(t *testing.T) {
	p, _ := Table("us-east-1")
	pl := fakePriceList{docs: map[string][]string{
		// Lambda's ARM duration, tiered: the first tier is the price.
		"AWSLambda/AWS-Lambda-Duration-ARM": {doc("Lambda-GB-Second", [2]string{"0", "0.0000133334"}, [2]string{"7500000000", "0.0000120001"})},
		// Requests at a new price.
		"AWSLambda/AWS-Lambda-Requests": {doc("Requests", [2]string{"0", "0.0000002500"})},
		// SQS with its free tier as a $0 dimension.
		"AWSQueueService/": {doc("Requests", [2]string{"0", "0"}, [2]string{"1000000", "0.0000004"})},
		// A filter that matched the wrong product: 100x off, rejected.
		"AmazonS3/S3-API-Tier1": {doc("Requests", [2]string{"0", "0.0005"})},
	}}
	live, notes := Refresh(context.Background(), pl, p)
	if !live.Live || live.Items[LambdaRequests].USD != 0.25 || live.Items[LambdaGBSecondARM].USD != 0.0000133334 || !near(live.Items[SQSRequests].USD, 0.40) {
		t.Fatalf("%+v", live.Items)
	}
	if live.Items[S3Put].USD != 0.005 {
		t.Fatalf("a wildly different price was taken: %v", live.Items[S3Put])
	}
	joined := strings.Join(notes, "\n")
	if !strings.Contains(joined, "s3_put: the Price List API says") || !strings.Contains(joined, "dynamodb_writes: no matching price") {
		t.Fatalf("notes:\n%s", joined)
	}
	if p.Items[LambdaRequests].USD != 0.20 {
		t.Fatal("Refresh changed the table it was given")
	}
	// When the API fails, every price stays the table's, with a note each.
	same, notes := Refresh(context.Background(), fakePriceList{err: errors.New("AccessDeniedException")}, p)
	if same.Live || len(notes) != len(liveSpecs("us-east-1")) {
		t.Fatalf("%v %d notes", same.Live, len(notes))
	}
}

func TestJSONSchema(t *testing.T) {
	p, _ := Table("us-east-1")
	var buf bytes.Buffer
	if err := WriteJSON(&buf, Build(p, DefaultAssumptions(), lab.DefaultNames(), 2)); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"schema", "region", "prices", "assumptions", "free_allowances", "estimates", "notes"} {
		if _, ok := got[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	est := got["estimates"].([]any)
	if len(est) != 4 || est[1].(map[string]any)["hours"].(float64) != 2 {
		t.Fatalf("estimates %v", est)
	}
	for _, k := range []string{"scenario", "title", "hours", "lines", "list_usd", "likely_bill_usd"} {
		if _, ok := est[3].(map[string]any)[k]; !ok {
			t.Errorf("estimate lacks %q", k)
		}
	}
}
