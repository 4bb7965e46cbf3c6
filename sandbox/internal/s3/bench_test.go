package s3_test

import (
	"bytes"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// BenchmarkPutObject1KB measures PutObject of 1 KiB through HTTP with the
// real SDK (CRC32 computed and verified), one caller and 16 at once.
func BenchmarkPutObject1KB(b *testing.B) {
	e := start(b)
	c := e.cli()
	mkBucket(b, c, "bench")
	body := bytes.Repeat([]byte("0123456789abcdef"), 64)
	b.Run("sequential", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		i := 0
		for b.Loop() {
			i++
			if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bench"), Key: aws.String(fmt.Sprintf("seq/%d", i)), Body: bytes.NewReader(body)}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel16", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.SetParallelism((16 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
		var n atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				key := fmt.Sprintf("par/%d", n.Add(1))
				if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bench"), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
