package sqs

import (
	"encoding/base64"
	"maps"
	"strconv"
	"strings"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

var handlers = map[string]handlerFunc{
	"CreateQueue":                  op(parseCreateQueue, (*Service).createQueue, func(o *queueURLOutput) any { return o }),
	"GetQueueUrl":                  op(parseGetQueueURL, (*Service).getQueueURL, func(o *queueURLOutput) any { return o }),
	"GetQueueAttributes":           op(parseGetQueueAttributes, (*Service).getQueueAttributes, xmlGetQueueAttributes),
	"SetQueueAttributes":           op(parseSetQueueAttributes, (*Service).setQueueAttributes, nil),
	"DeleteQueue":                  op(parseQueueOnly, (*Service).deleteQueue, nil),
	"PurgeQueue":                   op(parseQueueOnly, (*Service).purgeQueue, nil),
	"ListQueues":                   op(parseListQueues, (*Service).listQueues, xmlListQueues),
	"ListDeadLetterSourceQueues":   op(parseListDLSources, (*Service).listDeadLetterSourceQueues, xmlListDLSources),
	"TagQueue":                     op(parseTagQueue, (*Service).tagQueue, nil),
	"UntagQueue":                   op(parseUntagQueue, (*Service).untagQueue, nil),
	"ListQueueTags":                op(parseQueueOnly, (*Service).listQueueTags, xmlListQueueTags),
	"SendMessage":                  op(parseSendMessage, (*Service).sendMessage, func(o *sendMessageOutput) any { return o }),
	"SendMessageBatch":             op(parseSendMessageBatch, (*Service).sendMessageBatch, xmlSendBatch),
	"ReceiveMessage":               op(parseReceiveMessage, (*Service).receiveMessage, xmlReceive),
	"DeleteMessage":                op(parseDeleteMessage, (*Service).deleteMessage, nil),
	"DeleteMessageBatch":           op(parseDeleteMessageBatch, (*Service).deleteMessageBatch, xmlDeleteBatch),
	"ChangeMessageVisibility":      op(parseChangeVisibility, (*Service).changeMessageVisibility, nil),
	"ChangeMessageVisibilityBatch": op(parseChangeVisibilityBatch, (*Service).changeMessageVisibilityBatch, xmlChangeBatch),
}

type empty struct{}

type queueOnlyInput struct {
	QueueUrl string `json:"QueueUrl"`
}

func parseQueueOnly(f form) (*queueOnlyInput, error) {
	return &queueOnlyInput{QueueUrl: f.get("QueueUrl")}, nil
}

type queueURLOutput struct {
	QueueUrl string `json:"QueueUrl" xml:"QueueUrl"`
}

// --- CreateQueue ---

type createQueueInput struct {
	QueueName  string            `json:"QueueName"`
	Attributes map[string]string `json:"Attributes"`
	Tags       map[string]string `json:"tags"`
}

func parseCreateQueue(f form) (*createQueueInput, error) {
	return &createQueueInput{
		QueueName:  f.get("QueueName"),
		Attributes: f.pairs([]string{"Attribute", "Attributes"}, "Name", "Value"),
		Tags:       f.pairs([]string{"Tag", "Tags", "tags"}, "Key", "Value"),
	}, nil
}

func (s *Service) createQueue(r *core.Request, in *createQueueInput) (*queueURLOutput, error) {
	if err := validateQueueName(in.QueueName, in.Attributes["FifoQueue"]); err != nil {
		return nil, err
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	var out queueURLOutput
	err := s.c.Store.Update(func(tx *core.Tx) error {
		key := r.Scope.Key(in.QueueName)
		now := s.c.Now()
		probe := queueRecord{Name: in.QueueName, Account: r.Scope.Account, Region: r.Scope.Region}
		attrs, err := s.validateAttributes(tx, &probe, in.Attributes, true)
		if err != nil {
			return err
		}
		if existing, ok := s.queues.Get(tx, key); ok {
			for name, v := range attrs {
				cur, set := existing.Attributes[name]
				if name == "FifoQueue" && v == "false" && !set {
					continue
				}
				if cur != v {
					return core.Errorf("QueueNameExists", "A queue already exists with the same name and a different value for attribute %s", name)
				}
			}
			out.QueueUrl = s.queueURL(&existing)
			return nil
		}
		if t, ok := s.tombstones.Get(tx, key); ok && now.Sub(t.Deleted) < s.RecreateDelay {
			return core.Errorf("QueueDeletedRecently", "You must wait 60 seconds after deleting a queue before you can create another with the same name.")
		}
		s.tombstones.Delete(tx, key)
		q := probe
		q.Attributes = maps.Clone(defaultAttributes)
		if strings.HasSuffix(q.Name, ".fifo") {
			q.Attributes["FifoQueue"] = "true"
			q.Attributes["ContentBasedDeduplication"] = "false"
			q.Attributes["DeduplicationScope"] = "queue"
			q.Attributes["FifoThroughputLimit"] = "perQueue"
		}
		for k, v := range attrs {
			if v == "" && (k == "Policy" || k == "RedrivePolicy" || k == "RedriveAllowPolicy") {
				continue
			}
			if k == "FifoQueue" && v == "false" {
				continue
			}
			q.Attributes[k] = v
		}
		if len(in.Tags) > 0 {
			q.Tags = maps.Clone(in.Tags)
		}
		q.Created, q.Modified = now, now
		s.queues.Put(tx, key, q)
		out.QueueUrl = s.queueURL(&q)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// --- GetQueueUrl ---

type getQueueURLInput struct {
	QueueName              string `json:"QueueName"`
	QueueOwnerAWSAccountId string `json:"QueueOwnerAWSAccountId"`
}

func parseGetQueueURL(f form) (*getQueueURLInput, error) {
	return &getQueueURLInput{QueueName: f.get("QueueName"), QueueOwnerAWSAccountId: f.get("QueueOwnerAWSAccountId")}, nil
}

func (s *Service) getQueueURL(r *core.Request, in *getQueueURLInput) (*queueURLOutput, error) {
	if in.QueueName == "" {
		return nil, errMissing("QueueName")
	}
	if in.QueueOwnerAWSAccountId != "" && in.QueueOwnerAWSAccountId != r.Scope.Account {
		// Cross-account access would need the owner's queue policy; the
		// sandbox keeps accounts apart, as AWS does without one.
		return nil, errQueueDoesNotExist()
	}
	var out queueURLOutput
	err := s.c.Store.View(func(tx *core.Tx) error {
		q, ok := s.queues.Get(tx, r.Scope.Key(in.QueueName))
		if !ok {
			return errQueueDoesNotExist()
		}
		out.QueueUrl = s.queueURL(&q)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// --- GetQueueAttributes / SetQueueAttributes ---

type getQueueAttributesInput struct {
	QueueUrl       string   `json:"QueueUrl"`
	AttributeNames []string `json:"AttributeNames"`
}

type getQueueAttributesOutput struct {
	Attributes map[string]string `json:"Attributes,omitempty"`
}

func parseGetQueueAttributes(f form) (*getQueueAttributesInput, error) {
	return &getQueueAttributesInput{QueueUrl: f.get("QueueUrl"), AttributeNames: f.list("AttributeName", "AttributeNames")}, nil
}

func xmlGetQueueAttributes(o *getQueueAttributesOutput) any {
	return struct {
		Attributes []xmlNV `xml:"Attribute"`
	}{nvList(o.Attributes)}
}

var knownAttributeNames = func() map[string]bool {
	m := map[string]bool{"All": true}
	for k := range settable {
		m[k] = true
	}
	for _, k := range computed {
		m[k] = true
	}
	return m
}()

func (s *Service) getQueueAttributes(r *core.Request, in *getQueueAttributesInput) (*getQueueAttributesOutput, error) {
	for _, n := range in.AttributeNames {
		if !knownAttributeNames[n] {
			return nil, core.Errorf("InvalidAttributeName", "Unknown Attribute %s.", n)
		}
	}
	out := &getQueueAttributesOutput{}
	err := s.c.Store.View(func(tx *core.Tx) error {
		q, err := s.resolveQueue(tx, r, in.QueueUrl)
		if err != nil {
			return err
		}
		out.Attributes = s.attributes(tx, q.effective(s.c.Now()), in.AttributeNames)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// attributes renders the requested attributes of q ("All" for every one).
func (s *Service) attributes(tx *core.Tx, q queueRecord, names []string) map[string]string {
	all := map[string]string{}
	maps.Copy(all, q.Attributes)
	visible, inFlight, delayed := s.counts(tx, q)
	all["QueueArn"] = q.arn()
	all["ApproximateNumberOfMessages"] = strconv.Itoa(visible)
	all["ApproximateNumberOfMessagesNotVisible"] = strconv.Itoa(inFlight)
	all["ApproximateNumberOfMessagesDelayed"] = strconv.Itoa(delayed)
	all["CreatedTimestamp"] = strconv.FormatInt(q.Created.Unix(), 10)
	all["LastModifiedTimestamp"] = strconv.FormatInt(q.Modified.Unix(), 10)
	out := map[string]string{}
	for _, n := range names {
		if n == "All" {
			return all
		}
		if v, ok := all[n]; ok {
			out[n] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

type setQueueAttributesInput struct {
	QueueUrl   string            `json:"QueueUrl"`
	Attributes map[string]string `json:"Attributes"`
}

func parseSetQueueAttributes(f form) (*setQueueAttributesInput, error) {
	return &setQueueAttributesInput{QueueUrl: f.get("QueueUrl"), Attributes: f.pairs([]string{"Attribute", "Attributes"}, "Name", "Value")}, nil
}

func (s *Service) setQueueAttributes(r *core.Request, in *setQueueAttributesInput) (*empty, error) {
	err := s.c.Store.Update(func(tx *core.Tx) error {
		q, err := s.resolveQueue(tx, r, in.QueueUrl)
		if err != nil {
			return err
		}
		attrs, err := s.validateAttributes(tx, &q, in.Attributes, false)
		if err != nil {
			return err
		}
		s.attributesChanging(s.c.Now(), &q)
		q.Attributes = maps.Clone(q.Attributes)
		for k, v := range attrs {
			if v == "" && (k == "Policy" || k == "RedrivePolicy" || k == "RedriveAllowPolicy") {
				delete(q.Attributes, k)
				continue
			}
			q.Attributes[k] = v
		}
		q.Modified = s.c.Now()
		s.queues.Put(tx, q.key(), q)
		return nil
	})
	if err != nil {
		return nil, err
	}
	// A shorter delay or a new redrive target may make messages receivable.
	s.wake.notify(r.Scope.Key(queueNameOf(in.QueueUrl, r)))
	return &empty{}, nil
}

func queueNameOf(queueURL string, r *core.Request) string {
	if queueURL == "" {
		queueURL = r.HTTP.URL.Path
	}
	_, name, _ := splitQueueURL(queueURL)
	return name
}

// --- DeleteQueue / PurgeQueue ---

func (s *Service) deleteQueue(r *core.Request, in *queueOnlyInput) (*empty, error) {
	var key string
	err := s.c.Store.Update(func(tx *core.Tx) error {
		q, err := s.resolveQueue(tx, r, in.QueueUrl)
		if err != nil {
			return err
		}
		key = q.key()
		s.deleteMessagesTx(tx, key)
		for _, k := range s.dedup.Keys(tx, key+"/") {
			s.dedup.Delete(tx, k)
		}
		s.queues.Delete(tx, key)
		s.tombstones.Put(tx, key, tombstone{Deleted: s.c.Now()})
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.wake.notify(key)
	return &empty{}, nil
}

func (s *Service) purgeQueue(r *core.Request, in *queueOnlyInput) (*empty, error) {
	err := s.c.Store.Update(func(tx *core.Tx) error {
		q, err := s.resolveQueue(tx, r, in.QueueUrl)
		if err != nil {
			return err
		}
		now := s.c.Now()
		if !q.LastPurge.IsZero() && now.Sub(q.LastPurge) < s.PurgeInterval {
			return core.Errorf("PurgeQueueInProgress", "Only one PurgeQueue operation on %s is allowed every 60 seconds.", q.Name)
		}
		s.deleteMessagesTx(tx, q.key())
		q.LastPurge = now
		s.queues.Put(tx, q.key(), q)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &empty{}, nil
}

// --- ListQueues / ListDeadLetterSourceQueues ---

type listQueuesInput struct {
	QueueNamePrefix string `json:"QueueNamePrefix"`
	NextToken       string `json:"NextToken"`
	MaxResults      *int   `json:"MaxResults"`
}

type listQueuesOutput struct {
	QueueUrls []string `json:"QueueUrls,omitempty"`
	NextToken string   `json:"NextToken,omitempty"`
}

func parseListQueues(f form) (*listQueuesInput, error) {
	max, err := f.optInt("MaxResults")
	if err != nil {
		return nil, err
	}
	return &listQueuesInput{QueueNamePrefix: f.get("QueueNamePrefix"), NextToken: f.get("NextToken"), MaxResults: max}, nil
}

func xmlListQueues(o *listQueuesOutput) any {
	return struct {
		QueueUrls []string `xml:"QueueUrl"`
		NextToken string   `xml:"NextToken,omitempty"`
	}{o.QueueUrls, o.NextToken}
}

// page returns the names after the token, at most max (1000 when nil),
// and the token of the next page when max was given and more remain.
func page(names []string, token string, max *int) ([]string, string, error) {
	start := 0
	if token != "" {
		b, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil || len(b) == 0 {
			return nil, "", errInvalidParam("Invalid NextToken value.")
		}
		after := string(b)
		for start < len(names) && names[start] <= after {
			start++
		}
	}
	limit := 1000
	if max != nil {
		if *max < 1 || *max > 1000 {
			return nil, "", errInvalidParam("Value %d for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000.", *max)
		}
		limit = *max
	}
	end := min(start+limit, len(names))
	next := ""
	if max != nil && end < len(names) {
		next = base64.RawURLEncoding.EncodeToString([]byte(names[end-1]))
	}
	return names[start:end], next, nil
}

func (s *Service) listQueues(r *core.Request, in *listQueuesInput) (*listQueuesOutput, error) {
	out := &listQueuesOutput{}
	err := s.c.Store.View(func(tx *core.Tx) error {
		var names []string
		s.queues.Scan(tx, r.Scope.Prefix()+in.QueueNamePrefix, func(_ string, q queueRecord) bool {
			names = append(names, q.Name)
			return true
		})
		sel, next, err := page(names, in.NextToken, in.MaxResults)
		if err != nil {
			return err
		}
		for _, n := range sel {
			q, _ := s.queues.Get(tx, r.Scope.Key(n))
			out.QueueUrls = append(out.QueueUrls, s.queueURL(&q))
		}
		out.NextToken = next
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

type listDLSourcesInput struct {
	QueueUrl   string `json:"QueueUrl"`
	NextToken  string `json:"NextToken"`
	MaxResults *int   `json:"MaxResults"`
}

type listDLSourcesOutput struct {
	QueueUrls []string `json:"queueUrls"`
	NextToken string   `json:"NextToken,omitempty"`
}

func parseListDLSources(f form) (*listDLSourcesInput, error) {
	max, err := f.optInt("MaxResults")
	if err != nil {
		return nil, err
	}
	return &listDLSourcesInput{QueueUrl: f.get("QueueUrl"), NextToken: f.get("NextToken"), MaxResults: max}, nil
}

func xmlListDLSources(o *listDLSourcesOutput) any {
	return struct {
		QueueUrls []string `xml:"QueueUrl"`
		NextToken string   `xml:"NextToken,omitempty"`
	}{o.QueueUrls, o.NextToken}
}

func (s *Service) listDeadLetterSourceQueues(r *core.Request, in *listDLSourcesInput) (*listDLSourcesOutput, error) {
	out := &listDLSourcesOutput{QueueUrls: []string{}}
	err := s.c.Store.View(func(tx *core.Tx) error {
		dlq, err := s.resolveQueue(tx, r, in.QueueUrl)
		if err != nil {
			return err
		}
		var names []string
		s.queues.Scan(tx, r.Scope.Prefix(), func(_ string, q queueRecord) bool {
			if p, ok := parseRedrive(q.Attributes["RedrivePolicy"]); ok && p.DeadLetterTargetArn == dlq.arn() {
				names = append(names, q.Name)
			}
			return true
		})
		sel, next, err := page(names, in.NextToken, in.MaxResults)
		if err != nil {
			return err
		}
		for _, n := range sel {
			q, _ := s.queues.Get(tx, r.Scope.Key(n))
			out.QueueUrls = append(out.QueueUrls, s.queueURL(&q))
		}
		out.NextToken = next
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// --- tags ---

type tagQueueInput struct {
	QueueUrl string            `json:"QueueUrl"`
	Tags     map[string]string `json:"Tags"`
}

func parseTagQueue(f form) (*tagQueueInput, error) {
	return &tagQueueInput{QueueUrl: f.get("QueueUrl"), Tags: f.pairs([]string{"Tags", "Tag"}, "Key", "Value")}, nil
}

var tagKeyRE = core.NewPattern(`\p{L}\p{Z}\p{N}_.:/=+\-@`, 1, 128)

func validateTags(tags map[string]string) error {
	for k, v := range tags {
		if !tagKeyRE.MatchString(k) || strings.HasPrefix(strings.ToLower(k), "aws:") || len(v) > 256 {
			return errInvalidParam("Tag key or value is invalid: %s.", k)
		}
	}
	return nil
}

func (s *Service) tagQueue(r *core.Request, in *tagQueueInput) (*empty, error) {
	if len(in.Tags) == 0 {
		return nil, errMissing("Tags")
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	err := s.c.Store.Update(func(tx *core.Tx) error {
		q, err := s.resolveQueue(tx, r, in.QueueUrl)
		if err != nil {
			return err
		}
		tags := maps.Clone(q.Tags)
		if tags == nil {
			tags = map[string]string{}
		}
		maps.Copy(tags, in.Tags)
		if len(tags) > 50 {
			return errInvalidParam("Too many tags added for queue %s.", q.Name)
		}
		q.Tags = tags
		s.queues.Put(tx, q.key(), q)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &empty{}, nil
}

type untagQueueInput struct {
	QueueUrl string   `json:"QueueUrl"`
	TagKeys  []string `json:"TagKeys"`
}

func parseUntagQueue(f form) (*untagQueueInput, error) {
	return &untagQueueInput{QueueUrl: f.get("QueueUrl"), TagKeys: f.list("TagKey", "TagKeys")}, nil
}

func (s *Service) untagQueue(r *core.Request, in *untagQueueInput) (*empty, error) {
	if len(in.TagKeys) == 0 {
		return nil, errMissing("TagKeys")
	}
	err := s.c.Store.Update(func(tx *core.Tx) error {
		q, err := s.resolveQueue(tx, r, in.QueueUrl)
		if err != nil {
			return err
		}
		tags := maps.Clone(q.Tags)
		for _, k := range in.TagKeys {
			delete(tags, k)
		}
		if len(tags) == 0 {
			tags = nil
		}
		q.Tags = tags
		s.queues.Put(tx, q.key(), q)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &empty{}, nil
}

type listQueueTagsOutput struct {
	Tags map[string]string `json:"Tags,omitempty"`
}

func xmlListQueueTags(o *listQueueTagsOutput) any {
	out := struct {
		Tags []xmlKV `xml:"Tag"`
	}{}
	for _, nv := range nvList(o.Tags) {
		out.Tags = append(out.Tags, xmlKV{Key: nv.Name, Value: nv.Value})
	}
	return out
}

func (s *Service) listQueueTags(r *core.Request, in *queueOnlyInput) (*listQueueTagsOutput, error) {
	out := &listQueueTagsOutput{}
	err := s.c.Store.View(func(tx *core.Tx) error {
		q, err := s.resolveQueue(tx, r, in.QueueUrl)
		if err != nil {
			return err
		}
		out.Tags = maps.Clone(q.Tags)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// --- SendMessage / SendMessageBatch ---

type sendMessageInput struct {
	QueueUrl                string                      `json:"QueueUrl"`
	MessageBody             string                      `json:"MessageBody"`
	DelaySeconds            *int                        `json:"DelaySeconds"`
	MessageAttributes       map[string]MessageAttribute `json:"MessageAttributes"`
	MessageSystemAttributes map[string]MessageAttribute `json:"MessageSystemAttributes"`
	MessageDeduplicationId  string                      `json:"MessageDeduplicationId"`
	MessageGroupId          string                      `json:"MessageGroupId"`
}

type sendMessageOutput struct {
	MD5OfMessageBody       string `json:"MD5OfMessageBody" xml:"MD5OfMessageBody"`
	MD5OfMessageAttributes string `json:"MD5OfMessageAttributes,omitempty" xml:"MD5OfMessageAttributes,omitempty"`
	MessageId              string `json:"MessageId" xml:"MessageId"`
	SequenceNumber         string `json:"SequenceNumber,omitempty" xml:"SequenceNumber,omitempty"`
}

func parseSendEntry(f form, prefix string) (sendMessageInput, error) {
	delay, err := f.optInt(prefix + "DelaySeconds")
	if err != nil {
		return sendMessageInput{}, err
	}
	attrs, err := f.messageAttributes(prefix+"MessageAttribute", prefix+"MessageAttributes")
	if err != nil {
		return sendMessageInput{}, err
	}
	sys, err := f.messageAttributes(prefix+"MessageSystemAttribute", prefix+"MessageSystemAttributes")
	if err != nil {
		return sendMessageInput{}, err
	}
	return sendMessageInput{
		MessageBody: f.get(prefix + "MessageBody"), DelaySeconds: delay, MessageAttributes: attrs,
		MessageSystemAttributes: sys, MessageDeduplicationId: f.get(prefix + "MessageDeduplicationId"),
		MessageGroupId: f.get(prefix + "MessageGroupId"),
	}, nil
}

func parseSendMessage(f form) (*sendMessageInput, error) {
	in, err := parseSendEntry(f, "")
	if err != nil {
		return nil, err
	}
	in.QueueUrl = f.get("QueueUrl")
	return &in, nil
}

func toSendInput(in sendMessageInput, sender string) (sendInput, error) {
	si := sendInput{
		Body: in.MessageBody, DelaySeconds: in.DelaySeconds, Attributes: in.MessageAttributes,
		GroupID: in.MessageGroupId, DedupID: in.MessageDeduplicationId, SenderID: sender,
	}
	for name, a := range in.MessageSystemAttributes {
		if name != "AWSTraceHeader" || a.DataType != "String" || a.StringValue == "" {
			return si, errInvalidParam("Message system attribute name '%s' is invalid.", name)
		}
		si.TraceHeader = a.StringValue
	}
	return si, nil
}

func (s *Service) sendMessage(r *core.Request, in *sendMessageInput) (*sendMessageOutput, error) {
	si, err := toSendInput(*in, r.Principal.ID)
	if err != nil {
		return nil, err
	}
	var res sendResult
	var fifo bool
	err = s.c.Store.Update(func(tx *core.Tx) error {
		q, err := s.resolveQueue(tx, r, in.QueueUrl)
		if err != nil {
			return err
		}
		fifo = q.fifo()
		res, err = s.sendTx(tx, q, si)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &sendMessageOutput{MD5OfMessageBody: res.MD5Body, MD5OfMessageAttributes: res.MD5Attrs, MessageId: res.MessageID}
	if fifo {
		out.SequenceNumber = strconv.FormatInt(res.Seq, 10)
	}
	return out, nil
}

type sendBatchEntry struct {
	Id string `json:"Id"`
	sendMessageInput
}

type sendMessageBatchInput struct {
	QueueUrl string           `json:"QueueUrl"`
	Entries  []sendBatchEntry `json:"Entries"`
}

type sendBatchOK struct {
	Id string `json:"Id" xml:"Id"`
	sendMessageOutput
}

type batchFailure struct {
	Id          string `json:"Id" xml:"Id"`
	SenderFault bool   `json:"SenderFault" xml:"SenderFault"`
	Code        string `json:"Code" xml:"Code"`
	Message     string `json:"Message,omitempty" xml:"Message,omitempty"`
}

type sendMessageBatchOutput struct {
	Successful []sendBatchOK  `json:"Successful"`
	Failed     []batchFailure `json:"Failed"`
}

func parseSendMessageBatch(f form) (*sendMessageBatchInput, error) {
	in := &sendMessageBatchInput{QueueUrl: f.get("QueueUrl")}
	prefix := "SendMessageBatchRequestEntry"
	if len(f.indices(prefix)) == 0 {
		prefix = "Entries"
	}
	for _, n := range f.indices(prefix) {
		p := prefix + "." + strconv.Itoa(n) + "."
		e, err := parseSendEntry(f, p)
		if err != nil {
			return nil, err
		}
		in.Entries = append(in.Entries, sendBatchEntry{Id: f.get(p + "Id"), sendMessageInput: e})
	}
	return in, nil
}

func xmlSendBatch(o *sendMessageBatchOutput) any {
	return struct {
		Successful []sendBatchOK  `xml:"SendMessageBatchResultEntry"`
		Failed     []batchFailure `xml:"BatchResultErrorEntry"`
	}{o.Successful, o.Failed}
}

var batchIDRE = core.NewPattern(`A-Za-z0-9_-`, 1, 80)

// checkBatch applies the rules every batch operation shares.
func checkBatch(ids []string, entryName string) error {
	if len(ids) == 0 {
		return core.Errorf("EmptyBatchRequest", "There should be at least one %s in the request.", entryName)
	}
	if len(ids) > 10 {
		return core.Errorf("TooManyEntriesInBatchRequest", "Maximum number of entries per request are 10. You have sent %d.", len(ids))
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if !batchIDRE.MatchString(id) {
			return core.Errorf("InvalidBatchEntryId", "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.")
		}
		if seen[id] {
			return core.Errorf("BatchEntryIdsNotDistinct", "Id %s repeated.", id)
		}
		seen[id] = true
	}
	return nil
}

func (s *Service) sendMessageBatch(r *core.Request, in *sendMessageBatchInput) (*sendMessageBatchOutput, error) {
	ids := make([]string, len(in.Entries))
	total := 0
	for i, e := range in.Entries {
		ids[i] = e.Id
		total += len(e.MessageBody)
		for name, a := range e.MessageAttributes {
			total += len(name) + len(a.DataType) + len(a.StringValue) + len(a.BinaryValue)
		}
	}
	if err := checkBatch(ids, "SendMessageBatchRequestEntry"); err != nil {
		return nil, err
	}
	if total > maxMessageSizeLimit {
		return nil, core.Errorf("BatchRequestTooLong", "Batch requests cannot be longer than %d bytes. You have sent %d bytes.", maxMessageSizeLimit, total)
	}
	out := &sendMessageBatchOutput{Successful: []sendBatchOK{}, Failed: []batchFailure{}}
	err := s.c.Store.Update(func(tx *core.Tx) error {
		q, err := s.resolveQueue(tx, r, in.QueueUrl)
		if err != nil {
			return err
		}
		for _, e := range in.Entries {
			si, err := toSendInput(e.sendMessageInput, r.Principal.ID)
			var res sendResult
			if err == nil {
				res, err = s.sendTx(tx, q, si)
			}
			if err != nil {
				code, msg := batchCode(err)
				out.Failed = append(out.Failed, batchFailure{Id: e.Id, SenderFault: true, Code: code, Message: msg})
				continue
			}
			ok := sendBatchOK{Id: e.Id, sendMessageOutput: sendMessageOutput{MD5OfMessageBody: res.MD5Body, MD5OfMessageAttributes: res.MD5Attrs, MessageId: res.MessageID}}
			if q.fifo() {
				ok.SequenceNumber = strconv.FormatInt(res.Seq, 10)
			}
			out.Successful = append(out.Successful, ok)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// --- ReceiveMessage ---

type receiveMessageInput struct {
	QueueUrl                    string   `json:"QueueUrl"`
	AttributeNames              []string `json:"AttributeNames"`
	MessageSystemAttributeNames []string `json:"MessageSystemAttributeNames"`
	MessageAttributeNames       []string `json:"MessageAttributeNames"`
	MaxNumberOfMessages         *int     `json:"MaxNumberOfMessages"`
	VisibilityTimeout           *int     `json:"VisibilityTimeout"`
	WaitTimeSeconds             *int     `json:"WaitTimeSeconds"`
	ReceiveRequestAttemptId     string   `json:"ReceiveRequestAttemptId"`
}

type jsonMessage struct {
	MessageId              string                      `json:"MessageId"`
	ReceiptHandle          string                      `json:"ReceiptHandle"`
	MD5OfBody              string                      `json:"MD5OfBody"`
	Body                   string                      `json:"Body"`
	Attributes             map[string]string           `json:"Attributes,omitempty"`
	MD5OfMessageAttributes string                      `json:"MD5OfMessageAttributes,omitempty"`
	MessageAttributes      map[string]MessageAttribute `json:"MessageAttributes,omitempty"`
}

type receiveMessageOutput struct {
	Messages []jsonMessage `json:"Messages,omitempty"`
}

func parseReceiveMessage(f form) (*receiveMessageInput, error) {
	in := &receiveMessageInput{
		QueueUrl:                    f.get("QueueUrl"),
		AttributeNames:              f.list("AttributeName", "AttributeNames"),
		MessageSystemAttributeNames: f.list("MessageSystemAttributeName", "MessageSystemAttributeNames"),
		MessageAttributeNames:       f.list("MessageAttributeName", "MessageAttributeNames"),
		ReceiveRequestAttemptId:     f.get("ReceiveRequestAttemptId"),
	}
	var err error
	if in.MaxNumberOfMessages, err = f.optInt("MaxNumberOfMessages"); err != nil {
		return nil, err
	}
	if in.VisibilityTimeout, err = f.optInt("VisibilityTimeout"); err != nil {
		return nil, err
	}
	if in.WaitTimeSeconds, err = f.optInt("WaitTimeSeconds"); err != nil {
		return nil, err
	}
	return in, nil
}

func xmlReceive(o *receiveMessageOutput) any {
	type xmlMessage struct {
		MessageId              string                `xml:"MessageId"`
		ReceiptHandle          string                `xml:"ReceiptHandle"`
		MD5OfBody              string                `xml:"MD5OfBody"`
		Body                   string                `xml:"Body"`
		Attributes             []xmlNV               `xml:"Attribute"`
		MD5OfMessageAttributes string                `xml:"MD5OfMessageAttributes,omitempty"`
		MessageAttributes      []xmlMessageAttribute `xml:"MessageAttribute"`
	}
	out := struct {
		Messages []xmlMessage `xml:"Message"`
	}{}
	for _, m := range o.Messages {
		out.Messages = append(out.Messages, xmlMessage{
			MessageId: m.MessageId, ReceiptHandle: m.ReceiptHandle, MD5OfBody: m.MD5OfBody, Body: m.Body,
			Attributes: nvList(m.Attributes), MD5OfMessageAttributes: m.MD5OfMessageAttributes,
			MessageAttributes: xmlMessageAttributes(m.MessageAttributes),
		})
	}
	return out
}

func (s *Service) receiveMessage(r *core.Request, in *receiveMessageInput) (*receiveMessageOutput, error) {
	o := receiveOptions{
		VisibilityTimeout: in.VisibilityTimeout, WaitSeconds: in.WaitTimeSeconds,
		AttributeNames:   append(append([]string(nil), in.AttributeNames...), in.MessageSystemAttributeNames...),
		MessageAttrNames: in.MessageAttributeNames,
	}
	if in.MaxNumberOfMessages != nil {
		o.Max = *in.MaxNumberOfMessages
		if o.Max == 0 {
			o.Max = -1 // an explicit 0 is out of range, not the default
		}
	}
	if err := validateReceive(&o); err != nil {
		return nil, err
	}
	var qkey string
	err := s.c.Store.View(func(tx *core.Tx) error {
		q, err := s.resolveQueue(tx, r, in.QueueUrl)
		if err != nil {
			return err
		}
		qkey = q.key()
		if o.WaitSeconds == nil {
			w := q.intAttr("ReceiveMessageWaitTimeSeconds")
			o.WaitSeconds = &w
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	msgs, err := s.receive(r.HTTP.Context(), qkey, o)
	if err != nil {
		return nil, err
	}
	out := &receiveMessageOutput{}
	for _, m := range msgs {
		out.Messages = append(out.Messages, jsonMessage{
			MessageId: m.MessageID, ReceiptHandle: m.ReceiptHandle, MD5OfBody: m.MD5OfBody, Body: m.Body,
			Attributes: m.Attributes, MD5OfMessageAttributes: m.MD5OfMessageAttrs, MessageAttributes: m.MessageAttributes,
		})
	}
	return out, nil
}

// --- DeleteMessage / DeleteMessageBatch ---

type deleteMessageInput struct {
	QueueUrl      string `json:"QueueUrl"`
	ReceiptHandle string `json:"ReceiptHandle"`
}

func parseDeleteMessage(f form) (*deleteMessageInput, error) {
	return &deleteMessageInput{QueueUrl: f.get("QueueUrl"), ReceiptHandle: f.get("ReceiptHandle")}, nil
}

func (s *Service) deleteMessage(r *core.Request, in *deleteMessageInput) (*empty, error) {
	if in.ReceiptHandle == "" {
		return nil, errMissing("ReceiptHandle")
	}
	err := s.c.Store.Update(func(tx *core.Tx) error {
		q, err := s.resolveQueue(tx, r, in.QueueUrl)
		if err != nil {
			return err
		}
		return s.deleteTx(tx, q, in.ReceiptHandle)
	})
	if err != nil {
		return nil, err
	}
	return &empty{}, nil
}

type idOnly struct {
	Id string `json:"Id" xml:"Id"`
}

type deleteBatchEntry struct {
	Id            string `json:"Id"`
	ReceiptHandle string `json:"ReceiptHandle"`
}

type deleteMessageBatchInput struct {
	QueueUrl string             `json:"QueueUrl"`
	Entries  []deleteBatchEntry `json:"Entries"`
}

type idBatchOutput struct {
	Successful []idOnly       `json:"Successful"`
	Failed     []batchFailure `json:"Failed"`
}

func parseDeleteMessageBatch(f form) (*deleteMessageBatchInput, error) {
	in := &deleteMessageBatchInput{QueueUrl: f.get("QueueUrl")}
	prefix := "DeleteMessageBatchRequestEntry"
	if len(f.indices(prefix)) == 0 {
		prefix = "Entries"
	}
	for _, n := range f.indices(prefix) {
		p := prefix + "." + strconv.Itoa(n) + "."
		in.Entries = append(in.Entries, deleteBatchEntry{Id: f.get(p + "Id"), ReceiptHandle: f.get(p + "ReceiptHandle")})
	}
	return in, nil
}

func xmlDeleteBatch(o *idBatchOutput) any {
	return struct {
		Successful []idOnly       `xml:"DeleteMessageBatchResultEntry"`
		Failed     []batchFailure `xml:"BatchResultErrorEntry"`
	}{o.Successful, o.Failed}
}

func (s *Service) deleteMessageBatch(r *core.Request, in *deleteMessageBatchInput) (*idBatchOutput, error) {
	return idBatch(s, r, in.QueueUrl, in.Entries, "DeleteMessageBatchRequestEntry",
		func(e deleteBatchEntry) string { return e.Id },
		func(tx *core.Tx, q queueRecord, e deleteBatchEntry) error { return s.deleteTx(tx, q, e.ReceiptHandle) })
}

// idBatch runs a batch whose entries answer by id alone (DeleteMessageBatch,
// ChangeMessageVisibilityBatch): the ids are checked first, then each entry
// is applied in one transaction and lands in Successful or, with the code
// of its error, in Failed.
func idBatch[E any](s *Service, r *core.Request, queueURL string, entries []E, entryName string,
	id func(E) string, apply func(tx *core.Tx, q queueRecord, e E) error) (*idBatchOutput, error) {
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = id(e)
	}
	if err := checkBatch(ids, entryName); err != nil {
		return nil, err
	}
	out := &idBatchOutput{Successful: []idOnly{}, Failed: []batchFailure{}}
	err := s.c.Store.Update(func(tx *core.Tx) error {
		q, err := s.resolveQueue(tx, r, queueURL)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if err := apply(tx, q, e); err != nil {
				code, msg := batchCode(err)
				out.Failed = append(out.Failed, batchFailure{Id: id(e), SenderFault: true, Code: code, Message: msg})
				continue
			}
			out.Successful = append(out.Successful, idOnly{Id: id(e)})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// --- ChangeMessageVisibility (+Batch) ---

type changeVisibilityInput struct {
	QueueUrl          string `json:"QueueUrl"`
	ReceiptHandle     string `json:"ReceiptHandle"`
	VisibilityTimeout *int   `json:"VisibilityTimeout"`
}

func parseChangeVisibility(f form) (*changeVisibilityInput, error) {
	v, err := f.optInt("VisibilityTimeout")
	if err != nil {
		return nil, err
	}
	return &changeVisibilityInput{QueueUrl: f.get("QueueUrl"), ReceiptHandle: f.get("ReceiptHandle"), VisibilityTimeout: v}, nil
}

func (s *Service) changeMessageVisibility(r *core.Request, in *changeVisibilityInput) (*empty, error) {
	if in.ReceiptHandle == "" {
		return nil, errMissing("ReceiptHandle")
	}
	if in.VisibilityTimeout == nil {
		return nil, errMissing("VisibilityTimeout")
	}
	err := s.c.Store.Update(func(tx *core.Tx) error {
		q, err := s.resolveQueue(tx, r, in.QueueUrl)
		if err != nil {
			return err
		}
		return s.changeVisibilityTx(tx, q, in.ReceiptHandle, *in.VisibilityTimeout)
	})
	if err != nil {
		return nil, err
	}
	return &empty{}, nil
}

type changeBatchEntry struct {
	Id                string `json:"Id"`
	ReceiptHandle     string `json:"ReceiptHandle"`
	VisibilityTimeout *int   `json:"VisibilityTimeout"`
}

type changeVisibilityBatchInput struct {
	QueueUrl string             `json:"QueueUrl"`
	Entries  []changeBatchEntry `json:"Entries"`
}

func parseChangeVisibilityBatch(f form) (*changeVisibilityBatchInput, error) {
	in := &changeVisibilityBatchInput{QueueUrl: f.get("QueueUrl")}
	prefix := "ChangeMessageVisibilityBatchRequestEntry"
	if len(f.indices(prefix)) == 0 {
		prefix = "Entries"
	}
	for _, n := range f.indices(prefix) {
		p := prefix + "." + strconv.Itoa(n) + "."
		v, err := f.optInt(p + "VisibilityTimeout")
		if err != nil {
			return nil, err
		}
		in.Entries = append(in.Entries, changeBatchEntry{Id: f.get(p + "Id"), ReceiptHandle: f.get(p + "ReceiptHandle"), VisibilityTimeout: v})
	}
	return in, nil
}

func xmlChangeBatch(o *idBatchOutput) any {
	return struct {
		Successful []idOnly       `xml:"ChangeMessageVisibilityBatchResultEntry"`
		Failed     []batchFailure `xml:"BatchResultErrorEntry"`
	}{o.Successful, o.Failed}
}

func (s *Service) changeMessageVisibilityBatch(r *core.Request, in *changeVisibilityBatchInput) (*idBatchOutput, error) {
	return idBatch(s, r, in.QueueUrl, in.Entries, "ChangeMessageVisibilityBatchRequestEntry",
		func(e changeBatchEntry) string { return e.Id },
		func(tx *core.Tx, q queueRecord, e changeBatchEntry) error {
			timeout := 0
			if e.VisibilityTimeout != nil {
				timeout = *e.VisibilityTimeout
			}
			return s.changeVisibilityTx(tx, q, e.ReceiptHandle, timeout)
		})
}
