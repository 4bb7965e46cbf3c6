package sigv4

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strconv"
	"strings"
)

// VerifyChunks checks the chain of chunk signatures of a whole aws-chunked
// body (see ChunkVerifier).
func (a *Request) VerifyChunks(body, key []byte, trailer bool) *Error {
	_, err := io.Copy(io.Discard, a.ChunkVerifier(bytes.NewReader(body), key, trailer))
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if err != nil {
		return fail(BadChunk, err.Error())
	}
	return nil
}

// ChunkVerifier passes an aws-chunked body sent as
// STREAMING-AWS4-HMAC-SHA256-PAYLOAD through unchanged, chunk by chunk,
// each only once its signature is verified: each chunk signs its data and
// the previous signature, the first one the request's seed signature, so
// no chunk can be changed, dropped or reordered. With trailer, the
// trailing headers' signature is verified too. A failure is an *Error
// from Read. It does not decode the payload (the S3 emulator does), and it
// holds one chunk at a time, so a streamed upload stays streamed.
func (a *Request) ChunkVerifier(r io.Reader, key []byte, trailer bool) io.Reader {
	return &chunkVerifier{br: bufio.NewReaderSize(r, 64<<10), key: key, amzDate: a.AmzDate, scope: a.Scope(),
		prev: strings.ToLower(a.Signature), trailer: trailer}
}

// Bounds on what the verifier holds: a chunk (the SDKs send 64 KB; S3
// takes any size, the sandbox up to this), a header line, the trailers.
const (
	maxChunk     = 16 << 20
	maxChunkLine = 4096
	maxTrailers  = 64 << 10
)

type chunkVerifier struct {
	br             *bufio.Reader
	key            []byte
	amzDate, scope string
	prev           string
	trailer        bool
	out            []byte // verified bytes not yet returned
	buf            []byte
	done           bool
	err            error
}

func (v *chunkVerifier) Read(p []byte) (int, error) {
	for len(v.out) == 0 {
		if v.err != nil {
			return 0, v.err
		}
		if v.done {
			return 0, io.EOF
		}
		v.err = v.next()
	}
	n := copy(p, v.out)
	v.out = v.out[n:]
	return n, nil
}

func incomplete() *Error { return fail(BadChunk, "The request body terminated unexpectedly") }

// next reads, verifies and queues one chunk (the last with its trailers).
func (v *chunkVerifier) next() error {
	line, err := v.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull || len(line) > maxChunkLine {
		return fail(BadChunk, "Malformed aws-chunked body: a chunk header line is too long")
	}
	if err != nil {
		return incomplete()
	}
	v.buf = append(v.buf[:0], line...)
	hdr := bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
	sizeField, ext, _ := bytes.Cut(hdr, []byte(";"))
	size, perr := strconv.ParseInt(string(bytes.TrimSpace(sizeField)), 16, 64)
	if perr != nil || size < 0 {
		return fail(BadChunk, "Invalid chunk size in aws-chunked body")
	}
	if size > maxChunk {
		return fail(BadChunk, "A chunk of an aws-chunked body is larger than the sandbox takes (16 MB)")
	}
	name, sig, _ := bytes.Cut(ext, []byte("="))
	if string(bytes.TrimSpace(name)) != "chunk-signature" || len(sig) != 64 {
		return fail(BadChunk, "Chunk is missing its chunk-signature")
	}
	sig = bytes.ToLower(sig)
	if size == 0 {
		want := ChunkSignature(v.key, v.amzDate, v.scope, v.prev, nil)
		if !hmac.Equal([]byte(want), sig) {
			return fail(ChunkMismatch, "The request signature we calculated does not match the signature you provided.")
		}
		v.prev = want
		rest, err := io.ReadAll(io.LimitReader(v.br, maxTrailers+1))
		if err != nil {
			return incomplete()
		}
		if len(rest) > maxTrailers {
			return fail(BadChunk, "The trailing headers of an aws-chunked body are too long")
		}
		if v.trailer {
			if e := v.verifyTrailer(rest); e != nil {
				return e
			}
		}
		v.out = append(v.buf, rest...)
		v.done = true
		return nil
	}
	start := len(v.buf)
	v.buf = append(v.buf, make([]byte, size+2)...)
	if _, err := io.ReadFull(v.br, v.buf[start:]); err != nil {
		return incomplete()
	}
	data := v.buf[start : start+int(size)]
	want := ChunkSignature(v.key, v.amzDate, v.scope, v.prev, data)
	if !hmac.Equal([]byte(want), sig) {
		return fail(ChunkMismatch, "The request signature we calculated does not match the signature you provided.")
	}
	if !bytes.Equal(v.buf[start+int(size):], []byte("\r\n")) {
		return fail(BadChunk, "Chunk data is not followed by CRLF in aws-chunked body")
	}
	v.prev = want
	v.out = v.buf
	return nil
}

