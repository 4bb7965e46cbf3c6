package cost

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// num prints a quantity for people: 8,760; 876; 0.7; 0.0167.
func num(f float64) string {
	switch {
	case f == math.Trunc(f) && math.Abs(f) < 1e15:
		return commas(int64(f))
	case math.Abs(f) >= 100:
		return commas(int64(math.Round(f)))
	case math.Abs(f) >= 1:
		return strconv.FormatFloat(f, 'f', 1, 64)
	}
	return strconv.FormatFloat(f, 'g', 3, 64)
}

func commas(n int64) string {
	if n < 0 {
		return "-" + commas(-n)
	}
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// USD prints money: cents from a dollar up, four decimals below, and
// "< $0.0001" rather than a misleading $0.0000.
func USD(v float64) string {
	switch {
	case v == 0:
		return "$0.00"
	case v >= 1:
		return fmt.Sprintf("$%.2f", v)
	case v < 0.00005:
		return "< $0.0001"
	}
	return fmt.Sprintf("$%.4f", v)
}

// WriteJSON writes the report as indented JSON.
func WriteJSON(w io.Writer, r Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report for a learner: the scenarios with list price
// and likely bill, the month left running per resource, what exists now,
// the assumptions and the notes.
func WriteText(w io.Writer, r Report) {
	src := "embedded table"
	if r.Prices.Live {
		src = "live, AWS Price List API"
	}
	fmt.Fprintf(w, "What the lab costs in %s (%s): list prices as of %s (%s)\n", r.Region, r.Prices.Name, r.Prices.AsOf, src)
	if r.Target != "" {
		fmt.Fprintf(w, "target: %s\n", r.Target)
	}
	fmt.Fprintf(w, "source: %s\n\n", r.Prices.Source)

	fmt.Fprintf(w, "  %-36s %12s %14s\n", "scenario", "list price", "likely bill*")
	for _, e := range r.Estimates {
		fmt.Fprintf(w, "  %-36s %12s %14s\n", e.Title, USD(e.ListUSD), USD(e.BillUSD))
	}
	fmt.Fprintln(w, "\n  * after the always-free monthly allowances (Lambda 1M requests and 400,000 GB-s, SQS 1M requests,")
	fmt.Fprintln(w, "    SNS 1M publishes, DynamoDB 25 GB storage, CloudWatch Logs 5 GB), if nothing else in the account uses them.")

	if m := r.Find("month"); m != nil {
		fmt.Fprintf(w, "\nLeft running for a month, per resource (prices as of %s):\n", r.Prices.AsOf)
		writeLines(w, m.Lines)
		fmt.Fprintf(w, "  %-90s %10s\n", "total at list price", USD(m.ListUSD))
		for _, f := range m.FreeUse {
			fmt.Fprintf(w, "  %-90s %10s\n", fmt.Sprintf("always free: %s, %s of %s used", allowanceLabel(f.Allowance), num(f.Used), num(f.Free)), "-"+USD(f.SavedUSD))
		}
		fmt.Fprintf(w, "  %-90s %10s\n", "likely bill", USD(m.BillUSD))
	}

	if u := r.Usage; u != nil {
		fmt.Fprintf(w, "\nWhat exists now:\n")
		if u.Bucket != "" {
			fmt.Fprintf(w, "  bucket %s: %s object versions, %s delete markers, %s\n", u.Bucket, commas(u.Versions), commas(u.DeleteMarkers), bytesText(u.BucketBytes))
		} else {
			fmt.Fprintln(w, "  no lab bucket")
		}
		if u.Table != "" {
			fmt.Fprintf(w, "  table %s: %s items, %s\n", u.Table, commas(u.Items), bytesText(u.TableBytes))
		} else {
			fmt.Fprintln(w, "  no lab table")
		}
		for _, lg := range u.LogGroups {
			if !lg.Found {
				fmt.Fprintf(w, "  log group %s: none\n", lg.Group)
				continue
			}
			more := ""
			if lg.Truncated {
				more = " (at least)"
			}
			fmt.Fprintf(w, "  log group %s: %s stored, %d invocations%s seen (%s GB-s)\n", lg.Group, bytesText(lg.StoredBytes), lg.Invocations, more, num(lg.GBSeconds))
		}
		if len(u.Lines) > 0 {
			writeLines(w, u.Lines)
		}
		fmt.Fprintf(w, "  storage: %s per month at list price; invocations so far: %s; likely bill: %s\n", USD(u.StorageUSD), USD(u.InvocationUSD), USD(u.BillUSD))
		for _, n := range u.Notes {
			fmt.Fprintf(w, "  note: %s\n", n)
		}
	}

	fmt.Fprintln(w, "\nAssumptions:")
	for _, a := range r.Assumptions.Describe() {
		fmt.Fprintf(w, "  - %s\n", a)
	}
	fmt.Fprintln(w, "\nNotes:")
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  - %s\n", n)
	}
}

// writeLines prints priced lines grouped by resource, in first-seen order.
func writeLines(w io.Writer, lines []Line) {
	var order []string
	by := map[string][]Line{}
	for _, l := range lines {
		if _, ok := by[l.Resource]; !ok {
			order = append(order, l.Resource)
		}
		by[l.Resource] = append(by[l.Resource], l)
	}
	for _, res := range order {
		fmt.Fprintf(w, "  %s\n", res)
		for _, l := range by[res] {
			desc := fmt.Sprintf("%s %s, %s", num(l.Quantity), shortUnit(l.Item), l.What)
			fmt.Fprintf(w, "      %-62s %-22s %10s\n", desc, shortPrice(l.Item, l.Price), USD(l.ListUSD))
		}
	}
}

// shortUnit is an item's unit in a few letters.
func shortUnit(item string) string {
	switch item {
	case LambdaRequests, SQSRequests:
		return "requests"
	case LambdaGBSecondX86, LambdaGBSecondARM:
		return "GB-s"
	case S3Put, S3Get:
		return "requests"
	case DynamoDBWrites:
		return "WRU"
	case DynamoDBReads:
		return "RRU"
	case S3Storage, DynamoDBStorage, LogsStorage:
		return "GB-month"
	case LogsIngestion:
		return "GB"
	case SNSPublishes:
		return "publishes"
	case SNSDeliveries:
		return "deliveries"
	case EventsScheduled:
		return "events"
	}
	return ""
}

// shortPrice is "$0.20/1M", "$0.0000133334/GB-s", "free".
func shortPrice(item string, p Price) string {
	if p.USD == 0 {
		return "free"
	}
	per := ""
	switch p.Per {
	case 1:
		per = shortUnit(item)
	case 1000:
		per = "1,000"
	case 1000000:
		per = "1M"
	default:
		per = num(p.Per)
	}
	return "$" + trimFloat(p.USD) + "/" + per
}

// allowanceLabel names an always-free allowance.
func allowanceLabel(k string) string {
	switch k {
	case LambdaRequests:
		return "Lambda requests"
	case "lambda_gb_seconds":
		return "Lambda GB-seconds"
	case SQSRequests:
		return "SQS requests"
	case SNSPublishes:
		return "SNS publishes"
	case DynamoDBStorage:
		return "DynamoDB storage, GB-month"
	case LogsIngestion:
		return "Logs ingestion, GB"
	case LogsStorage:
		return "Logs storage, GB-month"
	}
	return k
}

func bytesText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
