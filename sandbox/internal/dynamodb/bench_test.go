package dynamodb_test

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// benchItem is shaped like the lab's S3 processor row.
func benchItem(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"id":          s(id),
		"fileName":    s("uploads/test-data.json"),
		"bucket":      s("lambda-integration-000000000000-abc"),
		"content":     s(`{"message":"Hello from S3","timestamp":"2026-01-01T00:00:00Z","data":{"key1":"value1","key2":"value2"}}`),
		"processedAt": s("2026-01-01T00:00:01.000Z"),
	}
}

// wideClient keeps 16 idle connections: the SDK's default of 10 per host
// would make a 16-way benchmark measure TCP setup instead of the emulator.
func wideClient(f *fixture) *dynamodb.Client {
	return dynamodb.NewFromConfig(f.env.Config, func(o *dynamodb.Options) {
		o.HTTPClient = awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) { tr.MaxIdleConnsPerHost = 16 })
	})
}

// BenchmarkPutItem measures one PutItem over HTTP with the real SDK,
// sequentially and with 16 concurrent clients (b.SetParallelism(16)).
func BenchmarkPutItem(b *testing.B) {
	f := start(b, 0, 0)
	f.hashTable(b, "bench")
	b.Run("sequential", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := f.cli.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("bench"), Item: benchItem(fmt.Sprint("seq-", i%1000))}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel16", func(b *testing.B) {
		var n atomic.Int64
		cli := wideClient(f)
		b.SetParallelism(16)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				id := fmt.Sprint("par-", n.Add(1)%1000)
				if _, err := cli.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("bench"), Item: benchItem(id)}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkGetItem measures one consistent GetItem of a single item over
// HTTP with the real SDK, sequentially and 16-way concurrent.
func BenchmarkGetItem(b *testing.B) {
	f := start(b, 0, 0)
	f.hashTable(b, "bench")
	f.put(b, "bench", benchItem("the-item"))
	get := func(cli *dynamodb.Client) error {
		out, err := cli.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("bench"), Key: map[string]types.AttributeValue{"id": s("the-item")}, ConsistentRead: aws.Bool(true)})
		if err == nil && out.Item == nil {
			err = fmt.Errorf("item missing")
		}
		return err
	}
	b.Run("sequential", func(b *testing.B) {
		for b.Loop() {
			if err := get(f.cli); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel16", func(b *testing.B) {
		cli := wideClient(f)
		b.SetParallelism(16)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := get(cli); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
