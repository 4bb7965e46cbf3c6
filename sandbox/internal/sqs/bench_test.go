package sqs_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// BenchmarkSendReceiveDelete measures one SendMessage + ReceiveMessage +
// DeleteMessage round trip over HTTP with the real SDK, alone and with 16
// clients at once (each on its own queue, so a receive finds its own send).
func BenchmarkSendReceiveDelete(b *testing.B) {
	cycle := func(b *testing.B, cli *sqs.Client, url string) {
		if _, err := cli.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(`{"id":42,"kind":"order"}`)}); err != nil {
			b.Fatal(err)
		}
		out, err := cli.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 1})
		if err != nil {
			b.Fatal(err)
		}
		if len(out.Messages) != 1 {
			b.Fatalf("received %d messages", len(out.Messages))
		}
		if _, err := cli.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: out.Messages[0].ReceiptHandle}); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("sequential", func(b *testing.B) {
		f := start(b, false)
		url := f.create(b, "bench", nil)
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			cycle(b, f.cli, url)
		}
	})
	b.Run("concurrent16", func(b *testing.B) {
		f := start(b, false)
		urls := make(chan string, 64)
		for i := range 64 {
			urls <- f.create(b, "bench-"+string(rune('a'+i%26))+string(rune('a'+i/26)), nil)
		}
		b.ReportAllocs()
		// RunParallel starts parallelism x GOMAXPROCS goroutines.
		b.SetParallelism(max(1, 16/runtimeProcs()))
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			url := <-urls
			for pb.Next() {
				cycle(b, f.cli, url)
			}
		})
	})
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }
