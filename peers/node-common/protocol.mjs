// The peer protocol (peers/README.md, version 1) for node drivers: JSON lines on stdin, one
// answer per request on stdout, in order. A driver supplies `info` and the four operations; this
// module does the framing, `batch`, `bench` and the mapping of outcomes to answer members.
import { constants, generateKeyPairSync, privateDecrypt, publicEncrypt } from 'node:crypto';

export class Unsupported extends Error {}
export class Rejected extends Error {}
class Oversize extends Error {
  constructor(bytes) {
    super(`${bytes} bytes`);
    this.bytes = bytes;
  }
}

export const b64decode = (text) => new Uint8Array(Buffer.from(text, 'base64url'));
export const b64encode = (bytes) => Buffer.from(bytes).toString('base64url');
// A consumed payload or plaintext as the answer carries it, unless it holds more bytes than the
// request's `max_bytes` (the harness's memory cap): a 1 GiB inflated bomb cannot even become a
// node string, and the harness could not read it.
export const consumedBytes = (request, bytes) => {
  if (Number.isSafeInteger(request.max_bytes) && bytes.length > request.max_bytes) {
    throw new Oversize(bytes.length);
  }
  return b64encode(bytes);
};
export const isJwks = (key) => key !== null && typeof key === 'object' && Array.isArray(key.keys)
  && !('kty' in key);

const OPERATIONS = ['sign', 'verify', 'encrypt', 'decrypt'];

const errorText = (error) => `${error?.name ?? typeof error}: ${error?.message ?? String(error)}`;

// The driver's own mistakes (a TypeError in its code) are `error`; what the library throws while
// refusing input is `rejected`. `isRejection` tells them apart per library.
async function answer(driver, request) {
  const { id } = request;
  try {
    if (request.op === 'info') return { id, result: await driver.info(request.suites ?? []) };
    if (request.op === 'batch') {
      const results = [];
      for (const inner of request.requests ?? []) results.push(await answer(driver, inner));
      return { id, result: results };
    }
    if (request.op === 'bench') return { id, result: await bench(driver, request) };
    if (request.op === 'hang') return new Promise(() => {});
    if (request.op === 'crash') process.exit(3);
    if (!OPERATIONS.includes(request.op)) return { id, unsupported: `unknown op ${JSON.stringify(request.op)}` };
    return { id, result: await driver[request.op](request) };
  } catch (error) {
    if (error instanceof Oversize) return { id, oversize: error.bytes };
    if (error instanceof Unsupported) return { id, unsupported: error.message };
    if (error instanceof Rejected || driver.isRejection(error)) return { id, rejected: errorText(error) };
    return { id, error: errorText(error) };
  }
}

// The operation `n` times in this process, after what the library lets a caller prepare once
// (`driver.prepare` imports the key); only the loop is timed.
async function bench(driver, request) {
  const { operation, n } = request;
  if (!OPERATIONS.includes(operation)) throw new Error(`bench: unknown operation ${operation}`);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error('bench: n must be a positive integer');
  const run = await driver.prepare(operation, request.request);
  await run();
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i += 1) await run();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { n, seconds };
}

// Request lines are framed here rather than by node:readline: readline cost about 240 ms of CPU
// on one 22 MB line (a 16 MiB hostile token), which a cost verdict would charge to the library;
// buffering the chunks and joining them once a newline arrives costs about half that.
function onLines(input, onLine, onEnd) {
  let parts = [];
  const emit = (bytes) => {
    const line = bytes.toString('utf8');
    onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
  };
  input.on('data', (chunk) => {
    let start = 0;
    let at;
    while ((at = chunk.indexOf(10, start)) !== -1) {
      parts.push(chunk.subarray(start, at));
      emit(parts.length === 1 ? parts[0] : Buffer.concat(parts));
      parts = [];
      start = at + 1;
    }
    if (start < chunk.length) parts.push(chunk.subarray(start));
  });
  input.on('end', () => {
    if (parts.length) emit(Buffer.concat(parts));
    onEnd();
  });
}

export function serve(driver) {
  // Answers go out in request order even though operations are asynchronous.
  let queue = Promise.resolve();
  onLines(process.stdin, (line) => {
    if (!line.trim()) return;
    queue = queue.then(async () => {
      let request;
      try {
        request = JSON.parse(line);
      } catch (error) {
        process.stdout.write(`${JSON.stringify({ id: null, error: `bad request line: ${error.message}` })}\n`);
        return;
      }
      const reply = await answer(driver, request);
      process.stdout.write(`${JSON.stringify(reply)}\n`);
    });
  }, () => { queue.then(() => process.exit(0)); });
}

// Node 20.11+ (and 18.19+, 21.6+) refuses RSA_PKCS1_PADDING private decryption (CVE-2023-46809,
// the Marvin attack) unless started with --security-revert=CVE-2023-46809. The driver does not
// start node with that flag: it would weaken every RSA decryption in the process, and a user on
// a current node meets the same refusal. Probed once, so the answer is a declaration.
let pkcs1Decrypt;
export function pkcs1DecryptWorks() {
  if (pkcs1Decrypt === undefined) {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const padding = constants.RSA_PKCS1_PADDING;
    try {
      const sealed = publicEncrypt({ key: publicKey, padding }, Buffer.from('probe'));
      privateDecrypt({ key: privateKey, padding }, sealed);
      pkcs1Decrypt = true;
    } catch {
      pkcs1Decrypt = false;
    }
  }
  return pkcs1Decrypt;
}

export const PKCS1_REFUSED = `node ${process.version} refuses RSA1_5 (PKCS#1 v1.5) decryption `
  + '(CVE-2023-46809); the driver does not start node with --security-revert=CVE-2023-46809';

// Suites a driver implements, by the fields the protocol says to decide from.
export const suiteNames = (suites, test) => suites.filter(test).map((suite) => suite.name);

// The harness's `algorithms` list split the way JWE consumers take it: key management `alg`
// names and content `enc` names. `DEF` names compression, which these libraries have no
// allow-list for.
export const CONTENT_ALGS = new Set(['A128CBC-HS256', 'A192CBC-HS384', 'A256CBC-HS512', 'A128GCM',
  'A192GCM', 'A256GCM']);
export function splitJweAlgorithms(algorithms) {
  const names = algorithms.filter((name) => name !== 'DEF');
  return {
    keyManagementAlgorithms: names.filter((name) => !CONTENT_ALGS.has(name)),
    contentEncryptionAlgorithms: names.filter((name) => CONTENT_ALGS.has(name)),
  };
}
