package logs

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

// PutLogEvents limits, as documented for the API.
const (
	maxBatchEvents = 10000
	maxBatchBytes  = 1048576
	eventOverhead  = 26 // bytes AWS counts per event on top of its message
	maxMessage     = 1048550
	tooNewAfter    = 2 * time.Hour
	tooOldBefore   = 14 * 24 * time.Hour
	batchSpan      = 24 * time.Hour
)

type streamInput struct {
	LogGroupName       string `json:"logGroupName"`
	LogGroupIdentifier string `json:"logGroupIdentifier"`
	LogStreamName      string `json:"logStreamName"`
}

func (s *Service) createLogStream(r *core.Request) (any, error) {
	var in streamInput
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	group, err := groupName(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	if err := validateStreamName(in.LogStreamName); err != nil {
		return nil, err
	}
	return struct{}{}, s.c.Store.Update(func(tx *core.Tx) error {
		if !s.groups.Has(tx, groupKey(r.Scope, group)) {
			return errGroupNotFound
		}
		key := streamKey(r.Scope, group, in.LogStreamName)
		if s.streams.Has(tx, key) {
			return core.Errorf("ResourceAlreadyExistsException", "The specified log stream already exists")
		}
		s.streams.Put(tx, key, Stream{Group: group, Name: in.LogStreamName, CreationTime: s.nowMillis()})
		return nil
	})
}

func (s *Service) deleteLogStream(r *core.Request) (any, error) {
	var in streamInput
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	group, err := groupName(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	if err := validateStreamName(in.LogStreamName); err != nil {
		return nil, err
	}
	return struct{}{}, s.c.Store.Update(func(tx *core.Tx) error {
		g, ok := s.groups.Get(tx, groupKey(r.Scope, group))
		if !ok {
			return errGroupNotFound
		}
		key := streamKey(r.Scope, group, in.LogStreamName)
		st, ok := s.streams.Get(tx, key)
		if !ok {
			return errStreamNotFound
		}
		s.streams.Delete(tx, key)
		for _, k := range s.batches.Keys(tx, batchPrefix(r.Scope, group, in.LogStreamName)) {
			s.batches.Delete(tx, k)
		}
		g.StoredBytes -= st.StoredBytes
		s.groups.Put(tx, groupKey(r.Scope, group), g)
		return nil
	})
}

type describeLogStreamsInput struct {
	LogGroupName        string `json:"logGroupName"`
	LogGroupIdentifier  string `json:"logGroupIdentifier"`
	LogStreamNamePrefix string `json:"logStreamNamePrefix"`
	OrderBy             string `json:"orderBy"`
	Descending          bool   `json:"descending"`
	NextToken           string `json:"nextToken"`
	Limit               *int   `json:"limit"`
}

type logStreamOut struct {
	LogStreamName       string `json:"logStreamName"`
	CreationTime        int64  `json:"creationTime"`
	FirstEventTimestamp *int64 `json:"firstEventTimestamp,omitempty"`
	LastEventTimestamp  *int64 `json:"lastEventTimestamp,omitempty"`
	LastIngestionTime   *int64 `json:"lastIngestionTime,omitempty"`
	UploadSequenceToken string `json:"uploadSequenceToken"`
	Arn                 string `json:"arn"`
	StoredBytes         int64  `json:"storedBytes"`
}

// streamCursor is the position after the last stream of a page: the sort
// key and the name (the tie-breaker).
type streamCursor struct {
	Key  int64  `json:"k,omitempty"`
	Name string `json:"n"`
}

func (s *Service) describeLogStreams(r *core.Request) (any, error) {
	var in describeLogStreamsInput
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	group, err := groupName(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	limit, err := checkLimit(in.Limit, 50)
	if err != nil {
		return nil, err
	}
	byTime := false
	switch in.OrderBy {
	case "", "LogStreamName":
	case "LastEventTime":
		byTime = true
		if in.LogStreamNamePrefix != "" {
			return nil, invalid("Cannot order by LastEventTime with a logStreamNamePrefix.")
		}
	default:
		return nil, invalid("1 validation error detected: Value '%s' at 'orderBy' failed to satisfy constraint: Member must satisfy enum value set: [LogStreamName, LastEventTime]", in.OrderBy)
	}
	var cur *streamCursor
	if in.NextToken != "" {
		c, err := decodeToken[streamCursor](in.NextToken)
		if err != nil {
			return nil, err
		}
		cur = &c
	}
	var streams []Stream
	err = s.c.Store.View(func(tx *core.Tx) error {
		if !s.groups.Has(tx, groupKey(r.Scope, group)) {
			return errGroupNotFound
		}
		s.streams.Scan(tx, streamPrefix(r.Scope, group)+in.LogStreamNamePrefix, func(_ string, st Stream) bool {
			streams = append(streams, st)
			return true
		})
		return nil
	})
	if err != nil {
		return nil, err
	}
	key := func(st Stream) int64 {
		if byTime {
			return st.LastEventTimestamp
		}
		return 0
	}
	// less orders streams as the page order asks (ascending or descending).
	less := func(ak int64, an string, bk int64, bn string) bool {
		if ak != bk {
			return (ak < bk) != in.Descending
		}
		return an != bn && (an < bn) != in.Descending
	}
	sort.Slice(streams, func(i, j int) bool {
		return less(key(streams[i]), streams[i].Name, key(streams[j]), streams[j].Name)
	})
	out := struct {
		LogStreams []logStreamOut `json:"logStreams"`
		NextToken  string         `json:"nextToken,omitempty"`
	}{LogStreams: []logStreamOut{}}
	for _, st := range streams {
		if cur != nil && !less(cur.Key, cur.Name, key(st), st.Name) {
			continue
		}
		if len(out.LogStreams) == limit {
			last := out.LogStreams[limit-1]
			c := streamCursor{Name: last.LogStreamName}
			if byTime && last.LastEventTimestamp != nil {
				c.Key = *last.LastEventTimestamp
			}
			out.NextToken = encodeToken(c)
			break
		}
		out.LogStreams = append(out.LogStreams, streamOut(r.Scope, st))
	}
	return out, nil
}

func streamOut(sc core.Scope, st Stream) logStreamOut {
	o := logStreamOut{
		LogStreamName: st.Name, CreationTime: st.CreationTime, Arn: streamARN(sc, st.Group, st.Name),
		// AWS stopped reporting per-stream storedBytes in 2019; it is always 0.
		UploadSequenceToken: seqToken(st.NextSeq), StoredBytes: 0,
	}
	if st.NextSeq > 0 {
		f, l, i := st.FirstEventTimestamp, st.LastEventTimestamp, st.LastIngestionTime
		o.FirstEventTimestamp, o.LastEventTimestamp, o.LastIngestionTime = &f, &l, &i
	}
	return o
}

func seqToken(seq int64) string { return fmt.Sprintf("%056d", seq+1) }

func encodeToken(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeToken[T any](tok string) (T, error) {
	var v T
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || json.Unmarshal(b, &v) != nil {
		return v, errBadToken
	}
	return v, nil
}

// --- PutLogEvents ---

type inputEvent struct {
	Timestamp *int64  `json:"timestamp"`
	Message   *string `json:"message"`
}

type putLogEventsInput struct {
	LogGroupName       string       `json:"logGroupName"`
	LogGroupIdentifier string       `json:"logGroupIdentifier"`
	LogStreamName      string       `json:"logStreamName"`
	LogEvents          []inputEvent `json:"logEvents"`
	SequenceToken      string       `json:"sequenceToken"`
}

type rejectedInfo struct {
	TooNewLogEventStartIndex *int `json:"tooNewLogEventStartIndex,omitempty"`
	TooOldLogEventEndIndex   *int `json:"tooOldLogEventEndIndex,omitempty"`
	ExpiredLogEventEndIndex  *int `json:"expiredLogEventEndIndex,omitempty"`
}

func (s *Service) putLogEvents(r *core.Request) (any, error) {
	var in putLogEventsInput
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	group, err := groupName(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	if err := validateStreamName(in.LogStreamName); err != nil {
		return nil, err
	}
	if len(in.LogEvents) == 0 {
		return nil, invalid("1 validation error detected: Value '[]' at 'logEvents' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	if len(in.LogEvents) > maxBatchEvents {
		return nil, invalid("1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must have length less than or equal to %d", maxBatchEvents)
	}
	size := 0
	events := make([]Event, len(in.LogEvents))
	for i, e := range in.LogEvents {
		if e.Timestamp == nil {
			return nil, invalid("1 validation error detected: Value null at 'logEvents.%d.member.timestamp' failed to satisfy constraint: Member must not be null", i+1)
		}
		if e.Message == nil || *e.Message == "" {
			return nil, invalid("1 validation error detected: Value at 'logEvents.%d.member.message' failed to satisfy constraint: Member must have length greater than or equal to 1", i+1)
		}
		if len(*e.Message) > maxMessage {
			return nil, invalid("Log event too large: %d bytes exceeds limit of %d", len(*e.Message), maxMessage)
		}
		if i > 0 && *e.Timestamp < *in.LogEvents[i-1].Timestamp {
			return nil, invalid("Log events in a single PutLogEvents request must be in chronological order.")
		}
		size += len(*e.Message) + eventOverhead
		events[i] = Event{Time: time.UnixMilli(*e.Timestamp), Message: *e.Message}
	}
	if size > maxBatchBytes {
		return nil, invalid("Upload too large: %d bytes exceeds limit of %d", size, maxBatchBytes)
	}
	first, last := *in.LogEvents[0].Timestamp, *in.LogEvents[len(in.LogEvents)-1].Timestamp
	if time.Duration(last-first)*time.Millisecond > batchSpan {
		return nil, invalid("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")
	}
	var info rejectedInfo
	var next int64
	err = s.c.Store.Update(func(tx *core.Tx) error {
		g, ok := s.groups.Get(tx, groupKey(r.Scope, group))
		if !ok {
			return errGroupNotFound
		}
		st, ok := s.streams.Get(tx, streamKey(r.Scope, group, in.LogStreamName))
		if !ok {
			return errStreamNotFound
		}
		accepted := s.screen(g, events, &info)
		next = s.store(tx, r.Scope, g, st, accepted)
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := struct {
		NextSequenceToken     string        `json:"nextSequenceToken"`
		RejectedLogEventsInfo *rejectedInfo `json:"rejectedLogEventsInfo,omitempty"`
	}{NextSequenceToken: seqToken(next)}
	if info != (rejectedInfo{}) {
		out.RejectedLogEventsInfo = &info
	}
	return out, nil
}

// screen drops the events AWS rejects: older than 14 days or than the
// group's retention (a prefix of the chronological batch) and more than two
// hours in the future (a suffix), recording the indexes as AWS reports them.
func (s *Service) screen(g Group, events []Event, info *rejectedInfo) []Event {
	now := s.c.Now()
	lo, hi := 0, len(events)
	for i, e := range events {
		switch {
		case g.RetentionInDays > 0 && e.Time.Before(now.AddDate(0, 0, -g.RetentionInDays)):
			idx := i
			info.ExpiredLogEventEndIndex = &idx
			lo = i + 1
		case e.Time.Before(now.Add(-tooOldBefore)):
			idx := i
			info.TooOldLogEventEndIndex = &idx
			lo = i + 1
		}
	}
	for i := len(events) - 1; i >= lo; i-- {
		if events[i].Time.After(now.Add(tooNewAfter)) {
			idx := i
			info.TooNewLogEventStartIndex = &idx
			hi = i
		}
	}
	return events[lo:hi]
}

// store appends accepted events to a stream and returns its next sequence.
func (s *Service) store(tx *core.Tx, sc core.Scope, g Group, st Stream, events []Event) int64 {
	if len(events) == 0 {
		return st.NextSeq
	}
	now := s.nowMillis()
	b := Batch{Events: make([]StoredEvent, len(events))}
	firstSeq := st.NextSeq
	var bytes int64
	for i, e := range events {
		ts := e.Time.UnixMilli()
		b.Events[i] = StoredEvent{Seq: st.NextSeq, Timestamp: ts, Ingestion: now, Message: e.Message}
		st.NextSeq++
		bytes += int64(len(e.Message))
		if st.FirstEventTimestamp == 0 || ts < st.FirstEventTimestamp {
			st.FirstEventTimestamp = ts
		}
		if ts > st.LastEventTimestamp {
			st.LastEventTimestamp = ts
		}
	}
	st.LastIngestionTime = now
	st.StoredBytes += bytes
	g.StoredBytes += bytes
	s.batches.Put(tx, batchPrefix(sc, g.Name, st.Name)+fmt.Sprintf("%016d", firstSeq), b)
	s.streams.Put(tx, streamKey(sc, g.Name, st.Name), st)
	s.groups.Put(tx, groupKey(sc, g.Name), g)
	return st.NextSeq
}

// Event is one log line written through Append.
type Event struct {
	Time    time.Time
	Message string
}

// Append writes events to a stream as the Lambda service does for a
// function's output, creating the group and stream when absent. Unlike
// PutLogEvents it takes events in any order and rejects none.
func (s *Service) Append(sc core.Scope, group, stream string, events []Event) error {
	return s.c.Store.Update(func(tx *core.Tx) error { return s.AppendTx(tx, sc, group, stream, events) })
}

// GroupExists says whether the log group exists.
func (s *Service) GroupExists(sc core.Scope, group string) bool {
	var ok bool
	_ = s.c.Store.View(func(tx *core.Tx) error {
		_, ok = s.groups.Get(tx, groupKey(sc, group))
		return nil
	})
	return ok
}

// AppendTx is Append inside the caller's writable transaction.
func (s *Service) AppendTx(tx *core.Tx, sc core.Scope, group, stream string, events []Event) error {
	if err := validateGroupName("logGroupName", group); err != nil {
		return err
	}
	if err := validateStreamName(stream); err != nil {
		return err
	}
	g, ok := s.groups.Get(tx, groupKey(sc, group))
	if !ok {
		g = Group{Account: sc.Account, Region: sc.Region, Name: group, CreationTime: s.nowMillis(), Class: "STANDARD"}
		s.groups.Put(tx, groupKey(sc, group), g)
	}
	st, ok := s.streams.Get(tx, streamKey(sc, group, stream))
	if !ok {
		st = Stream{Group: group, Name: stream, CreationTime: s.nowMillis()}
		s.streams.Put(tx, streamKey(sc, group, stream), st)
	}
	sorted := append([]Event(nil), events...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Time.Before(sorted[j].Time) })
	s.store(tx, sc, g, st, sorted)
	return nil
}

// --- reading ---

// readEvent is a stored event with its stream, for merging across streams.
type readEvent struct {
	StoredEvent
	Stream string
}

// streamEvents returns a stream's live events in (timestamp, sequence) order;
// events past the group's retention are gone, as AWS expires them.
func (s *Service) streamEvents(tx *core.Tx, sc core.Scope, g Group, stream string) []readEvent {
	var out []readEvent
	cutoff := int64(0)
	if g.RetentionInDays > 0 {
		cutoff = s.c.Now().AddDate(0, 0, -g.RetentionInDays).UnixMilli()
	}
	s.batches.Scan(tx, batchPrefix(sc, g.Name, stream), func(_ string, b Batch) bool {
		for _, e := range b.Events {
			if e.Timestamp >= cutoff {
				out = append(out, readEvent{StoredEvent: e, Stream: stream})
			}
		}
		return true
	})
	sort.Slice(out, func(i, j int) bool { return eventLess(out[i], out[j]) })
	return out
}

func eventLess(a, b readEvent) bool {
	if a.Timestamp != b.Timestamp {
		return a.Timestamp < b.Timestamp
	}
	if a.Stream != b.Stream {
		return a.Stream < b.Stream
	}
	return a.Seq < b.Seq
}

type getLogEventsInput struct {
	LogGroupName       string `json:"logGroupName"`
	LogGroupIdentifier string `json:"logGroupIdentifier"`
	LogStreamName      string `json:"logStreamName"`
	StartTime          *int64 `json:"startTime"`
	EndTime            *int64 `json:"endTime"`
	NextToken          string `json:"nextToken"`
	Limit              *int   `json:"limit"`
	StartFromHead      *bool  `json:"startFromHead"`
	Unmask             bool   `json:"unmask"`
}

type outputEvent struct {
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
}

// Tokens are AWS-shaped: "f/<position>/s" reads forward from a position in
// the stream's time-ordered events, "b/<position>/s" backward from it.
func posToken(dir byte, pos int) string { return fmt.Sprintf("%c/%056d/s", dir, pos) }

func parsePosToken(tok string) (dir byte, pos int, err error) {
	if len(tok) < 5 || (tok[0] != 'f' && tok[0] != 'b') || tok[1] != '/' || !strings.HasSuffix(tok, "/s") {
		return 0, 0, errBadToken
	}
	n, perr := strconv.ParseInt(tok[2:len(tok)-2], 10, 64)
	if perr != nil || n < 0 || n > 1<<40 {
		return 0, 0, errBadToken
	}
	return tok[0], int(n), nil
}

func (s *Service) getLogEvents(r *core.Request) (any, error) {
	var in getLogEventsInput
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	group, err := groupName(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	if err := validateStreamName(in.LogStreamName); err != nil {
		return nil, err
	}
	limit, err := checkLimit(in.Limit, 10000)
	if err != nil {
		return nil, err
	}
	var dir byte
	pos := -1
	if in.NextToken != "" {
		if dir, pos, err = parsePosToken(in.NextToken); err != nil {
			return nil, err
		}
	}
	var all []readEvent
	err = s.c.Store.View(func(tx *core.Tx) error {
		g, ok := s.groups.Get(tx, groupKey(r.Scope, group))
		if !ok {
			return errGroupNotFound
		}
		if !s.streams.Has(tx, streamKey(r.Scope, group, in.LogStreamName)) {
			return errStreamNotFound
		}
		all = s.streamEvents(tx, r.Scope, g, in.LogStreamName)
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The window [startTime, endTime) narrows the positions a page may cover.
	wlo, whi := 0, len(all)
	if in.StartTime != nil {
		wlo = sort.Search(len(all), func(i int) bool { return all[i].Timestamp >= *in.StartTime })
	}
	if in.EndTime != nil {
		whi = sort.Search(len(all), func(i int) bool { return all[i].Timestamp >= *in.EndTime })
	}
	if whi < wlo {
		whi = wlo
	}
	clamp := func(p int) int { return min(max(p, wlo), whi) }
	var lo, hi int
	switch {
	case dir == 'f':
		lo = clamp(pos)
		hi = min(lo+limit, whi)
	case dir == 'b':
		hi = clamp(pos)
		lo = max(hi-limit, wlo)
	case in.StartFromHead != nil && *in.StartFromHead:
		lo = wlo
		hi = min(lo+limit, whi)
	default:
		hi = whi
		lo = max(hi-limit, wlo)
	}
	out := struct {
		Events            []outputEvent `json:"events"`
		NextForwardToken  string        `json:"nextForwardToken"`
		NextBackwardToken string        `json:"nextBackwardToken"`
	}{Events: []outputEvent{}, NextForwardToken: posToken('f', hi), NextBackwardToken: posToken('b', lo)}
	for _, e := range all[lo:hi] {
		out.Events = append(out.Events, outputEvent{Timestamp: e.Timestamp, Message: e.Message, IngestionTime: e.Ingestion})
	}
	return out, nil
}

// --- FilterLogEvents ---

type filterLogEventsInput struct {
	LogGroupName        string   `json:"logGroupName"`
	LogGroupIdentifier  string   `json:"logGroupIdentifier"`
	LogStreamNames      []string `json:"logStreamNames"`
	LogStreamNamePrefix string   `json:"logStreamNamePrefix"`
	StartTime           *int64   `json:"startTime"`
	EndTime             *int64   `json:"endTime"`
	FilterPattern       string   `json:"filterPattern"`
	NextToken           string   `json:"nextToken"`
	Limit               *int     `json:"limit"`
	Interleaved         bool     `json:"interleaved"`
	Unmask              bool     `json:"unmask"`
}

type filteredEvent struct {
	LogStreamName string `json:"logStreamName"`
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
	EventID       string `json:"eventId"`
}

type searchedStream struct {
	LogStreamName      string `json:"logStreamName"`
	SearchedCompletely bool   `json:"searchedCompletely"`
}

// filterCursor is the last event returned: paging resumes strictly after it,
// so events arriving between pages in later positions are still seen.
type filterCursor struct {
	T int64  `json:"t"`
	S string `json:"s"`
	N int64  `json:"n"`
}

func (s *Service) filterLogEvents(r *core.Request) (any, error) {
	var in filterLogEventsInput
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	group, err := groupName(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	if len(in.LogStreamNames) > 0 && in.LogStreamNamePrefix != "" {
		return nil, invalid("logStreamNames and logStreamNamePrefix are mutually exclusive")
	}
	if len(in.LogStreamNames) > 100 {
		return nil, invalid("1 validation error detected: Value at 'logStreamNames' failed to satisfy constraint: Member must have length less than or equal to 100")
	}
	limit, err := checkLimit(in.Limit, 10000)
	if err != nil {
		return nil, err
	}
	match, err := compilePattern(in.FilterPattern)
	if err != nil {
		return nil, err
	}
	var cur *filterCursor
	if in.NextToken != "" {
		c, err := decodeToken[filterCursor](in.NextToken)
		if err != nil {
			return nil, err
		}
		cur = &c
	}
	var all []readEvent
	var searched []searchedStream
	err = s.c.Store.View(func(tx *core.Tx) error {
		g, ok := s.groups.Get(tx, groupKey(r.Scope, group))
		if !ok {
			return errGroupNotFound
		}
		var names []string
		if len(in.LogStreamNames) > 0 {
			for _, n := range in.LogStreamNames {
				if s.streams.Has(tx, streamKey(r.Scope, group, n)) {
					names = append(names, n)
				}
			}
			sort.Strings(names)
		} else {
			s.streams.Scan(tx, streamPrefix(r.Scope, group)+in.LogStreamNamePrefix, func(_ string, st Stream) bool {
				names = append(names, st.Name)
				return true
			})
		}
		for _, n := range names {
			all = append(all, s.streamEvents(tx, r.Scope, g, n)...)
			searched = append(searched, searchedStream{LogStreamName: n, SearchedCompletely: true})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(all, func(i, j int) bool { return eventLess(all[i], all[j]) })
	out := struct {
		Events             []filteredEvent  `json:"events"`
		SearchedLogStreams []searchedStream `json:"searchedLogStreams"`
		NextToken          string           `json:"nextToken,omitempty"`
	}{Events: []filteredEvent{}, SearchedLogStreams: searched}
	if out.SearchedLogStreams == nil {
		out.SearchedLogStreams = []searchedStream{}
	}
	var lastRead readEvent
	for _, e := range all {
		if in.StartTime != nil && e.Timestamp < *in.StartTime {
			continue
		}
		if in.EndTime != nil && e.Timestamp > *in.EndTime {
			continue
		}
		if cur != nil && !eventLess(readEvent{StoredEvent: StoredEvent{Timestamp: cur.T, Seq: cur.N}, Stream: cur.S}, e) {
			continue
		}
		if !match(e.Message) {
			continue
		}
		if len(out.Events) == limit {
			out.NextToken = encodeToken(filterCursor{T: lastRead.Timestamp, S: lastRead.Stream, N: lastRead.Seq})
			break
		}
		lastRead = e
		out.Events = append(out.Events, filteredEvent{
			LogStreamName: e.Stream, Timestamp: e.Timestamp, Message: e.Message,
			IngestionTime: e.Ingestion, EventID: eventID(e),
		})
	}
	return out, nil
}

// eventID is unique within a group: the timestamp, a hash of the stream name
// and the stream sequence, digits only like AWS's 56-digit ids.
func eventID(e readEvent) string {
	var h uint32 = 2166136261
	for i := 0; i < len(e.Stream); i++ {
		h = (h ^ uint32(e.Stream[i])) * 16777619
	}
	return fmt.Sprintf("%016d%010d%020d", e.Timestamp, h, e.Seq)
}
