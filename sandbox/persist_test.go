package sandbox

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The child half of TestAcknowledgedWritesSurviveSIGKILL: a sandbox in its
// own process, so the parent can kill it without any chance to flush.
func TestMain(m *testing.M) {
	if dir := os.Getenv("SLAB_SANDBOX_CHILD_DIR"); dir != "" {
		srv, err := Start(Options{Addr: "127.0.0.1:0", DataDir: dir})
		if err != nil {
			fmt.Println("ERR", err)
			os.Exit(1)
		}
		fmt.Println("URL", srv.URL())
		select {}
	}
	os.Exit(m.Run())
}

func startChild(t *testing.T, dir string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SLAB_SANDBOX_CHILD_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "URL ") {
		_ = cmd.Process.Kill()
		t.Fatalf("child: %q %v", line, err)
	}
	return cmd, strings.TrimSpace(strings.TrimPrefix(line, "URL "))
}

func cfgFor(url, key string) aws.Config {
	return aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url), Credentials: credentials.NewStaticCredentialsProvider(key, "test", "")}
}

func TestAcknowledgedWritesSurviveSIGKILL(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	child, url := startChild(t, dir)
	db := dynamodb.NewFromConfig(cfgFor(url, "test"))
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("persisted"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := dynamodb.NewTableExistsWaiter(db).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("persisted")}, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	// Every acknowledged PutItem must survive a kill that gives the
	// process no chance to flush or compact.
	const n = 200
	for i := range n {
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("persisted"), Item: map[string]types.AttributeValue{
			"id": &types.AttributeValueMemberS{Value: fmt.Sprintf("item-%03d", i)},
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()

	child2, url2 := startChild(t, dir)
	defer func() { _ = child2.Process.Kill(); _ = child2.Wait() }()
	db2 := dynamodb.NewFromConfig(cfgFor(url2, "test"))
	for i := range n {
		out, err := db2.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("persisted"), Key: map[string]types.AttributeValue{
			"id": &types.AttributeValueMemberS{Value: fmt.Sprintf("item-%03d", i)},
		}})
		if err != nil {
			t.Fatal(err)
		}
		if out.Item == nil {
			t.Fatalf("acknowledged write item-%03d lost after SIGKILL", i)
		}
	}
}

// The group-commit variant: 16 writers at once, killed while they are
// still writing. Every PutItem that was acknowledged must be there after
// the restart; the ones in flight at the kill may or may not be.
func TestAcknowledgedConcurrentWritesSurviveSIGKILL(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	child, url := startChild(t, dir)
	db := dynamodb.NewFromConfig(cfgFor(url, "test"))
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("persisted"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := dynamodb.NewTableExistsWaiter(db).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("persisted")}, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	const writers, killAfter = 16, 300
	var mu sync.Mutex
	var acked []string
	killed := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-killed:
					return
				default:
				}
				id := fmt.Sprintf("w%02d-%05d", w, i)
				_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("persisted"), Item: map[string]types.AttributeValue{
					"id": &types.AttributeValueMemberS{Value: id},
				}})
				if err != nil {
					return // in flight at the kill: not acknowledged
				}
				mu.Lock()
				acked = append(acked, id)
				n := len(acked)
				mu.Unlock()
				if n == killAfter {
					once.Do(func() {
						_ = child.Process.Signal(syscall.SIGKILL)
						close(killed)
					})
				}
			}
		})
	}
	wg.Wait()
	_ = child.Wait()

	child2, url2 := startChild(t, dir)
	defer func() { _ = child2.Process.Kill(); _ = child2.Wait() }()
	db2 := dynamodb.NewFromConfig(cfgFor(url2, "test"))
	mu.Lock()
	defer mu.Unlock()
	for _, id := range acked {
		out, err := db2.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("persisted"), Key: map[string]types.AttributeValue{
			"id": &types.AttributeValueMemberS{Value: id},
		}})
		if err != nil {
			t.Fatal(err)
		}
		if out.Item == nil {
			t.Fatalf("acknowledged write %s lost after SIGKILL (%d acknowledged)", id, len(acked))
		}
	}
}

func TestSecondSandboxOnSameDataDirIsRefused(t *testing.T) {
	dir := t.TempDir()
	a, err := Start(Options{Addr: "127.0.0.1:0", DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := New(Options{DataDir: dir}); err == nil || !strings.Contains(err.Error(), a.URL()) {
		t.Fatalf("want a refusal naming %s, got %v", a.URL(), err)
	}
	if url, ok := Running(dir); !ok || url != a.URL() {
		t.Fatalf("Running = %q %v", url, ok)
	}
	a.Close()
	b, err := Start(Options{Addr: "127.0.0.1:0", DataDir: dir})
	if err != nil {
		t.Fatalf("after close: %v", err)
	}
	b.Close()
}

func TestStaleLockIsTakenOver(t *testing.T) {
	dir := t.TempDir()
	// A pid that cannot be alive.
	if err := os.WriteFile(dir+"/"+lockName, []byte(`{"pid": 2147483600, "url": "http://127.0.0.1:1"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Start(Options{Addr: "127.0.0.1:0", DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
}