// verifyTrailer checks x-amz-trailer-signature over the other trailing
// headers (canonical: "name:value\n", lower-case names).
func (v *chunkVerifier) verifyTrailer(rest []byte) *Error {
	var canon strings.Builder
	var got string
	for len(rest) > 0 {
		line, after, ok := bytes.Cut(rest, []byte("\r\n"))
		if !ok {
			line, after = rest, nil
		}
		rest = after
		if len(line) == 0 {
			continue
		}
		k, val, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return fail(BadChunk, "Malformed trailing header in aws-chunked body")
		}
		key := strings.ToLower(string(bytes.TrimSpace(k)))
		if key == "x-amz-trailer-signature" {
			got = strings.ToLower(string(bytes.TrimSpace(val)))
			continue
		}
		canon.WriteString(key)
		canon.WriteByte(':')
		canon.Write(bytes.TrimSpace(val))
		canon.WriteByte('\n')
	}
	if got == "" {
		return fail(BadChunk, "The trailing headers lack x-amz-trailer-signature")
	}
	if want := TrailerSignature(v.key, v.amzDate, v.scope, v.prev, canon.String()); !hmac.Equal([]byte(want), []byte(got)) {
		return fail(ChunkMismatch, "The request signature we calculated does not match the signature you provided.")
	}
	return nil
}

// ChunkSignature signs one chunk: AWS4-HMAC-SHA256-PAYLOAD, the request
// date and scope, the previous signature, the hash of nothing (the chunk's
// headers, always empty) and the hash of the chunk's data.
func ChunkSignature(key []byte, amzDate, scope, prev string, data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(hmacSHA256(key, "AWS4-HMAC-SHA256-PAYLOAD\n"+amzDate+"\n"+scope+"\n"+prev+"\n"+EmptySHA256+"\n"+hex.EncodeToString(sum[:])))
}

// TrailerSignature signs the trailing headers (canonical: "name:value\n"
// each, lower-case names) after the last chunk's signature prev.
func TrailerSignature(key []byte, amzDate, scope, prev, canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return hex.EncodeToString(hmacSHA256(key, "AWS4-HMAC-SHA256-TRAILER\n"+amzDate+"\n"+scope+"\n"+prev+"\n"+hex.EncodeToString(sum[:])))
}

// PayloadCheck passes a streamed body through and, at its end, compares
// its SHA-256 with the signed x-amz-content-sha256 (want, hex): a
// mismatch is an *Error from Read instead of io.EOF.
func PayloadCheck(r io.Reader, want string) io.Reader {
	return &payloadCheck{r: r, h: sha256.New(), want: strings.ToLower(want)}
}

type payloadCheck struct {
	r io.Reader
	h interface {
		Write([]byte) (int, error)
		Sum([]byte) []byte
	}
	want string
}

func (p *payloadCheck) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.h.Write(b[:n])
	if err == io.EOF && hex.EncodeToString(p.h.Sum(nil)) != p.want {
		return n, fail(PayloadMismatch, "The provided 'x-amz-content-sha256' header does not match what was computed.")
	}
	return n, err
}
