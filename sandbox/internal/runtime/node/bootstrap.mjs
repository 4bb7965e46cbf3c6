// The Node.js runtime of slab's Lambda sandbox: a Lambda Runtime API client
// that loads the function's handler ("file.export" from LAMBDA_TASK_ROOT) and
// serves invocations, with the behaviour of AWS's nodejs runtimes where a
// function can observe it: console lines "<time>\t<request id>\t<LEVEL>\t<msg>",
// error documents {errorType, errorMessage, trace}, Runtime.ImportModuleError,
// Runtime.HandlerNotFound, Runtime.UserCodeSyntaxError, callback handlers.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import util from 'node:util';
import * as nodeModule from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const runtimeFile = fileURLToPath(import.meta.url);
const api = process.env.AWS_LAMBDA_RUNTIME_API || '';
const sep = api.lastIndexOf(':');
const apiHost = api.slice(0, sep);
const apiPort = Number(api.slice(sep + 1));
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

let currentRequestId; // undefined between invocations, as on AWS
let currentInvoke; // { id, answered }

// --- logging ---

// Writes are synchronous so that a line printed before the response reaches
// the pipe before the response reaches the Runtime API.
function writeLine(level, args) {
  const msg = util.format(...args);
  const line = `${new Date().toISOString()}\t${currentRequestId}\t${level}\t${msg}`.replace(/\n/g, '\r');
  try {
    fs.writeSync(1, line + '\n');
  } catch {
    // A closed stdout must not take the function down.
  }
}

console.log = (...a) => writeLine('INFO', a);
console.info = (...a) => writeLine('INFO', a);
console.warn = (...a) => writeLine('WARN', a);
console.error = (...a) => writeLine('ERROR', a);
console.debug = (...a) => writeLine('DEBUG', a);
console.trace = (...a) => writeLine('TRACE', a);
console.fatal = (...a) => writeLine('FATAL', a);

// --- Runtime API ---

function call(method, p, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: apiHost, port: apiPort, method, path: '/2018-06-01/runtime/' + p, agent, headers },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function post(p, body, errorType) {
  const headers = { 'Content-Type': 'application/json' };
  if (errorType) headers['Lambda-Runtime-Function-Error-Type'] = errorType;
  return call('POST', p, Buffer.from(body), headers);
}

// --- errors ---

class RuntimeError extends Error {
  constructor(type, message, cause) {
    super(message);
    this.name = type;
    if (cause && typeof cause.stack === 'string') {
      // The cause's frames, after its own (possibly multi-line) message.
      const head = String(cause);
      const frames = cause.stack.startsWith(head) ? cause.stack.slice(head.length) : '\n' + cause.stack.split('\n').slice(1).join('\n');
      this.stack = `${type}: ${message}${frames}`;
    }
  }
}

function isError(e) {
  return util.types.isNativeError(e) || (e && typeof e === 'object' && typeof e.name === 'string' && typeof e.message === 'string' && typeof e.stack === 'string');
}

function toResponse(e) {
  try {
    if (isError(e)) {
      return { errorType: e.name, errorMessage: e.message, trace: e.stack.split('\n') };
    }
    return { errorType: typeof e, errorMessage: String(e), trace: [] };
  } catch {
    return { errorType: 'handled', errorMessage: 'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack' };
  }
}

function toLogged(e) {
  const r = toResponse(e);
  // Lambda's runtime logs "<kind> \t<json>": console.error's separator
  // space, then a tab.
  return '\t' + JSON.stringify({ errorType: r.errorType, errorMessage: r.errorMessage, stack: r.trace });
}

// --- loading the handler ---

const jsExtensions = ['.js', '.mjs', '.cjs'];

function missingModule(e) {
  const m = /Cannot find (?:module|package) '([^']+)'/.exec(String(e && e.message));
  return m ? m[1] : '';
}

async function loadModule(appRoot, moduleName) {
  const base = path.resolve(appRoot, moduleName);
  let file = jsExtensions.map((x) => base + x).find((f) => fs.existsSync(f));
  if (!file && fs.existsSync(base) && fs.statSync(base).isFile()) file = base;
  if (!file) {
    // A package in the task's node_modules, as require(moduleName) finds it.
    try {
      const req = nodeModule.createRequire(path.join(appRoot, 'noop.js'));
      file = req.resolve(moduleName);
    } catch {
      const err = new Error(`Cannot find module '${moduleName}'\nRequire stack:\n- ${runtimeFile}`);
      err.code = 'MODULE_NOT_FOUND';
      throw err;
    }
  }
  return import(pathToFileURL(file).href);
}

