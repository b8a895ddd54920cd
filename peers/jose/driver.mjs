// jose-harness peer driver for panva's `jose` (npm), shared by the majors under peers/jose6 and
// peers/jose5: each loads its own pinned copy and hands the module here.
import { readFileSync } from 'node:fs';
import {
  PKCS1_REFUSED, Rejected, Unsupported, b64decode, b64encode, consumedBytes, isJwks,
  pkcs1DecryptWorks, serve, splitJweAlgorithms, suiteNames,
} from '../node-common/protocol.mjs';

const DOCS = 'https://github.com/panva/jose/tree/main/docs';

// What each major implements, read from its sources (dist/webapi/lib/jws_algorithms.js and
// jwe_algorithms.js in 6.x; dist/node/esm/runtime in 5.x).
const CAPABILITIES = {
  6: {
    jws: new Set(['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512',
      'ES256', 'ES384', 'ES512', 'EdDSA']),
    eddsaCurves: new Set(['Ed25519']),
    // 6.x dropped RSA1_5, and its ECDH table has no X448.
    jwe: (alg) => alg !== 'RSA1_5',
    ecdhCurves: new Set(['P-256', 'P-384', 'P-521', 'X25519']),
    zip: true,
  },
  5: {
    jws: new Set(['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512',
      'ES256', 'ES384', 'ES512', 'ES256K', 'EdDSA']),
    eddsaCurves: new Set(['Ed25519', 'Ed448']),
    jwe: () => true,
    ecdhCurves: new Set(['P-256', 'P-384', 'P-521', 'X25519', 'X448']),
    // 5.x refuses a "zip" header on both sides (JOSENotSupported).
    zip: false,
  },
};

const JWE_ALGS = new Set(['dir', 'RSA1_5', 'RSA-OAEP', 'RSA-OAEP-256', 'A128KW', 'A192KW',
  'A256KW', 'A128GCMKW', 'A192GCMKW', 'A256GCMKW', 'ECDH-ES', 'ECDH-ES+A128KW', 'ECDH-ES+A192KW',
  'ECDH-ES+A256KW', 'PBES2-HS256+A128KW', 'PBES2-HS384+A192KW', 'PBES2-HS512+A256KW']);
const JWE_ENCS = new Set(['A128CBC-HS256', 'A192CBC-HS384', 'A256CBC-HS512', 'A128GCM', 'A192GCM',
  'A256GCM']);
const FORMS = ['compact', 'flattened', 'general'];

// The claims set a JWT API returned, as the protocol's bytes: compact JSON in the library's order.
const claimsResult = (result, member) => ({
  [member]: b64encode(Buffer.from(JSON.stringify(result.payload), 'utf8')),
});

