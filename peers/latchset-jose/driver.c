/* jose-harness peer driver for latchset's José (libjose, Debian's libjose-dev), built by
 * `make peers` into .cache/peers/latchset-jose. The protocol is ../README.md: JSON lines on
 * stdin, one answer per line on stdout, in order. See ../DRIVERS.md. */
#define _GNU_SOURCE
#include <jose/jose.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

/* The outcome of one request: kind NULL is a result; else rejected/unsupported/error + text. */
static const char *kind;
static char text[1024];
/* libjose's own error text for the last failing call (its err callback). */
static char library_error[768];

static json_t *fail(const char *what, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    kind = what;
    return NULL;
}

static void on_library_error(void *misc, const char *file, int line, uint64_t err,
                             const char *fmt, va_list ap) {
    (void)misc; (void)file; (void)line; (void)err;
    vsnprintf(library_error, sizeof library_error, fmt, ap);
}

static json_t *refused(const char *call) {
    return fail("rejected", "%s failed%s%s", call, library_error[0] ? ": " : "", library_error);
}

static int listed(const char *const *names, const char *name) {
    for (; name && *names; names++)
        if (strcmp(*names, name) == 0) return 1;
    return 0;
}

static const char *member(const json_t *object, const char *name) {
    const char *value = json_string_value(json_object_get(object, name));
    return value ? value : "";
}

static int implemented(const json_t *suite) {
    const char *family = member(suite, "family"), *alg = member(suite, "alg");
    if (strcmp(family, "JWS") == 0) return listed(JWS_ALGS, alg);
    if (strcmp(family, "JWE") != 0 || !listed(JWE_ALGS, alg) ||
        !listed(ENCS, member(suite, "enc")))
        return 0;
    return strncmp(alg, "ECDH-ES", 7) != 0 || listed(CURVES, member(suite, "crv"));
}

static const char *serialization(const json_t *request) {
    const char *form = json_string_value(json_object_get(request, "serialization"));
    return form ? form : "compact";
}

static json_t *check(const json_t *request) {
    const json_t *suite = json_object_get(request, "suite");
    if (!implemented(suite))
        return fail("unsupported", "latchset jose does not implement %s", member(suite, "name"));
    const char *form = serialization(request);
    if (strcmp(form, "compact") && strcmp(form, "flattened") && strcmp(form, "general"))
        return fail("unsupported", "no %s serialization", form);
    if (strcmp(member(request, "entry_point"), "jwt") == 0)
        return fail("unsupported", "libjose has no JWT API");
    /* jose_jwe_enc writes the alg's own parameters (epk, iv/tag, p2s/p2c) into the recipient's
     * unprotected header, which the compact serialization has no place for. */
    const char *alg = member(suite, "alg");
    if (strcmp(member(request, "op"), "encrypt") == 0 && strcmp(form, "compact") == 0 &&
        (strncmp(alg, "ECDH-ES", 7) == 0 || strncmp(alg, "PBES2", 5) == 0 || strstr(alg, "GCMKW")))
        return fail("unsupported", "libjose writes the %s parameters into the unprotected "
                    "recipient header: no compact serialization", alg);
    return NULL;
}

static int is_jwks(const json_t *key) {
    return json_is_array(json_object_get(key, "keys")) && !json_object_get(key, "kty");
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
            return fail("rejected", "not a compact serialization of %d parts", parts);
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
        if (strcmp(serialization(request), "compact") == 0)
            return from_compact(json_string_value(token), parts);
        json_error_t error;
        json_t *parsed = json_loads(json_string_value(token), 0, &error);
        return parsed ? parsed : fail("rejected", "token is not JSON: %s", error.text);
    }
    if (json_is_object(token)) return json_deep_copy(token);
    return fail("error", "the request has no token");
}

static json_t *reencoded(const json_t *b64) {
    size_t length = jose_b64_dec(b64, NULL, 0);
    if (length == SIZE_MAX) return fail("rejected", "the payload is not base64url");
    void *bytes = malloc(length + 1);
    jose_b64_dec(b64, bytes, length);
    json_t *out = jose_b64_enc(bytes, length);
    free(bytes);
    return out;
}

