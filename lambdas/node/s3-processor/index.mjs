// s3-processor: S3 ObjectCreated (*.json) -> one DynamoDB item per object version.
//
// Corrected version of the original guide's function: AWS SDK for JavaScript v3
// (the nodejs18.x+ runtimes no longer ship v2), an idempotent item id, and a
// pointer instead of the content when the object would not fit in an item.
import { S3Client, GetObjectCommand } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';

const TABLE_NAME = process.env.TABLE_NAME || 'lambda-integration-data';

// A DynamoDB item is at most 400 KB, attribute names included. Content above this
// size is stored as a pointer to the object so the put cannot fail on item size.
const MAX_INLINE_BYTES = 350000;

const s3 = new S3Client({});
const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});

export const handler = async (event, context) => {
  const records = event.Records ?? [];
  for (const record of records) {
    try {
      await processRecord(record);
    } catch (err) {
      // Rethrow: S3 invokes asynchronously, so Lambda retries the whole event
      // (two more attempts) and then sends it to an on-failure destination if set.
      logError(context, record, err);
      throw err;
    }
  }
  return { statusCode: 200, body: `Successfully processed ${records.length} records` };
};

async function processRecord(record) {
  const bucket = record.s3.bucket.name;
  // Keys arrive URL-encoded with spaces as '+'.
  const key = decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '));
  const versionId = record.s3.object.versionId;
  // S3 delivers events at least once and async invocations are retried, so the id
  // names the object version (or the event sequencer on an unversioned bucket),
  // not a timestamp as in the guide: a redelivery maps to the same item.
  const id = `${bucket}/${key}#${versionId || record.s3.object.sequencer}`;

  const object = await s3.send(new GetObjectCommand({
    Bucket: bucket,
    Key: key,
    ...(versionId ? { VersionId: versionId } : {}),
  }));
  const contentType = object.ContentType || 'application/octet-stream';

  const item = {
    id,
    fileName: key,
    bucket,
    versionId,
    processedAt: new Date().toISOString(),
  };

  const size = object.ContentLength ?? record.s3.object.size ?? 0;
  let text;
  if (size <= MAX_INLINE_BYTES) {
    text = await object.Body.transformToString('utf-8');
  } else {
    object.Body?.destroy?.();
  }

  if (text === undefined || Buffer.byteLength(text, 'utf8') > MAX_INLINE_BYTES) {
    item.pointer = { bucket, key, size, contentType };
  } else {
    try {
      item.content = JSON.parse(text);
    } catch {
      item.content = { rawContent: text, contentType };
    }
  }

  try {
    await put(item);
  } catch (err) {
    if (err.name === 'ValidationException' && /item size/i.test(err.message) && !item.pointer) {
      // Nested JSON can still outgrow 400 KB once marshalled: fall back to a pointer.
      delete item.content;
      item.pointer = { bucket, key, size, contentType };
      await put(item);
    } else {
      throw err;
    }
  }
}

async function put(item) {
  try {
    await ddb.send(new PutCommand({
      TableName: TABLE_NAME,
      Item: item,
      ConditionExpression: 'attribute_not_exists(id)',
    }));
    console.log(`Stored ${item.fileName} as ${item.id}${item.pointer ? ' (pointer)' : ''}`);
  } catch (err) {
    if (err.name === 'ConditionalCheckFailedException') {
      // Already stored by an earlier delivery of the same event: success.
      console.log(`Duplicate delivery of ${item.id}, already stored`);
      return;
    }
    throw err;
  }
}

function logError(context, record, err) {
  console.error(JSON.stringify({
    level: 'error',
    requestId: context?.awsRequestId,
    bucket: record?.s3?.bucket?.name,
    key: record?.s3?.object?.key,
    error: err?.name,
    message: err?.message,
  }));
}
