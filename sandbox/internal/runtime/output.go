package runtime

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

// maxLine is CloudWatch Logs' largest event (256 KB): a longer line is cut
// into several events, as Lambda does.
const maxLine = 256 * 1024

// output reads a function process's stdout and stderr (one pipe for both,
// so their lines keep the order the process wrote them in) and hands each
// line to a sink.
//
// A line must be attributed to the invocation that printed it. The process
// writes its log lines before it posts the invocation's response, but the
// reader may not have drained the pipe when the response arrives. sync
// writes a marker into the same pipe and waits until the reader meets it:
// everything the process wrote before the response precedes the marker.
type output struct {
	r, w   *os.File
	token  []byte // per-environment marker prefix: "\x00slab-sync-<hex>-"
	onLine func(string)

	mu      sync.Mutex
	seq     uint64
	waiting map[uint64]chan struct{}
	closed  bool
	done    chan struct{} // closed when the reader ends
}

func newOutput(token string, onLine func(string)) (*output, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	o := &output{r: r, w: w, token: []byte("\x00slab-sync-" + token + "-"), onLine: onLine,
		waiting: map[uint64]chan struct{}{}, done: make(chan struct{})}
	go o.read()
	return o, nil
}

func (o *output) read() {
	defer close(o.done)
	var buf []byte
	chunk := make([]byte, 32*1024)
	for {
		n, err := o.r.Read(chunk)
		if n > 0 {
			buf = append(buf, chunk[:n]...)
			buf = o.consume(buf, false)
		}
		if err != nil {
			o.consume(buf, true)
			o.mu.Lock()
			o.closed = true
			for id, ch := range o.waiting {
				close(ch)
				delete(o.waiting, id)
			}
			o.mu.Unlock()
			return
		}
	}
}

// consume emits the complete lines and markers at the front of buf and
// returns what is left (a partial line, or a marker cut by a read). At the
// end of the stream everything left is emitted.
func (o *output) consume(buf []byte, eof bool) []byte {
	for len(buf) > 0 {
		nl := bytes.IndexByte(buf, '\n')
		mk := bytes.Index(buf, o.token)
		if mk >= 0 && (nl < 0 || mk < nl) {
			idStart := mk + len(o.token)
			end := bytes.IndexByte(buf[idStart:], 0)
			if end < 0 && !eof {
				return buf // the marker's end is still in the pipe
			}
			if end >= 0 {
				if id, err := strconv.ParseUint(string(buf[idStart:idStart+end]), 10, 64); err == nil {
					// Text the process left without a newline before the
					// marker belongs to the invocation being synced.
					if mk > 0 {
						o.emit(buf[:mk])
					}
					o.release(id)
					buf = buf[idStart+end+1:]
					continue
				}
			}
		}
		if nl < 0 {
			if len(buf) < maxLine && !eof {
				return buf
			}
			n := min(len(buf), maxLine)
			o.emit(buf[:n])
			buf = buf[n:]
			continue
		}
		line := buf[:nl]
		for len(line) > maxLine {
			o.emit(line[:maxLine])
			line = line[maxLine:]
		}
		o.emit(line)
		buf = buf[nl+1:]
	}
	return buf
}

func (o *output) emit(b []byte) {
	s := strings.TrimSuffix(string(b), "\r")
	// The Node.js runtime turns the newlines of one console.log call into
	// carriage returns so that it stays one event, as Lambda's does.
	s = strings.ReplaceAll(s, "\r", "\n")
	o.onLine(s)
}

func (o *output) release(id uint64) {
	o.mu.Lock()
	if ch, ok := o.waiting[id]; ok {
		close(ch)
		delete(o.waiting, id)
	}
	o.mu.Unlock()
}

// sync returns once every byte written to the pipe before the call has been
// handed to onLine.
func (o *output) sync() {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return
	}
	o.seq++
	id := o.seq
	ch := make(chan struct{})
	o.waiting[id] = ch
	o.mu.Unlock()
	marker := append(append([]byte(nil), o.token...), fmt.Sprintf("%d\x00", id)...)
	if _, err := o.w.Write(marker); err != nil {
		o.release(id)
		return
	}
	select {
	case <-ch:
	case <-o.done:
	}
}

// close ends the reader once the process is gone. Descendants the process
// left behind may still hold the pipe open, so the read end is closed too.
func (o *output) close() {
	o.sync()
	_ = o.w.Close()
	_ = o.r.Close()
	<-o.done
}
