// queue-processor: SQS (fed by the SNS topic) -> one summary item per SNS message.
//
// Corrected version of the original guide's function: AWS SDK for JavaScript v3,
// defensive parsing, an idempotent item id and a partial batch response, so one bad
// message is retried (and finally moved to the dead-letter queue) without failing
// or re-running the rest of its batch. The event source mapping must be created
// with --function-response-types ReportBatchItemFailures for Lambda to honour it.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';

const TABLE_NAME = process.env.TABLE_NAME || 'lambda-integration-data';

const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});

class PoisonMessageError extends Error {
  constructor(message) {
    super(message);
    this.name = 'PoisonMessageError';
  }
}

export const handler = async (event, context) => {
  const batchItemFailures = [];
  for (const record of event.Records ?? []) {
    try {
      const { snsMessageId, message } = parseRecord(record);
      await store(snsMessageId, message);
    } catch (err) {
      logError(context, record, err);
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
};

// parseRecord expects the SNS envelope (raw message delivery off) whose Message is
// the JSON summary published by the event processor.
function parseRecord(record) {
  let envelope;
  try {
    envelope = JSON.parse(record.body);
  } catch {
    throw new PoisonMessageError('body is not JSON');
  }
  if (!envelope || typeof envelope !== 'object' || envelope.Type !== 'Notification' ||
      typeof envelope.Message !== 'string' || !envelope.MessageId) {
    throw new PoisonMessageError('body is not an SNS notification envelope (is RawMessageDelivery on?)');
  }
  let message;
  try {
    message = JSON.parse(envelope.Message);
  } catch {
    throw new PoisonMessageError('SNS Message is not JSON');
  }
  if (!message || typeof message !== 'object' || Array.isArray(message)) {
    throw new PoisonMessageError('SNS Message is not a JSON object');
  }
  return { snsMessageId: envelope.MessageId, message };
}

async function store(snsMessageId, message) {
  // The SNS MessageId is stable across SQS redeliveries, so a message processed
  // twice writes the same item once.
  const item = {
    id: `summary-${snsMessageId}`,
    type: 'summary',
    timestamp: message.timestamp,
    itemCount: message.itemCount,
    snsMessageId,
    processedAt: new Date().toISOString(),
  };
  try {
    await ddb.send(new PutCommand({
      TableName: TABLE_NAME,
      Item: item,
      ConditionExpression: 'attribute_not_exists(id)',
    }));
    console.log(`Stored ${item.id}`);
  } catch (err) {
    if (err.name === 'ConditionalCheckFailedException') {
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
    messageId: record?.messageId,
    error: err?.name,
    message: err?.message,
  }));
}
