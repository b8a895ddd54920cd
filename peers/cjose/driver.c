/* jose-harness peer driver for Cisco's cjose (Debian's libcjose-dev), built by `make peers`
 * into .cache/peers/cjose. The protocol is ../README.md; see ../DRIVERS.md. */
#define _GNU_SOURCE
#include "../c-common/peerproto.h"
#include <cjose/cjose.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The header constants of cjose/header.h: no RSA-OAEP-256, no ECDH-ES+A*KW, no A*GCMKW, no
 * PBES2, no EdDSA, no ES256K; ECDH-ES (direct) on the NIST curves its EC keys take. */
static const char *JWS_ALGS[] = {"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256",
                                 "PS384", "PS512", "ES256", "ES384", "ES512", NULL};
static const char *JWE_ALGS[] = {"dir", "RSA1_5", "RSA-OAEP", "A128KW", "A192KW", "A256KW",
                                 "ECDH-ES", NULL};
static const char *ENCS[] = {"A128CBC-HS256", "A192CBC-HS384", "A256CBC-HS512", "A128GCM",
                             "A192GCM", "A256GCM", NULL};
static const char *CURVES[] = {"P-256", "P-384", "P-521", NULL};

static int implemented(const json_t *suite) {
    const char *family = peer_member(suite, "family"), *alg = peer_member(suite, "alg");
    if (strcmp(family, "JWS") == 0) return peer_listed(JWS_ALGS, alg);
    if (strcmp(family, "JWE") != 0 || !peer_listed(JWE_ALGS, alg) ||
        !peer_listed(ENCS, peer_member(suite, "enc")))
        return 0;
    return strcmp(alg, "ECDH-ES") != 0 || peer_listed(CURVES, peer_member(suite, "crv"));
}

static json_t *refused(const char *call, const cjose_err *err) {
    return peer_fail("rejected", "%s: %s", call, err->message ? err->message : "failed");
}

/* The last JWK imported, kept (with a reference of its own) so that a bench loop or a run of
 * cells on one key pays the import once; the caller releases the reference it is handed. */
static char *cached_text;
static cjose_jwk_t *cached_key;

static cjose_jwk_t *import_key(const json_t *jwk) {
    char *text = json_dumps(jwk, JSON_COMPACT);
    cjose_err err = {0};
    if (cached_text && strcmp(text, cached_text) == 0) {
        free(text);
        return cjose_jwk_retain(cached_key, &err);
    }
    cjose_jwk_t *key = cjose_jwk_import(text, strlen(text), &err);
    if (!key) {
        free(text);
        refused("cjose_jwk_import", &err);
        return NULL;
    }
    free(cached_text);
    cjose_jwk_release(cached_key);
    cached_text = text;
    cached_key = cjose_jwk_retain(key, &err);
    return key;
}

/* A JWKS: the key whose kid the token's protected header names. */
static cjose_jwk_t *consumer_key(const json_t *key, cjose_header_t *protected) {
    if (!peer_is_jwks(key)) return import_key(key);
    cjose_err err = {0};
    const char *kid = protected ? cjose_header_get(protected, "kid", &err) : NULL;
    const json_t *jwk = peer_pick(key, kid);
    return jwk ? import_key(jwk) : NULL;
}

static cjose_header_t *protected_header(const json_t *request) {
    const json_t *suite = json_object_get(request, "suite");
    json_t *header = json_deep_copy(json_object_get(request, "header"));
    if (!json_is_object(header)) {
        json_decref(header);
        header = json_object();
    }
    json_object_set_new(header, "alg", json_string(peer_member(suite, "alg")));
    if (strcmp(peer_member(suite, "family"), "JWE") == 0)
        json_object_set_new(header, "enc", json_string(peer_member(suite, "enc")));
    /* cjose_header_t is jansson's json_t (cjose/header.h: "typedef json_t cjose_header_t"). */
    return (cjose_header_t *)header;
}

static uint8_t *data(const json_t *request, const char *name, size_t *length) {
    const char *text = peer_member(request, name);
    uint8_t *out = NULL;
    cjose_err err = {0};
    if (!cjose_base64url_decode(text, strlen(text), &out, length, &err))
        peer_fail("error", "%s is not base64url", name);
    return out;
}

static json_t *b64(const uint8_t *bytes, size_t length) {
    char *text = NULL;
    size_t text_length = 0;
    cjose_err err = {0};
    if (!cjose_base64url_encode(bytes, length, &text, &text_length, &err))
        return peer_fail("error", "base64url encoding failed");
    json_t *out = json_stringn(text, text_length);
    cjose_get_dealloc()(text);
    return out;
}

static json_t *sign(const json_t *request) {
    size_t length;
    uint8_t *payload = data(request, "payload", &length);
    if (!payload) return NULL;
    cjose_jwk_t *key = import_key(json_object_get(request, "key"));
    cjose_header_t *header = protected_header(request);
    cjose_err err = {0};
    json_t *out = NULL;
    if (key) {
        cjose_jws_t *jws = cjose_jws_sign(key, header, payload, length, &err);
        const char *compact = NULL;
        if (!jws || !cjose_jws_export(jws, &compact, &err)) out = refused("cjose_jws_sign", &err);
        else out = json_string(compact);
        cjose_jws_release(jws);
    }
    cjose_jwk_release(key);
    json_decref((json_t *)header);
    cjose_get_dealloc()(payload);
    return out;
}

