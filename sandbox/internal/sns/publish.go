package sns

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

// MessageAttribute is an SNS message attribute. Binary values are raw
// bytes.
type MessageAttribute struct {
	DataType    string `json:"DataType"`
	StringValue string `json:"StringValue,omitempty"`
	BinaryValue []byte `json:"BinaryValue,omitempty"`
}

// Published is one committed publish, handed to the "sns.published" hook.
type Published struct {
	Scope     core.Scope // the topic's account and region
	TopicArn  string
	MessageID string
	Subject   string
	// Message is the message as published. With MessageStructure "json"
	// it is a JSON object of per-protocol messages with a "default" key
	// (validated).
	Message           string
	MessageStructure  string
	MessageAttributes map[string]MessageAttribute
	// FIFO topics only.
	MessageGroupID         string
	MessageDeduplicationID string
	SequenceNumber         string
	Timestamp              time.Time
}

// maxMessageSize is the publish size limit (message plus attributes).
const maxMessageSize = 262144

type publishInput struct {
	Message          string
	HasSubject       bool
	Subject          string
	MessageStructure string
	Attributes       map[string]MessageAttribute
	GroupID          string
	DedupID          string
}

var subjectRE = core.NewPattern(`\x20-\x7E`, 1, 100)

var snsAttrNameRE = core.NewPattern(`A-Za-z0-9_.-`, 1, 256)

// validatePublish applies Publish's rules to one message.
func validatePublish(in publishInput) error {
	if in.Message == "" {
		return errInvalidParameter("Empty message")
	}
	if in.HasSubject && (!subjectRE.MatchString(in.Subject) || in.Subject[0] == ' ') {
		return errInvalidParameter("Subject")
	}
	switch in.MessageStructure {
	case "":
	case "json":
		var m map[string]any
		if json.Unmarshal([]byte(in.Message), &m) != nil {
			return errInvalidParameter("Message Structure - JSON message body failed to parse")
		}
		if d, ok := m["default"].(string); !ok || d == "" {
			return errInvalidParameter("Message Structure - No default entry in JSON message body")
		}
	default:
		return errInvalidParameter("MessageStructure")
	}
	size := len(in.Message)
	if len(in.Attributes) > 10 {
		return errValueInvalid("Number of message attributes [%d] exceeds the allowed maximum [10].", len(in.Attributes))
	}
	for name, a := range in.Attributes {
		lower := strings.ToLower(name)
		if !snsAttrNameRE.MatchString(name) || strings.HasPrefix(lower, "aws.") || strings.HasPrefix(lower, "amazon.") ||
			strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, "..") {
			return errValueInvalid("Invalid attribute name: %s", name)
		}
		base, custom, hasCustom := strings.Cut(a.DataType, ".")
		if a.DataType == "String.Array" {
			var arr []any
			if json.Unmarshal([]byte(a.StringValue), &arr) != nil {
				return errValueInvalid("The message attribute '%s' has an invalid value for type 'String.Array'. Only arrays of strings, numbers, booleans and null are supported.", name)
			}
			for _, v := range arr {
				switch v.(type) {
				case string, float64, bool, nil:
				default:
					return errValueInvalid("The message attribute '%s' has an invalid value for type 'String.Array'. Only arrays of strings, numbers, booleans and null are supported.", name)
				}
			}
		} else if (base != "String" && base != "Number" && base != "Binary") || (hasCustom && custom == "") {
			return errValueInvalid("The message attribute '%s' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.", name)
		}
		switch base {
		case "Binary":
			if len(a.BinaryValue) == 0 {
				return errValueInvalid("The message attribute '%s' with type 'Binary' must use field 'Binary'.", name)
			}
			size += len(a.BinaryValue)
		default:
			if a.StringValue == "" {
				return errValueInvalid("The message attribute '%s' must contain non-empty message attribute value for message attribute type '%s'.", name, base)
			}
			if base == "Number" {
				if _, err := strconv.ParseFloat(a.StringValue, 64); err != nil {
					return errValueInvalid("Could not cast message attribute '%s' value to number.", name)
				}
			}
			size += len(a.StringValue)
		}
		size += len(name) + len(a.DataType)
	}
	if size > maxMessageSize {
		return errInvalidParameter("Message too long")
	}
	return nil
}

