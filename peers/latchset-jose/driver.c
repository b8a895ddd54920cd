/* jose-harness peer driver for latchset's José (libjose, Debian's libjose-dev), built by
 * `make peers` into .cache/peers/latchset-jose. The protocol is ../README.md: JSON lines on
 * stdin, one answer per line on stdout, in order. See ../DRIVERS.md. */
#define _GNU_SOURCE
#include "../c-common/peerproto.h"
#include <jose/jose.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *DOCS = "https://github.com/latchset/jose";

/* From `jose alg` of this build: no EdDSA, no ES256K, no OKP keys (so no X25519/X448); RSA-OAEP
 * and RSA-OAEP-256 are not registered by libjose 11 built against OpenSSL 3 (only RSA1_5). */
static const char *JWS_ALGS[] = {"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256",
                                 "PS384", "PS512", "ES256", "ES384", "ES512", NULL};
static const char *JWE_ALGS[] = {"dir", "RSA1_5", "A128KW", "A192KW", "A256KW", "A128GCMKW",
                                 "A192GCMKW", "A256GCMKW", "ECDH-ES", "ECDH-ES+A128KW",
                                 "ECDH-ES+A192KW", "ECDH-ES+A256KW", "PBES2-HS256+A128KW",
                                 "PBES2-HS384+A192KW", "PBES2-HS512+A256KW", NULL};
static const char *ENCS[] = {"A128CBC-HS256", "A192CBC-HS384", "A256CBC-HS512", "A128GCM",
                             "A192GCM", "A256GCM", NULL};
static const char *CURVES[] = {"P-256", "P-384", "P-521", NULL};

/* libjose's own error text for the last failing call (its err callback). */
static char library_error[768];

static void on_library_error(void *misc, const char *file, int line, uint64_t err,
                             const char *fmt, va_list ap) {
    (void)misc; (void)file; (void)line; (void)err;
    vsnprintf(library_error, sizeof library_error, fmt, ap);
}

static json_t *refused(const char *call) {
    return peer_fail("rejected", "%s failed%s%s", call, library_error[0] ? ": " : "", library_error);
}

static int implemented(const json_t *suite) {
    const char *family = peer_member(suite, "family"), *alg = peer_member(suite, "alg");
    if (strcmp(family, "JWS") == 0) return peer_listed(JWS_ALGS, alg);
    if (strcmp(family, "JWE") != 0 || !peer_listed(JWE_ALGS, alg) ||
        !peer_listed(ENCS, peer_member(suite, "enc")))
        return 0;
    return strncmp(alg, "ECDH-ES", 7) != 0 || peer_listed(CURVES, peer_member(suite, "crv"));
}

static json_t *check(const json_t *request) {
    const json_t *suite = json_object_get(request, "suite");
    if (!implemented(suite))
        return peer_fail("unsupported", "latchset jose does not implement %s", peer_member(suite, "name"));
    const char *form = peer_serialization(request);
    if (strcmp(form, "compact") && strcmp(form, "flattened") && strcmp(form, "general"))
        return peer_fail("unsupported", "no %s serialization", form);
    if (strcmp(peer_member(request, "entry_point"), "jwt") == 0)
        return peer_fail("unsupported", "libjose has no JWT API");
    /* jose_jwe_enc writes the alg's own parameters (epk, iv/tag, p2s/p2c) into the recipient's
     * unprotected header, which the compact serialization has no place for. */
    const char *alg = peer_member(suite, "alg");
    if (strcmp(peer_member(request, "op"), "encrypt") == 0 && strcmp(form, "compact") == 0 &&
        (strncmp(alg, "ECDH-ES", 7) == 0 || strncmp(alg, "PBES2", 5) == 0 || strstr(alg, "GCMKW")))
        return peer_fail("unsupported", "libjose writes the %s parameters into the unprotected "
                    "recipient header: no compact serialization", alg);
    return NULL;
}

/* The compact form split into the flattened JSON object libjose reads. */
static json_t *from_compact(const char *token, int parts) {
    const char *names[5];
    if (parts == 3) {
        const char *jws[] = {"protected", "payload", "signature"};
        memcpy(names, jws, sizeof jws);
    } else {
        const char *jwe[] = {"protected", "encrypted_key", "iv", "ciphertext", "tag"};
        memcpy(names, jwe, sizeof jwe);
    }
    json_t *object = json_object();
    const char *start = token;
    for (int i = 0; i < parts; i++) {
        const char *end = strchr(start, '.');
        if ((i < parts - 1) != (end != NULL)) {
            json_decref(object);
            return peer_fail("rejected", "not a compact serialization of %d parts", parts);
        }
        size_t length = end ? (size_t)(end - start) : strlen(start);
        if (length > 0 || strcmp(names[i], "encrypted_key") != 0)
            json_object_set_new(object, names[i], json_stringn(start, length));
        start = end ? end + 1 : start;
    }
    return object;
}

