/* jose-harness peer driver for babelouest's Rhonabwy (Debian's librhonabwy-dev, on GnuTLS and
 * jansson), built by `make peers` into .cache/peers/rhonabwy. The protocol is ../README.md; see
 * ../DRIVERS.md. */
#define _GNU_SOURCE
#include "../c-common/peerproto.h"
#include <orcania.h>
#include <rhonabwy.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Its jwa_alg and jwa_enc enums (rhonabwy.h), less what this GnuTLS build cannot do (see
 * ../DRIVERS.md): no ES256K (GnuTLS has no secp256k1), no Ed448 signatures, no X448. */
static const char *JWS_ALGS[] = {"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256",
                                 "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", NULL};
static const char *EDDSA_CURVES[] = {"Ed25519", NULL};
static const char *JWE_ALGS[] = {"dir", "RSA1_5", "RSA-OAEP", "RSA-OAEP-256", "A128KW", "A192KW",
                                 "A256KW", "A128GCMKW", "A192GCMKW", "A256GCMKW", "ECDH-ES",
                                 "ECDH-ES+A128KW", "ECDH-ES+A192KW", "ECDH-ES+A256KW",
                                 "PBES2-HS256+A128KW", "PBES2-HS384+A192KW", "PBES2-HS512+A256KW",
                                 NULL};
static const char *ENCS[] = {"A128CBC-HS256", "A192CBC-HS384", "A256CBC-HS512", "A128GCM",
                             "A192GCM", "A256GCM", NULL};
/* P-521 left out: r_jwe_serialize returns NULL and r_jwe_decrypt RHN_ERROR_INVALID (5) for every
 * ECDH-ES key agreement on it in this build. */
static const char *ECDH_CURVES[] = {"P-256", "P-384", "X25519", NULL};

static int implemented(const json_t *suite) {
    const char *family = peer_member(suite, "family"), *alg = peer_member(suite, "alg");
    if (strcmp(family, "JWS") == 0)
        return peer_listed(JWS_ALGS, alg) &&
               (strcmp(alg, "EdDSA") != 0 || peer_listed(EDDSA_CURVES, peer_member(suite, "crv")));
    if (strcmp(family, "JWE") != 0 || !peer_listed(JWE_ALGS, alg) ||
        !peer_listed(ENCS, peer_member(suite, "enc")))
        return 0;
    return strncmp(alg, "ECDH-ES", 7) != 0 || peer_listed(ECDH_CURVES, peer_member(suite, "crv"));
}

static json_t *refused(const char *call, int status) {
    return peer_fail("rejected", "%s returned %d", call, status);
}

static int mode_of(const char *form) {
    if (strcmp(form, "general") == 0) return R_JSON_MODE_GENERAL;
    if (strcmp(form, "flattened") == 0) return R_JSON_MODE_FLATTENED;
    return R_JSON_MODE_COMPACT;
}

/* The key, or for a JWKS (consumers) the set: Rhonabwy picks from it by kid itself. */
typedef struct {
    jwk_t *jwk;
    jwks_t *jwks;
} keys_t;

/* The last key imported, kept so that a bench loop or a run of cells on one key pays the
 * import once (the driver frees it only when another key replaces it). */
static char *cached_text;
static keys_t cached;

static int import(const json_t *key, keys_t *out) {
    char *text = json_dumps(key, JSON_COMPACT);
    if (cached_text && strcmp(text, cached_text) == 0) {
        free(text);
        *out = cached;
        return 1;
    }
    keys_t fresh = {NULL, NULL};
    int status;
    if (peer_is_jwks(key)) {
        r_jwks_init(&fresh.jwks);
        status = r_jwks_import_from_json_str(fresh.jwks, text);
    } else {
        r_jwk_init(&fresh.jwk);
        status = r_jwk_import_from_json_str(fresh.jwk, text);
    }
    if (status != RHN_OK) {
        free(text);
        r_jwk_free(fresh.jwk);
        r_jwks_free(fresh.jwks);
        refused("r_jwk(s)_import_from_json_str", status);
        return 0;
    }
    free(cached_text);
    r_jwk_free(cached.jwk);
    r_jwks_free(cached.jwks);
    cached_text = text;
    cached = fresh;
    *out = cached;
    return 1;
}

static unsigned char *data(const json_t *request, const char *name, size_t *length) {
    const char *text = peer_member(request, name);
    unsigned char *out = malloc(strlen(text) + 1);
    if (!o_base64url_decode((const unsigned char *)text, strlen(text), out, length)) {
        free(out);
        peer_fail("error", "%s is not base64url", name);
        return NULL;
    }
    return out;
}

static json_t *b64(const unsigned char *bytes, size_t length) {
    unsigned char *text = malloc(length * 2 + 8);
    size_t text_length = 0;
    json_t *out = NULL;
    if (o_base64url_encode(bytes, length, text, &text_length))
        out = json_stringn((const char *)text, text_length);
    else
        peer_fail("error", "base64url encoding failed");
    free(text);
    return out;
}

