package dynamodb_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestPutGetDeleteItem(t *testing.T) {
	f := start(t, 0, 0)
	f.hashTable(t, "items")
	item := map[string]types.AttributeValue{
		"id":      s("bucket-key.json-1"),
		"content": s(`{"hello":"world"}`),
		"size":    n("00017.50"),
		"raw":     &types.AttributeValueMemberB{Value: []byte{0, 1, 2, 255}},
		"ok":      &types.AttributeValueMemberBOOL{Value: true},
		"none":    &types.AttributeValueMemberNULL{Value: true},
		"tags":    &types.AttributeValueMemberSS{Value: []string{"a", "b"}},
		"nums":    &types.AttributeValueMemberNS{Value: []string{"1", "2.5"}},
		"meta":    &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"entries": &types.AttributeValueMemberL{Value: []types.AttributeValue{s("x"), n("2")}}}},
		"empty":   s(""),
	}
	out, err := f.cli.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("items"), Item: item, ReturnValues: types.ReturnValueAllOld})
	if err != nil {
		t.Fatal(err)
	}
	if out.Attributes != nil {
		t.Fatalf("first put ALL_OLD: %v", out.Attributes)
	}
	got, err := f.cli.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("items"), Key: map[string]types.AttributeValue{"id": s("bucket-key.json-1")}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	var decoded struct {
		ID      string         `dynamodbav:"id"`
		Content string         `dynamodbav:"content"`
		Size    string         `dynamodbav:"size"`
		Raw     []byte         `dynamodbav:"raw"`
		OK      bool           `dynamodbav:"ok"`
		Tags    []string       `dynamodbav:"tags,stringset"`
		Meta    map[string]any `dynamodbav:"meta"`
	}
	if err := attributevalue.UnmarshalMap(got.Item, &decoded); err != nil {
		t.Fatal(err)
	}
	// Numbers come back in DynamoDB's canonical form.
	if decoded.Size != "17.5" || string(decoded.Raw) != "\x00\x01\x02\xff" || !decoded.OK || len(decoded.Tags) != 2 || decoded.Content != `{"hello":"world"}` {
		t.Fatalf("decoded %+v", decoded)
	}
	if _, isNull := got.Item["none"].(*types.AttributeValueMemberNULL); !isNull || str(got.Item["empty"]) != "" {
		t.Fatalf("null/empty: %#v %#v", got.Item["none"], got.Item["empty"])
	}

	// ProjectionExpression with nested paths and a placeholder.
	got, err = f.cli.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                aws.String("items"),
		Key:                      map[string]types.AttributeValue{"id": s("bucket-key.json-1")},
		ProjectionExpression:     aws.String("#c, meta.entries[1]"),
		ExpressionAttributeNames: map[string]string{"#c": "content"},
	})
	if err != nil {
		t.Fatal(err)
	}
	meta := got.Item["meta"].(*types.AttributeValueMemberM).Value["entries"].(*types.AttributeValueMemberL).Value
	if len(got.Item) != 2 || len(meta) != 1 || str(meta[0]) != "2" {
		t.Fatalf("projection %#v", got.Item)
	}

	// Missing item: no Item member.
	got, err = f.cli.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("items"), Key: map[string]types.AttributeValue{"id": s("nope")}})
	if err != nil || got.Item != nil {
		t.Fatalf("missing: %v %v", got.Item, err)
	}

	// Overwrite returns the old item with ALL_OLD.
	out, err = f.cli.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("items"), Item: map[string]types.AttributeValue{"id": s("bucket-key.json-1"), "v": n("2")}, ReturnValues: types.ReturnValueAllOld})
	if err != nil || str(out.Attributes["content"]) != `{"hello":"world"}` {
		t.Fatalf("overwrite: %v %v", out, err)
	}
	del, err := f.cli.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("items"), Key: map[string]types.AttributeValue{"id": s("bucket-key.json-1")}, ReturnValues: types.ReturnValueAllOld})
	if err != nil || str(del.Attributes["v"]) != "2" {
		t.Fatalf("delete: %v %v", del, err)
	}
	got, _ = f.cli.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("items"), Key: map[string]types.AttributeValue{"id": s("bucket-key.json-1")}})
	if got.Item != nil {
		t.Fatal("item survived delete")
	}
	// Deleting a missing item is fine.
	if _, err := f.cli.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("items"), Key: map[string]types.AttributeValue{"id": s("nope")}}); err != nil {
		t.Fatal(err)
	}
	// ReturnValues other than NONE/ALL_OLD are invalid for PutItem.
	_, err = f.cli.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("items"), Item: map[string]types.AttributeValue{"id": s("x")}, ReturnValues: types.ReturnValueAllNew})
	wantCode(t, err, "ValidationException", "Return values set to invalid value")
	// Item operations on a missing table.
	var rnf *types.ResourceNotFoundException
	_, err = f.cli.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("missing"), Key: map[string]types.AttributeValue{"id": s("x")}})
	if !errors.As(err, &rnf) || !strings.Contains(err.Error(), "Requested resource not found") {
		t.Fatalf("missing table: %v", err)
	}
}

