// Fake @aws-sdk/lib-dynamodb: a document client over an in-memory Map in globalThis.__fake.
export class PutCommand {
  constructor(input) { this.input = input; }
}

export class ScanCommand {
  constructor(input) { this.input = input; }
}

function fail(name, message) {
  const e = new Error(message);
  e.name = name;
  return e;
}

export class DynamoDBDocumentClient {
  static from(client, translateConfig) {
    return new DynamoDBDocumentClient(translateConfig);
  }

  constructor(translateConfig) { this.translateConfig = translateConfig; }

  async send(cmd) {
    const f = globalThis.__fake;
    if (cmd instanceof PutCommand) {
      const { Item: item, TableName: table, ConditionExpression: cond } = cmd.input;
      f.puts.push({ table, id: item.id, cond });
      if (f.failPut) throw fail('ProvisionedThroughputExceededException', 'fake throttle');
      const removeUndefined = this.translateConfig?.marshallOptions?.removeUndefinedValues;
      for (const [k, v] of Object.entries(item)) {
        if (v === undefined && !removeUndefined) {
          throw new Error(`Pass options.removeUndefinedValues=true to remove undefined values from map/array/set. (${k})`);
        }
      }
      if (cond === 'attribute_not_exists(id)' && f.items.has(item.id)) {
        throw fail('ConditionalCheckFailedException', 'The conditional request failed');
      }
      if (cond !== undefined && cond !== 'attribute_not_exists(id)') throw new Error(`fake: unexpected condition ${cond}`);
      if (Buffer.byteLength(JSON.stringify(item)) > 400 * 1024) {
        throw fail('ValidationException', 'Item size has exceeded the maximum allowed size');
      }
      f.items.set(item.id, JSON.parse(JSON.stringify(item)));
      return {};
    }
    if (cmd instanceof ScanCommand) {
      f.scans.push(cmd.input);
      const all = [...f.items.values()];
      return { Items: all.slice(0, cmd.input.Limit ?? all.length), Count: Math.min(all.length, cmd.input.Limit ?? all.length) };
    }
    throw new Error('fake DynamoDB: unexpected command');
  }
}
