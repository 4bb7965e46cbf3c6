package s3

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

// decodeBody prepares an aws-chunked request body. The SDKs stream uploads
// this way: the CLI and the Go SDK over TLS as
// STREAMING-UNSIGNED-PAYLOAD-TRAILER with a trailing checksum, older
// clients as STREAMING-AWS4-HMAC-SHA256-PAYLOAD with a signature on each
// chunk. A streamed body (an object or part) is decoded as it is read
// (receiveBody); a document body is decoded here, replacing r.Body, and
// its trailing headers kept. Chunk signatures are not checked here.
func (c *call) decodeBody() error {
	sha := c.h.Get("x-amz-content-sha256")
	chunked := strings.HasPrefix(sha, "STREAMING-")
	for _, enc := range c.h.Values("Content-Encoding") {
		for _, e := range strings.Split(enc, ",") {
			if strings.TrimSpace(e) == "aws-chunked" {
				chunked = true
			}
		}
	}
	if !chunked {
		return nil
	}
	c.chunked = true
	if c.r.Stream != nil {
		return nil
	}
	payload, trailer, err := decodeAWSChunked(c.r.Body)
	if err != nil {
		return err
	}
	if dl := c.h.Get("x-amz-decoded-content-length"); dl != "" {
		n, perr := strconv.ParseInt(dl, 10, 64)
		if perr != nil || n < 0 {
			return core.Errorf("InvalidArgument", "x-amz-decoded-content-length must be a non-negative integer")
		}
		if n != int64(len(payload)) {
			return core.Errorf("IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header")
		}
	}
	c.r.Body = payload
	c.chunked = false
	c.trailer = trailer
	return nil
}

func errIncompleteBody() *core.Error {
	return core.Errorf("IncompleteBody", "The request body terminated unexpectedly")
}

// decodeAWSChunked decodes a whole aws-chunked body (see chunkedReader).
func decodeAWSChunked(body []byte) ([]byte, http.Header, error) {
	cr := newChunkedReader(bytes.NewReader(body))
	out, err := io.ReadAll(cr)
	if err != nil {
		return nil, nil, err
	}
	return out, cr.trailer, nil
}

// checksumAlgorithms are the additional checksums S3 supports, in the order
// the SDKs prefer them.
var checksumAlgorithms = []string{"CRC32C", "CRC32", "CRC64NVME", "SHA1", "SHA256"}

func checksumHeader(alg string) string { return "x-amz-checksum-" + strings.ToLower(alg) }

func validAlgorithm(alg string) bool {
	for _, a := range checksumAlgorithms {
		if a == alg {
			return true
		}
	}
	return false
}

// crc64NVME is the reflected NVMe polynomial, as hash/crc64 takes it.
const crc64NVME = 0x9a6c9329ac4bc9b5

var (
	castagnoli  = crc32.MakeTable(crc32.Castagnoli)
	nvmeTable   = crc64.MakeTable(crc64NVME)
	digestSizes = map[string]int{"CRC32": 4, "CRC32C": 4, "CRC64NVME": 8, "SHA1": 20, "SHA256": 32}
)

func newHash(alg string) hash.Hash {
	switch alg {
	case "CRC32":
		return crc32.NewIEEE()
	case "CRC32C":
		return crc32.New(castagnoli)
	case "CRC64NVME":
		return crc64.New(nvmeTable)
	case "SHA1":
		return sha1.New()
	case "SHA256":
		return sha256.New()
	}
	panic("s3: unknown checksum algorithm " + alg)
}

// rawChecksum is the binary digest of data.
func rawChecksum(alg string, data []byte) []byte {
	h := newHash(alg)
	h.Write(data)
	return h.Sum(nil)
}

// computeChecksum is the base64 digest of data, as S3 sends it.
func computeChecksum(alg string, data []byte) string {
	return base64.StdEncoding.EncodeToString(rawChecksum(alg, data))
}

// suppliedChecksum finds the x-amz-checksum-* value a writer sent, as a
// header or an aws-chunked trailer, verifies it against data and returns it.
// ok is false when none was sent. An algorithm named by
// x-amz-sdk-checksum-algorithm must be the one whose value was sent.
func (c *call) suppliedChecksum(data []byte) (sum Checksum, ok bool, err error) {
	return c.suppliedChecksumOf(len(data) > 0, func(alg string) (string, error) { return computeChecksum(alg, data), nil })
}

// suppliedChecksumOf is suppliedChecksum for a body known by its digests
// (a streamed one): digest returns the body's base64 checksum of alg.
func (c *call) suppliedChecksumOf(nonEmpty bool, digest func(alg string) (string, error)) (sum Checksum, ok bool, err error) {
	var found []string
	values := map[string]string{}
	for _, alg := range checksumAlgorithms {
		v := c.h.Get(checksumHeader(alg))
		if v == "" && c.trailer != nil {
			v = c.trailer.Get(checksumHeader(alg))
		}
		if v != "" {
			found = append(found, alg)
			values[alg] = v
		}
	}
	if len(found) > 1 {
		return Checksum{}, false, core.Errorf("InvalidRequest", "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
	}
	declared := strings.ToUpper(c.h.Get("x-amz-sdk-checksum-algorithm"))
	if declared != "" && !validAlgorithm(declared) {
		return Checksum{}, false, errInvalidArgument("Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]", "x-amz-sdk-checksum-algorithm", declared)
	}
	if len(found) == 0 {
		if declared != "" && nonEmpty {
			return Checksum{}, false, core.Errorf("InvalidRequest", "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.")
		}
		return Checksum{}, false, nil
	}
	alg := found[0]
	if declared != "" && declared != alg {
		return Checksum{}, false, core.Errorf("InvalidRequest", "Value for x-amz-sdk-checksum-algorithm header is invalid.")
	}
	v := values[alg]
	raw, derr := base64.StdEncoding.DecodeString(v)
	if derr != nil || len(raw) != digestSizes[alg] {
		return Checksum{}, false, core.Errorf("InvalidRequest", "Value for %s header is invalid.", checksumHeader(alg))
	}
	got, err := digest(alg)
	if err != nil {
		return Checksum{}, false, err
	}
	if got != v {
		return Checksum{}, false, core.Errorf("BadDigest", "The %s you specified did not match the calculated checksum.", alg)
	}
	return Checksum{Algorithm: alg, Value: v, Type: "FULL_OBJECT"}, true, nil
}

// checkContentMD5 verifies a Content-MD5 header against data.
func (c *call) checkContentMD5(data []byte) error {
	sum := md5.Sum(data)
	return c.checkContentMD5Sum(sum[:])
}

// checkContentMD5Sum verifies a Content-MD5 header against a body's MD5.
func (c *call) checkContentMD5Sum(sum []byte) error {
	v := c.h.Get("Content-MD5")
	if v == "" {
		return nil
	}
	raw, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(raw) != md5.Size {
		return core.Errorf("InvalidDigest", "The Content-MD5 you specified was invalid.")
	}
	if !bytes.Equal(sum, raw) {
		return &core.Error{Code: "BadDigest", Message: "The Content-MD5 you specified did not match what we received.",
			Fields: map[string]string{"ExpectedDigest": v, "CalculatedDigest": base64.StdEncoding.EncodeToString(sum)}}
	}
	return nil
}

// setChecksumHeaders adds x-amz-checksum-<alg> and x-amz-checksum-type.
func setChecksumHeaders(h http.Header, sum Checksum) {
	if sum.Algorithm == "" {
		return
	}
	h.Set(checksumHeader(sum.Algorithm), sum.Value)
	h.Set("x-amz-checksum-type", sum.Type)
}
