// jose-harness peer driver for Cisco's `node-jose` (npm), pinned by this folder's
// package-lock.json. The folder is named after the npm package; panva's `jose` is ../jose6 and
// ../jose5. The protocol is ../README.md.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import {
  CONTENT_ALGS, PKCS1_REFUSED, Rejected, Unsupported, b64decode, consumedBytes, isJwks, pkcs1DecryptWorks,
  serve, suiteNames,
} from '../node-common/protocol.mjs';

const require = createRequire(import.meta.url);
const jose = require('node-jose');
const { version } = JSON.parse(readFileSync(new URL('./node_modules/node-jose/package.json',
  import.meta.url), 'utf8'));
const DOCS = 'https://github.com/cisco/node-jose#readme';

// From lib/algorithms/*.js: no OKP keys at all (no EdDSA, no X25519/X448) and no secp256k1.
const JWS_ALGS = new Set(['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384',
  'PS512', 'ES256', 'ES384', 'ES512']);
const JWE_ALGS = new Set(['dir', 'RSA1_5', 'RSA-OAEP', 'RSA-OAEP-256', 'A128KW', 'A192KW', 'A256KW',
  'A128GCMKW', 'A192GCMKW', 'A256GCMKW', 'ECDH-ES', 'ECDH-ES+A128KW', 'ECDH-ES+A192KW',
  'ECDH-ES+A256KW', 'PBES2-HS256+A128KW', 'PBES2-HS384+A192KW', 'PBES2-HS512+A256KW']);
const ECDH_CURVES = new Set(['P-256', 'P-384', 'P-521']);
const LONG_CEK = new Set(['A192CBC-HS384', 'A256CBC-HS512']);
const FORMS = ['compact', 'flattened', 'general'];

function implemented(suite) {
  if (suite.family === 'JWS') return JWS_ALGS.has(suite.alg);
  if (suite.family !== 'JWE' || !JWE_ALGS.has(suite.alg) || !CONTENT_ALGS.has(suite.enc)) return false;
  if (!suite.alg.startsWith('ECDH-ES')) return true;
  // Its direct ECDH-ES derives no content key longer than 256 bits: both directions answer
  // "unsupported algorithm" for A192CBC-HS384 and A256CBC-HS512.
  return ECDH_CURVES.has(suite.crv) && (suite.alg !== 'ECDH-ES' || !LONG_CEK.has(suite.enc));
}

// createVerify and createDecrypt default to `algorithms: "*"`: every algorithm the key fits,
// PBES2 and RSA1_5 included.
const allowsByDefault = implemented;

const keys = new Map();
async function importKey(jwk) {
  const slot = JSON.stringify(jwk);
  let key = keys.get(slot);
  if (key === undefined) {
    try {
      key = await (isJwks(jwk) ? jose.JWK.asKeyStore(jwk) : jose.JWK.asKey(jwk));
    } catch (error) {
      throw new Rejected(`node-jose refused the key: ${error.message}`);
    }
    keys.set(slot, key);
  }
  return key;
}

function checkSuite(suite, request) {
  if (!implemented(suite)) throw new Unsupported(`node-jose ${version} does not implement ${suite.name}`);
  if (!FORMS.includes(request.serialization ?? 'compact')) {
    throw new Unsupported(`node-jose has no ${request.serialization} serialization`);
  }
  if (request.entry_point === 'jwt') throw new Unsupported('node-jose has no JWT API');
}

// node-jose throws plain Errors ("no key found", "Algorithm not allowed: ..."): while consuming a
// token, anything it throws is the library refusing that token.
async function consuming(call) {
  try {
    return await call();
  } catch (error) {
    if (error instanceof Unsupported) throw error;
    throw new Rejected(`${error?.name ?? 'Error'}: ${error?.message ?? String(error)}`);
  }
}

const parse = (token, serialization) => (serialization === 'compact' || typeof token !== 'string'
  ? token : JSON.parse(token));

// Signing and encryption protect every header member ("*"); compact serialization does anyway.
const preparers = {
  async sign(request) {
    const { suite } = request;
    checkSuite(suite, request);
    if (isJwks(request.key)) throw new Unsupported('the driver signs with one JWK');
    const format = request.serialization ?? 'compact';
    const key = await importKey(request.key);
    const header = { alg: suite.alg, ...(request.header ?? {}) };
    const payload = Buffer.from(b64decode(request.payload));
    return () => jose.JWS.createSign({ format, fields: header },
      { key, header, protect: '*' }).update(payload).final();
  },
  async verify(request) {
    const { suite } = request;
    checkSuite(suite, request);
    const key = await importKey(request.key);
    const options = request.algorithms == null ? {} : { algorithms: request.algorithms };
    const token = parse(request.token, request.serialization ?? 'compact');
    // The options go to verify(), not createVerify(): createVerify merges its options into
    // node-jose's module-wide DEFAULT_OPTIONS (lodash merge mutates its first argument), so one
    // verifier's allow-list would become every later verifier's default, and later lists would
    // keep the earlier lists' extra entries (lib/jws/verify.js, node-jose 2.2.0).
    return async () => {
      const result = await consuming(() => jose.JWS.createVerify(key).verify(token, options));
      return { payload: consumedBytes(request, result.payload) };
    };
  },
  async encrypt(request) {
    const { suite } = request;
    checkSuite(suite, request);
    if (isJwks(request.key)) throw new Unsupported('the driver encrypts to one JWK');
    const format = request.serialization ?? 'compact';
    const key = await importKey(request.key);
    const { zip, ...rest } = request.header ?? {};
    const fields = { alg: suite.alg, enc: suite.enc, ...rest };
    const options = { format, contentAlg: suite.enc, fields, protect: '*',
      ...(zip === undefined ? {} : { zip }) };
    const plaintext = Buffer.from(b64decode(request.plaintext));
    return () => jose.JWE.createEncrypt(options, { key, header: { alg: suite.alg } })
      .update(plaintext).final();
  },
  async decrypt(request) {
    const { suite } = request;
    checkSuite(suite, request);
    // node-jose's forge fallback does not step in: its decrypt answers "no key found".
    if (suite.alg === 'RSA1_5' && !pkcs1DecryptWorks()) throw new Unsupported(PKCS1_REFUSED);
    const key = await importKey(request.key);
    const options = request.algorithms == null ? {} : { algorithms: request.algorithms };
    const token = parse(request.token, request.serialization ?? 'compact');
    return async () => {
      const result = await consuming(() => jose.JWE.createDecrypt(key, options).decrypt(token));
      return { plaintext: consumedBytes(request, result.plaintext) };
    };
  },
};

const runOnce = (operation) => async (request) => (await preparers[operation](request))();

serve({
  info: (suites) => ({
    name: 'node-jose',
    version,
    language: 'javascript',
    runtime: `node ${process.version}`,
    supports: suiteNames(suites, implemented),
    allows_by_default: suiteNames(suites, allowsByDefault),
    produces: { JWS: FORMS, JWE: FORMS },
    consumes: { JWS: FORMS, JWE: FORMS },
    entry_points: { jws: `jose.JWS.createVerify().verify, jose.JWE.createDecrypt().decrypt (${DOCS})` },
  }),
  sign: runOnce('sign'),
  verify: runOnce('verify'),
  encrypt: runOnce('encrypt'),
  decrypt: runOnce('decrypt'),
  prepare: (operation, request) => preparers[operation](request),
  isRejection: () => false,
});
