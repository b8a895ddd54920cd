#define _GNU_SOURCE
#include "peerproto.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *peer_kind;
char peer_text[1024];

json_t *peer_fail(const char *kind, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(peer_text, sizeof peer_text, fmt, ap);
    va_end(ap);
    peer_kind = kind;
    return NULL;
}

const char *peer_member(const json_t *object, const char *name) {
    const char *value = json_string_value(json_object_get(object, name));
    return value ? value : "";
}

int peer_listed(const char *const *names, const char *name) {
    for (; name && *names; names++)
        if (strcmp(*names, name) == 0) return 1;
    return 0;
}

const char *peer_serialization(const json_t *request) {
    const char *form = json_string_value(json_object_get(request, "serialization"));
    return form ? form : "compact";
}

int peer_is_jwks(const json_t *key) {
    return json_is_array(json_object_get(key, "keys")) && !json_object_get(key, "kty");
}

const json_t *peer_pick(const json_t *jwks, const char *kid) {
    const json_t *found = NULL, *jwk;
    size_t i, count = 0;
    json_array_foreach(json_object_get(jwks, "keys"), i, jwk)
        if (!kid || strcmp(peer_member(jwk, "kid"), kid) == 0) {
            found = jwk;
            count++;
        }
    if (count != 1)
        return peer_fail("rejected", "no single key in the JWKS for kid \"%s\"", kid ? kid : "");
    return found;
}

json_t *peer_names(const json_t *suites, int (*implemented)(const json_t *suite)) {
    json_t *names = json_array();
    size_t i;
    json_t *suite;
    json_array_foreach(suites, i, suite)
        if (implemented(suite)) json_array_append(names, json_object_get(suite, "name"));
    return names;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int operation(const char *op) {
    return strcmp(op, "sign") == 0 || strcmp(op, "verify") == 0 || strcmp(op, "encrypt") == 0 ||
           strcmp(op, "decrypt") == 0;
}

/* The operation n times after one untimed call; only the loop is timed (CLOCK_MONOTONIC). */
static json_t *bench(const peer_driver *driver, const json_t *request) {
    const char *op = peer_member(request, "operation");
    json_int_t n = json_integer_value(json_object_get(request, "n"));
    json_t *inner = json_deep_copy(json_object_get(request, "request"));
    if (n < 1 || !json_is_object(inner) || !operation(op)) {
        json_decref(inner);
        return peer_fail("error", "bench needs an operation, a request and a positive n");
    }
    json_object_set_new(inner, "op", json_string(op));
    json_t *result = driver->operate(op, inner);
    double start = now();
    for (json_int_t i = 0; result && i < n; i++) {
        json_decref(result);
        result = driver->operate(op, inner);
    }
    double seconds = now() - start;
    json_decref(inner);
    if (!result) return NULL;
    json_decref(result);
    return json_pack("{s:I, s:f}", "n", n, "seconds", seconds);
}

static json_t *answer(const peer_driver *driver, const json_t *request) {
    const char *op = peer_member(request, "op");
    json_t *result = NULL;
    peer_kind = NULL;
    if (strcmp(op, "info") == 0) {
        result = driver->info(request);
    } else if (strcmp(op, "batch") == 0) {
        result = json_array();
        size_t i;
        json_t *inner;
        json_array_foreach(json_object_get(request, "requests"), i, inner)
            json_array_append_new(result, answer(driver, inner));
    } else if (strcmp(op, "bench") == 0) {
        result = bench(driver, request);
    } else if (strcmp(op, "crash") == 0) {
        exit(3);
    } else if (strcmp(op, "hang") == 0) {
        for (;;) pause();
    } else if (operation(op)) {
        result = driver->operate(op, request);
    } else {
        peer_fail("unsupported", "unknown op \"%s\"", op);
    }
    json_t *id = json_object_get(request, "id");
    json_t *out = json_pack("{s:O}", "id", id ? id : json_null());
    if (result) json_object_set_new(out, "result", result);
    else json_object_set_new(out, peer_kind ? peer_kind : "error",
                             json_string(peer_kind ? peer_text : "no result"));
    peer_kind = NULL;
    return out;
}

int peer_serve(const peer_driver *driver) {
    char *line = NULL;
    size_t size = 0;
    while (getline(&line, &size, stdin) > 0) {
        if (line[0] == '\n') continue;
        json_error_t error;
        json_t *request = json_loads(line, 0, &error);
        json_t *out = request ? answer(driver, request)
                              : json_pack("{s:n, s:s}", "id", "error", error.text);
        char *encoded = json_dumps(out, JSON_COMPACT);
        printf("%s\n", encoded);
        fflush(stdout);
        free(encoded);
        json_decref(out);
        json_decref(request);
    }
    free(line);
    return 0;
}