static json_t *token_object(const json_t *request, int parts) {
    const json_t *token = json_object_get(request, "token");
    if (json_is_string(token)) {
        if (strcmp(peer_serialization(request), "compact") == 0)
            return from_compact(json_string_value(token), parts);
        json_error_t error;
        json_t *parsed = json_loads(json_string_value(token), 0, &error);
        return parsed ? parsed : peer_fail("rejected", "token is not JSON: %s", error.text);
    }
    if (json_is_object(token)) return json_deep_copy(token);
    return peer_fail("error", "the request has no token");
}

/* The verified payload as the protocol's base64url. jose_b64_dec sizes the output from the text's
 * length alone; only the decoding itself finds a character outside the alphabet, so its result
 * is checked too (unchecked, the buffer went back as it was malloc'ed: heap bytes). */
static json_t *reencoded(const json_t *b64) {
    size_t length = jose_b64_dec(b64, NULL, 0);
    if (length == SIZE_MAX) return peer_fail("rejected", "the payload is not base64url");
    void *bytes = malloc(length + 1);
    if (!bytes) return peer_fail("error", "out of memory");
    if (jose_b64_dec(b64, bytes, length) != length) {
        free(bytes);
        return peer_fail("rejected", "jose_jws_ver verified the signature, and jose_b64_dec "
                                     "refused the payload: not base64url");
    }
    json_t *out = jose_b64_enc(bytes, length);
    free(bytes);
    return out;
}

static json_t *sign(jose_cfg_t *cfg, const json_t *request) {
    const json_t *suite = json_object_get(request, "suite");
    const json_t *key = json_object_get(request, "key");
    if (peer_is_jwks(key)) return peer_fail("unsupported", "the driver signs with one JWK");
    json_t *protected = json_deep_copy(json_object_get(request, "header"));
    if (!json_is_object(protected)) {
        json_decref(protected);
        protected = json_object();
    }
    json_object_set_new(protected, "alg", json_string(peer_member(suite, "alg")));
    json_t *jws = json_pack("{s:O}", "payload", json_object_get(request, "payload"));
    json_t *sig = json_pack("{s:o}", "protected", protected);
    json_t *out = NULL;
    if (!jose_jws_sig(cfg, jws, sig, key)) {
        out = refused("jose_jws_sig");
    } else if (strcmp(peer_serialization(request), "compact") == 0) {
        char *joined = NULL;
        if (json_object_get(jws, "header"))
            out = peer_fail("error", "libjose put members in an unprotected header");
        else if (asprintf(&joined, "%s.%s.%s", peer_member(jws, "protected"), peer_member(jws, "payload"),
                          peer_member(jws, "signature")) >= 0)
            out = json_string(joined);
        free(joined);
    } else if (strcmp(peer_serialization(request), "general") == 0) {
        json_t *one = json_object();
        for (const char **name = (const char *[]){"protected", "header", "signature", NULL};
             *name; name++)
            if (json_object_get(jws, *name))
                json_object_set(one, *name, json_object_get(jws, *name));
        out = json_pack("{s:O, s:[o]}", "payload", json_object_get(jws, "payload"),
                        "signatures", one);
    } else {
        out = json_incref(jws);
    }
    json_decref(jws);
    json_decref(sig);
    return out;
}

/* libjose has no allow-list: jose_jws_ver and jose_jwe_dec take every alg it implements that
 * the key fits (a JWK's own "alg" member, absent in the harness's keys, would bind it). */
static json_t *verify(jose_cfg_t *cfg, const json_t *request) {
    json_t *jws = token_object(request, 3);
    if (!jws) return NULL;
    json_t *out = NULL;
    if (!jose_jws_ver(cfg, jws, NULL, json_object_get(request, "key"), false))
        out = refused("jose_jws_ver");
    else {
        json_t *payload = reencoded(json_object_get(jws, "payload"));
        out = payload ? json_pack("{s:o}", "payload", payload) : NULL;
    }
    json_decref(jws);
    return out;
}

