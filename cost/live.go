package cost

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
)

// PriceList is the AWS Price List API's GetProducts (in us-east-1), as the
// caller implements it: the products matching TERM_MATCH filters, each a
// JSON document of the price list format.
type PriceList interface {
	GetProducts(ctx context.Context, serviceCode string, filters map[string]string) ([]string, error)
}

// liveSpec says how to find one item in the price list. Prices come per
// unit; per scales them to the table's unit (per 1M requests).
type liveSpec struct {
	item    string
	service string
	filters map[string]string
	units   []string // accepted price-dimension units
	per     float64
}

// usagePrefix is the usage-type prefix of a region in the price list.
var usagePrefix = map[string]string{"us-east-1": "USE1", "us-west-2": "USW2", "eu-west-1": "EU", "eu-central-1": "EUC1", "ap-southeast-2": "APS2"}

func liveSpecs(region string) []liveSpec {
	pre := usagePrefix[region]
	specs := []liveSpec{
		{LambdaRequests, "AWSLambda", map[string]string{"group": "AWS-Lambda-Requests"}, []string{"Requests", "Request"}, 1e6},
		{LambdaGBSecondX86, "AWSLambda", map[string]string{"group": "AWS-Lambda-Duration"}, []string{"Lambda-GB-Second", "GB-Seconds", "Second"}, 1},
		{LambdaGBSecondARM, "AWSLambda", map[string]string{"group": "AWS-Lambda-Duration-ARM"}, []string{"Lambda-GB-Second", "GB-Seconds", "Second"}, 1},
		{S3Storage, "AmazonS3", map[string]string{"storageClass": "General Purpose", "volumeType": "Standard"}, []string{"GB-Mo"}, 1},
		{S3Put, "AmazonS3", map[string]string{"group": "S3-API-Tier1"}, []string{"Requests"}, 1000},
		{S3Get, "AmazonS3", map[string]string{"group": "S3-API-Tier2"}, []string{"Requests"}, 1000},
		{DynamoDBWrites, "AmazonDynamoDB", map[string]string{"productFamily": "Amazon DynamoDB PayPerRequest Throughput", "group": "DDB-WriteUnits"}, []string{"WriteRequestUnits"}, 1e6},
		{DynamoDBReads, "AmazonDynamoDB", map[string]string{"productFamily": "Amazon DynamoDB PayPerRequest Throughput", "group": "DDB-ReadUnits"}, []string{"ReadRequestUnits"}, 1e6},
		{DynamoDBStorage, "AmazonDynamoDB", map[string]string{"productFamily": "Database Storage", "volumeType": "Amazon DynamoDB - Indexed DataStore"}, []string{"GB-Mo"}, 1},
		{SNSPublishes, "AmazonSNS", map[string]string{"productFamily": "API Request"}, []string{"Requests"}, 1e6},
		{SQSRequests, "AWSQueueService", map[string]string{"queueType": "Standard"}, []string{"Requests"}, 1e6},
	}
	if pre != "" {
		specs = append(specs,
			liveSpec{LogsIngestion, "AmazonCloudWatch", map[string]string{"usagetype": pre + "-DataProcessing-Bytes"}, []string{"GB"}, 1},
			liveSpec{LogsStorage, "AmazonCloudWatch", map[string]string{"usagetype": pre + "-TimedStorage-ByteHrs"}, []string{"GB-Mo"}, 1},
		)
	}
	for i := range specs {
		specs[i].filters["regionCode"] = region
	}
	return specs
}

// product is the part of a price list document we read.
type product struct {
	Product struct {
		Attributes map[string]string `json:"attributes"`
	} `json:"product"`
	Terms struct {
		OnDemand map[string]struct {
			PriceDimensions map[string]struct {
				Unit         string            `json:"unit"`
				BeginRange   string            `json:"beginRange"`
				PricePerUnit map[string]string `json:"pricePerUnit"`
				Description  string            `json:"description"`
			} `json:"priceDimensions"`
		} `json:"OnDemand"`
	} `json:"terms"`
}

// firstTierPrice is the lowest-range non-zero USD price among products:
// the free tiers (0 to 1M SQS requests, 0 to 25 GB of DynamoDB storage) are
// price dimensions at $0, which the allowances already account for.
func firstTierPrice(docs []string, units []string) (float64, bool) {
	type dim struct{ begin, usd float64 }
	var dims []dim
	for _, d := range docs {
		var p product
		if json.Unmarshal([]byte(d), &p) != nil {
			continue
		}
		for _, term := range p.Terms.OnDemand {
			for _, pd := range term.PriceDimensions {
				if !containsFold(units, pd.Unit) {
					continue
				}
				usd, err := strconv.ParseFloat(pd.PricePerUnit["USD"], 64)
				if err != nil || usd <= 0 {
					continue
				}
				begin, _ := strconv.ParseFloat(pd.BeginRange, 64)
				dims = append(dims, dim{begin, usd})
			}
		}
	}
	if len(dims) == 0 {
		return 0, false
	}
	sort.Slice(dims, func(i, j int) bool {
		if dims[i].begin != dims[j].begin {
			return dims[i].begin < dims[j].begin
		}
		return dims[i].usd > dims[j].usd
	})
	return dims[0].usd, true
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Refresh replaces the table's prices with the Price List API's where it
// finds them. A live price more than four times off the table's is
// rejected (a filter matched the wrong product) and the table's kept; every
// fallback is a note, so the learner knows which figures are live.
func Refresh(ctx context.Context, pl PriceList, p Prices) (Prices, []string) {
	out := p
	out.Items = map[string]Price{}
	for k, v := range p.Items {
		out.Items[k] = v
	}
	var notes, live []string
	for _, s := range liveSpecs(p.Region) {
		if err := ctx.Err(); err != nil {
			notes = append(notes, "live prices interrupted; the rest are the table's")
			break
		}
		docs, err := pl.GetProducts(ctx, s.service, s.filters)
		if err != nil {
			notes = append(notes, fmt.Sprintf("%s: the Price List API failed (%v); the table's price (as of %s) is used", s.item, err, p.AsOf))
			continue
		}
		usd, ok := firstTierPrice(docs, s.units)
		if !ok {
			notes = append(notes, fmt.Sprintf("%s: no matching price in the Price List API; the table's price (as of %s) is used", s.item, p.AsOf))
			continue
		}
		old := p.Items[s.item]
		if old.Per == 0 {
			old.Per = s.per
		}
		v := usd * old.Per // the list prices per unit; the table per 1M, per 1,000 or per unit
		if old.USD > 0 && (v > old.USD*4 || v < old.USD/4) {
			notes = append(notes, fmt.Sprintf("%s: the Price List API says %s per %g, far from the table's %s; the table's is used", s.item, trimFloat(v), old.Per, trimFloat(old.USD)))
			continue
		}
		old.USD = v
		out.Items[s.item] = old
		live = append(live, s.item)
	}
	if len(live) > 0 {
		out.Live = true
		out.LiveItems = live
		out.Source = "AWS Price List API (live) for " + fmt.Sprint(len(live)) + " items; the rest from: " + p.Source
	}
	return out, notes
}
