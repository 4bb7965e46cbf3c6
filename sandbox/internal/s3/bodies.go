package s3

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

// Object and part bodies live in files of the data directory (core's
// FileDir "s3"), one per version or part, named at random; their records in
// the blobs table (and so the snapshot and journal) hold only the file name
// and size. A body is streamed from the request into a temporary file while
// its MD5 and checksums are computed, fsynced and renamed before the
// transaction that refers to it commits, so an acknowledged object is on
// disk; a file is removed only after the transaction that dropped its last
// reference is durable. Files nothing refers to (a crash between the two)
// are removed when the store is loaded. Memory use is a copy buffer per
// request whatever the object's size, and restart time does not depend on
// object sizes.

// Blob is an object or part body: the file holding it, or (records of
// sandboxes before files) the bytes inline, moved to a file on load.
type Blob struct {
	File string `json:"file,omitempty"`
	Size int64  `json:"size,omitempty"`
	Data []byte `json:"data,omitempty"`
}

const blobDir = "s3"

func (s *Service) blobPath(name string) (string, error) {
	dir, err := s.c.Store.FileDir(blobDir)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, name), nil
}

// openBlob opens a body for reading. Called inside a View, so that the
// file cannot be removed before it is open (an open file outlives its
// removal).
func (s *Service) openBlob(b Blob) (io.ReadSeekCloser, error) {
	if b.File == "" {
		return nopCloser{bytes.NewReader(b.Data)}, nil
	}
	p, err := s.blobPath(b.File)
	if err != nil {
		return nil, err
	}
	return os.Open(p)
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

// dropBlob deletes a body's record and, once that is durable, its file.
func (s *Service) dropBlob(tx *core.Tx, key string) {
	b, ok := s.blobs.Get(tx, key)
	if !ok {
		return
	}
	s.blobs.Delete(tx, key)
	if b.File != "" {
		tx.AfterCommit(func() { s.removeFile(b.File) })
	}
}

func (s *Service) removeFile(name string) {
	if p, err := s.blobPath(name); err == nil {
		_ = os.Remove(p)
	}
}

// received is a body written to a new file, not yet referred to.
type received struct {
	file string
	size int64
	md5  []byte
	sums map[string][]byte // raw digests, by algorithm
}

func (rc received) etag() string { return `"` + fmt.Sprintf("%x", rc.md5) + `"` }

func (rc received) blob() Blob { return Blob{File: rc.file, Size: rc.size} }

// newBlobFile creates a temporary file in the blob directory.
func (s *Service) newBlobFile() (*os.File, string, error) {
	dir, err := s.c.Store.FileDir(blobDir)
	if err != nil {
		return nil, "", err
	}
	name := core.RandomHex(16)
	f, err := os.OpenFile(filepath.Join(dir, "tmp-"+name), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	return f, name, err
}

// writeBlob streams r into a new body file, computing MD5 and the
// checksums of algs, and makes it durable under its final name.
func (s *Service) writeBlob(r io.Reader, algs []string) (received, error) {
	f, name, err := s.newBlobFile()
	if err != nil {
		return received{}, err
	}
	tmp := f.Name()
	fail := func(err error) (received, error) {
		f.Close()
		_ = os.Remove(tmp)
		return received{}, err
	}
	m := md5.New()
	ws := []io.Writer{f, m}
	hs := map[string]hash.Hash{}
	for _, a := range algs {
		if _, dup := hs[a]; !dup {
			hs[a] = newHash(a)
			ws = append(ws, hs[a])
		}
	}
	buf := make([]byte, 256<<10)
	n, err := io.CopyBuffer(io.MultiWriter(ws...), r, buf)
	if err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(tmp)
		return received{}, err
	}
	final := filepath.Join(filepath.Dir(tmp), name)
	if err := os.Rename(tmp, final); err != nil {
		_ = os.Remove(tmp)
		return received{}, err
	}
	syncDir(filepath.Dir(final))
	rc := received{file: name, size: n, md5: m.Sum(nil), sums: map[string][]byte{}}
	for a, h := range hs {
		rc.sums[a] = h.Sum(nil)
	}
	return rc, nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// digest returns rc's checksum of alg, reading the file again for an
// algorithm not computed on the way in (a trailer naming one no header
// announced).
func (s *Service) digest(rc *received, alg string) (string, error) {
	if sum, ok := rc.sums[alg]; ok {
		return base64.StdEncoding.EncodeToString(sum), nil
	}
	p, err := s.blobPath(rc.file)
	if err != nil {
		return "", err
	}
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := newHash(alg)
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	rc.sums[alg] = h.Sum(nil)
	return base64.StdEncoding.EncodeToString(rc.sums[alg]), nil
}

// bodyAlgorithms are the checksums worth computing while a body streams in:
// those its headers announce (x-amz-checksum-*, x-amz-sdk-checksum-algorithm,
// x-amz-checksum-algorithm, a trailer named in x-amz-trailer) plus extra.
func (c *call) bodyAlgorithms(extra ...string) []string {
	algs := append([]string(nil), extra...)
	add := func(a string) {
		if a = strings.ToUpper(strings.TrimSpace(a)); validAlgorithm(a) {
			algs = append(algs, a)
		}
	}
	for _, a := range checksumAlgorithms {
		if c.h.Get(checksumHeader(a)) != "" {
			algs = append(algs, a)
		}
	}
	add(c.h.Get("x-amz-sdk-checksum-algorithm"))
	add(c.h.Get("x-amz-checksum-algorithm"))
	for _, t := range strings.Split(c.h.Get("x-amz-trailer"), ",") {
		if a, ok := strings.CutPrefix(strings.ToLower(strings.TrimSpace(t)), "x-amz-checksum-"); ok {
			add(a)
		}
	}
	return algs
}

// receiveBody streams the request's body (decoded from aws-chunked when
// framed so) into a new body file. The caller owns the file: it must refer
// to it in a transaction or remove it.
func (c *call) receiveBody(algs []string) (received, error) {
	var r io.Reader = c.r.Stream
	if r == nil {
		r = bytes.NewReader(c.r.Body)
	}
	var cr *chunkedReader
	if c.chunked {
		cr = newChunkedReader(r)
		r = cr
	}
	rc, err := c.s.writeBlob(r, algs)
	if err != nil {
		var ce *core.Error
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &ce):
			return received{}, ce
		case errors.As(err, &mbe):
			return received{}, core.TooLarge("s3", mbe.Limit)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return received{}, errIncompleteBody()
		}
		return received{}, core.ErrorStatus(400, "IncompleteBody", "could not read the request body: %v", err)
	}
	fail := func(err error) (received, error) {
		c.s.removeFile(rc.file)
		return received{}, err
	}
	if cr != nil {
		c.trailer = cr.trailer
		if dl := c.h.Get("x-amz-decoded-content-length"); dl != "" {
			n, perr := strconv.ParseInt(dl, 10, 64)
			if perr != nil || n < 0 {
				return fail(core.Errorf("InvalidArgument", "x-amz-decoded-content-length must be a non-negative integer"))
			}
			if n != rc.size {
				return fail(core.Errorf("IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header"))
			}
		}
	}
	if err := c.checkContentMD5Sum(rc.md5); err != nil {
		return fail(err)
	}
	return rc, nil
}