// commitPublish records what a publish changes (FIFO deduplication and
// sequence numbers) and builds the event. A duplicate FIFO message returns
// the original's id and no event.
func (s *Service) commitPublish(tx *core.Tx, t *topicRecord, in publishInput) (Published, bool, error) {
	now := s.c.Now()
	ev := Published{
		Scope: t.scope(), TopicArn: t.arn(), MessageID: newUUID(), Subject: in.Subject, Message: in.Message,
		MessageStructure: in.MessageStructure, MessageAttributes: in.Attributes, Timestamp: now,
	}
	if !t.fifo() {
		if in.DedupID != "" {
			return ev, false, errInvalidParameter("MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type")
		}
		return ev, true, nil
	}
	if in.GroupID == "" {
		return ev, false, errInvalidParameter("The MessageGroupId parameter is required for FIFO topics")
	}
	if in.DedupID == "" {
		if t.Attributes["ContentBasedDeduplication"] != "true" {
			return ev, false, errInvalidParameter("The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
		}
		sum := sha256.Sum256([]byte(in.Message))
		in.DedupID = hex.EncodeToString(sum[:])
	}
	dkey := t.key() + "/" + in.DedupID
	if d, ok := s.dedup.Get(tx, dkey); ok && now.Sub(d.Sent) < s.DedupWindow {
		ev.MessageID, ev.SequenceNumber = d.MessageID, d.Sequence
		return ev, false, nil
	}
	for _, k := range s.dedup.Keys(tx, t.key()+"/") {
		if d, _ := s.dedup.Get(tx, k); now.Sub(d.Sent) >= s.DedupWindow {
			s.dedup.Delete(tx, k)
		}
	}
	t.LastSequence++
	ev.SequenceNumber = fmt.Sprintf("%020d", t.LastSequence)
	ev.MessageGroupID, ev.MessageDeduplicationID = in.GroupID, in.DedupID
	s.topics.Put(tx, t.key(), *t)
	s.dedup.Put(tx, dkey, dedupRecord{MessageID: ev.MessageID, Sequence: ev.SequenceNumber, Sent: now})
	return ev, true, nil
}

func (s *Service) announce(events []Published) {
	hook, ok := s.c.Hook(HookPublished).(func(Published))
	if !ok {
		return
	}
	for _, ev := range events {
		hook(ev)
	}
}

// resolvePublishTarget picks the topic of a Publish: TopicArn or TargetArn
// (exactly one of them, or a PhoneNumber).
func (s *Service) resolvePublishTarget(tx *core.Tx, r *core.Request, f form) (topicRecord, error) {
	topicArn, targetArn, phone := f.get("TopicArn"), f.get("TargetArn"), f.get("PhoneNumber")
	set := 0
	for _, v := range []string{topicArn, targetArn, phone} {
		if v != "" {
			set++
		}
	}
	if set > 1 {
		return topicRecord{}, errInvalidParameter("TargetArn Reason: Only one of PhoneNumber, TopicArn or TargetArn can be set")
	}
	if phone != "" {
		// Direct SMS needs an SMS sandbox the emulator does not model.
		return topicRecord{}, errInvalidParameter("PhoneNumber Reason: direct SMS publishing is not available in the sandbox")
	}
	param, arn := "TopicArn", topicArn
	if targetArn != "" {
		param, arn = "TargetArn", targetArn
	}
	if arn == "" {
		return topicRecord{}, errInvalidParameter("TopicArn")
	}
	if strings.Contains(arn, ":endpoint/") {
		return topicRecord{}, core.ErrorStatus(404, "NotFound", "Endpoint does not exist")
	}
	t, err := s.resolveTopic(tx, r, param, arn)
	if err != nil {
		return t, err
	}
	return t, authorize(r, t, "SNS:Publish")
}

type publishResult struct {
	MessageID      string `xml:"MessageId"`
	SequenceNumber string `xml:"SequenceNumber,omitempty"`
}

func (s *Service) publish(r *core.Request, f form) (any, error) {
	attrs, err := f.messageAttributes("MessageAttributes")
	if err != nil {
		return nil, err
	}
	in := publishInput{
		Message: f.get("Message"), HasSubject: f.has("Subject"), Subject: f.get("Subject"),
		MessageStructure: f.get("MessageStructure"), Attributes: attrs,
		GroupID: f.get("MessageGroupId"), DedupID: f.get("MessageDeduplicationId"),
	}
	var ev Published
	var fresh bool
	err = s.c.Store.Update(func(tx *core.Tx) error {
		t, err := s.resolvePublishTarget(tx, r, f)
		if err != nil {
			return err
		}
		if err := validatePublish(in); err != nil {
			return err
		}
		ev, fresh, err = s.commitPublish(tx, &t, in)
		return err
	})
	if err != nil {
		return nil, err
	}
	if fresh {
		s.announce([]Published{ev})
	}
	return publishResult{MessageID: ev.MessageID, SequenceNumber: ev.SequenceNumber}, nil
}

type batchSuccess struct {
	ID             string `xml:"Id"`
	MessageID      string `xml:"MessageId"`
	SequenceNumber string `xml:"SequenceNumber,omitempty"`
}

type batchFailure struct {
	ID          string `xml:"Id"`
	Code        string `xml:"Code"`
	Message     string `xml:"Message"`
	SenderFault bool   `xml:"SenderFault"`
}

type publishBatchResult struct {
	Successful []batchSuccess `xml:"Successful>member"`
	Failed     []batchFailure `xml:"Failed>member"`
}

var batchIDRE = core.NewPattern(`A-Za-z0-9_-`, 1, 80)

func (s *Service) publishBatch(r *core.Request, f form) (any, error) {
	const p = "PublishBatchRequestEntries.member"
	type entry struct {
		id string
		in publishInput
	}
	var list []entry
	total := 0
	for _, n := range f.indices(p) {
		base := p + "." + strconv.Itoa(n) + "."
		attrs, err := f.messageAttributes(base + "MessageAttributes")
		if err != nil {
			return nil, err
		}
		e := entry{id: f.get(base + "Id"), in: publishInput{
			Message: f.get(base + "Message"), HasSubject: f.has(base + "Subject"), Subject: f.get(base + "Subject"),
			MessageStructure: f.get(base + "MessageStructure"), Attributes: attrs,
			GroupID: f.get(base + "MessageGroupId"), DedupID: f.get(base + "MessageDeduplicationId"),
		}}
		total += len(e.in.Message)
		for name, a := range attrs {
			total += len(name) + len(a.DataType) + len(a.StringValue) + len(a.BinaryValue)
		}
		list = append(list, e)
	}
	if len(list) == 0 {
		return nil, core.Errorf("EmptyBatchRequest", "The batch request doesn't contain any entries")
	}
	if len(list) > 10 {
		return nil, core.Errorf("TooManyEntriesInBatchRequest", "The batch request contains more entries than permissible")
	}
	seen := map[string]bool{}
	for _, e := range list {
		if !batchIDRE.MatchString(e.id) {
			return nil, core.Errorf("InvalidBatchEntryId", "The Id of a batch entry in a batch request doesn't abide by the specification")
		}
		if seen[e.id] {
			return nil, core.Errorf("BatchEntryIdsNotDistinct", "Two or more batch entries in the request have the same Id")
		}
		seen[e.id] = true
	}
	if total > maxMessageSize {
		return nil, core.Errorf("BatchRequestTooLong", "The length of all the messages put together is more than the limit")
	}
	out := publishBatchResult{Successful: []batchSuccess{}, Failed: []batchFailure{}}
	var events []Published
	err := s.c.Store.Update(func(tx *core.Tx) error {
		t, err := s.resolveTopic(tx, r, "TopicArn", f.get("TopicArn"))
		if err != nil {
			return err
		}
		if err := authorize(r, t, "SNS:Publish"); err != nil {
			return err
		}
		for _, e := range list {
			err := validatePublish(e.in)
			var ev Published
			var fresh bool
			if err == nil {
				ev, fresh, err = s.commitPublish(tx, &t, e.in)
			}
			if err != nil {
				ce := core.AsError(err)
				out.Failed = append(out.Failed, batchFailure{ID: e.id, Code: ce.Code, Message: ce.Message, SenderFault: !ce.Receiver})
				continue
			}
			out.Successful = append(out.Successful, batchSuccess{ID: e.id, MessageID: ev.MessageID, SequenceNumber: ev.SequenceNumber})
			if fresh {
				events = append(events, ev)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.announce(events)
	return out, nil
}
