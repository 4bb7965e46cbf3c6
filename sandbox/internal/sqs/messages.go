package sqs

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

// sendInput is one message to send, from SendMessage, a batch entry, or
// the Go API.
type sendInput struct {
	Body         string
	DelaySeconds *int
	Attributes   map[string]MessageAttribute
	TraceHeader  string
	GroupID      string
	DedupID      string
	SenderID     string
}

type sendResult struct {
	MessageID string
	MD5Body   string
	MD5Attrs  string
	Seq       int64
}

// md5OfAttributes is AWS's digest of message attributes: for each
// attribute in name order, the name, the data type (each as a 4-byte
// big-endian length and the UTF-8 bytes), a transport byte (1 string,
// 2 binary, 3 string list, 4 binary list) and the length-prefixed value(s).
func md5OfAttributes(attrs map[string]MessageAttribute) string {
	if len(attrs) == 0 {
		return ""
	}
	names := make([]string, 0, len(attrs))
	for k := range attrs {
		names = append(names, k)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	lp := func(b []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(b)))
		buf.Write(n[:])
		buf.Write(b)
	}
	for _, name := range names {
		a := attrs[name]
		lp([]byte(name))
		lp([]byte(a.DataType))
		switch {
		case strings.HasPrefix(a.DataType, "Binary") && a.BinaryValue != nil:
			buf.WriteByte(2)
			lp(a.BinaryValue)
		case len(a.StringListValues) > 0:
			buf.WriteByte(3)
			for _, v := range a.StringListValues {
				lp([]byte(v))
			}
		case len(a.BinaryListValues) > 0:
			buf.WriteByte(4)
			for _, v := range a.BinaryListValues {
				lp(v)
			}
		default:
			buf.WriteByte(1)
			lp([]byte(a.StringValue))
		}
	}
	sum := md5.Sum(buf.Bytes())
	return hex.EncodeToString(sum[:])
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// validBodyChar is the character set SQS accepts in bodies and string
// attribute values (the XML 1.0 Char production).
func validBodyChar(r rune) bool {
	return r == 0x9 || r == 0xA || r == 0xD || (r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}

func checkChars(s string) error {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size <= 1 {
				return core.Errorf("InvalidMessageContents", "Invalid binary character was found in the message body, the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF")
			}
		}
		if !validBodyChar(r) {
			return core.Errorf("InvalidMessageContents", "Invalid binary character '#x%X' was found in the message body, the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF", r)
		}
	}
	return nil
}

var attrNameRE = core.NewPattern(`A-Za-z0-9_.-`, 1, 256)

// validateMessageAttributes applies SQS's rules and returns the attributes'
// size as counted against MaximumMessageSize.
func validateMessageAttributes(attrs map[string]MessageAttribute) (int, error) {
	if len(attrs) > 10 {
		return 0, errInvalidParam("Number of message attributes [%d] exceeds the allowed maximum [10].", len(attrs))
	}
	size := 0
	for name, a := range attrs {
		lower := strings.ToLower(name)
		if !attrNameRE.MatchString(name) || strings.HasPrefix(lower, "aws.") || strings.HasPrefix(lower, "amazon.") ||
			strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, "..") {
			return 0, errInvalidParam("Message (user) attribute name '%s' is invalid. The attribute name can contain only the following characters: A-Z, a-z, 0-9, underscore (_), hyphen (-), and period (.). The name must not start or end with a period, and it should not have successive periods.", name)
		}
		base, custom, _ := strings.Cut(a.DataType, ".")
		if a.DataType == "" {
			return 0, errInvalidParam("The message attribute '%s' must contain non-empty message attribute type.", name)
		}
		if (base != "String" && base != "Number" && base != "Binary") || (strings.Contains(a.DataType, ".") && custom == "") || len(a.DataType) > 256 {
			return 0, errInvalidParam("The type of message (user) attribute '%s' is invalid. You must use only the following supported type prefixes: Binary, Number, String.", name)
		}
		if len(a.StringListValues) > 0 || len(a.BinaryListValues) > 0 {
			return 0, errInvalidParam("Message attribute list values in SendMessage operation are not supported.")
		}
		switch base {
		case "Binary":
			if len(a.BinaryValue) == 0 {
				return 0, errInvalidParam("The message attribute '%s' with type 'Binary' must use field 'Binary'.", name)
			}
			size += len(a.BinaryValue)
		default:
			if a.StringValue == "" {
				return 0, errInvalidParam("The message attribute '%s' must contain non-empty message attribute value for message attribute type '%s'.", name, base)
			}
			if base == "Number" {
				if _, err := strconv.ParseFloat(a.StringValue, 64); err != nil {
					return 0, errInvalidParam("Can't cast the value of message (user) attribute '%s' to a number.", name)
				}
			}
			if err := checkChars(a.StringValue); err != nil {
				return 0, err
			}
			size += len(a.StringValue)
		}
		size += len(name) + len(a.DataType)
	}
	return size, nil
}