// chunkedReader decodes an aws-chunked body as it streams:
//
//	hex-size[;chunk-signature=sig]\r\n data \r\n ... 0[;...]\r\n [name:value\r\n]* \r\n
//
// The trailing headers are in trailer once Read has returned io.EOF.
type chunkedReader struct {
	br      *bufio.Reader
	left    int64 // bytes of the current chunk not yet read
	started bool
	done    bool
	err     error
	trailer http.Header
}

func newChunkedReader(r io.Reader) *chunkedReader {
	return &chunkedReader{br: bufio.NewReaderSize(r, 64<<10)}
}

// maxChunkLine bounds a chunk header or trailer line (a size, a 64-digit
// signature and a checksum fit easily).
const maxChunkLine = 4096

func (cr *chunkedReader) line() ([]byte, error) {
	line, err := cr.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull || len(line) > maxChunkLine {
		return nil, core.Errorf("InvalidRequest", "Malformed aws-chunked body: a chunk header line is too long")
	}
	if err != nil {
		if len(line) > 0 && err == io.EOF {
			return line, nil // a last trailer line without its CRLF
		}
		return nil, readError(err)
	}
	return bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r")), nil
}

func (cr *chunkedReader) Read(p []byte) (int, error) {
	if cr.err != nil {
		return 0, cr.err
	}
	if cr.done {
		return 0, io.EOF
	}
	if cr.left == 0 {
		if cr.started {
			var crlf [2]byte
			if _, err := io.ReadFull(cr.br, crlf[:]); err != nil {
				return 0, cr.fail(readError(err))
			}
			if crlf != [2]byte{'\r', '\n'} {
				return 0, cr.fail(core.Errorf("InvalidRequest", "Chunk data is not followed by CRLF in aws-chunked body"))
			}
		}
		cr.started = true
		line, err := cr.line()
		if err != nil {
			return 0, cr.fail(err)
		}
		sizeField, _, _ := bytes.Cut(line, []byte(";"))
		size, perr := strconv.ParseInt(strings.TrimSpace(string(sizeField)), 16, 64)
		if perr != nil || size < 0 {
			return 0, cr.fail(core.Errorf("InvalidRequest", "Invalid chunk size in aws-chunked body"))
		}
		if size == 0 {
			if err := cr.readTrailer(); err != nil {
				return 0, cr.fail(err)
			}
			cr.done = true
			return 0, io.EOF
		}
		cr.left = size
	}
	if int64(len(p)) > cr.left {
		p = p[:cr.left]
	}
	n, err := cr.br.Read(p)
	cr.left -= int64(n)
	if err == io.EOF && cr.left > 0 {
		if n > 0 {
			return n, nil
		}
		return 0, cr.fail(errIncompleteBody())
	}
	if err != nil && err != io.EOF {
		return n, cr.fail(err)
	}
	return n, nil
}

