// jose-harness peer driver for dvsekhvalnov's jose2go, built offline against Debian's
// golang-github-dvsekhvalnov-jose2go-dev by `make peers`. See ../DRIVERS.md.
//
// jose2go takes Go's own key types (*rsa.PrivateKey, *ecdsa.PublicKey, []byte, a PBES2
// passphrase string) and has no JWK reader: the driver reads the harness's JWK with go-jose v2's
// JSONWebKey (also a Debian package) and hands jose2go the key inside it.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"

	"peerproto"

	jose2go "github.com/dvsekhvalnov/jose2go"
	jose "gopkg.in/square/go-jose.v2"
)

const docs = "https://github.com/dvsekhvalnov/jose2go#readme"

var (
	jwsAlgs = set("HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
		"ES256", "ES384", "ES512")
	jweAlgs = set("dir", "RSA1_5", "RSA-OAEP", "RSA-OAEP-256", "A128KW", "A192KW", "A256KW",
		"A128GCMKW", "A192GCMKW", "A256GCMKW", "ECDH-ES", "ECDH-ES+A128KW", "ECDH-ES+A192KW",
		"ECDH-ES+A256KW", "PBES2-HS256+A128KW", "PBES2-HS384+A192KW", "PBES2-HS512+A256KW")
	encs = set("A128CBC-HS256", "A192CBC-HS384", "A256CBC-HS512", "A128GCM", "A192GCM", "A256GCM")
	// ECDH on *ecdsa keys only: the NIST curves, no X25519/X448; no EdDSA, no ES256K.
	ecdhCurves = set("P-256", "P-384", "P-521")
)

func set(names ...string) map[string]bool {
	out := map[string]bool{}
	for _, name := range names {
		out[name] = true
	}
	return out
}

func implemented(s peerproto.Suite) bool {
	if s.Family == "JWS" {
		return jwsAlgs[s.Alg]
	}
	if s.Family != "JWE" || !jweAlgs[s.Alg] || !encs[s.EncName()] {
		return false
	}
	return !strings.HasPrefix(s.Alg, "ECDH-ES") || ecdhCurves[s.Curve()]
}

type driver struct{ keys map[string]interface{} }

// goKey is the Go key jose2go takes for this JWK and alg; PBES2 takes the password as a string.
func goKey(jwk *jose.JSONWebKey, alg string) interface{} {
	if secret, ok := jwk.Key.([]byte); ok && strings.HasPrefix(alg, "PBES2") {
		return string(secret)
	}
	return jwk.Key
}

// key: one Go key, or for a JWKS a key callback, as jose2go documents, picking by kid.
func (d *driver) key(raw json.RawMessage, alg string) (interface{}, error) {
	slot := alg + "\n" + string(raw)
	if key, ok := d.keys[slot]; ok {
		return key, nil
	}
	var key interface{}
	if peerproto.IsJWKS(raw) {
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(raw, &set); err != nil {
			return nil, peerproto.Rejected{Reason: "the JWKS does not parse: " + err.Error()}
		}
		key = func(headers map[string]interface{}, payload string) interface{} {
			kid, _ := headers["kid"].(string)
			found := set.Key(kid)
			if len(found) != 1 {
				return fmt.Errorf("no single key in the JWKS for kid %q", kid)
			}
			tokenAlg, _ := headers["alg"].(string)
			return goKey(&found[0], tokenAlg)
		}
	} else {
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON(raw); err != nil {
			return nil, peerproto.Rejected{Reason: "the JWK does not parse: " + err.Error()}
		}
		key = goKey(&jwk, alg)
	}
	d.keys[slot] = key
	return key, nil
}

func (d *driver) Prepare(op string, r *peerproto.Request) (peerproto.Run, error) {
	if !implemented(r.Suite) {
		return nil, peerproto.Unsupported{Reason: "jose2go does not implement " + r.Suite.Name}
	}
	if r.SerializationOrCompact() != "compact" {
		return nil, peerproto.Unsupported{Reason: "jose2go reads and writes compact serialization only"}
	}
	if r.EntryPoint == "jwt" {
		return nil, peerproto.Unsupported{Reason: "jose2go's one consuming call is Decode (the jws entry point)"}
	}
	key, err := d.key(r.Key, r.Suite.Alg)
	if err != nil {
		return nil, err
	}
	if op == "verify" || op == "decrypt" {
		return d.decoder(op, r, key)
	}
	if _, ok := key.(func(map[string]interface{}, string) interface{}); ok {
		return nil, peerproto.Unsupported{Reason: "the driver signs and encrypts with one JWK"}
	}
	data, err := r.Data()
	if err != nil {
		return nil, err
	}
	headers := map[string]interface{}{}
	var options []func(*jose2go.JoseConfig)
	for name, value := range r.Header {
		switch name {
		case "alg", "enc":
		case "zip":
			options = append(options, jose2go.Zip(fmt.Sprint(value)))
		default:
			headers[name] = value
		}
	}
	options = append(options, jose2go.Headers(headers))
	if op == "sign" {
		return func() (interface{}, error) {
			return jose2go.SignBytes(data, r.Suite.Alg, key, options...)
		}, nil
	}
	return func() (interface{}, error) {
		return jose2go.EncryptBytes(data, r.Suite.Alg, r.Suite.EncName(), key, options...)
	}, nil
}

// jose2go has no allow-list: Decode takes every alg it registers (including "none"), so
// `algorithms` is not passed on. One call reads both JWS and JWE, by the number of parts.
func (d *driver) decoder(op string, r *peerproto.Request, key interface{}) (peerproto.Run, error) {
	token, err := r.TokenText()
	if err != nil {
		return nil, err
	}
	member := "payload"
	if op == "decrypt" {
		member = "plaintext"
	}
	return func() (interface{}, error) {
		data, _, err := jose2go.DecodeBytes(token, key)
		if err != nil {
			return nil, peerproto.Reject(err)
		}
		return map[string]string{member: peerproto.Encode(data)}, nil
	}, nil
}

func (d *driver) Info(suites []peerproto.Suite) map[string]interface{} {
	compact := map[string][]string{"JWS": {"compact"}, "JWE": {"compact"}}
	return map[string]interface{}{
		"name":              "jose2go",
		"version":           version(),
		"language":          "go",
		"runtime":           runtime.Version(),
		"supports":          peerproto.Names(suites, implemented),
		"allows_by_default": peerproto.Names(suites, implemented),
		"produces":          compact,
		"consumes":          compact,
		"entry_points":      map[string]string{"jws": "jose.DecodeBytes (" + docs + ")"},
	}
}

// The Debian package's version, written beside the binary by `make peers`.
func version() string {
	exe, err := os.Executable()
	if err == nil {
		if text, err := os.ReadFile(filepath.Join(filepath.Dir(exe), "jose2go.version")); err == nil {
			if found := regexp.MustCompile(`^[0-9][^-+~\s]*`).Find(text); found != nil {
				return string(found)
			}
		}
	}
	return "1"
}

func main() {
	peerproto.Serve(&driver{keys: map[string]interface{}{}})
}
