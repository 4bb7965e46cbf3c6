package awsenv

import (
	"context"
	"net"
	"net/http"
	"sync"
)

// connSet remembers the connections the SDK dialled to a sandbox or an
// endpoint, so that a command can close them when it is done instead of
// leaving them for the server to time out: an in-process sandbox would
// otherwise see, at its shutdown, pooled connections it cannot tell from
// clients about to send a request.
type connSet struct {
	mu sync.Mutex
	m  map[*trackedConn]struct{}
}

// track wraps the transport's dialler. The SDK copies its transport
// whenever it derives a client; every copy keeps this dialler.
func (s *connSet) track(tr *http.Transport) {
	dial := tr.DialContext
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		tc := &trackedConn{Conn: c, set: s}
		s.mu.Lock()
		s.m[tc] = struct{}{}
		s.mu.Unlock()
		return tc, nil
	}
}

func (s *connSet) closeAll() {
	s.mu.Lock()
	conns := make([]*trackedConn, 0, len(s.m))
	for c := range s.m {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

type trackedConn struct {
	net.Conn
	set  *connSet
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.set.mu.Lock()
		delete(c.set.m, c)
		c.set.mu.Unlock()
	})
	return c.Conn.Close()
}

// CloseConnections closes the SDK's connections to a sandbox or endpoint
// target. Call it when the command is done with the target: a request
// still in flight would fail.
func (e *Env) CloseConnections() {
	if e != nil && e.conns != nil {
		e.conns.closeAll()
	}
}