// readError keeps the error of a reader beneath (the router's signature
// check of a streamed body answers SignatureDoesNotMatch) and calls any
// other failure to read an incomplete body.
func readError(err error) error {
	var ce *core.Error
	if errors.As(err, &ce) {
		return ce
	}
	return errIncompleteBody()
}

func (cr *chunkedReader) fail(err error) error {
	cr.err = err
	return err
}

func (cr *chunkedReader) readTrailer() error {
	cr.trailer = http.Header{}
	for n := 0; ; n++ {
		if _, err := cr.br.Peek(1); err == io.EOF {
			return nil
		}
		if n > 64 {
			return core.Errorf("InvalidRequest", "Malformed trailing header in aws-chunked body")
		}
		line, err := cr.line()
		if err != nil {
			return err
		}
		if len(line) == 0 {
			return nil
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return core.Errorf("InvalidRequest", "Malformed trailing header in aws-chunked body")
		}
		cr.trailer.Add(strings.TrimSpace(string(name)), strings.TrimSpace(string(value)))
	}
}

// copyBlob streams an existing body into a new file, computing its MD5 and
// the checksums of algs (CopyObject, CompleteMultipartUpload's parts).
func (s *Service) copyBlobs(srcs []Blob, algs []string) (received, error) {
	readers := make([]io.Reader, 0, len(srcs))
	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	for _, b := range srcs {
		f, err := s.openBlob(b)
		if err != nil {
			return received{}, err
		}
		closers = append(closers, f)
		readers = append(readers, f)
	}
	return s.writeBlob(io.MultiReader(readers...), algs)
}

// reconcileBlobs runs when the store is loaded: it moves bodies stored
// inline by older sandboxes into files, and removes files no record refers
// to (written, but the transaction that would have referred to them never
// committed) and temporary files of uploads cut short.
func (s *Service) reconcileBlobs() error {
	var inline []string
	refs := map[string]bool{}
	_ = s.c.Store.View(func(tx *core.Tx) error {
		s.blobs.Scan(tx, "", func(k string, b Blob) bool {
			if b.File != "" {
				refs[b.File] = true
			} else if len(b.Data) > 0 {
				inline = append(inline, k)
			}
			return true
		})
		return nil
	})
	for _, k := range inline {
		var data []byte
		_ = s.c.Store.View(func(tx *core.Tx) error {
			b, _ := s.blobs.Get(tx, k)
			data = b.Data
			return nil
		})
		rc, err := s.writeBlob(bytes.NewReader(data), nil)
		if err != nil {
			return fmt.Errorf("s3: move a stored body to a file: %w", err)
		}
		err = s.c.Store.Update(func(tx *core.Tx) error {
			if _, ok := s.blobs.Get(tx, k); ok {
				s.blobs.Put(tx, k, rc.blob())
			}
			return nil
		})
		if err != nil {
			return err
		}
		refs[rc.file] = true
	}
	dir, err := s.c.Store.FileDir(blobDir)
	if err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !refs[e.Name()] {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	return nil
}
