// Exercises the three Node.js handlers against the fake SDK in node_modules/.
// Run by node_test.go from a temporary directory laid out as:
//   node_modules/@aws-sdk/...   (copied from fake-sdk/)
//   <function>/index.mjs        (the embedded sources)
//   run.mjs                     (this file)
import assert from 'node:assert/strict';

function reset() {
  globalThis.__fake = {
    objects: {}, items: new Map(), gets: [], puts: [], scans: [], published: [], failPut: false,
  };
  return globalThis.__fake;
}

// Captures console.error lines so the tests can check the one-JSON-line-per-error rule.
const errorLines = [];
const origError = console.error;
console.error = (...args) => { errorLines.push(args.join(' ')); };
console.log = () => {};

const context = { awsRequestId: 'req-1234' };
const results = [];

async function test(name, fn) {
  reset();
  errorLines.length = 0;
  delete process.env.SNS_TOPIC_ARN;
  try {
    await fn(globalThis.__fake);
    results.push(`ok   ${name}`);
  } catch (err) {
    results.push(`FAIL ${name}: ${err.stack || err}`);
  }
}

function s3Event(bucket, key, extra = {}) {
  return {
    Records: [{
      eventSource: 'aws:s3',
      eventName: 'ObjectCreated:Put',
      s3: { bucket: { name: bucket }, object: { key, size: extra.size ?? 10, sequencer: extra.sequencer ?? '0065A1B2C3', ...(extra.versionId ? { versionId: extra.versionId } : {}) } },
    }],
  };
}

function sqsRecord(messageId, body) {
  return { messageId, receiptHandle: `rh-${messageId}`, body, eventSource: 'aws:sqs' };
}

function envelope(messageId, message) {
  return JSON.stringify({ Type: 'Notification', MessageId: messageId, TopicArn: 'arn:aws:sns:us-east-1:000000000000:t', Subject: 'Lambda Integration - Periodic Summary', Message: message });
}

const s3p = await import('./s3-processor/index.mjs');
const evp = await import('./event-processor/index.mjs');
const qp = await import('./queue-processor/index.mjs');

await test('s3: decodes the key, keys the item by version, stores JSON content', async (f) => {
  f.objects['b1/my file(1).json'] = { body: '{"a":1,"n":"x"}', contentType: 'application/json' };
  const out = await s3p.handler(s3Event('b1', 'my+file%281%29.json', { versionId: 'v1' }), context);
  assert.equal(out.statusCode, 200);
  assert.equal(f.gets[0].Key, 'my file(1).json');
  assert.equal(f.gets[0].VersionId, 'v1');
  const item = f.items.get('b1/my file(1).json#v1');
  assert.ok(item, `items: ${[...f.items.keys()]}`);
  assert.deepEqual(item.content, { a: 1, n: 'x' });
  assert.equal(item.fileName, 'my file(1).json');
  assert.equal(item.bucket, 'b1');
  assert.ok(!Number.isNaN(Date.parse(item.processedAt)));
  assert.equal(f.puts[0].cond, 'attribute_not_exists(id)');
  assert.equal(f.puts[0].table, 'lambda-integration-data');
});

await test('s3: a redelivered event is a success and writes nothing new', async (f) => {
  f.objects['b1/a.json'] = { body: '{}', contentType: 'application/json' };
  const ev = s3Event('b1', 'a.json', { versionId: 'v9' });
  await s3p.handler(ev, context);
  await s3p.handler(ev, context);
  assert.equal(f.items.size, 1);
  assert.equal(f.puts.length, 2);
  assert.equal(errorLines.length, 0);
});

await test('s3: unversioned bucket uses the sequencer', async (f) => {
  f.objects['b2/x.json'] = { body: '[1,2]', contentType: 'application/json' };
  await s3p.handler(s3Event('b2', 'x.json', { sequencer: '00ABC' }), context);
  assert.ok(f.items.has('b2/x.json#00ABC'));
  assert.equal(f.gets[0].VersionId, undefined);
});

await test('s3: non-JSON content is kept raw with its content type', async (f) => {
  f.objects['b1/notes.json'] = { body: 'not json {', contentType: 'text/plain' };
  await s3p.handler(s3Event('b1', 'notes.json', { versionId: 'v2' }), context);
  assert.deepEqual(f.items.get('b1/notes.json#v2').content, { rawContent: 'not json {', contentType: 'text/plain' });
});

