/* The peer protocol (../README.md, version 1) for C drivers on jansson: the line loop, batch,
 * bench and the outcome members. A driver supplies info() and operate(). */
#pragma once
#include <jansson.h>

/* The outcome of one request: peer_kind NULL means a result; else "rejected", "unsupported" or
 * "error", with peer_text. */
extern const char *peer_kind;
extern char peer_text[1024];

json_t *peer_fail(const char *kind, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *peer_member(const json_t *object, const char *name);
int peer_listed(const char *const *names, const char *name);
const char *peer_serialization(const json_t *request);
int peer_is_jwks(const json_t *key);
/* The JWK of a JWKS with this kid, or NULL (after peer_fail) when there is not exactly one. */
const json_t *peer_pick(const json_t *jwks, const char *kid);
/* Names of the suites of the request's "suites" that `implemented` accepts. */
json_t *peer_names(const json_t *suites, int (*implemented)(const json_t *suite));

typedef struct {
    json_t *(*info)(const json_t *request);
    /* sign/verify/encrypt/decrypt: a result, or NULL after peer_fail. */
    json_t *(*operate)(const char *op, const json_t *request);
} peer_driver;

int peer_serve(const peer_driver *driver);
