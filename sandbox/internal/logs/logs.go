// Package logs emulates the part of Amazon CloudWatch Logs that Lambda
// functions write to and learners read from: log groups (retention, tags),
// log streams, PutLogEvents, GetLogEvents with AWS's forward/backward tokens,
// and FilterLogEvents with term, phrase and regex patterns, enough for
// `aws logs tail` and `aws logs get-log-events` to behave as on AWS.
//
// It speaks JSON 1.1 (X-Amz-Target "Logs_20140328.<Operation>"). Append is
// the Go entry point the sandbox's Lambda runtime uses to write function logs.
package logs

import (
	"github.com/slab-lab/slab/sandbox/internal/core"
)

const targetPrefix = "Logs_20140328."

// Group is a log group. Times are epoch milliseconds, as on the wire.
type Group struct {
	Account         string            `json:"account"`
	Region          string            `json:"region"`
	Name            string            `json:"name"`
	CreationTime    int64             `json:"creation_time"`
	RetentionInDays int               `json:"retention_in_days,omitempty"` // 0: never expire
	KmsKeyID        string            `json:"kms_key_id,omitempty"`
	Class           string            `json:"class"`
	Tags            map[string]string `json:"tags,omitempty"`
	StoredBytes     int64             `json:"stored_bytes"`
}

// Stream is a log stream; its events live in the batches table.
type Stream struct {
	Group               string `json:"group"`
	Name                string `json:"name"`
	CreationTime        int64  `json:"creation_time"`
	FirstEventTimestamp int64  `json:"first_event_timestamp,omitempty"`
	LastEventTimestamp  int64  `json:"last_event_timestamp,omitempty"`
	LastIngestionTime   int64  `json:"last_ingestion_time,omitempty"`
	StoredBytes         int64  `json:"stored_bytes"`
	NextSeq             int64  `json:"next_seq"`
}

// Batch holds the events of one PutLogEvents call (or one Append). Storing a
// batch per row keeps each journal entry as small as the call that made it,
// however long the stream grows.
type Batch struct {
	Events []StoredEvent `json:"events"`
}

// StoredEvent is one accepted log event.
type StoredEvent struct {
	Seq       int64  `json:"s"`
	Timestamp int64  `json:"t"`
	Ingestion int64  `json:"i"`
	Message   string `json:"m"`
}

// Service is the CloudWatch Logs emulator.
type Service struct {
	c       *core.Core
	groups  *core.Table[Group]
	streams *core.Table[Stream]
	batches *core.Table[Batch]
	ops     map[string]func(*core.Request) (any, error)
}

// New registers the service's tables.
func New(c *core.Core) *Service {
	s := &Service{
		c:       c,
		groups:  core.Register[Group](c.Store, "logs.groups"),
		streams: core.Register[Stream](c.Store, "logs.streams"),
		batches: core.Register[Batch](c.Store, "logs.batches"),
	}
	s.ops = map[string]func(*core.Request) (any, error){
		"CreateLogGroup":        s.createLogGroup,
		"DeleteLogGroup":        s.deleteLogGroup,
		"DescribeLogGroups":     s.describeLogGroups,
		"PutRetentionPolicy":    s.putRetentionPolicy,
		"DeleteRetentionPolicy": s.deleteRetentionPolicy,
		"CreateLogStream":       s.createLogStream,
		"DeleteLogStream":       s.deleteLogStream,
		"DescribeLogStreams":    s.describeLogStreams,
		"PutLogEvents":          s.putLogEvents,
		"GetLogEvents":          s.getLogEvents,
		"FilterLogEvents":       s.filterLogEvents,
		"TagResource":           s.tagResource,
		"UntagResource":         s.untagResource,
		"ListTagsForResource":   s.listTagsForResource,
		"TagLogGroup":           s.tagLogGroup,
		"UntagLogGroup":         s.untagLogGroup,
		"ListTagsLogGroup":      s.listTagsLogGroup,
	}
	return s
}

// Name implements core.Service.
func (s *Service) Name() string { return "logs" }

// Serve implements core.Service.
func (s *Service) Serve(r *core.Request) { core.ServeJSONTarget(r, targetPrefix, s.ops) }

func invalid(format string, args ...any) *core.Error {
	return core.Errorf("InvalidParameterException", format, args...)
}

var (
	errGroupNotFound  = core.Errorf("ResourceNotFoundException", "The specified log group does not exist.")
	errStreamNotFound = core.Errorf("ResourceNotFoundException", "The specified log stream does not exist.")
	errBadToken       = invalid("The specified nextToken is invalid.")
)

func groupKey(sc core.Scope, group string) string { return sc.Key(group) }

func streamKey(sc core.Scope, group, stream string) string { return sc.Key(group + ":" + stream) }

func streamPrefix(sc core.Scope, group string) string { return sc.Key(group + ":") }

func batchPrefix(sc core.Scope, group, stream string) string {
	return sc.Key(group + ":" + stream + ":")
}

func groupARN(sc core.Scope, group string) string {
	return sc.ARN("logs", "log-group:"+group+":*")
}

func streamARN(sc core.Scope, group, stream string) string {
	return sc.ARN("logs", "log-group:"+group+":log-stream:"+stream)
}

func (s *Service) nowMillis() int64 { return s.c.Now().UnixMilli() }