static void set_header(const json_t *request, int (*set)(void *, const char *, json_t *),
                       void *object) {
    const char *name;
    json_t *value;
    json_object_foreach(json_object_get(request, "header"), name, value)
        if (strcmp(name, "alg") && strcmp(name, "enc")) set(object, name, value);
}

static int set_jws_header(void *jws, const char *name, json_t *value) {
    return r_jws_set_header_json_t_value(jws, name, value);
}

static int set_jwe_header(void *jwe, const char *name, json_t *value) {
    return r_jwe_set_header_json_t_value(jwe, name, value);
}

static json_t *serialized(char *text, const char *form) {
    if (!text) return NULL;
    json_t *out = strcmp(form, "compact") == 0 ? json_string(text) : json_loads(text, 0, NULL);
    r_free(text);
    return out;
}

/* The JSON serializations take a key set, and each key in it "must have a property 'alg'"
 * (rhonabwy.h, r_jws_serialize_json_str; the JWE call likewise: without it a `dir` token comes
 * out with no `alg` and a general JWS with `signatures: []`): a copy of the key carrying the
 * suite's alg. */
static jwks_t *last_set;

static jwks_t *signer_set(jwk_t *jwk, const json_t *suite) {
    jwk_t *copy = r_jwk_copy(jwk);
    r_jwk_set_property_str(copy, "alg", peer_member(suite, "alg"));
    r_jwks_init(&last_set);
    r_jwks_append_jwk(last_set, copy);
    r_jwk_free(copy);
    return last_set;
}

static json_t *sign(const json_t *request, keys_t *keys) {
    const json_t *suite = json_object_get(request, "suite");
    const char *form = peer_serialization(request);
    size_t length;
    unsigned char *payload = data(request, "payload", &length);
    if (!payload) return NULL;
    jws_t *jws = NULL;
    r_jws_init(&jws);
    r_jws_set_alg(jws, r_str_to_jwa_alg(peer_member(suite, "alg")));
    r_jws_set_payload(jws, payload, length);
    set_header(request, set_jws_header, jws);
    json_t *out;
    if (strcmp(form, "compact") == 0) {
        out = serialized(r_jws_serialize(jws, keys->jwk, 0), form);
    } else {
        out = serialized(r_jws_serialize_json_str(jws, signer_set(keys->jwk, suite), 0,
                                                  mode_of(form)), form);
        r_jwks_free(last_set);
        last_set = NULL;
    }
    if (!out) peer_fail("rejected", "r_jws_serialize refused (returned NULL)");
    r_jws_free(jws);
    free(payload);
    return out;
}

static char *token_text(const json_t *request) {
    const json_t *token = json_object_get(request, "token");
    return json_is_string(token) ? strdup(json_string_value(token))
                                 : json_dumps(token, JSON_COMPACT);
}

/* Rhonabwy has no allow-list: r_jws_verify_signature and r_jwe_decrypt take what the header
 * names and the key fits. The driver calls r_jw*_parse with x5u_flags 0, as an application using
 * the plain call does; that parse reads every header key (R_PARSE_HEADER_ALL) and fetches `jku`
 * and `x5u` unless R_FLAG_IGNORE_REMOTE is passed, so the embedded-key cases see Rhonabwy fetch
 * the attacker's URL (RFC 8725 §3.10): the library's default, reported as its finding. */
static json_t *verify(const json_t *request, keys_t *keys) {
    char *token = token_text(request);
    jws_t *jws = NULL;
    r_jws_init(&jws);
    json_t *out = NULL;
    int compact = strcmp(peer_serialization(request), "compact") == 0;
    int status = compact ? r_jws_parse(jws, token, 0) : r_jws_parse_json_str(jws, token, 0);
    if (status != RHN_OK) {
        out = refused(compact ? "r_jws_parse" : "r_jws_parse_json_str", status);
    } else {
        if (keys->jwks) r_jws_add_jwks(jws, NULL, keys->jwks);
        status = r_jws_verify_signature(jws, keys->jwk, 0);
        size_t length = 0;
        const unsigned char *payload = status == RHN_OK ? r_jws_get_payload(jws, &length) : NULL;
        if (status != RHN_OK) out = refused("r_jws_verify_signature", status);
        else out = json_pack("{s:o}", "payload", b64(payload ? payload : (const unsigned char *)"",
                                                    length));
    }
    r_jws_free(jws);
    free(token);
    return out;
}