func TestKeyValidation(t *testing.T) {
	f := start(t, 0, 0)
	f.hashTable(t, "keys")
	f.rangeTable(t, "keys2", types.ScalarAttributeTypeN)
	cases := []struct {
		name string
		call func() error
		msg  string
	}{
		{"type mismatch", func() error {
			_, err := f.cli.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("keys"), Item: map[string]types.AttributeValue{"id": n("1")}})
			return err
		}, "One or more parameter values were invalid: Type mismatch for key id expected: S actual: N"},
		{"missing key", func() error {
			_, err := f.cli.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("keys"), Item: map[string]types.AttributeValue{"other": s("1")}})
			return err
		}, "One or more parameter values were invalid: Missing the key id in the item"},
		{"missing range key", func() error {
			_, err := f.cli.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("keys2"), Item: map[string]types.AttributeValue{"pk": s("1")}})
			return err
		}, "Missing the key sk in the item"},
		{"empty string key", func() error {
			_, err := f.cli.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("keys"), Item: map[string]types.AttributeValue{"id": s("")}})
			return err
		}, "The AttributeValue for a key attribute cannot contain an empty string value. Key: id"},
		{"get with extra key attribute", func() error {
			_, err := f.cli.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("keys"), Key: map[string]types.AttributeValue{"id": s("a"), "x": s("b")}})
			return err
		}, "The provided key element does not match the schema"},
		{"get with wrong key type", func() error {
			_, err := f.cli.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("keys2"), Key: map[string]types.AttributeValue{"pk": s("a"), "sk": s("b")}})
			return err
		}, "The provided key element does not match the schema"},
		{"hash key too large", func() error {
			_, err := f.cli.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("keys"), Item: map[string]types.AttributeValue{"id": s(strings.Repeat("k", 2049))}})
			return err
		}, "Size of hashkey has exceeded the maximum size limit of2048 bytes"},
		{"empty set", func() error {
			_, err := f.cli.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("keys"), Item: map[string]types.AttributeValue{"id": s("a"), "ss": &types.AttributeValueMemberSS{Value: []string{}}}})
			return err
		}, "An string set  may not be empty"},
		{"duplicate set members", func() error {
			_, err := f.cli.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("keys"), Item: map[string]types.AttributeValue{"id": s("a"), "ns": &types.AttributeValueMemberNS{Value: []string{"1", "1.0"}}}})
			return err
		}, "Input collection contains duplicates"},
		{"bad number", func() error {
			_, err := f.cli.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("keys"), Item: map[string]types.AttributeValue{"id": s("a"), "n": n("12abc")}})
			return err
		}, "A value provided cannot be converted into a number"},
		{"too many digits", func() error {
			_, err := f.cli.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("keys"), Item: map[string]types.AttributeValue{"id": s("a"), "n": n(strings.Repeat("9", 39))}})
			return err
		}, "Attempting to store more than 38 significant digits in a Number"},
		{"number overflow", func() error {
			_, err := f.cli.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("keys"), Item: map[string]types.AttributeValue{"id": s("a"), "n": n("1e126")}})
			return err
		}, "Number overflow"},
		{"legacy parameter", func() error {
			_, err := f.cli.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("keys"), Key: map[string]types.AttributeValue{"id": s("a")}, AttributesToGet: []string{"id"}})
			return err
		}, "The sandbox does not support the legacy parameter AttributesToGet; use ProjectionExpression instead"},
		{"legacy expected", func() error {
			_, err := f.cli.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("keys"), Item: map[string]types.AttributeValue{"id": s("a")},
				Expected: map[string]types.ExpectedAttributeValue{"id": {Exists: aws.Bool(false)}}})
			return err
		}, "legacy parameter Expected"},
		{"values without expression", func() error {
			_, err := f.cli.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("keys"), Item: map[string]types.AttributeValue{"id": s("a")},
				ExpressionAttributeValues: map[string]types.AttributeValue{":x": s("1")}})
			return err
		}, "ExpressionAttributeValues can only be specified when using expressions: ConditionExpression is null"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { wantCode(t, c.call(), "ValidationException", c.msg) })
	}
}

