// Fake @aws-sdk/client-s3 for the handler tests: objects live in globalThis.__fake.
export class GetObjectCommand {
  constructor(input) { this.input = input; }
}

export class S3Client {
  constructor(config) { this.config = config; }

  async send(cmd) {
    const f = globalThis.__fake;
    if (!(cmd instanceof GetObjectCommand)) throw new Error('fake S3: unexpected command');
    f.gets.push(cmd.input);
    const o = f.objects[`${cmd.input.Bucket}/${cmd.input.Key}`];
    if (!o) {
      const e = new Error('The specified key does not exist.');
      e.name = 'NoSuchKey';
      throw e;
    }
    let destroyed = false;
    return {
      ContentType: o.contentType,
      ContentLength: Buffer.byteLength(o.body),
      Body: {
        transformToString: async () => {
          if (destroyed) throw new Error('fake S3: body read after destroy');
          return o.body;
        },
        destroy() { destroyed = true; },
      },
    };
  }
}
