// event-processor: EventBridge schedule -> summary of the table -> SNS topic.
//
// Corrected version of the original guide's function: AWS SDK for JavaScript v3
// and a clear failure when the topic ARN was not configured.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { SNSClient, PublishCommand } from '@aws-sdk/client-sns';

const TABLE_NAME = process.env.TABLE_NAME || 'lambda-integration-data';

const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const sns = new SNSClient({});

export const handler = async (event, context) => {
  const topicArn = process.env.SNS_TOPIC_ARN;
  if (!topicArn) {
    const err = new Error('SNS_TOPIC_ARN is empty: set the function environment variable to the topic ARN');
    logError(context, err);
    throw err;
  }

  try {
    // Scan with Limit 10 reads the first 10 items in the table's internal (hash)
    // order: arbitrary items, earlier summaries included. They are not the latest
    // ones; that would need a sort key or an index to Query.
    const result = await ddb.send(new ScanCommand({ TableName: TABLE_NAME, Limit: 10 }));
    const items = result.Items ?? [];

    const summary = {
      timestamp: new Date().toISOString(),
      itemCount: items.length,
      latestItems: items.map((item) => ({
        id: item.id,
        fileName: item.fileName,
        processedAt: item.processedAt,
      })),
    };

    const out = await sns.send(new PublishCommand({
      TopicArn: topicArn,
      Subject: 'Lambda Integration - Periodic Summary',
      Message: JSON.stringify(summary, null, 2),
    }));
    console.log(`Published summary of ${items.length} items as SNS message ${out.MessageId}`);

    return {
      statusCode: 200,
      body: 'Successfully published summary to SNS',
      messageId: out.MessageId,
    };
  } catch (err) {
    logError(context, err);
    throw err;
  }
};

function logError(context, err) {
  console.error(JSON.stringify({
    level: 'error',
    requestId: context?.awsRequestId,
    error: err?.name,
    message: err?.message,
  }));
}