func TestItemSizeLimit(t *testing.T) {
	f := start(t, 0, 0)
	f.hashTable(t, "big")
	// 400 KB = 409600 bytes counted as name lengths plus value sizes:
	// "id" (2) + "x" (1) + "content" (7) + payload.
	fits := strings.Repeat("a", 409600-2-1-7)
	f.put(t, "big", map[string]types.AttributeValue{"id": s("x"), "content": s(fits)})
	_, err := f.cli.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("big"), Item: map[string]types.AttributeValue{"id": s("y"), "content": s(fits + "a")}})
	wantCode(t, err, "ValidationException", "Item size has exceeded the maximum allowed size")
	// Growing an item past the limit through UpdateItem fails too.
	_, err = f.cli.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String("big"),
		Key:                       map[string]types.AttributeValue{"id": s("x")},
		UpdateExpression:          aws.String("SET extra = :e"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":e": s("zz")},
	})
	wantCode(t, err, "ValidationException", "Item size to update has exceeded the maximum allowed size")
	// Nested values count their overhead (3 bytes per map plus 1 per element).
	nested := strings.Repeat("b", 409600-2-1-1-3-1-1)
	f.put(t, "big", map[string]types.AttributeValue{"id": s("z"), "m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"k": s(nested)}}})
	_, err = f.cli.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("big"), Item: map[string]types.AttributeValue{"id": s("z"), "m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"k": s(nested + "b")}}}})
	wantCode(t, err, "ValidationException", "Item size has exceeded the maximum allowed size")
}

func TestConditionalWrites(t *testing.T) {
	f := start(t, 0, 0)
	f.hashTable(t, "cond")
	put := func(id, v string, onFail types.ReturnValuesOnConditionCheckFailure) error {
		_, err := f.cli.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:                           aws.String("cond"),
			Item:                                map[string]types.AttributeValue{"id": s(id), "v": s(v)},
			ConditionExpression:                 aws.String("attribute_not_exists(id)"),
			ReturnValuesOnConditionCheckFailure: onFail,
		})
		return err
	}
	if err := put("s3-object-1", "first", ""); err != nil {
		t.Fatal(err)
	}
	// The lab's idempotent write: a redelivered event must not overwrite.
	err := put("s3-object-1", "second", types.ReturnValuesOnConditionCheckFailureAllOld)
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		t.Fatalf("want ConditionalCheckFailedException, got %v", err)
	}
	if aws.ToString(ccf.Message) != "The conditional request failed" || str(ccf.Item["v"]) != "first" {
		t.Fatalf("ccf %q item %v", aws.ToString(ccf.Message), ccf.Item)
	}
	err = put("s3-object-1", "third", "")
	if !errors.As(err, &ccf) || ccf.Item != nil {
		t.Fatalf("without ALL_OLD: %v %v", err, ccf)
	}
	// DeleteItem with a failing condition keeps the item.
	_, err = f.cli.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String("cond"),
		Key:                       map[string]types.AttributeValue{"id": s("s3-object-1")},
		ConditionExpression:       aws.String("v = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": s("other")},
	})
	if !errors.As(err, &ccf) {
		t.Fatalf("delete: %v", err)
	}
	_, err = f.cli.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String("cond"),
		Key:                       map[string]types.AttributeValue{"id": s("s3-object-1")},
		ConditionExpression:       aws.String("v = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": s("first")},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Placeholder validation.
	_, err = f.cli.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String("cond"), Item: map[string]types.AttributeValue{"id": s("a")},
		ConditionExpression:       aws.String("attribute_not_exists(id)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":x": s("1")},
	})
	wantCode(t, err, "ValidationException", "Value provided in ExpressionAttributeValues unused in expressions: keys: {:x}")
	_, err = f.cli.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String("cond"), Item: map[string]types.AttributeValue{"id": s("a")},
		ConditionExpression: aws.String("v = :x"),
	})
	wantCode(t, err, "ValidationException", "An expression attribute value used in expression is not defined; attribute value: :x")
	_, err = f.cli.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String("cond"), Item: map[string]types.AttributeValue{"id": s("a")},
		ConditionExpression:      aws.String("attribute_exists(#missing)"),
		ExpressionAttributeNames: map[string]string{"#other": "x"},
	})
	wantCode(t, err, "ValidationException", "An expression attribute name used in the document path is not defined; attribute name: #missing")
}