static json_t *encrypt(const json_t *request, keys_t *keys) {
    const json_t *suite = json_object_get(request, "suite");
    const char *form = peer_serialization(request);
    size_t length;
    unsigned char *plaintext = data(request, "plaintext", &length);
    if (!plaintext) return NULL;
    jwe_t *jwe = NULL;
    r_jwe_init(&jwe);
    r_jwe_set_alg(jwe, r_str_to_jwa_alg(peer_member(suite, "alg")));
    r_jwe_set_enc(jwe, r_str_to_jwa_enc(peer_member(suite, "enc")));
    r_jwe_set_payload(jwe, plaintext, length);
    set_header(request, set_jwe_header, jwe);
    json_t *out;
    if (strcmp(form, "compact") == 0) {
        out = serialized(r_jwe_serialize(jwe, keys->jwk, 0), form);
    } else {
        out = serialized(r_jwe_serialize_json_str(jwe, signer_set(keys->jwk, suite), 0,
                                                  mode_of(form)), form);
        r_jwks_free(last_set);
        last_set = NULL;
    }
    if (!out) peer_fail("rejected", "r_jwe_serialize refused (returned NULL)");
    r_jwe_free(jwe);
    free(plaintext);
    return out;
}

static json_t *decrypt(const json_t *request, keys_t *keys) {
    char *token = token_text(request);
    jwe_t *jwe = NULL;
    r_jwe_init(&jwe);
    json_t *out = NULL;
    int compact = strcmp(peer_serialization(request), "compact") == 0;
    int status = compact ? r_jwe_parse(jwe, token, 0) : r_jwe_parse_json_str(jwe, token, 0);
    if (status != RHN_OK) {
        out = refused(compact ? "r_jwe_parse" : "r_jwe_parse_json_str", status);
    } else {
        if (keys->jwks) r_jwe_add_jwks(jwe, keys->jwks, NULL);
        status = r_jwe_decrypt(jwe, keys->jwk, 0);
        size_t length = 0;
        const unsigned char *plaintext = status == RHN_OK ? r_jwe_get_payload(jwe, &length) : NULL;
        if (status != RHN_OK) out = refused("r_jwe_decrypt", status);
        else out = json_pack("{s:o}", "plaintext",
                             b64(plaintext ? plaintext : (const unsigned char *)"", length));
    }
    r_jwe_free(jwe);
    free(token);
    return out;
}

static json_t *operate(const char *op, const json_t *request) {
    const json_t *suite = json_object_get(request, "suite");
    if (!implemented(suite))
        return peer_fail("unsupported", "rhonabwy does not implement %s", peer_member(suite, "name"));
    /* The JSON serializations go through r_jw*_serialize_json_str and r_jw*_parse_json_str
     * (../DRIVERS.md says what 1.1.11 gets wrong there; the rows show it). One is left out:
     * general JSON production for direct ECDH-ES, where r_jwe_serialize_json_str returns NULL. */
    const char *form = peer_serialization(request);
    if (strcmp(op, "encrypt") == 0 && strcmp(form, "general") == 0 &&
        strcmp(peer_member(suite, "alg"), "ECDH-ES") == 0)
        return peer_fail("unsupported", "rhonabwy 1.1.11's r_jwe_serialize_json_str returns NULL "
                                        "for direct ECDH-ES in general JSON");
    if (strcmp(peer_member(request, "entry_point"), "jwt") == 0)
        return peer_fail("unsupported", "the driver does not call rhonabwy's JWT API");
    int producing = strcmp(op, "sign") == 0 || strcmp(op, "encrypt") == 0;
    if (producing && peer_is_jwks(json_object_get(request, "key")))
        return peer_fail("unsupported", "the driver signs and encrypts with one JWK");
    keys_t keys;
    if (!import(json_object_get(request, "key"), &keys)) return NULL;
    json_t *out;
    if (strcmp(op, "sign") == 0) out = sign(request, &keys);
    else if (strcmp(op, "verify") == 0) out = verify(request, &keys);
    else if (strcmp(op, "encrypt") == 0) out = encrypt(request, &keys);
    else out = decrypt(request, &keys);
    return out;
}

static json_t *info(const json_t *request) {
    json_t *names = peer_names(json_object_get(request, "suites"), implemented);
    return json_pack("{s:s, s:s, s:s, s:s, s:O, s:o, s:{s:[sss], s:[sss]}, s:{s:[sss], s:[sss]}, "
                     "s:{s:s}}",
                     "name", "rhonabwy", "version", RHONABWY_VERSION_STR, "language", "c",
                     "runtime", "jansson " JANSSON_VERSION, "supports", names,
                     "allows_by_default", names,
                     "produces", "JWS", "compact", "flattened", "general",
                     "JWE", "compact", "flattened", "general",
                     "consumes", "JWS", "compact", "flattened", "general",
                     "JWE", "compact", "flattened", "general",
                     "entry_points", "jws", "r_jws_verify_signature, r_jwe_decrypt "
                     "(https://babelouest.github.io/rhonabwy/)");
}

int main(void) {
    r_global_init();
    peer_driver driver = {info, operate};
    int status = peer_serve(&driver);
    r_global_close();
    return status;
}
