package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

// testEnv is an environment without a process, to drive its Runtime API
// directly.
func testEnv() *env {
	e := &env{
		r:    &Runtime{c: core.New()},
		next: make(chan *invocation, 1), initFailed: make(chan struct{}),
		exited: make(chan struct{}), closing: make(chan struct{}),
	}
	close(e.closing) // GET next without a request answers at once
	return e
}

func serve(e *env, method, path string, body []byte, header http.Header) *httptest.ResponseRecorder {
	req := (&http.Request{
		Method: method, URL: &url.URL{Path: path}, Header: header, Trailer: http.Header{},
		Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)),
	}).WithContext(context.Background())
	w := httptest.NewRecorder()
	e.ServeHTTP(w, req)
	return w
}

// FuzzRuntimeAPI: whatever a runtime sends, the API neither panics nor
// hangs, and answers a Runtime API status with an error document when it
// refuses.
func FuzzRuntimeAPI(f *testing.F) {
	f.Add("GET", "/2018-06-01/runtime/invocation/next", []byte(nil), "")
	f.Add("POST", "/2018-06-01/runtime/invocation/ID/response", []byte(`{"ok":true}`), "")
	f.Add("POST", "/2018-06-01/runtime/invocation/ID/error", []byte(`{"errorType":"X","errorMessage":"y"}`), "X")
	f.Add("POST", "/2018-06-01/runtime/invocation/ID/error", []byte(`not json`), "")
	f.Add("POST", "/2018-06-01/runtime/invocation/other/response", []byte(`1`), "")
	f.Add("POST", "/2018-06-01/runtime/init/error", []byte(`{"errorType":"Runtime.X"}`), "Runtime.X")
	f.Add("PUT", "/2018-06-01/runtime/invocation/next", []byte(nil), "")
	f.Add("POST", "/2018-06-01/runtime/invocation/ID/stream", []byte(nil), "")
	f.Add("GET", "/", []byte(nil), "")
	f.Add("POST", "/2018-06-01/runtime/invocation//response", []byte("\x00\xff"), "")
	f.Fuzz(func(t *testing.T, method, path string, body []byte, errType string) {
		e := testEnv()
		inv := newInvocation("ID", []byte(`{}`), "arn:aws:lambda:us-east-1:000000000000:function:f", "", time.Second)
		if strings.HasSuffix(path, "/next") {
			e.next <- inv
		} else {
			e.active.Store(inv)
		}
		h := http.Header{}
		if errType != "" && !strings.ContainsAny(errType, "\r\n\x00") {
			h.Set("Lambda-Runtime-Function-Error-Type", errType)
		}
		done := make(chan *httptest.ResponseRecorder, 1)
		go func() { done <- serve(e, method, path, body, h) }()
		var w *httptest.ResponseRecorder
		select {
		case w = <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s %q hangs", method, path)
		}
		switch w.Code {
		case http.StatusOK, http.StatusAccepted:
			if w.Code == http.StatusAccepted && !strings.Contains(path, "/init/error") {
				select {
				case o := <-inv.done:
					if o.errType != "" && !json.Valid(o.payload) {
						t.Errorf("error outcome is not JSON: %q", o.payload)
					}
				default:
					t.Errorf("202 without an outcome")
				}
			}
		case http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusMethodNotAllowed,
			http.StatusRequestEntityTooLarge, http.StatusInternalServerError:
			var doc struct{ ErrorType, ErrorMessage string }
			if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil || doc.ErrorType == "" {
				t.Errorf("%d without an error document: %q", w.Code, w.Body.String())
			}
		default:
			t.Errorf("status %d", w.Code)
		}
	})
}

func TestRuntimeAPIContract(t *testing.T) {
	e := testEnv()
	e.closing = make(chan struct{})
	inv := newInvocation("req-1", []byte(`{"a":1}`), "arn:aws:lambda:us-east-1:000000000000:function:f", `{"custom":{}}`, 3*time.Second)
	e.next <- inv
	w := serve(e, "GET", "/2018-06-01/runtime/invocation/next", nil, http.Header{})
	h := w.Result().Header
	if w.Code != 200 || w.Body.String() != `{"a":1}` || h.Get("Lambda-Runtime-Aws-Request-Id") != "req-1" ||
		h.Get("Lambda-Runtime-Invoked-Function-Arn") != inv.arn || h.Get("Lambda-Runtime-Client-Context") != `{"custom":{}}` ||
		!strings.HasPrefix(h.Get("Lambda-Runtime-Trace-Id"), "Root=1-") {
		t.Fatalf("next: %d %q %v", w.Code, w.Body.String(), h)
	}
	var deadline int64
	if err := json.Unmarshal([]byte(h.Get("Lambda-Runtime-Deadline-Ms")), &deadline); err != nil ||
		time.UnixMilli(deadline).Sub(time.Now()) < 2*time.Second {
		t.Errorf("deadline %q", h.Get("Lambda-Runtime-Deadline-Ms"))
	}
	if w := serve(e, "POST", "/2018-06-01/runtime/invocation/wrong/response", []byte(`1`), http.Header{}); w.Code != 400 {
		t.Errorf("wrong id: %d", w.Code)
	}
	if w := serve(e, "POST", "/2018-06-01/runtime/invocation/req-1/response", []byte(`"ok"`), http.Header{}); w.Code != 202 {
		t.Errorf("response: %d", w.Code)
	}
	if o := <-inv.done; string(o.payload) != `"ok"` || o.errType != "" {
		t.Errorf("outcome %+v", o)
	}
	if w := serve(e, "POST", "/2018-06-01/runtime/invocation/req-1/error", []byte(`{}`), http.Header{}); w.Code != 400 {
		t.Errorf("second answer: %d", w.Code)
	}
	if w := serve(e, "POST", "/2018-06-01/runtime/init/error", []byte(`oops`), http.Header{"Lambda-Runtime-Function-Error-Type": {"Runtime.Bad"}}); w.Code != 202 {
		t.Errorf("init error: %d", w.Code)
	}
	if o := e.initOutcome(); o.errType != "Runtime.Bad" || string(o.payload) != `{"errorType":"Runtime.Bad","errorMessage":"oops"}` {
		t.Errorf("init outcome %+v %s", o, o.payload)
	}
}

// TestOutputAttribution: lines cut across reads and sync markers split
// between writes still come out whole and in order.
func TestOutputAttribution(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	o, err := newOutput("abc", func(s string) {
		mu.Lock()
		lines = append(lines, s)
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	write := func(s string) {
		if _, err := o.w.WriteString(s); err != nil {
			t.Fatal(err)
		}
	}
	write("one\ntw")
	time.Sleep(5 * time.Millisecond)
	write("o\r\nthree has\ra return\n")
	write("partial")
	o.sync()
	mu.Lock()
	got := strings.Join(lines, "|")
	mu.Unlock()
	if got != "one|two|three has\na return|partial" {
		t.Errorf("lines %q", got)
	}
	write("bin\x00ary\x00slab-sync-abc-notanumber\x00 end\n")
	write(strings.Repeat("x", maxLine+10) + "\n")
	o.close()
	if n := len(lines); n != 7 || lines[4] != "bin\x00ary\x00slab-sync-abc-notanumber\x00 end" || len(lines[5]) != maxLine || len(lines[6]) != 10 {
		t.Errorf("%d lines: %q", n, lines[4])
	}
}