static json_t *sign(jose_cfg_t *cfg, const json_t *request) {
    const json_t *suite = json_object_get(request, "suite");
    const json_t *key = json_object_get(request, "key");
    if (is_jwks(key)) return fail("unsupported", "the driver signs with one JWK");
    json_t *protected = json_deep_copy(json_object_get(request, "header"));
    if (!json_is_object(protected)) {
        json_decref(protected);
        protected = json_object();
    }
    json_object_set_new(protected, "alg", json_string(member(suite, "alg")));
    json_t *jws = json_pack("{s:O}", "payload", json_object_get(request, "payload"));
    json_t *sig = json_pack("{s:o}", "protected", protected);
    json_t *out = NULL;
    if (!jose_jws_sig(cfg, jws, sig, key)) {
        out = refused("jose_jws_sig");
    } else if (strcmp(serialization(request), "compact") == 0) {
        char *joined = NULL;
        if (json_object_get(jws, "header"))
            out = fail("error", "libjose put members in an unprotected header");
        else if (asprintf(&joined, "%s.%s.%s", member(jws, "protected"), member(jws, "payload"),
                          member(jws, "signature")) >= 0)
            out = json_string(joined);
        free(joined);
    } else if (strcmp(serialization(request), "general") == 0) {
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
    if (is_jwks(key)) return fail("unsupported", "the driver encrypts to one JWK");
    size_t length = jose_b64_dec(json_object_get(request, "plaintext"), NULL, 0);
    if (length == SIZE_MAX) return fail("error", "the plaintext is not base64url");
    void *plaintext = malloc(length + 1);
    jose_b64_dec(json_object_get(request, "plaintext"), plaintext, length);
    json_t *protected = json_deep_copy(json_object_get(request, "header"));
    if (!json_is_object(protected)) {
        json_decref(protected);
        protected = json_object();
    }
    json_object_set_new(protected, "alg", json_string(member(suite, "alg")));
    json_object_set_new(protected, "enc", json_string(member(suite, "enc")));
    json_t *jwe = json_pack("{s:o}", "protected", protected);
    json_t *out = NULL;
    const char *form = serialization(request);
    if (!jose_jwe_enc(cfg, jwe, NULL, key, plaintext, length)) {
        out = refused("jose_jwe_enc");
    } else if (strcmp(form, "compact") == 0) {
        char *joined = NULL;
        if (json_object_get(jwe, "header") || json_object_get(jwe, "unprotected"))
            out = fail("error", "libjose put %s parameters in an unprotected header",
                       member(suite, "alg"));
        else if (asprintf(&joined, "%s.%s.%s.%s.%s", member(jwe, "protected"),
                          member(jwe, "encrypted_key"), member(jwe, "iv"),
                          member(jwe, "ciphertext"), member(jwe, "tag")) >= 0)
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
    if (check(request) || kind) return NULL;
    if (strcmp(op, "sign") == 0) return sign(cfg, request);
    if (strcmp(op, "verify") == 0) return verify(cfg, request);
    if (strcmp(op, "encrypt") == 0) return encrypt(cfg, request);
    return decrypt(cfg, request);
}

static json_t *info(const json_t *request) {
    json_t *names = json_array();
    size_t i;
    json_t *suite;
    json_array_foreach(json_object_get(request, "suites"), i, suite)
        if (implemented(suite)) json_array_append(names, json_object_get(suite, "name"));
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

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* libjose has nothing to prepare: every call takes the JWK as JSON and converts it itself. */
static json_t *bench(jose_cfg_t *cfg, const json_t *request) {
    const char *op = member(request, "operation");
    json_int_t n = json_integer_value(json_object_get(request, "n"));
    const json_t *inner = json_object_get(request, "request");
    if (n < 1 || !json_is_object(inner)) return fail("error", "bench needs a request and n");
    json_t *result = operate(cfg, op, inner);
    if (!result) return NULL;
    json_decref(result);
    double start = now();
    for (json_int_t i = 0; i < n; i++) {
        result = operate(cfg, op, inner);
        if (!result) return NULL;
        json_decref(result);
    }
    return json_pack("{s:I, s:f}", "n", n, "seconds", now() - start);
}

static json_t *answer(jose_cfg_t *cfg, const json_t *request);

static json_t *batch(jose_cfg_t *cfg, const json_t *request) {
    json_t *answers = json_array();
    size_t i;
    json_t *inner;
    json_array_foreach(json_object_get(request, "requests"), i, inner)
        json_array_append_new(answers, answer(cfg, inner));
    return answers;
}

static json_t *answer(jose_cfg_t *cfg, const json_t *request) {
    const char *op = member(request, "op");
    json_t *result = NULL;
    kind = NULL;
    if (strcmp(op, "info") == 0) result = info(request);
    else if (strcmp(op, "batch") == 0) result = batch(cfg, request);
    else if (strcmp(op, "bench") == 0) result = bench(cfg, request);
    else if (strcmp(op, "crash") == 0) exit(3);
    else if (strcmp(op, "hang") == 0) for (;;) pause();
    else if (strcmp(op, "sign") == 0 || strcmp(op, "verify") == 0 ||
             strcmp(op, "encrypt") == 0 || strcmp(op, "decrypt") == 0)
        result = operate(cfg, op, request);
    else fail("error", "unknown op \"%s\"", op);
    json_t *out = json_pack("{s:O}", "id", json_object_get(request, "id") ?: json_null());
    if (result) json_object_set_new(out, "result", result);
    else json_object_set_new(out, kind ? kind : "error", json_string(kind ? text : "no result"));
    kind = NULL;
    return out;
}

int main(void) {
    jose_cfg_t *cfg = jose_cfg();
    jose_cfg_set_err_func(cfg, on_library_error, NULL);
    char *line = NULL;
    size_t size = 0;
    while (getline(&line, &size, stdin) > 0) {
        if (line[0] == '\n') continue;
        json_error_t error;
        json_t *request = json_loads(line, 0, &error);
        json_t *out = request ? answer(cfg, request)
                              : json_pack("{s:n, s:s}", "id", "error", error.text);
        char *encoded = json_dumps(out, JSON_COMPACT);
        printf("%s\n", encoded);
        fflush(stdout);
        free(encoded);
        json_decref(out);
        json_decref(request);
    }
    free(line);
    jose_cfg_decref(cfg);
    return 0;
}
