// Package cost estimates what the lab costs on AWS: for doing it once, for
// the hours it stays deployed, and for a day and a month left running (the
// rate(5 minutes) schedule drives the whole chain 288 times a day, and the
// SQS event source mapping long-polls around the clock). It prices what
// exists in a target now, read through small interfaces the caller
// implements, and can refresh its prices from the AWS Price List API.
//
// Prices come from an embedded, dated table (prices.json) that says where
// each region's figures come from and how sure we are of them. Every
// estimate shows two figures: the list price, and the likely bill after the
// always-free allowances, so a learner sees both what the lab uses and what
// they will probably pay.
//
// The package imports only lab and the standard library; AWS calls go
// through UsageReader and PriceList, implemented by the caller.
package cost

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

//go:embed prices.json
var pricesJSON []byte

// Item keys of the price table.
const (
	LambdaRequests    = "lambda_requests"
	LambdaGBSecondX86 = "lambda_gb_seconds_x86_64"
	LambdaGBSecondARM = "lambda_gb_seconds_arm64"
	S3Storage         = "s3_storage"
	S3Put             = "s3_put"
	S3Get             = "s3_get"
	DynamoDBWrites    = "dynamodb_writes"
	DynamoDBReads     = "dynamodb_reads"
	DynamoDBStorage   = "dynamodb_storage"
	SNSPublishes      = "sns_publishes"
	SNSDeliveries     = "sns_sqs_deliveries"
	SQSRequests       = "sqs_requests"
	LogsIngestion     = "logs_ingestion"
	LogsStorage       = "logs_storage"
	EventsScheduled   = "eventbridge_scheduled"
)

// ItemKeys lists every item of a region's prices.
var ItemKeys = []string{LambdaRequests, LambdaGBSecondX86, LambdaGBSecondARM, S3Storage, S3Put, S3Get, DynamoDBWrites, DynamoDBReads,
	DynamoDBStorage, SNSPublishes, SNSDeliveries, SQSRequests, LogsIngestion, LogsStorage, EventsScheduled}

// freeKey maps an item to its always-free allowance key: both Lambda
// architectures share the 400,000 GB-s.
func freeKey(item string) string {
	switch item {
	case LambdaGBSecondX86, LambdaGBSecondARM:
		return "lambda_gb_seconds"
	}
	return item
}

// Price is USD per Per units.
type Price struct {
	USD  float64 `json:"usd"`
	Per  float64 `json:"per"`
	Unit string  `json:"unit"`
}

// Of prices a quantity.
func (p Price) Of(qty float64) float64 {
	if p.Per == 0 {
		return 0
	}
	return qty / p.Per * p.USD
}

// String is "$0.20 per 1M requests".
func (p Price) String() string {
	if p.USD == 0 {
		return "free"
	}
	per := ""
	switch p.Per {
	case 1:
		per = ""
	case 1000:
		per = "1,000 "
	case 1000000:
		per = "1M "
	default:
		per = fmt.Sprintf("%g ", p.Per)
	}
	return fmt.Sprintf("$%s per %s%s", trimFloat(p.USD), per, p.Unit)
}

// trimFloat prints a price without trailing zeros, but with cents:
// 0.2 -> "0.20", 0.0000133334 -> "0.0000133334".
func trimFloat(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	i := strings.IndexByte(s, '.')
	switch {
	case i < 0:
		return s + ".00"
	case len(s)-i == 2:
		return s + "0"
	}
	return s
}

// Prices are one region's prices with their provenance.
type Prices struct {
	Region    string           `json:"region"`
	Name      string           `json:"name"`
	AsOf      string           `json:"as_of"`
	Source    string           `json:"source"`
	Checked   string           `json:"checked"`
	Confirmed bool             `json:"confirmed"`
	Notes     []string         `json:"notes,omitempty"`
	Items     map[string]Price `json:"prices"`
	// Live is set when Refresh replaced table prices with the Price List
	// API's; LiveItems names the items it replaced.
	Live      bool     `json:"live"`
	LiveItems []string `json:"live_items,omitempty"`
}

// Get returns an item's price (zero when missing).
func (p Prices) Get(item string) Price { return p.Items[item] }

type table struct {
	AsOf      string             `json:"as_of"`
	Currency  string             `json:"currency"`
	Notes     []string           `json:"notes"`
	Free      map[string]float64 `json:"free"`
	FreeNotes []string           `json:"free_notes"`
	Regions   map[string]Prices  `json:"regions"`
}

var tbl = func() table {
	var t table
	if err := json.Unmarshal(pricesJSON, &t); err != nil {
		panic("cost: prices.json: " + err.Error())
	}
	for r, p := range t.Regions {
		p.Region, p.AsOf = r, t.AsOf
		t.Regions[r] = p
	}
	return t
}()

// AsOf is the date of the embedded price table.
func AsOf() string { return tbl.AsOf }

// Regions lists the regions the table covers.
func Regions() []string {
	var rs []string
	for r := range tbl.Regions {
		rs = append(rs, r)
	}
	sort.Strings(rs)
	return rs
}

// Table returns the embedded prices of a region. For a region the table
// does not cover it returns us-east-1's with a note, and ok false.
func Table(region string) (p Prices, ok bool) {
	p, ok = tbl.Regions[region]
	if !ok {
		p = tbl.Regions["us-east-1"]
		p.Notes = append([]string{fmt.Sprintf("The table has no prices for %s (it covers %v); us-east-1's are shown. On --aws, --live reads the region's own prices.", region, Regions())}, p.Notes...)
	}
	items := make(map[string]Price, len(p.Items))
	for k, v := range p.Items {
		items[k] = v
	}
	p.Items = items
	p.Notes = append([]string{}, p.Notes...)
	return p, ok
}

// Free returns the always-free monthly allowances by item key (Lambda
// GB-seconds under "lambda_gb_seconds").
func Free() map[string]float64 {
	out := map[string]float64{}
	for k, v := range tbl.Free {
		out[k] = v
	}
	return out
}

// TableNotes are the notes that apply to every region.
func TableNotes() []string { return append([]string{}, tbl.Notes...) }

// FreeNotes explain the allowances (including the post-2025-07-15 Free plan).
func FreeNotes() []string { return append([]string{}, tbl.FreeNotes...) }