func TestUpdateItem(t *testing.T) {
	f := start(t, 0, 0)
	f.hashTable(t, "upd")
	update := func(expr string, rv types.ReturnValue, values map[string]types.AttributeValue, names map[string]string) (*dynamodb.UpdateItemOutput, error) {
		return f.cli.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 aws.String("upd"),
			Key:                       map[string]types.AttributeValue{"id": s("counter")},
			UpdateExpression:          aws.String(expr),
			ExpressionAttributeValues: values,
			ExpressionAttributeNames:  names,
			ReturnValues:              rv,
		})
	}
	// Creates the item when missing; if_not_exists initialises.
	out, err := update("SET hits = if_not_exists(hits, :zero) + :one, #l = :list, info = :m", types.ReturnValueAllNew,
		map[string]types.AttributeValue{":zero": n("0"), ":one": n("1"), ":list": &types.AttributeValueMemberL{Value: []types.AttributeValue{s("a")}},
			":m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"deep": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}}}}},
		map[string]string{"#l": "list"})
	if err != nil {
		t.Fatal(err)
	}
	if str(out.Attributes["hits"]) != "1" || str(out.Attributes["id"]) != "counter" {
		t.Fatalf("ALL_NEW %v", out.Attributes)
	}
	// Arithmetic is exact beyond float64 precision.
	out, err = update("SET hits = hits + :big", types.ReturnValueUpdatedNew, map[string]types.AttributeValue{":big": n("12345678901234567890123456789012345678")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if str(out.Attributes["hits"]) != "12345678901234567890123456789012345679" || len(out.Attributes) != 1 {
		t.Fatalf("UPDATED_NEW %v %v", out.Attributes, err)
	}
	out, err = update("SET hits = hits - :big", types.ReturnValueUpdatedOld, map[string]types.AttributeValue{":big": n("12345678901234567890123456789012345677")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if str(out.Attributes["hits"]) != "12345678901234567890123456789012345679" {
		t.Fatalf("UPDATED_OLD %v %v", out.Attributes, err)
	}
	got, _ := f.cli.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("upd"), Key: map[string]types.AttributeValue{"id": s("counter")}})
	if str(got.Item["hits"]) != "2" {
		t.Fatalf("after subtract: %v", got.Item["hits"])
	}
	// list_append, nested SET, list index SET, ADD to sets and numbers.
	_, err = update("SET #l = list_append(#l, :more), info.deep.x = :x ADD tags :tags, visits :one", types.ReturnValueNone,
		map[string]types.AttributeValue{":more": &types.AttributeValueMemberL{Value: []types.AttributeValue{s("b"), s("c")}}, ":x": n("7"),
			":tags": &types.AttributeValueMemberSS{Value: []string{"x", "y"}}, ":one": n("1")},
		map[string]string{"#l": "list"})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = f.cli.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("upd"), Key: map[string]types.AttributeValue{"id": s("counter")}})
	var item struct {
		List   []string                  `dynamodbav:"list"`
		Info   map[string]map[string]int `dynamodbav:"info"`
		Tags   []string                  `dynamodbav:"tags,stringset"`
		Visits int                       `dynamodbav:"visits"`
	}
	if err := attributevalue.UnmarshalMap(got.Item, &item); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(item.List) != "[a b c]" || item.Info["deep"]["x"] != 7 || len(item.Tags) != 2 || item.Visits != 1 {
		t.Fatalf("item %+v", item)
	}
	// REMOVE a list element and an attribute, DELETE from a set.
	out, err = update("SET #l[0] = :first REMOVE #l[1], visits DELETE tags :x", types.ReturnValueAllNew,
		map[string]types.AttributeValue{":x": &types.AttributeValueMemberSS{Value: []string{"x"}}, ":first": s("A")}, map[string]string{"#l": "list"})
	if err != nil {
		t.Fatal(err)
	}
	if err := attributevalue.UnmarshalMap(out.Attributes, &item); err != nil {
		t.Fatal(err)
	}
	if _, has := out.Attributes["visits"]; has || fmt.Sprint(item.List) != "[A c]" || fmt.Sprint(item.Tags) != "[y]" {
		t.Fatalf("after remove: %v", out.Attributes)
	}

	errCases := []struct {
		expr   string
		values map[string]types.AttributeValue
		msg    string
	}{
		{"SET id = :v", map[string]types.AttributeValue{":v": s("x")}, "Cannot update attribute id. This attribute is part of the key"},
		{"SET nothere = nothere + :v", map[string]types.AttributeValue{":v": n("1")}, "The provided expression refers to an attribute that does not exist in the item"},
		{"SET hits = #l + :v", map[string]types.AttributeValue{":v": n("1")}, "An operand in the update expression has an incorrect data type"},
		{"ADD #l :v", map[string]types.AttributeValue{":v": n("1")}, "An operand in the update expression has an incorrect data type"},
		{"ADD hits :v", map[string]types.AttributeValue{":v": s("1")}, "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING"},
		{"SET a.b.c = :v", map[string]types.AttributeValue{":v": n("1")}, "The document path provided in the update expression is invalid for update"},
		{"SET hits = :v, hits = :v", map[string]types.AttributeValue{":v": n("1")}, "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [hits], path two: [hits]"},
		{"SET info = :v REMOVE info.deep", map[string]types.AttributeValue{":v": n("1")}, "path one: [info], path two: [info, deep]"},
		{"SET hits = :v SET other = :v", map[string]types.AttributeValue{":v": n("1")}, `The "SET" section can only be used once in an update expression;`},
		{"SET name = :v", map[string]types.AttributeValue{":v": n("1")}, "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: name"},
		{"SET hits = :v,", map[string]types.AttributeValue{":v": n("1")}, `Invalid UpdateExpression: Syntax error; token: "<EOF>", near: ","`},
		{"INVALID SYNTAX HERE", map[string]types.AttributeValue{":v": n("1")}, `Invalid UpdateExpression: Syntax error; token: "INVALID", near: "INVALID SYNTAX"`},
		{"SET hits = list_append(:v, #l)", map[string]types.AttributeValue{":v": n("1")}, "operator or function: list_append, operand type: N"},
	}
	for _, c := range errCases {
		t.Run(c.expr, func(t *testing.T) {
			names := map[string]string{}
			if strings.Contains(c.expr, "#l") {
				names["#l"] = "list"
			}
			if len(names) == 0 {
				names = nil
			}
			_, err := update(c.expr, "", c.values, names)
			wantCode(t, err, "ValidationException", c.msg)
		})
	}

	// A failed condition on UpdateItem leaves the item alone.
	_, err = f.cli.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String("upd"), Key: map[string]types.AttributeValue{"id": s("counter")},
		UpdateExpression: aws.String("SET hits = :v"), ConditionExpression: aws.String("hits > :v"),
		ExpressionAttributeValues:           map[string]types.AttributeValue{":v": n("100")},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) || str(ccf.Item["hits"]) != "2" {
		t.Fatalf("conditional update: %v", err)
	}
	// SET operands are read from the item before the update: a swap works.
	f.put(t, "upd", map[string]types.AttributeValue{"id": s("swap"), "a": s("1"), "b": s("2")})
	out, err = f.cli.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("upd"), Key: map[string]types.AttributeValue{"id": s("swap")},
		UpdateExpression: aws.String("SET a = b, b = a"), ReturnValues: types.ReturnValueAllNew})
	if err != nil || str(out.Attributes["a"]) != "2" || str(out.Attributes["b"]) != "1" {
		t.Fatalf("swap: %v %v", out, err)
	}
}

