package sandbox

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

const sig = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/%s/aws4_request, SignedHeaders=host, Signature=0"

// rawRequest sends head (and body) on a fresh connection and returns the
// status line and body of the answer, or an error if none came by the
// deadline: the deadline guards against a hang, it measures nothing.
func rawRequest(t *testing.T, addr, head, body string) (string, string, error) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, head+body); err != nil {
		return "", "", err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	// Lambda's REST-JSON errors carry their code in a header.
	return resp.Status, resp.Header.Get("X-Amzn-Errortype") + " " + string(b), nil
}

func startPlain(t *testing.T) *Server {
	t.Helper()
	srv, err := Start(Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// The issue's `Content-Length: 999999999999999999` with a 2-byte body hung;
// every service answers its own error at once, without reading the body.
func TestOversizedContentLengthAnsweredAtOnce(t *testing.T) {
	srv := startPlain(t)
	addr := strings.TrimPrefix(srv.URL(), "http://")
	tests := []struct {
		service, path, extra string
		status, code         string
	}{
		{"s3", "/bucket/key", "", "400 Bad Request", "<Code>EntityTooLarge</Code>"},
		{"lambda", "/2015-03-31/functions/f/invocations", "", "413 Request Entity Too Large", "RequestEntityTooLargeException"},
		{"dynamodb", "/", "X-Amz-Target: DynamoDB_20120810.PutItem\r\nContent-Type: application/x-amz-json-1.0\r\n", "413 Request Entity Too Large", "RequestEntityTooLargeException"},
		{"sqs", "/", "Content-Type: application/x-www-form-urlencoded\r\n", "413 Request Entity Too Large", "<Code>RequestEntityTooLargeException</Code>"},
		{"iam", "/", "Content-Type: application/x-www-form-urlencoded\r\n", "413 Request Entity Too Large", "<Code>RequestEntityTooLargeException</Code>"},
	}
	for _, tt := range tests {
		t.Run(tt.service, func(t *testing.T) {
			head := fmt.Sprintf("PUT %s HTTP/1.1\r\nHost: %s\r\nAuthorization: "+sig+"\r\n%sContent-Length: 999999999999999999\r\n\r\n", tt.path, addr, tt.service, tt.extra)
			status, body, err := rawRequest(t, addr, head, "{}")
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			if status != tt.status || !strings.Contains(body, tt.code) {
				t.Errorf("got %s %s, want %s with %s", status, body, tt.status, tt.code)
			}
		})
	}
	// One byte over S3's 5 GB single-PUT limit is refused from the
	// Content-Length alone, with the size S3 allows.
	head := fmt.Sprintf("PUT /bucket/key HTTP/1.1\r\nHost: %s\r\nAuthorization: "+sig+"\r\nContent-Length: %d\r\n\r\n", addr, "s3", int64(5)<<30+1)
	status, body, err := rawRequest(t, addr, head, "ab")
	if err != nil || status != "400 Bad Request" || !strings.Contains(body, "<MaxSizeAllowed>5368709120</MaxSizeAllowed>") {
		t.Errorf("5 GB + 1 byte PutObject: %s %s %v", status, body, err)
	}
}

// A body that declares its size honestly but stops arriving is cut off
// after the body-read timeout instead of holding the connection.
func TestStalledBodyIsCutOff(t *testing.T) {
	old := core.BodyReadTimeout
	core.BodyReadTimeout = 200 * time.Millisecond
	t.Cleanup(func() { core.BodyReadTimeout = old })
	srv := startPlain(t)
	addr := strings.TrimPrefix(srv.URL(), "http://")
	// A well-formed, current signature: the body is read before the
	// signature over its hash can be checked.
	now := time.Now().UTC()
	head := fmt.Sprintf("POST / HTTP/1.1\r\nHost: %s\r\nAuthorization: "+strings.Replace(sig, "20260101", now.Format("20060102"), 1)+"\r\nX-Amz-Date: "+now.Format("20060102T150405Z")+"\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: 100\r\n\r\n", addr, "dynamodb")
	status, body, err := rawRequest(t, addr, head, "{")
	if err != nil || !strings.HasPrefix(status, "400") || !strings.Contains(body, "IncompleteBody") {
		t.Errorf("stalled body: %s %s %v", status, body, err)
	}
}

// 3,000 slow connections from one address were all held for 90 s. Beyond
// the per-client cap each is answered 503 and closed at once, and those
// within it are closed when their headers do not arrive in time.
func TestSlowConnectionsAreNotHeld(t *testing.T) {
	old := readHeaderTimeout
	readHeaderTimeout = 300 * time.Millisecond
	t.Cleanup(func() { readHeaderTimeout = old })
	srv := startPlain(t)
	addr := strings.TrimPrefix(srv.URL(), "http://")
	n := 3000
	if testing.Short() {
		n = 600
	}
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("after %d connections: %v", len(conns), err)
		}
		_, _ = io.WriteString(c, "GET /_slab/health HTTP/1.1\r\nHost: x\r\n") // never finished
		conns = append(conns, c)
	}
	refused, closed := 0, 0
	for _, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		b, err := io.ReadAll(c)
		switch {
		case strings.HasPrefix(string(b), "HTTP/1.1 503"):
			refused++
		case err == nil:
			closed++ // EOF: the server gave up on the headers
		default:
			t.Fatalf("connection held: %v (%d bytes)", err, len(b))
		}
	}
	// Connections whose header timeout has passed free their places, so
	// more than the cap may be taken in turn; none is held.
	if refused == 0 || refused+closed != n {
		t.Errorf("%d refused and %d closed of %d", refused, closed, n)
	}
	t.Logf("%d refused at once, %d closed after the header timeout", refused, closed)
	// The cap is per open connection: once they are gone, the client is
	// served again.
	status, _, err := rawRequest(t, addr, "GET /_slab/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "")
	if err != nil || !strings.HasPrefix(status, "200") {
		t.Errorf("after the slow connections closed: %s %v", status, err)
	}
}

// A lock whose pid is alive but belongs to a process that started at
// another time (the pid was reused after the sandbox died) is stale; one
// whose pid and start time match a live process is not.
func TestLockWithReusedPidIsStale(t *testing.T) {
	live := os.Getppid()
	start := processStart(live)
	if start == "" {
		t.Skip("process start times are not known on " + runtime.GOOS + "; the lock falls back to the pid")
	}
	dir := t.TempDir()
	write := func(start string) {
		b, _ := json.Marshal(lockInfo{PID: live, Start: start, URL: "http://127.0.0.1:1"})
		if err := os.WriteFile(filepath.Join(dir, lockName), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(start)
	if _, err := Start(Options{Addr: "127.0.0.1:0", DataDir: dir}); !errors.Is(err, ErrLocked) {
		t.Fatalf("a live owner's lock: %v, want ErrLocked", err)
	}
	write(start + "1")
	s, err := Start(Options{Addr: "127.0.0.1:0", DataDir: dir})
	if err != nil {
		t.Fatalf("a reused pid's lock blocked start-up: %v", err)
	}
	defer s.Close()
	var info lockInfo
	b, _ := os.ReadFile(filepath.Join(dir, lockName))
	if json.Unmarshal(b, &info) != nil || info.PID != os.Getpid() || info.Start != processStart(os.Getpid()) {
		t.Errorf("new lock %s does not name this process and its start", b)
	}
}
