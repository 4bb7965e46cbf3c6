package sandbox

import (
	"io"
	"net"
	"net/http"
	"testing"
)

// A connection that never sent a request must not hold Close: the server
// closes it at once instead of letting http.Server.Shutdown count it as
// active for its first 5 seconds (the exit stall of every embedded
// command). The grace for requests in flight is zero here, so a Close that
// merely waited would return with the connection still open: the proof is
// the order of events (the server let go of every connection before Close
// returned), not a time limit.
func TestCloseDropsConnectionsWithoutRequests(t *testing.T) {
	old := shutdownGrace
	shutdownGrace = 0
	t.Cleanup(func() { shutdownGrace = old })

	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	addr := s.ln.Addr().String()

	// One connection that used keep-alive and went idle...
	client := &http.Client{Transport: &http.Transport{}}
	resp, err := client.Get(s.URL() + "/_slab/health")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	// ...and one that never sends anything, as the SDK's pool holds after a
	// dial that lost the race to an idle connection.
	unused, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer unused.Close()
	// The server has accepted it once a request on another connection
	// comes back after it: Serve accepts in order and registers each
	// connection (StateNew) before the next Accept.
	probe, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := probe.Write([]byte("GET /_slab/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(probe); err != nil {
		t.Fatal(err)
	}
	probe.Close()
	if n := s.conns.open(); n < 2 {
		t.Fatalf("the server holds %d connections before Close, want the idle and the unused one", n)
	}

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n := s.conns.open(); n != 0 {
		t.Fatalf("Close returned with %d connections still open", n)
	}
	// The client sees its end closed: EOF, not a request answered or a
	// header timeout.
	if n, err := unused.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("the unused connection read %d bytes, %v; want EOF", n, err)
	}
}