func TestBatchOperations(t *testing.T) {
	f := start(t, 0, 0)
	f.hashTable(t, "batch-a")
	f.rangeTable(t, "batch-b", types.ScalarAttributeTypeN)
	var writes []types.WriteRequest
	for i := 0; i < 20; i++ {
		writes = append(writes, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"id": s(fmt.Sprint("item-", i)), "n": n(fmt.Sprint(i))}}})
	}
	out, err := f.cli.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{
		"batch-a": writes,
		"batch-b": {{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"pk": s("p"), "sk": n("1"), "x": s("y")}}}},
	}})
	if err != nil || len(out.UnprocessedItems) != 0 {
		t.Fatalf("batch write: %v %v", out, err)
	}
	// Deletes and puts mix.
	_, err = f.cli.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{
		"batch-a": {{DeleteRequest: &types.DeleteRequest{Key: map[string]types.AttributeValue{"id": s("item-0")}}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.cli.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
		"batch-a": {Keys: []map[string]types.AttributeValue{{"id": s("item-0")}, {"id": s("item-1")}, {"id": s("item-19")}}, ProjectionExpression: aws.String("#n"), ExpressionAttributeNames: map[string]string{"#n": "n"}},
		"batch-b": {Keys: []map[string]types.AttributeValue{{"pk": s("p"), "sk": n("1")}}, ConsistentRead: aws.Bool(true)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Responses["batch-a"]) != 2 || len(got.Responses["batch-b"]) != 1 || len(got.UnprocessedKeys) != 0 {
		t.Fatalf("batch get %v", got.Responses)
	}
	for _, it := range got.Responses["batch-a"] {
		if len(it) != 1 || it["n"] == nil {
			t.Fatalf("projection in batch get: %v", it)
		}
	}
	// Too many writes, duplicates, a missing table.
	var tooMany []types.WriteRequest
	for i := 0; i < 26; i++ {
		tooMany = append(tooMany, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"id": s(fmt.Sprint(i))}}})
	}
	_, err = f.cli.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"batch-a": tooMany}})
	wantCode(t, err, "ValidationException", "Member must have length less than or equal to 25")
	_, err = f.cli.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"batch-a": {
		{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"id": s("d")}}},
		{DeleteRequest: &types.DeleteRequest{Key: map[string]types.AttributeValue{"id": s("d")}}},
	}}})
	wantCode(t, err, "ValidationException", "Provided list of item keys contains duplicates")
	_, err = f.cli.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
		"batch-a": {Keys: []map[string]types.AttributeValue{{"id": s("x")}, {"id": s("x")}}},
	}})
	wantCode(t, err, "ValidationException", "Provided list of item keys contains duplicates")
	var rnf *types.ResourceNotFoundException
	_, err = f.cli.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
		"no-such-table": {Keys: []map[string]types.AttributeValue{{"id": s("x")}}},
	}})
	if !errors.As(err, &rnf) {
		t.Fatalf("missing table: %v", err)
	}
	// A failed batch writes nothing.
	_, err = f.cli.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"batch-a": {
		{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"id": s("atomic")}}},
		{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"id": n("1")}}},
	}}})
	wantCode(t, err, "ValidationException", "Type mismatch for key id")
	g, _ := f.cli.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("batch-a"), Key: map[string]types.AttributeValue{"id": s("atomic")}})
	if g.Item != nil {
		t.Fatal("partial batch write was applied")
	}
}

