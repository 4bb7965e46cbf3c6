package sandbox

import (
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Server timeouts. The sandbox listens on a learner's machine where any web
// page can open connections to it, so none may be held forever: headers must
// arrive within ReadHeaderTimeout, a body may not stall for longer than
// core.BodyReadTimeout between reads, and an idle keep-alive connection is
// closed after IdleTimeout. There is no write timeout: a synchronous Invoke
// may legitimately run for the function's whole timeout (up to 15 minutes).
var (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 60 * time.Second
)

const (
	// AWS's front ends refuse headers beyond a few tens of kilobytes.
	maxHeaderBytes = 64 << 10
	// MaxConnsPerClient caps the connections one client address holds at
	// once. The SDKs and the CLI keep a few dozen; thousands from one
	// address are an attack (a page opening slow connections), and each
	// beyond the cap is answered 503 and closed at once.
	maxConnsPerClient = 256
)

func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
}

// perClientListener refuses a client's connection beyond max open at once.
type perClientListener struct {
	net.Listener
	max  int
	mu   sync.Mutex
	open map[string]int
}

func limitPerClient(ln net.Listener, max int) net.Listener {
	return &perClientListener{Listener: ln, max: max, open: map[string]int{}}
}

// overCapResponse tells an HTTP client to back off; the SDKs retry a 503.
var overCapResponse = func() string {
	const msg = "Too many connections from this address to the sandbox\n"
	return "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: " +
		strconv.Itoa(len(msg)) + "\r\n\r\n" + msg
}()

func (l *perClientListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		host := clientHost(c.RemoteAddr())
		l.mu.Lock()
		if l.open[host] >= l.max {
			l.mu.Unlock()
			// A short write deadline: a client that does not read cannot
			// hold the accept loop.
			_ = c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
			_, _ = c.Write([]byte(overCapResponse))
			_ = c.Close()
			continue
		}
		l.open[host]++
		l.mu.Unlock()
		return &countedConn{Conn: c, release: func() { l.release(host) }}, nil
	}
}

func (l *perClientListener) release(host string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[host] <= 1 {
		delete(l.open, host)
		return
	}
	l.open[host]--
}

func clientHost(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}