/* cjose has no allow-list: cjose_jws_verify and cjose_jwe_decrypt take what the header names
 * and the key fits. */
static json_t *verify(const json_t *request) {
    const char *token = peer_member(request, "token");
    cjose_err err = {0};
    cjose_jws_t *jws = cjose_jws_import(token, strlen(token), &err);
    if (!jws) return refused("cjose_jws_import", &err);
    cjose_jwk_t *key = consumer_key(json_object_get(request, "key"), cjose_jws_get_protected(jws));
    json_t *out = NULL;
    uint8_t *payload = NULL;
    size_t length = 0;
    if (key) {
        if (!cjose_jws_verify(jws, key, &err)) out = refused("cjose_jws_verify", &err);
        else if (!cjose_jws_get_plaintext(jws, &payload, &length, &err))
            out = refused("cjose_jws_get_plaintext", &err);
        else out = json_pack("{s:o}", "payload", b64(payload, length));
    }
    cjose_jwk_release(key);
    cjose_jws_release(jws);
    return out;
}

static json_t *encrypt(const json_t *request) {
    size_t length;
    uint8_t *plaintext = data(request, "plaintext", &length);
    if (!plaintext) return NULL;
    cjose_jwk_t *key = import_key(json_object_get(request, "key"));
    cjose_header_t *header = protected_header(request);
    cjose_err err = {0};
    json_t *out = NULL;
    if (key) {
        cjose_jwe_t *jwe = cjose_jwe_encrypt(key, header, plaintext, length, &err);
        char *compact = jwe ? cjose_jwe_export(jwe, &err) : NULL;
        out = compact ? json_string(compact) : refused("cjose_jwe_encrypt", &err);
        cjose_get_dealloc()(compact);
        cjose_jwe_release(jwe);
    }
    cjose_jwk_release(key);
    json_decref((json_t *)header);
    cjose_get_dealloc()(plaintext);
    return out;
}

static json_t *decrypt(const json_t *request) {
    const char *token = peer_member(request, "token");
    cjose_err err = {0};
    cjose_jwe_t *jwe = cjose_jwe_import(token, strlen(token), &err);
    if (!jwe) return refused("cjose_jwe_import", &err);
    cjose_jwk_t *key = consumer_key(json_object_get(request, "key"), cjose_jwe_get_protected(jwe));
    json_t *out = NULL;
    if (key) {
        size_t length = 0;
        uint8_t *plaintext = cjose_jwe_decrypt(jwe, key, &length, &err);
        out = plaintext ? json_pack("{s:o}", "plaintext", b64(plaintext, length))
                        : refused("cjose_jwe_decrypt", &err);
        cjose_get_dealloc()(plaintext);
    }
    cjose_jwk_release(key);
    cjose_jwe_release(jwe);
    return out;
}

static json_t *operate(const char *op, const json_t *request) {
    const json_t *suite = json_object_get(request, "suite");
    if (!implemented(suite))
        return peer_fail("unsupported", "cjose does not implement %s", peer_member(suite, "name"));
    if (strcmp(peer_serialization(request), "compact") != 0)
        return peer_fail("unsupported", "the driver uses cjose's compact import and export only");
    if (strcmp(peer_member(request, "entry_point"), "jwt") == 0)
        return peer_fail("unsupported", "cjose has no JWT API");
    int producing = strcmp(op, "sign") == 0 || strcmp(op, "encrypt") == 0;
    if (producing && peer_is_jwks(json_object_get(request, "key")))
        return peer_fail("unsupported", "the driver signs and encrypts with one JWK");
    if (strcmp(op, "sign") == 0) return sign(request);
    if (strcmp(op, "verify") == 0) return verify(request);
    if (strcmp(op, "encrypt") == 0) return encrypt(request);
    return decrypt(request);
}

static json_t *info(const json_t *request) {
    json_t *names = peer_names(json_object_get(request, "suites"), implemented);
    return json_pack("{s:s, s:s, s:s, s:s, s:O, s:o, s:{s:[s], s:[s]}, s:{s:[s], s:[s]},"
                     " s:{s:s}}",
                     "name", "cjose", "version", cjose_version(), "language", "c",
                     "runtime", "jansson " JANSSON_VERSION, "supports", names,
                     "allows_by_default", names,
                     "produces", "JWS", "compact", "JWE", "compact",
                     "consumes", "JWS", "compact", "JWE", "compact",
                     "entry_points", "jws", "cjose_jws_verify, cjose_jwe_decrypt "
                     "(https://github.com/OpenIDC/cjose)");
}

int main(void) {
    peer_driver driver = {info, operate};
    return peer_serve(&driver);
}