func TestConsumedCapacity(t *testing.T) {
	f := start(t, 0, 0)
	f.hashTable(t, "cap")
	out, err := f.cli.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("cap"), Item: map[string]types.AttributeValue{"id": s("a"), "x": s(strings.Repeat("x", 3000))},
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
	if err != nil || out.ConsumedCapacity == nil || aws.ToFloat64(out.ConsumedCapacity.CapacityUnits) != 3 || aws.ToString(out.ConsumedCapacity.TableName) != "cap" {
		t.Fatalf("put capacity %+v %v", out.ConsumedCapacity, err)
	}
	g, err := f.cli.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("cap"), Key: map[string]types.AttributeValue{"id": s("a")}, ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
	if err != nil || aws.ToFloat64(g.ConsumedCapacity.CapacityUnits) != 0.5 {
		t.Fatalf("get capacity %+v %v", g.ConsumedCapacity, err)
	}
}

// PutItem, DeleteItem and UpdateItem validate their shared parameters the
// same way: the enums, and placeholders the expressions never use.
func TestSingleItemWritesShareParameterRules(t *testing.T) {
	f := start(t, 0, 0)
	f.hashTable(t, "shared")
	key := map[string]types.AttributeValue{"id": s("k")}
	writes := map[string]func(metrics types.ReturnItemCollectionMetrics, values map[string]types.AttributeValue) error{
		"PutItem": func(m types.ReturnItemCollectionMetrics, v map[string]types.AttributeValue) error {
			_, err := f.cli.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("shared"), Item: key, ReturnItemCollectionMetrics: m, ExpressionAttributeValues: v})
			return err
		},
		"DeleteItem": func(m types.ReturnItemCollectionMetrics, v map[string]types.AttributeValue) error {
			_, err := f.cli.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("shared"), Key: key, ReturnItemCollectionMetrics: m, ExpressionAttributeValues: v})
			return err
		},
		"UpdateItem": func(m types.ReturnItemCollectionMetrics, v map[string]types.AttributeValue) error {
			_, err := f.cli.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("shared"), Key: key, ReturnItemCollectionMetrics: m, ExpressionAttributeValues: v})
			return err
		},
	}
	for op, write := range writes {
		t.Run(op, func(t *testing.T) {
			wantCode(t, write("EVERYTHING", nil), "ValidationException", "returnItemCollectionMetrics")
			wantCode(t, write("", map[string]types.AttributeValue{":unused": s("x")}), "ValidationException", "ExpressionAttributeValues can only be specified when using expressions")
			if err := write(types.ReturnItemCollectionMetricsSize, nil); err != nil {
				t.Fatalf("a valid %s: %v", op, err)
			}
		})
	}
}
