package sandbox

import (
	"context"
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// The store's benchmarks: a durable sandbox (a data directory, so every
// acknowledged write is fsynced) driven over HTTP by the real SDK, one
// caller and 16 at once. bench/storebench runs the same workloads against
// slab binaries, to compare two builds side by side.

func benchSandbox(b *testing.B) (*dynamodb.Client, *sqs.Client, string) {
	b.Helper()
	srv, err := Start(Options{Addr: "127.0.0.1:0", DataDir: b.TempDir(), TimingScale: 0.001}) // a new table is ACTIVE at once
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	cfg := cfgFor(srv.URL(), "test")
	db, q := dynamodb.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	ctx := context.Background()
	if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("bench"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		b.Fatal(err)
	}
	if err := dynamodb.NewTableExistsWaiter(db).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("bench")}, time.Minute); err != nil {
		b.Fatal(err)
	}
	out, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("bench")})
	if err != nil {
		b.Fatal(err)
	}
	return db, q, aws.ToString(out.QueueUrl)
}

func benchItem(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"id":      &types.AttributeValueMemberS{Value: id},
		"payload": &types.AttributeValueMemberS{Value: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
	}
}

// runWays runs op sequentially and from 16 goroutines.
func runWays(b *testing.B, op func(i int64) error) {
	for _, ways := range []int{1, 16} {
		b.Run(fmt.Sprintf("%d-way", ways), func(b *testing.B) {
			var n atomic.Int64
			b.SetParallelism((ways + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
			if ways == 1 {
				for b.Loop() {
					if err := op(n.Add(1)); err != nil {
						b.Fatal(err)
					}
				}
				return
			}
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := op(n.Add(1)); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

func BenchmarkStorePutItem(b *testing.B) {
	db, _, _ := benchSandbox(b)
	ctx := context.Background()
	runWays(b, func(i int64) error {
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("bench"), Item: benchItem(strconv.FormatInt(i, 10))})
		return err
	})
}

func BenchmarkStoreSendMessage(b *testing.B) {
	_, q, url := benchSandbox(b)
	ctx := context.Background()
	runWays(b, func(i int64) error {
		_, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("message " + strconv.FormatInt(i, 10))})
		return err
	})
}

// BenchmarkStoreReadsUnderWrites reports p50/p95/max of GetItem, Scan and
// ReceiveMessage while 16 writers put items and send messages.
func BenchmarkStoreReadsUnderWrites(b *testing.B) {
	db, q, url := benchSandbox(b)
	ctx := context.Background()
	for i := range 100 {
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("bench"), Item: benchItem("small-" + strconv.Itoa(i))}); err != nil {
			b.Fatal(err)
		}
	}
	reads := []struct {
		name string
		op   func() error
	}{
		{"GetItem", func() error {
			_, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("bench"), Key: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "small-7"}}})
			return err
		}},
		{"Scan", func() error {
			_, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("bench"), Limit: aws.Int32(100)})
			return err
		}},
		{"ReceiveMessage", func() error {
			_, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, VisibilityTimeout: 30})
			return err
		}},
	}
	for _, rd := range reads {
		b.Run(rd.name, func(b *testing.B) {
			stop := make(chan struct{})
			var wg sync.WaitGroup
			var seq atomic.Int64
			for w := range 16 {
				wg.Go(func() {
					for {
						select {
						case <-stop:
							return
						default:
						}
						i := seq.Add(1)
						if w%2 == 0 {
							_, _ = db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("bench"), Item: benchItem("w-" + strconv.FormatInt(i, 10))})
						} else {
							_, _ = q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("m")})
						}
					}
				})
			}
			var ds []time.Duration
			for b.Loop() {
				t0 := time.Now()
				if err := rd.op(); err != nil {
					b.Fatal(err)
				}
				ds = append(ds, time.Since(t0))
			}
			close(stop)
			wg.Wait()
			sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
			b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(ds[len(ds)*95/100].Microseconds())/1000, "p95-ms")
			b.ReportMetric(float64(ds[len(ds)-1].Microseconds())/1000, "max-ms")
		})
	}
}
