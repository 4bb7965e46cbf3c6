package core

import (
	"io"
	"net/http"
	"strconv"
	"time"
)

// The largest request body each service takes. A request that declares more
// in Content-Length is answered at once, before anything reads its body (so a
// `Content-Length: 999999999999999999` with a 2-byte body cannot hang a
// handler, and no parser ever sees an oversized document); one that sends more
// than it declared, or more than the limit in chunks, is cut off at the limit.
const (
	// S3 takes up to 5 GB in a single PUT (PutObject, UploadPart):
	// https://docs.aws.amazon.com/AmazonS3/latest/userguide/upload-objects.html
	// Object bodies are streamed to files (never held in memory); S3's
	// other requests are XML documents, read whole up to limitS3Document:
	// the largest, a CompleteMultipartUpload of 10,000 parts or a
	// DeleteObjects of 1,000 keys of 1,024 bytes, stays within a few MB.
	limitS3         = 5 << 30
	limitS3Document = 16 << 20
	// Lambda's CreateFunction/UpdateFunctionCode take a base64 zip of up to
	// 50 MB; the request limit Lambda reports is 69,905,067 bytes
	// ("Request must be smaller than 69905067 bytes for the CreateFunction
	// operation"): https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
	limitLambda = 69905067
	// DynamoDB's largest request is a BatchWriteItem of up to 16 MB:
	// https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html
	limitDynamoDB = 16 << 20
	// SQS and SNS take payloads of up to 1 MiB (SendMessageBatch and
	// PublishBatch in total); the Query protocol's percent-encoding can
	// triple that on the wire.
	// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html
	// https://docs.aws.amazon.com/sns/latest/dg/large-message-payloads.html
	limitMessaging = 4 << 20
	// PutLogEvents batches are at most 1,048,576 bytes and PutEvents
	// entries 1 MB in all; JSON escaping can quadruple control characters.
	// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html
	limitLogsEvents = 4 << 20
	// IAM and STS documents are at most 10,240 characters (an inline role
	// policy), so a megabyte is generous for any of their calls.
	limitIAM = 1 << 20
	// Anything else (unknown services get their error after the body is
	// bounded).
	limitDefault = 1 << 20
)

// documentLimit is the most of a request body the router reads into memory
// for service; streamed bodies (see Streamer) are bounded by bodyLimit only.
func documentLimit(service string) int64 {
	if service == "s3" {
		return limitS3Document
	}
	_, read := bodyLimit(service)
	return read
}

// bodyLimit is the most a request to service may carry, as AWS enforces it,
// and the cap the sandbox reads (the same for every service now that S3
// bodies are streamed).
func bodyLimit(service string) (aws, read int64) {
	switch service {
	case "s3":
		return limitS3, limitS3
	case "lambda":
		return limitLambda, limitLambda
	case "dynamodb":
		return limitDynamoDB, limitDynamoDB
	case "sqs", "sns":
		return limitMessaging, limitMessaging
	case "logs", "events":
		return limitLogsEvents, limitLogsEvents
	case "iam", "sts":
		return limitIAM, limitIAM
	}
	return limitDefault, limitDefault
}

// TooLarge is the service's answer to a request over its limit, for a
// service that finds out while streaming a body.
func TooLarge(service string, limit int64) *Error { return tooLarge(service, limit) }

// tooLarge is the service's answer to a request over its limit.
func tooLarge(service string, limit int64) *Error {
	if service == "s3" {
		// S3 answers 400 EntityTooLarge with the size it allows:
		// https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
		return &Error{Code: "EntityTooLarge", Status: http.StatusBadRequest,
			Message: "Your proposed upload exceeds the maximum allowed size",
			Fields:  map[string]string{"MaxSizeAllowed": strconv.FormatInt(limit, 10)}}
	}
	return ErrorStatus(http.StatusRequestEntityTooLarge, "RequestEntityTooLargeException", "Request must be smaller than %d bytes", limit)
}

// BodyReadTimeout is how long a request body may go without sending a byte.
// It is per read, not per request, so a large upload at any steady speed
// finishes while a client that stops sending (a slow-loris) is cut off.
var BodyReadTimeout = 20 * time.Second

// LimitBodies answers a request whose declared Content-Length is beyond its
// service's limit with the service's error at once, and bounds the body of
// every other request: at most the limit, and no read waits longer than
// BodyReadTimeout. It must be the outermost layer of the AWS handler, before
// anything (signature verification included) reads the body.
func LimitBodies(c *Core, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, hr *http.Request) {
		_, _, service := credentialScope(hr)
		aws, read := bodyLimit(service)
		if hr.ContentLength > read {
			limit := aws
			if hr.ContentLength <= aws {
				limit = read
			}
			// The body is never read: the server closes the connection
			// after the answer rather than drain it.
			w.Header().Set("Connection", "close")
			r := &Request{W: w, HTTP: hr, RequestID: NewRequestID(), Core: c, Service: service}
			writeError(r, guessProtocol(hr, service), tooLarge(service, limit))
			c.record(r)
			return
		}
		if hr.Body != nil && hr.Body != http.NoBody {
			hr.Body = http.MaxBytesReader(w, &idleBody{rc: hr.Body, ctl: http.NewResponseController(w)}, read)
		}
		next.ServeHTTP(w, hr)
	})
}

// idleBody moves the connection's read deadline forward before each read.
// Once the body is read to its end, net/http clears the deadline itself, so
// a long Invoke or a ReceiveMessage long poll is not cut short.
type idleBody struct {
	rc  io.ReadCloser
	ctl *http.ResponseController
}

func (b *idleBody) Read(p []byte) (int, error) {
	// Handlers served without a net/http connection (httptest recorders)
	// have no deadline to set; the limit still applies.
	_ = b.ctl.SetReadDeadline(time.Now().Add(BodyReadTimeout))
	return b.rc.Read(p)
}

func (b *idleBody) Close() error { return b.rc.Close() }
