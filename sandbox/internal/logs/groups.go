package logs

import (
	"encoding/base64"
	"encoding/json"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

var (
	groupNameRE  = regexp.MustCompile(`^[.\-_/#A-Za-z0-9]+$`)
	streamNameRE = regexp.MustCompile(`^[^:*]*$`)
)

// retentionValues are the only retention periods PutRetentionPolicy accepts.
var retentionValues = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

func validateGroupName(field, name string) error {
	if name == "" {
		return invalid("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", field)
	}
	if len(name) > 512 {
		return invalid("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to 512", name, field)
	}
	if !groupNameRE.MatchString(name) {
		return invalid(`1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+`, name, field)
	}
	return nil
}

func validateStreamName(name string) error {
	if name == "" {
		return invalid("1 validation error detected: Value null at 'logStreamName' failed to satisfy constraint: Member must not be null")
	}
	if len(name) > 512 {
		return invalid("1 validation error detected: Value '%s' at 'logStreamName' failed to satisfy constraint: Member must have length less than or equal to 512", name)
	}
	if !streamNameRE.MatchString(name) {
		return invalid("1 validation error detected: Value '%s' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*", name)
	}
	return nil
}

// groupName resolves logGroupName or logGroupIdentifier (a name or an ARN).
func groupName(name, identifier string) (string, error) {
	if name != "" && identifier != "" {
		return "", invalid("LogGroup name and LogGroup ARN are mutually exclusive parameters.")
	}
	if name == "" {
		name = identifier
		if rest, ok := strings.CutPrefix(name, "arn:"); ok {
			i := strings.Index(rest, ":log-group:")
			if i < 0 {
				return "", invalid("Invalid ARN format: %s", identifier)
			}
			name = strings.TrimSuffix(rest[i+len(":log-group:"):], ":*")
		}
	}
	if err := validateGroupName("logGroupName", name); err != nil {
		return "", err
	}
	return name, nil
}

func validateTags(tags map[string]string) error {
	if len(tags) > 50 {
		return invalid("1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50")
	}
	for k, v := range tags {
		if k == "" || len(k) > 128 || len(v) > 256 {
			return invalid("1 validation error detected: Value '%s' at 'tags' failed to satisfy constraint: Map keys must have length between 1 and 128 and values at most 256", k)
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return invalid("Tag keys starting with 'aws:' are reserved for AWS use.")
		}
	}
	return nil
}

type createLogGroupInput struct {
	LogGroupName  string            `json:"logGroupName"`
	KmsKeyID      string            `json:"kmsKeyId"`
	Tags          map[string]string `json:"tags"`
	LogGroupClass string            `json:"logGroupClass"`
}

func (s *Service) createLogGroup(r *core.Request) (any, error) {
	var in createLogGroupInput
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	if err := validateGroupName("logGroupName", in.LogGroupName); err != nil {
		return nil, err
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	class := in.LogGroupClass
	switch class {
	case "":
		class = "STANDARD"
	case "STANDARD", "INFREQUENT_ACCESS", "DELIVERY":
	default:
		return nil, invalid("1 validation error detected: Value '%s' at 'logGroupClass' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY]", class)
	}
	return struct{}{}, s.c.Store.Update(func(tx *core.Tx) error {
		key := groupKey(r.Scope, in.LogGroupName)
		if s.groups.Has(tx, key) {
			return core.Errorf("ResourceAlreadyExistsException", "The specified log group already exists")
		}
		s.groups.Put(tx, key, Group{
			Account: r.Scope.Account, Region: r.Scope.Region, Name: in.LogGroupName,
			CreationTime: s.nowMillis(), KmsKeyID: in.KmsKeyID, Class: class, Tags: in.Tags,
		})
		return nil
	})
}

type groupNameInput struct {
	LogGroupName       string `json:"logGroupName"`
	LogGroupIdentifier string `json:"logGroupIdentifier"`
}

func (s *Service) deleteLogGroup(r *core.Request) (any, error) {
	var in groupNameInput
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	name, err := groupName(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	return struct{}{}, s.c.Store.Update(func(tx *core.Tx) error {
		if !s.groups.Has(tx, groupKey(r.Scope, name)) {
			return errGroupNotFound
		}
		s.groups.Delete(tx, groupKey(r.Scope, name))
		for _, k := range s.streams.Keys(tx, streamPrefix(r.Scope, name)) {
			s.streams.Delete(tx, k)
		}
		// Batch keys share the stream prefix (group:stream:seq).
		for _, k := range s.batches.Keys(tx, streamPrefix(r.Scope, name)) {
			s.batches.Delete(tx, k)
		}
		return nil
	})
}

type retentionInput struct {
	LogGroupName       string `json:"logGroupName"`
	LogGroupIdentifier string `json:"logGroupIdentifier"`
	RetentionInDays    *int   `json:"retentionInDays"`
}

func (s *Service) putRetentionPolicy(r *core.Request) (any, error) {
	var in retentionInput
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	name, err := groupName(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	if in.RetentionInDays == nil {
		return nil, invalid("1 validation error detected: Value null at 'retentionInDays' failed to satisfy constraint: Member must not be null")
	}
	if !validRetention(*in.RetentionInDays) {
		vals := make([]string, len(retentionValues))
		for i, v := range retentionValues {
			vals[i] = strconv.Itoa(v)
		}
		return nil, invalid("1 validation error detected: Value '%d' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [%s]", *in.RetentionInDays, strings.Join(vals, ", "))
	}
	return struct{}{}, s.updateGroup(r.Scope, name, func(g *Group) { g.RetentionInDays = *in.RetentionInDays })
}

func validRetention(days int) bool {
	for _, v := range retentionValues {
		if v == days {
			return true
		}
	}
	return false
}

func (s *Service) deleteRetentionPolicy(r *core.Request) (any, error) {
	var in groupNameInput
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	name, err := groupName(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	return struct{}{}, s.updateGroup(r.Scope, name, func(g *Group) { g.RetentionInDays = 0 })
}

func (s *Service) updateGroup(sc core.Scope, name string, fn func(*Group)) error {
	return s.c.Store.Update(func(tx *core.Tx) error {
		g, ok := s.groups.Get(tx, groupKey(sc, name))
		if !ok {
			return errGroupNotFound
		}
		g.Tags = copyTags(g.Tags)
		fn(&g)
		s.groups.Put(tx, groupKey(sc, name), g)
		return nil
	})
}

func copyTags(t map[string]string) map[string]string {
	out := make(map[string]string, len(t))
	for k, v := range t {
		out[k] = v
	}
	return out
}

type describeLogGroupsInput struct {
	LogGroupNamePrefix  string   `json:"logGroupNamePrefix"`
	LogGroupNamePattern string   `json:"logGroupNamePattern"`
	LogGroupIdentifiers []string `json:"logGroupIdentifiers"`
	NextToken           string   `json:"nextToken"`
	Limit               *int     `json:"limit"`
	IncludeLinked       bool     `json:"includeLinkedAccounts"`
	LogGroupClass       string   `json:"logGroupClass"`
}

type logGroupOut struct {
	LogGroupName      string `json:"logGroupName"`
	CreationTime      int64  `json:"creationTime"`
	RetentionInDays   *int   `json:"retentionInDays,omitempty"`
	MetricFilterCount int    `json:"metricFilterCount"`
	Arn               string `json:"arn"`
	LogGroupArn       string `json:"logGroupArn"`
	StoredBytes       int64  `json:"storedBytes"`
	KmsKeyID          string `json:"kmsKeyId,omitempty"`
	LogGroupClass     string `json:"logGroupClass"`
}

func (s *Service) describeLogGroups(r *core.Request) (any, error) {
	var in describeLogGroupsInput
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	limit, err := checkLimit(in.Limit, 50)
	if err != nil {
		return nil, err
	}
	if in.LogGroupNamePrefix != "" && in.LogGroupNamePattern != "" {
		return nil, invalid("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
	}
	after := ""
	if in.NextToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(in.NextToken)
		if err != nil || len(b) == 0 {
			return nil, errBadToken
		}
		after = string(b)
	}
	wanted := map[string]bool{}
	for _, id := range in.LogGroupIdentifiers {
		name, err := groupName("", id)
		if err != nil {
			return nil, err
		}
		wanted[name] = true
	}
	var groups []Group
	_ = s.c.Store.View(func(tx *core.Tx) error {
		s.groups.Scan(tx, r.Scope.Key(in.LogGroupNamePrefix), func(_ string, g Group) bool {
			groups = append(groups, g)
			return true
		})
		return nil
	})
	sort.Slice(groups, func(i, j int) bool { return groups[i].Name < groups[j].Name })
	out := struct {
		LogGroups []logGroupOut `json:"logGroups"`
		NextToken string        `json:"nextToken,omitempty"`
	}{LogGroups: []logGroupOut{}}
	pattern := strings.ToLower(in.LogGroupNamePattern)
	for _, g := range groups {
		if g.Name <= after && after != "" {
			continue
		}
		if pattern != "" && !strings.Contains(strings.ToLower(g.Name), pattern) {
			continue
		}
		if len(wanted) > 0 && !wanted[g.Name] {
			continue
		}
		if in.LogGroupClass != "" && g.Class != in.LogGroupClass {
			continue
		}
		if len(out.LogGroups) == limit {
			out.NextToken = base64.RawURLEncoding.EncodeToString([]byte(out.LogGroups[limit-1].LogGroupName))
			break
		}
		out.LogGroups = append(out.LogGroups, s.groupOut(r.Scope, g))
	}
	return out, nil
}

func (s *Service) groupOut(sc core.Scope, g Group) logGroupOut {
	o := logGroupOut{
		LogGroupName: g.Name, CreationTime: g.CreationTime, Arn: groupARN(sc, g.Name),
		LogGroupArn: strings.TrimSuffix(groupARN(sc, g.Name), ":*"), StoredBytes: g.StoredBytes,
		KmsKeyID: g.KmsKeyID, LogGroupClass: g.Class,
	}
	if g.RetentionInDays > 0 {
		d := g.RetentionInDays
		o.RetentionInDays = &d
	}
	return o
}

// checkLimit validates an optional page size between 1 and max.
func checkLimit(limit *int, max int) (int, error) {
	if limit == nil {
		return max, nil
	}
	if *limit < 1 {
		return 0, invalid("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1", *limit)
	}
	if *limit > max {
		return 0, invalid("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value less than or equal to %d", *limit, max)
	}
	return *limit, nil
}

// --- tags ---

type tagResourceInput struct {
	ResourceArn string            `json:"resourceArn"`
	Tags        map[string]string `json:"tags"`
	TagKeys     []string          `json:"tagKeys"`
}

// groupOfARN finds the log group an ARN of this account and region names.
func groupOfARN(sc core.Scope, arn string) (string, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "logs" {
		return "", invalid("Invalid ARN format: %s", arn)
	}
	if parts[3] != sc.Region || parts[4] != sc.Account {
		return "", core.Errorf("ResourceNotFoundException", "The specified resource does not exist.")
	}
	res, ok := strings.CutPrefix(parts[5], "log-group:")
	if !ok || strings.Contains(strings.TrimSuffix(res, ":*"), ":") {
		return "", invalid("Invalid resource type in ARN: %s", arn)
	}
	return strings.TrimSuffix(res, ":*"), nil
}

func (s *Service) tagResource(r *core.Request) (any, error) {
	var in tagResourceInput
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	name, err := groupOfARN(r.Scope, in.ResourceArn)
	if err != nil {
		return nil, err
	}
	if len(in.Tags) == 0 {
		return nil, invalid("1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null")
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	return struct{}{}, s.setTags(r.Scope, name, in.Tags, nil)
}

func (s *Service) untagResource(r *core.Request) (any, error) {
	var in tagResourceInput
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	name, err := groupOfARN(r.Scope, in.ResourceArn)
	if err != nil {
		return nil, err
	}
	return struct{}{}, s.setTags(r.Scope, name, nil, in.TagKeys)
}

func (s *Service) listTagsForResource(r *core.Request) (any, error) {
	var in tagResourceInput
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	name, err := groupOfARN(r.Scope, in.ResourceArn)
	if err != nil {
		return nil, err
	}
	tags, err := s.tagsOf(r.Scope, name)
	return struct {
		Tags map[string]string `json:"tags"`
	}{tags}, err
}

type tagLogGroupInput struct {
	LogGroupName string         `json:"logGroupName"`
	Tags         jsonTagsOrKeys `json:"tags"`
}

// jsonTagsOrKeys accepts TagLogGroup's map and UntagLogGroup's key list,
// which share the member name "tags".
type jsonTagsOrKeys struct {
	Map  map[string]string
	Keys []string
}

func (t *jsonTagsOrKeys) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if strings.HasPrefix(s, "[") {
		return json.Unmarshal(b, &t.Keys)
	}
	return json.Unmarshal(b, &t.Map)
}

func (s *Service) tagLogGroup(r *core.Request) (any, error) {
	var in tagLogGroupInput
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	if err := validateGroupName("logGroupName", in.LogGroupName); err != nil {
		return nil, err
	}
	if len(in.Tags.Map) == 0 {
		return nil, invalid("1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null")
	}
	if err := validateTags(in.Tags.Map); err != nil {
		return nil, err
	}
	return struct{}{}, s.setTags(r.Scope, in.LogGroupName, in.Tags.Map, nil)
}

func (s *Service) untagLogGroup(r *core.Request) (any, error) {
	var in tagLogGroupInput
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	if err := validateGroupName("logGroupName", in.LogGroupName); err != nil {
		return nil, err
	}
	return struct{}{}, s.setTags(r.Scope, in.LogGroupName, nil, in.Tags.Keys)
}

func (s *Service) listTagsLogGroup(r *core.Request) (any, error) {
	var in groupNameInput
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	if err := validateGroupName("logGroupName", in.LogGroupName); err != nil {
		return nil, err
	}
	tags, err := s.tagsOf(r.Scope, in.LogGroupName)
	return struct {
		Tags map[string]string `json:"tags"`
	}{tags}, err
}

func (s *Service) setTags(sc core.Scope, name string, add map[string]string, remove []string) error {
	return s.c.Store.Update(func(tx *core.Tx) error {
		g, ok := s.groups.Get(tx, groupKey(sc, name))
		if !ok {
			return errGroupNotFound
		}
		tags := copyTags(g.Tags)
		for k, v := range add {
			tags[k] = v
		}
		for _, k := range remove {
			delete(tags, k)
		}
		if len(tags) > 50 {
			return core.Errorf("TooManyTagsException", "A resource can have no more than 50 tags.")
		}
		g.Tags = tags
		s.groups.Put(tx, groupKey(sc, name), g)
		return nil
	})
}

func (s *Service) tagsOf(sc core.Scope, name string) (map[string]string, error) {
	var tags map[string]string
	err := s.c.Store.View(func(tx *core.Tx) error {
		g, ok := s.groups.Get(tx, groupKey(sc, name))
		if !ok {
			return errGroupNotFound
		}
		tags = copyTags(g.Tags)
		return nil
	})
	return tags, err
}
