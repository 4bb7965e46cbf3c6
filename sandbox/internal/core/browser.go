package core

import (
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// The sandbox listens on a learner's machine, where any web page can send
// it requests: a form POST or a text/plain fetch needs no CORS preflight,
// and its well-known key pair (test/test) can be used by a page's script
// to presign one. These checks refuse what only a browser sends.

// BrowserRefusal says why a request that reached the sandbox through a
// browser is refused, or "" when it is not refused: a cross-site Origin or
// Sec-Fetch-Site, or a Host that names neither a loopback address nor one
// of hosts (DNS rebinding: a page's own name resolving to 127.0.0.1).
func BrowserRefusal(hr *http.Request, hosts []string) string {
	if !allowedHost(hr.Host, hosts) {
		return "the Host header " + quoteOr(hr.Host, "(none)") + " names neither a loopback address nor a host this sandbox was told to serve (--allow-host); a web page's own domain resolving to this machine (DNS rebinding) must not reach it"
	}
	if o, ok := hr.Header["Origin"]; ok {
		origin := strings.Join(o, ",")
		u, err := url.Parse(origin)
		if err != nil || u.Host == "" || !allowedHost(u.Host, hosts) {
			return "requests from web pages (Origin " + quoteOr(origin, "(empty)") + ") are refused: the sandbox runs code on this machine"
		}
	}
	if hr.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return "cross-site requests from web pages (Sec-Fetch-Site: cross-site) are refused: the sandbox runs code on this machine"
	}
	return ""
}

func quoteOr(s, empty string) string {
	if s == "" {
		return empty
	}
	return `"` + s + `"`
}

// allowedHost: 127.0.0.0/8, ::1, localhost and *.localhost (S3's
// virtual-hosted buckets), or a configured host.
func allowedHost(hostport string, hosts []string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if host == "" {
		return false
	}
	if ip := net.ParseIP(host); ip != nil {
		if ip.IsLoopback() {
			return true
		}
	} else if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	for _, h := range hosts {
		if strings.EqualFold(h, host) {
			return true
		}
	}
	return false
}

// contentTypeRefusal checks the Content-Type a protocol requires, as AWS
// does: form-encoded for Query POSTs, application/x-amz-json-1.0 or 1.1 for
// JSON targets. Lambda's REST-JSON bodies are the caller's own payloads, so
// there only the types a browser sends without a preflight (text/plain,
// form-encoded, multipart) are refused. S3's Content-Type is the object's
// and stays free; its signature requirements already exclude a browser.
func contentTypeRefusal(hr *http.Request, proto string) string {
	if hr.Method != http.MethodPost && hr.Method != http.MethodPut {
		return ""
	}
	ct := hr.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(ct))
	}
	switch proto {
	case "query":
		if hr.Method == http.MethodPost && mt != "application/x-www-form-urlencoded" && hr.ContentLength != 0 {
			return "Query requests take Content-Type application/x-www-form-urlencoded, got " + quoteOr(ct, "none")
		}
	case "json":
		if mt != "application/x-amz-json-1.0" && mt != "application/x-amz-json-1.1" {
			return "JSON requests take Content-Type application/x-amz-json-1.0 or 1.1, got " + quoteOr(ct, "none")
		}
	case "restjson":
		switch mt {
		case "text/plain", "application/x-www-form-urlencoded", "multipart/form-data":
			return "Lambda does not take Content-Type " + ct
		}
	}
	return ""
}