static json_t *encrypt(jose_cfg_t *cfg, const json_t *request) {
    const json_t *suite = json_object_get(request, "suite");
    const json_t *key = json_object_get(request, "key");
    if (peer_is_jwks(key)) return peer_fail("unsupported", "the driver encrypts to one JWK");
    size_t length = jose_b64_dec(json_object_get(request, "plaintext"), NULL, 0);
    if (length == SIZE_MAX) return peer_fail("error", "the plaintext is not base64url");
    void *plaintext = malloc(length + 1);
    if (!plaintext) return peer_fail("error", "out of memory");
    if (jose_b64_dec(json_object_get(request, "plaintext"), plaintext, length) != length) {
        free(plaintext);
        return peer_fail("error", "the plaintext is not base64url");
    }
    json_t *protected = json_deep_copy(json_object_get(request, "header"));
    if (!json_is_object(protected)) {
        json_decref(protected);
        protected = json_object();
    }
    json_object_set_new(protected, "alg", json_string(peer_member(suite, "alg")));
    json_object_set_new(protected, "enc", json_string(peer_member(suite, "enc")));
    json_t *jwe = json_pack("{s:o}", "protected", protected);
    json_t *out = NULL;
    const char *form = peer_serialization(request);
    if (!jose_jwe_enc(cfg, jwe, NULL, key, plaintext, length)) {
        out = refused("jose_jwe_enc");
    } else if (strcmp(form, "compact") == 0) {
        char *joined = NULL;
        if (json_object_get(jwe, "header") || json_object_get(jwe, "unprotected"))
            out = peer_fail("error", "libjose put %s parameters in an unprotected header",
                       peer_member(suite, "alg"));
        else if (asprintf(&joined, "%s.%s.%s.%s.%s", peer_member(jwe, "protected"),
                          peer_member(jwe, "encrypted_key"), peer_member(jwe, "iv"),
                          peer_member(jwe, "ciphertext"), peer_member(jwe, "tag")) >= 0)
            out = json_string(joined);
        free(joined);
    } else if (strcmp(form, "general") == 0) {
        json_t *one = json_object();
        for (const char **name = (const char *[]){"header", "encrypted_key", NULL}; *name; name++)
            if (json_object_get(jwe, *name)) {
                json_object_set(one, *name, json_object_get(jwe, *name));
                json_object_del(jwe, *name);
            }
        json_object_set_new(jwe, "recipients", json_pack("[o]", one));
        out = json_incref(jwe);
    } else {
        out = json_incref(jwe);
    }
    json_decref(jwe);
    free(plaintext);
    return out;
}

static json_t *decrypt(jose_cfg_t *cfg, const json_t *request) {
    json_t *jwe = token_object(request, 5);
    if (!jwe) return NULL;
    size_t length = 0;
    json_t *out = NULL;
    void *plaintext = jose_jwe_dec(cfg, jwe, NULL, json_object_get(request, "key"), &length);
    if (!plaintext)
        out = refused("jose_jwe_dec");
    else
        out = json_pack("{s:o}", "plaintext", jose_b64_enc(plaintext, length));
    free(plaintext);
    json_decref(jwe);
    return out;
}

static json_t *operate(jose_cfg_t *cfg, const char *op, const json_t *request) {
    library_error[0] = '\0';
    if (check(request) || peer_kind) return NULL;
    if (strcmp(op, "sign") == 0) return sign(cfg, request);
    if (strcmp(op, "verify") == 0) return verify(cfg, request);
    if (strcmp(op, "encrypt") == 0) return encrypt(cfg, request);
    return decrypt(cfg, request);
}

static json_t *info(const json_t *request) {
    json_t *names = peer_names(json_object_get(request, "suites"), implemented);
    char version[16];
    snprintf(version, sizeof version, "%d", JOSE_VERSION);
    return json_pack("{s:s, s:s, s:s, s:s, s:O, s:o, s:{s:[sss], s:[sss]}, s:{s:[sss], s:[sss]},"
                     " s:{s:s}}",
                     "name", "latchset-jose", "version", version, "language", "c",
                     "runtime", "jansson " JANSSON_VERSION, "supports", names,
                     "allows_by_default", names,
                     "produces", "JWS", "compact", "flattened", "general",
                     "JWE", "compact", "flattened", "general",
                     "consumes", "JWS", "compact", "flattened", "general",
                     "JWE", "compact", "flattened", "general",
                     "entry_points", "jws", DOCS);
}

static jose_cfg_t *cfg;

static json_t *run(const char *op, const json_t *request) { return operate(cfg, op, request); }

int main(void) {
    cfg = jose_cfg();
    jose_cfg_set_err_func(cfg, on_library_error, NULL);
    peer_driver driver = {info, run};
    int status = peer_serve(&driver);
    jose_cfg_decref(cfg);
    return status;
}
