// Fake @aws-sdk/client-dynamodb: only the client constructor is used.
export class DynamoDBClient {
  constructor(config) { this.config = config; }
}
