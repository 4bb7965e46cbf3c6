package testenv

import (
	"bufio"
	"context"
	"net"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Contained runs shell commands a learner pastes, with the real AWS CLI,
// in an environment where nothing can reach AWS unnoticed: AWS_ENDPOINT_URL
// is unset, and every HTTP(S) connection not bound for the sandbox's host
// goes to a trap proxy that records the request and refuses it. A command
// missing --endpoint-url then shows up in Escaped instead of reaching AWS.
type Contained struct {
	t       testing.TB
	Env     []string
	Dir     string
	trap    net.Listener
	mu      sync.Mutex
	escaped []string
}

// NewContained prepares a shell for commands against endpoint (the sandbox
// URL), with awsPath (the AWS CLI v2) first on PATH.
func NewContained(t testing.TB, endpoint, awsPath string) *Contained {
	t.Helper()
	u, err := url.Parse(endpoint)
	if err != nil || u.Hostname() == "" {
		t.Fatalf("endpoint %q: %v", endpoint, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &Contained{t: t, trap: ln, Dir: t.TempDir()}
	t.Cleanup(func() { ln.Close() })
	go c.serveTrap()
	proxy := "http://" + ln.Addr().String()
	c.Env = []string{
		"PATH=" + filepath.Dir(awsPath) + ":/usr/bin:/bin",
		"HOME=" + c.Dir, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
		"AWS_DEFAULT_REGION=us-east-1", "AWS_REGION=us-east-1", "AWS_PAGER=",
		"AWS_CONFIG_FILE=" + filepath.Join(c.Dir, "no-config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(c.Dir, "no-credentials"),
		"AWS_EC2_METADATA_DISABLED=true", "AWS_MAX_ATTEMPTS=1",
		"HTTPS_PROXY=" + proxy, "HTTP_PROXY=" + proxy, "https_proxy=" + proxy, "http_proxy=" + proxy, "ALL_PROXY=" + proxy,
		// Only the sandbox's own host may be reached directly.
		"NO_PROXY=" + u.Hostname(), "no_proxy=" + u.Hostname(),
	}
	return c
}

func (c *Contained) serveTrap() {
	for {
		conn, err := c.trap.Accept()
		if err != nil {
			return
		}
		go func() {
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
			line, _ := bufio.NewReader(conn).ReadString('\n')
			c.mu.Lock()
			c.escaped = append(c.escaped, strings.TrimSpace(line))
			c.mu.Unlock()
			_, _ = conn.Write([]byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
		}()
	}
}

// Run runs script with bash (errors do not stop it: a command failing
// against an empty lab is fine, reaching AWS is not), bounded by timeout.
func (c *Contained) Run(script string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	cmd.Dir, cmd.Env = c.Dir, c.Env
	// The script's own children (aws, sleep, a wait loop) go with it when
	// the time is up: kill the whole process group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Escaped lists the requests that went anywhere but the sandbox.
func (c *Contained) Escaped() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.escaped...)
}