// sendTx validates and stores one message in q inside tx.
func (s *Service) sendTx(tx *core.Tx, q queueRecord, in sendInput) (sendResult, error) {
	if in.Body == "" {
		return sendResult{}, errMissing("MessageBody")
	}
	if err := checkChars(in.Body); err != nil {
		return sendResult{}, err
	}
	attrSize, err := validateMessageAttributes(in.Attributes)
	if err != nil {
		return sendResult{}, err
	}
	maxSize := q.intAttr("MaximumMessageSize")
	if len(in.Body)+attrSize > maxSize {
		return sendResult{}, errInvalidParam("One or more parameters are invalid. Reason: Message must be shorter than %d bytes.", maxSize)
	}
	delay := q.intAttr("DelaySeconds")
	if in.DelaySeconds != nil {
		if *in.DelaySeconds < 0 || *in.DelaySeconds > 900 {
			return sendResult{}, errInvalidParam("Value %d for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900.", *in.DelaySeconds)
		}
		if q.fifo() {
			return sendResult{}, errInvalidParam("Value %d for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.", *in.DelaySeconds)
		}
		delay = *in.DelaySeconds
	}
	now := s.c.Now()
	res := sendResult{MessageID: newMessageID(), MD5Body: md5Hex(in.Body), MD5Attrs: md5OfAttributes(in.Attributes)}
	qkey := q.key()
	if q.fifo() {
		if in.GroupID == "" {
			return sendResult{}, errMissing("MessageGroupId")
		}
		if in.DedupID == "" {
			if q.Attributes["ContentBasedDeduplication"] != "true" {
				return sendResult{}, errInvalidParam("The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
			}
			sum := sha256.Sum256([]byte(in.Body))
			in.DedupID = hex.EncodeToString(sum[:])
		}
		dkey := qkey + "/" + in.DedupID
		if d, ok := s.dedup.Get(tx, dkey); ok && now.Sub(d.Sent) < s.DedupWindow {
			// A duplicate is accepted and answered as the original.
			res.MessageID, res.Seq = d.MessageID, d.Seq
			return res, nil
		}
		s.pruneDedup(tx, qkey, now)
	} else if in.DedupID != "" {
		// Standard queues accept a MessageGroupId (fair queues); a
		// deduplication id is foreign to them.
		return sendResult{}, errInvalidParam("Value %s for parameter MessageDeduplicationId is invalid. Reason: The request include parameter that is not valid for this queue type.", in.DedupID)
	}
	res.Seq = s.nextSeq()
	m := messageRecord{
		ID: res.MessageID, Seq: res.Seq, Body: in.Body, Attributes: in.Attributes,
		MD5Body: res.MD5Body, MD5Attrs: res.MD5Attrs, TraceHeader: in.TraceHeader, SenderID: in.SenderID,
		Sent: now, VisibleAt: now.Add(time.Duration(delay) * time.Second),
		GroupID: in.GroupID, DedupID: in.DedupID,
	}
	s.messages.Put(tx, msgKey(qkey, res.Seq), m)
	if q.fifo() {
		s.dedup.Put(tx, qkey+"/"+in.DedupID, dedupRecord{MessageID: res.MessageID, Seq: res.Seq, Sent: now})
	}
	// Waking waiters before commit is safe: they retry under the store
	// lock, which they get only once this transaction has finished.
	s.wake.notify(qkey)
	return res, nil
}

func (s *Service) pruneDedup(tx *core.Tx, qkey string, now time.Time) {
	for _, k := range s.dedup.Keys(tx, qkey+"/") {
		if d, ok := s.dedup.Get(tx, k); ok && now.Sub(d.Sent) >= s.DedupWindow {
			s.dedup.Delete(tx, k)
		}
	}
}

// receiveOptions are ReceiveMessage's parameters.
type receiveOptions struct {
	Max               int
	VisibilityTimeout *int
	WaitSeconds       *int
	AttributeNames    []string
	MessageAttrNames  []string
}

// delivered is one received message as both protocols render it.
type delivered struct {
	MessageID         string
	ReceiptHandle     string
	MD5OfBody         string
	Body              string
	Attributes        map[string]string
	MD5OfMessageAttrs string
	MessageAttributes map[string]MessageAttribute
}

func validateReceive(o *receiveOptions) error {
	if o.Max == 0 {
		o.Max = 1
	}
	if o.Max < 1 || o.Max > 10 {
		return errInvalidParam("Value %d for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.", o.Max)
	}
	if o.VisibilityTimeout != nil && (*o.VisibilityTimeout < 0 || *o.VisibilityTimeout > 43200) {
		return errInvalidParam("Value %d for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200, if provided.", *o.VisibilityTimeout)
	}
	if o.WaitSeconds != nil && (*o.WaitSeconds < 0 || *o.WaitSeconds > 20) {
		return errInvalidParam("Value %d for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.", *o.WaitSeconds)
	}
	return nil
}

// receiveTx takes up to o.Max visible messages of the queue at qkey. It
// also drops expired messages and moves to the dead-letter queue every
// message already received maxReceiveCount times. next is the earliest
// moment a delayed or in-flight message becomes visible (zero if none).
func (s *Service) receiveTx(tx *core.Tx, qkey string, o receiveOptions) (out []delivered, next time.Time, err error) {
	q, ok := s.queues.Get(tx, qkey)
	if !ok {
		return nil, time.Time{}, errQueueDoesNotExist()
	}
	now := s.c.Now()
	retention := time.Duration(q.intAttr("MessageRetentionPeriod")) * time.Second
	vis := q.intAttr("VisibilityTimeout")
	if o.VisibilityTimeout != nil {
		vis = *o.VisibilityTimeout
	}
	redrive, hasRedrive := parseRedrive(q.Attributes["RedrivePolicy"])
	var dlq queueRecord
	if hasRedrive {
		dlq, hasRedrive = s.queueByARN(tx, redrive.DeadLetterTargetArn)
	}
	fifo := q.fifo()
	blocked := map[string]bool{}
	for _, k := range s.messages.Keys(tx, qkey+"/") {
		m, _ := s.messages.Get(tx, k)
		if now.Sub(m.Sent) >= retention {
			s.messages.Delete(tx, k)
			continue
		}
		if m.VisibleAt.After(now) {
			if next.IsZero() || m.VisibleAt.Before(next) {
				next = m.VisibleAt
			}
			if fifo && m.ReceiveCount > 0 {
				blocked[m.GroupID] = true
			}
			continue
		}
		if fifo && blocked[m.GroupID] {
			continue
		}
		if hasRedrive && m.ReceiveCount >= redrive.MaxReceiveCount {
			s.messages.Delete(tx, k)
			moved := m
			moved.Seq = s.nextSeq()
			moved.VisibleAt = now
			moved.Receipt = ""
			moved.DLQSource = q.arn()
			s.messages.Put(tx, msgKey(dlq.key(), moved.Seq), moved)
			s.wake.notify(dlq.key())
			continue
		}
		if len(out) >= o.Max {
			if fifo {
				continue
			}
			break
		}
		m.ReceiveCount++
		if m.FirstReceive.IsZero() {
			m.FirstReceive = now
		}
		m.LastReceive = now
		m.VisibleAt = now.Add(time.Duration(vis) * time.Second)
		m.Receipt = core.RandomHex(8)
		s.messages.Put(tx, k, m)
		if vis == 0 {
			// Visible again at once: a waiter must not sleep past it.
			next = now
		} else if next.IsZero() || m.VisibleAt.Before(next) {
			next = m.VisibleAt
		}
		out = append(out, render(q, m, o, receipt{QueueKey: qkey, Seq: m.Seq, Nonce: m.Receipt}))
	}
	return out, next, nil
}

var systemAttributeNames = []string{
	"ApproximateFirstReceiveTimestamp", "ApproximateReceiveCount", "SenderId", "SentTimestamp",
	"AWSTraceHeader", "DeadLetterQueueSourceArn", "MessageDeduplicationId", "MessageGroupId", "SequenceNumber",
}

func render(q queueRecord, m messageRecord, o receiveOptions, h receipt) delivered {
	d := delivered{MessageID: m.ID, ReceiptHandle: h.String(), MD5OfBody: m.MD5Body, Body: m.Body}
	want := map[string]bool{}
	for _, n := range o.AttributeNames {
		if n == "All" {
			for _, a := range systemAttributeNames {
				want[a] = true
			}
		}
		want[n] = true
	}
	if len(want) > 0 {
		d.Attributes = map[string]string{}
		set := func(name, v string) {
			if want[name] && v != "" {
				d.Attributes[name] = v
			}
		}
		set("ApproximateFirstReceiveTimestamp", millis(m.FirstReceive))
		set("ApproximateReceiveCount", strconv.Itoa(m.ReceiveCount))
		set("SenderId", m.SenderID)
		set("SentTimestamp", millis(m.Sent))
		set("AWSTraceHeader", m.TraceHeader)
		set("DeadLetterQueueSourceArn", m.DLQSource)
		if q.fifo() {
			set("MessageDeduplicationId", m.DedupID)
			set("MessageGroupId", m.GroupID)
			set("SequenceNumber", strconv.FormatInt(m.Seq, 10))
		}
		if len(d.Attributes) == 0 {
			d.Attributes = nil
		}
	}
	if len(o.MessageAttrNames) > 0 && len(m.Attributes) > 0 {
		sel := map[string]MessageAttribute{}
		for name, a := range m.Attributes {
			for _, pat := range o.MessageAttrNames {
				if pat == "All" || pat == ".*" || pat == name ||
					(strings.HasSuffix(pat, ".*") && strings.HasPrefix(name, strings.TrimSuffix(pat, "*"))) {
					sel[name] = a
					break
				}
			}
		}
		if len(sel) > 0 {
			d.MessageAttributes = sel
			d.MD5OfMessageAttrs = md5OfAttributes(sel)
		}
	}
	return d
}

// receive runs receiveTx until it returns messages, the wait time is
// spent, or ctx ends. Each attempt is its own short Update; between attempts
// it sleeps on the queue's wake-up channel outside the store lock.
func (s *Service) receive(ctx context.Context, qkey string, o receiveOptions) ([]delivered, error) {
	var wait time.Duration
	if o.WaitSeconds != nil {
		wait = time.Duration(*o.WaitSeconds) * time.Second
	}
	deadline := time.Now().Add(wait)
	for {
		ch := s.wake.wait(qkey)
		var out []delivered
		var next time.Time
		// A receive need not wait for an fsync: lost in a crash, it only
		// makes its messages visible again, as a visibility timeout would.
		err := s.c.Store.UpdateUnsynced(func(tx *core.Tx) error {
			var err error
			out, next, err = s.receiveTx(tx, qkey, o)
			return err
		})
		if err != nil || len(out) > 0 {
			return out, err
		}
		remaining := time.Until(deadline)
		if remaining <= 0 {
			return nil, nil
		}
		if !next.IsZero() {
			if d := next.Sub(s.c.Now()); d < remaining {
				remaining = max(d, time.Millisecond)
			}
		}
		t := time.NewTimer(remaining)
		select {
		case <-ch:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, nil
		}
		t.Stop()
	}
}

// deleteTx deletes the message a receipt handle names. A handle of a
// message already deleted succeeds, as on AWS; a stale handle (from an
// earlier receive) succeeds without deleting, as AWS documents.
func (s *Service) deleteTx(tx *core.Tx, q queueRecord, handle string) error {
	h, ok := parseReceipt(handle)
	if !ok || h.QueueKey != q.key() {
		return errInvalidReceipt(handle)
	}
	k := msgKey(h.QueueKey, h.Seq)
	m, found := s.messages.Get(tx, k)
	if !found || m.Receipt != h.Nonce {
		return nil
	}
	s.messages.Delete(tx, k)
	return nil
}

// changeVisibilityTx sets a received message's remaining invisibility.
func (s *Service) changeVisibilityTx(tx *core.Tx, q queueRecord, handle string, timeout int) error {
	h, ok := parseReceipt(handle)
	if !ok || h.QueueKey != q.key() {
		return errInvalidReceipt(handle)
	}
	if timeout < 0 || timeout > 43200 {
		return errInvalidParam("Value %d for parameter VisibilityTimeout is invalid. Reason: VisibilityTimeout must be an integer between 0 and 43200.", timeout)
	}
	k := msgKey(h.QueueKey, h.Seq)
	m, found := s.messages.Get(tx, k)
	now := s.c.Now()
	if !found || m.Receipt != h.Nonce {
		return errInvalidParam("Value %s for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.", handle)
	}
	if !m.inFlight(now) {
		return core.Errorf("MessageNotInflight", "Message does not exist or is not available for visibility timeout change.")
	}
	if now.Add(time.Duration(timeout)*time.Second).Sub(m.LastReceive) > 12*time.Hour {
		return errInvalidParam("Value %d for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [43200 seconds]", timeout)
	}
	m.VisibleAt = now.Add(time.Duration(timeout) * time.Second)
	s.messages.Put(tx, k, m)
	s.wake.notify(h.QueueKey)
	return nil
}

// counts are the Approximate* attributes.
func (s *Service) counts(tx *core.Tx, q queueRecord) (visible, inFlight, delayed int) {
	now := s.c.Now()
	retention := time.Duration(q.intAttr("MessageRetentionPeriod")) * time.Second
	s.messages.Scan(tx, q.key()+"/", func(_ string, m messageRecord) bool {
		switch {
		case now.Sub(m.Sent) >= retention:
		case m.inFlight(now):
			inFlight++
		case m.delayed(now):
			delayed++
		default:
			visible++
		}
		return true
	})
	return
}

func (s *Service) deleteMessagesTx(tx *core.Tx, qkey string) {
	for _, k := range s.messages.Keys(tx, qkey+"/") {
		s.messages.Delete(tx, k)
	}
}