await test('s3: a large object becomes a pointer', async (f) => {
  const body = JSON.stringify({ blob: 'x'.repeat(360000) });
  f.objects['b1/big.json'] = { body, contentType: 'application/json' };
  await s3p.handler(s3Event('b1', 'big.json', { versionId: 'v3', size: body.length }), context);
  const item = f.items.get('b1/big.json#v3');
  assert.equal(item.content, undefined);
  assert.deepEqual(item.pointer, { bucket: 'b1', key: 'big.json', size: Buffer.byteLength(body), contentType: 'application/json' });
});

await test('s3: a failure is rethrown (async retries) and logged as one JSON line', async () => {
  await assert.rejects(s3p.handler(s3Event('b1', 'missing.json', { versionId: 'v4' }), context), { name: 'NoSuchKey' });
  assert.equal(errorLines.length, 1);
  const line = JSON.parse(errorLines[0]);
  assert.equal(line.requestId, 'req-1234');
  assert.equal(line.error, 'NoSuchKey');
});

await test('event: fails clearly without SNS_TOPIC_ARN', async (f) => {
  await assert.rejects(evp.handler({}, context), /SNS_TOPIC_ARN/);
  assert.equal(f.published.length, 0);
  assert.equal(JSON.parse(errorLines[0]).requestId, 'req-1234');
});

await test('event: scans 10 items and publishes the summary', async (f) => {
  process.env.SNS_TOPIC_ARN = 'arn:aws:sns:us-east-1:000000000000:lambda-integration-notifications';
  for (let i = 0; i < 12; i++) f.items.set(`b/k${i}.json#v`, { id: `b/k${i}.json#v`, fileName: `k${i}.json`, processedAt: '2026-11-01T00:00:00.000Z', content: { i } });
  const out = await evp.handler({ source: 'aws.events' }, context);
  assert.equal(out.statusCode, 200);
  assert.equal(out.messageId, 'fake-sns-1');
  assert.equal(f.scans[0].Limit, 10);
  assert.equal(f.scans[0].TableName, 'lambda-integration-data');
  const p = f.published[0];
  assert.equal(p.TopicArn, process.env.SNS_TOPIC_ARN);
  assert.equal(p.Subject, 'Lambda Integration - Periodic Summary');
  const summary = JSON.parse(p.Message);
  assert.equal(summary.itemCount, 10);
  assert.deepEqual(Object.keys(summary).sort(), ['itemCount', 'latestItems', 'timestamp']);
  assert.deepEqual(Object.keys(summary.latestItems[0]).sort(), ['fileName', 'id', 'processedAt']);
});

await test('queue: partial batch response for poison records, good ones stored once', async (f) => {
  const good = JSON.stringify({ timestamp: '2026-11-01T00:00:00.000Z', itemCount: 2, latestItems: [] });
  const event = {
    Records: [
      sqsRecord('m1', envelope('sns-1', good)),
      sqsRecord('m2', '{"test": "message"}'),
      sqsRecord('m3', envelope('sns-3', 'plain text')),
      sqsRecord('m4', 'not json'),
      sqsRecord('m5', good),
      sqsRecord('m6', envelope('sns-1', good)),
    ],
  };
  const out = await qp.handler(event, context);
  assert.deepEqual(out.batchItemFailures.map((x) => x.itemIdentifier), ['m2', 'm3', 'm4', 'm5']);
  assert.equal(f.items.size, 1);
  const item = f.items.get('summary-sns-1');
  assert.equal(item.type, 'summary');
  assert.equal(item.itemCount, 2);
  assert.equal(item.timestamp, '2026-11-01T00:00:00.000Z');
  assert.equal(errorLines.length, 4);
  for (const l of errorLines) {
    const j = JSON.parse(l);
    assert.equal(j.requestId, 'req-1234');
    assert.ok(j.messageId);
  }
});

await test('queue: a DynamoDB failure is reported for that record only', async (f) => {
  f.failPut = true;
  const good = JSON.stringify({ timestamp: 't', itemCount: 0, latestItems: [] });
  const out = await qp.handler({ Records: [sqsRecord('m1', envelope('sns-9', good))] }, context);
  assert.deepEqual(out, { batchItemFailures: [{ itemIdentifier: 'm1' }] });
});

await test('queue: an empty batch returns no failures', async () => {
  assert.deepEqual(await qp.handler({ Records: [] }, context), { batchItemFailures: [] });
});

console.error = origError;
process.stdout.write(results.join('\n') + '\n');
process.exitCode = results.some((r) => r.startsWith('FAIL')) ? 1 : 0;