export function driverFor(jose, packageJsonUrl) {
  const { version } = JSON.parse(readFileSync(packageJsonUrl, 'utf8'));
  const caps = CAPABILITIES[Number(version.split('.')[0])];
  if (!caps) throw new Error(`no capability table for jose ${version}`);
  const keys = new Map();

  const implemented = (suite) => {
    if (suite.family === 'JWS') {
      if (!caps.jws.has(suite.alg)) return false;
      return suite.alg !== 'EdDSA' || caps.eddsaCurves.has(suite.crv);
    }
    if (suite.family !== 'JWE' || !JWE_ALGS.has(suite.alg) || !JWE_ENCS.has(suite.enc)) return false;
    if (!caps.jwe(suite.alg)) return false;
    return !suite.alg.startsWith('ECDH-ES') || caps.ecdhCurves.has(suite.crv);
  };
  // With no `algorithms` option jose's verify accepts every JWS alg the key fits; its decrypt
  // every alg and enc the key fits except PBES2, which must be listed in keyManagementAlgorithms.
  const allowsByDefault = (suite) => implemented(suite) && !suite.alg.startsWith('PBES2');

  // One import per (JWK, alg): the JWK's JSON text is the cache key, so equal keys sent in
  // different requests share the library's key object.
  async function importKey(jwk, alg) {
    const slot = `${alg}\n${JSON.stringify(jwk)}`;
    let key = keys.get(slot);
    if (key === undefined) {
      try {
        key = await jose.importJWK(jwk, alg);
      } catch (error) {
        throw new Rejected(`jose refused the key: ${error.name}: ${error.message}`);
      }
      keys.set(slot, key);
    }
    return key;
  }

  // A JWKS: for JWS jose's own createLocalJWKSet (picks by kid, alg and kty); JWE has no such
  // helper, so a key function, as jose documents for decrypt, picking by kid.
  function consumerKey(key, suite) {
    if (!isJwks(key)) return importKey(key, suite.alg);
    if (suite.family === 'JWS') return jose.createLocalJWKSet(key);
    return (header) => {
      const found = key.keys.filter((jwk) => header.kid === undefined || jwk.kid === header.kid);
      if (found.length !== 1) {
        throw new Rejected(`no single key in the JWKS for kid ${JSON.stringify(header.kid)}`);
      }
      return importKey(found[0], header.alg);
    };
  }

  function producerKey(key, suite, header) {
    if (!isJwks(key)) return importKey(key, suite.alg);
    const found = key.keys.find((jwk) => jwk.kid === header.kid);
    if (!found) throw new Unsupported('jose signs and encrypts with one key; send a JWK');
    return importKey(found, suite.alg);
  }

  function checkSuite(suite, request) {
    if (!implemented(suite)) throw new Unsupported(`jose ${version} does not implement ${suite.name}`);
    if (request.mode === 'default' && request.algorithms == null && !allowsByDefault(suite)) {
      throw new Unsupported(`jose ${version} does not allow ${suite.name} by default`);
    }
    if (!FORMS.includes(request.serialization ?? 'compact')) {
      throw new Unsupported(`jose has no ${request.serialization} serialization`);
    }
  }

  function checkDecryptable(suite) {
    if (suite.alg === 'RSA1_5' && !pkcs1DecryptWorks()) throw new Unsupported(PKCS1_REFUSED);
  }

  const parse = (token, serialization) => (serialization === 'compact' || typeof token !== 'string'
    ? token : JSON.parse(token));

  // Each operation is a preparation (checks, key import) returning the call of the data alone,
  // so `bench` times only what an application repeats per token.
  const preparers = {
    async sign(request) {
      const { suite } = request;
      const header = { alg: suite.alg, ...(request.header ?? {}) };
      const serialization = request.serialization ?? 'compact';
      checkSuite(suite, request);
      const key = await producerKey(request.key, suite, header);
      const payload = b64decode(request.payload);
      if (serialization === 'compact') {
        return () => new jose.CompactSign(payload).setProtectedHeader(header).sign(key);
      }
      if (serialization === 'flattened') {
        return () => new jose.FlattenedSign(payload).setProtectedHeader(header).sign(key);
      }
      return () => new jose.GeneralSign(payload).addSignature(key).setProtectedHeader(header)
        .sign();
    },
    async verify(request) {
      const { suite } = request;
      const serialization = request.serialization ?? 'compact';
      checkSuite(suite, request);
      const key = await consumerKey(request.key, suite);
      const options = request.algorithms == null ? undefined : { algorithms: request.algorithms };
      const token = parse(request.token, serialization);
      if (request.entry_point === 'jwt') {
        if (serialization !== 'compact') throw new Unsupported('jose jwtVerify takes compact JWTs only');
        return async () => claimsResult(await consuming(() => jose.jwtVerify(token, key, options)),
          'payload');
      }
      const call = { compact: jose.compactVerify, flattened: jose.flattenedVerify,
        general: jose.generalVerify }[serialization];
      return async () => ({
        payload: consumedBytes(request, (await consuming(() => call(token, key, options))).payload),
      });
    },
    async encrypt(request) {
      const { suite } = request;
      const header = { alg: suite.alg, enc: suite.enc, ...(request.header ?? {}) };
      const serialization = request.serialization ?? 'compact';
      checkSuite(suite, request);
      if (header.zip !== undefined && !caps.zip) {
        throw new Unsupported(`jose ${version} has no JWE "zip" support`);
      }
      const key = await producerKey(request.key, suite, header);
      const plaintext = b64decode(request.plaintext);
      if (serialization === 'compact') {
        return () => new jose.CompactEncrypt(plaintext).setProtectedHeader(header).encrypt(key);
      }
      if (serialization === 'flattened') {
        return () => new jose.FlattenedEncrypt(plaintext).setProtectedHeader(header).encrypt(key);
      }
      return () => new jose.GeneralEncrypt(plaintext).setProtectedHeader(header).addRecipient(key)
        .done().encrypt();
    },
    async decrypt(request) {
      const { suite } = request;
      const serialization = request.serialization ?? 'compact';
      checkSuite(suite, request);
      checkDecryptable(suite);
      const key = await consumerKey(request.key, suite);
      const options = request.algorithms == null ? undefined
        : splitJweAlgorithms(request.algorithms);
      const token = parse(request.token, serialization);
      if (request.entry_point === 'jwt') {
        if (serialization !== 'compact') throw new Unsupported('jose jwtDecrypt takes compact JWTs only');
        return async () => claimsResult(await consuming(() => jose.jwtDecrypt(token, key, options)),
          'plaintext');
      }
      const call = { compact: jose.compactDecrypt, flattened: jose.flattenedDecrypt,
        general: jose.generalDecrypt }[serialization];
      return async () => ({
        plaintext: consumedBytes(request,
          (await consuming(() => call(token, key, options))).plaintext),
      });
    },
  };

  const runOnce = (operation) => async (request) => (await preparers[operation](request))();

  return {
    info: (suites) => ({
      name: 'jose',
      version,
      language: 'javascript',
      runtime: `node ${process.version}`,
      supports: suiteNames(suites, implemented),
      allows_by_default: suiteNames(suites, allowsByDefault),
      produces: { JWS: FORMS, JWE: FORMS },
      consumes: { JWS: FORMS, JWE: FORMS },
      entry_points: {
        jws: `compactVerify/flattenedVerify/generalVerify, compactDecrypt/flattenedDecrypt/generalDecrypt (${DOCS})`,
        jwt: `jwtVerify, jwtDecrypt (${DOCS})`,
      },
    }),
    sign: runOnce('sign'),
    verify: runOnce('verify'),
    encrypt: runOnce('encrypt'),
    decrypt: runOnce('decrypt'),
    prepare: (operation, request) => preparers[operation](request),
    // What jose throws while refusing a token or key derives from JOSEError; below it WebCrypto
    // refuses with a DOMException and node:crypto with an ERR_OSSL_/ERR_CRYPTO_ code.
    isRejection: (error) => error instanceof jose.errors.JOSEError || isCryptoRefusal(error),
  };
}

const isCryptoRefusal = (error) => error?.constructor?.name === 'DOMException'
  || /^ERR_(OSSL|CRYPTO)_/.test(error?.code ?? '');

// jose documents a TypeError for a key that does not fit the token's alg ("Invalid key for this
// operation"): while consuming a token that is the library refusing the token.
async function consuming(call) {
  try {
    return await call();
  } catch (error) {
    if (error instanceof TypeError) throw new Rejected(`TypeError: ${error.message}`);
    throw error;
  }
}

export { serve };