async function loadHandler() {
  const taskRoot = process.env.LAMBDA_TASK_ROOT || process.cwd();
  const handlerString = process.env._HANDLER || '';
  if (handlerString.includes('..')) {
    throw new RuntimeError('Runtime.MalformedHandlerName', `'${handlerString}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`);
  }
  const slash = handlerString.lastIndexOf('/');
  const moduleRoot = handlerString.slice(0, slash + 1);
  const moduleAndHandler = handlerString.slice(slash + 1);
  const match = /^([^.]*)\.(.*)$/.exec(moduleAndHandler);
  if (!match) throw new RuntimeError('Runtime.MalformedHandlerName', 'Bad handler');
  const [, moduleName, handlerPath] = match;
  let mod;
  try {
    mod = await loadModule(path.resolve(taskRoot, moduleRoot), moduleName);
  } catch (e) {
    if (e instanceof SyntaxError) throw new RuntimeError('Runtime.UserCodeSyntaxError', String(e), e);
    if (e && (e.code === 'MODULE_NOT_FOUND' || e.code === 'ERR_MODULE_NOT_FOUND')) {
      const missing = missingModule(e);
      if (missing.startsWith('@aws-sdk/') && !process.env._SLAB_NODE_MODULES) {
        process.stderr.write(`slab sandbox: AWS's ${process.env.AWS_EXECUTION_ENV || 'nodejs'} runtime includes the AWS SDK for JavaScript v3 (${missing}); this sandbox has no copy of it: bundle it in the zip, or give the sandbox a node_modules directory holding it (NodeModules).\n`);
      }
      throw new RuntimeError('Runtime.ImportModuleError', String(e), e);
    }
    throw e;
  }
  let fn = mod;
  for (const part of handlerPath.split('.')) {
    let next = fn == null ? undefined : fn[part];
    if (next === undefined && fn === mod && mod.default != null) next = mod.default[part];
    fn = next;
  }
  if (typeof fn !== 'function') {
    throw new RuntimeError('Runtime.HandlerNotFound', `${handlerString} is undefined or not exported`);
  }
  return fn;
}

// --- invocations ---

function context(headers, deadline, id) {
  const parse = (h) => {
    if (!h) return undefined;
    try {
      return JSON.parse(h);
    } catch {
      return undefined;
    }
  };
  const ctx = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
    awsRequestId: id,
    clientContext: parse(headers['lambda-runtime-client-context']),
    identity: parse(headers['lambda-runtime-cognito-identity']),
    getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
  };
  return ctx;
}

function run(handler, event, ctx) {
  return new Promise((resolve, reject) => {
    const callback = (err, data) => (err != null ? reject(err) : resolve(data));
    ctx.done = callback;
    ctx.succeed = (data) => callback(null, data);
    ctx.fail = (err) => callback(err == null ? 'handled' : err);
    try {
      const out = handler(event, ctx, callback);
      if (out && typeof out.then === 'function') out.then(resolve, reject);
      else if (handler.length < 3) resolve(out);
    } catch (e) {
      reject(e);
    }
  });
}

async function answerError(inv, e) {
  if (!inv || inv.answered) return;
  inv.answered = true;
  const r = toResponse(e);
  await post(`invocation/${inv.id}/error`, JSON.stringify(r), r.errorType).catch(() => {});
}

async function fatal(kind, type, e, code) {
  console.error(kind, toLogged(e));
  if (currentInvoke) {
    await answerError(currentInvoke, type ? new RuntimeError(type, String(e && e.message !== undefined ? e.message : e)) : e);
  }
  process.exit(code);
}

process.on('uncaughtException', (e) => fatal('Uncaught Exception', '', e, 129));
process.on('unhandledRejection', (reason) => {
  const e = new RuntimeError('Runtime.UnhandledPromiseRejection', isError(reason) ? `${reason.name}: ${reason.message}` : String(reason));
  fatal('Unhandled Promise Rejection', '', e, 128);
});

async function main() {
  if (process.env._SLAB_NODE_MODULES && typeof nodeModule.register === 'function') {
    nodeModule.register('./hooks.mjs', import.meta.url, { data: { dir: process.env._SLAB_NODE_MODULES } });
  }
  let handler;
  try {
    handler = await loadHandler();
  } catch (e) {
    console.error('Uncaught Exception', toLogged(e));
    const r = toResponse(e);
    await post('init/error', JSON.stringify(r), r.errorType).catch(() => {});
    process.exit(129);
  }
  for (;;) {
    const next = await call('GET', 'invocation/next');
    if (next.status !== 200) {
      process.stderr.write(`Runtime API: GET next answered ${next.status}: ${next.body}\n`);
      process.exit(1);
    }
    const h = next.headers;
    const id = h['lambda-runtime-aws-request-id'];
    const deadline = Number(h['lambda-runtime-deadline-ms']);
    if (h['lambda-runtime-trace-id']) process.env._X_AMZN_TRACE_ID = h['lambda-runtime-trace-id'];
    else delete process.env._X_AMZN_TRACE_ID;
    currentRequestId = id;
    const inv = { id, answered: false };
    currentInvoke = inv;
    try {
      const event = next.body.length ? JSON.parse(next.body.toString('utf8')) : {};
      const result = await run(handler, event, context(h, deadline, id));
      const body = result === undefined ? 'null' : JSON.stringify(result);
      if (!inv.answered) {
        inv.answered = true;
        await post(`invocation/${id}/response`, body === undefined ? 'null' : body);
      }
    } catch (e) {
      console.error('Invoke Error', toLogged(e));
      await answerError(inv, e);
    }
    currentInvoke = undefined;
  }
}

main().catch((e) => fatal('Uncaught Exception', '', e, 129));
