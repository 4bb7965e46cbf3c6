// Fake @aws-sdk/client-sns: publishes are recorded in globalThis.__fake.
export class PublishCommand {
  constructor(input) { this.input = input; }
}

export class SNSClient {
  constructor(config) { this.config = config; }

  async send(cmd) {
    const f = globalThis.__fake;
    if (!(cmd instanceof PublishCommand)) throw new Error('fake SNS: unexpected command');
    if (!cmd.input.TopicArn) {
      const e = new Error('Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter');
      e.name = 'InvalidParameterException';
      throw e;
    }
    f.published.push(cmd.input);
    return { MessageId: `fake-sns-${f.published.length}` };
  }
}
