// jose-harness peer driver for Square's go-jose v2 (gopkg.in/square/go-jose.v2), built offline
// against Debian's golang-gopkg-square-go-jose.v2-dev by `make peers`. See ../DRIVERS.md.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"

	"peerproto"

	jose "gopkg.in/square/go-jose.v2"
	"gopkg.in/square/go-jose.v2/jwt"
)

const docs = "https://pkg.go.dev/gopkg.in/square/go-jose.v2"

var (
	jwsAlgs = set("HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
		"ES256", "ES384", "ES512", "EdDSA")
	jweAlgs = set("dir", "RSA1_5", "RSA-OAEP", "RSA-OAEP-256", "A128KW", "A192KW", "A256KW",
		"A128GCMKW", "A192GCMKW", "A256GCMKW", "ECDH-ES", "ECDH-ES+A128KW", "ECDH-ES+A192KW",
		"ECDH-ES+A256KW", "PBES2-HS256+A128KW", "PBES2-HS384+A192KW", "PBES2-HS512+A256KW")
	encs = set("A128CBC-HS256", "A192CBC-HS384", "A256CBC-HS512", "A128GCM", "A192GCM", "A256GCM")
	// Its JWK type knows EC keys on the NIST curves and OKP keys on Ed25519 only: no secp256k1,
	// no Ed448, no X25519/X448 (so ECDH-ES on the NIST curves alone).
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
		return jwsAlgs[s.Alg] && (s.Alg != "EdDSA" || s.Curve() == "Ed25519")
	}
	if s.Family != "JWE" || !jweAlgs[s.Alg] || !encs[s.EncName()] {
		return false
	}
	return !strings.HasPrefix(s.Alg, "ECDH-ES") || ecdhCurves[s.Curve()]
}

type driver struct{ keys map[string]interface{} }

// The JWK import, once per JWK text; a JWKS stays a key set, picked from by kid per token.
func (d *driver) key(raw json.RawMessage) (interface{}, error) {
	slot := string(raw)
	if key, ok := d.keys[slot]; ok {
		return key, nil
	}
	var key interface{}
	if peerproto.IsJWKS(raw) {
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(raw, &set); err != nil {
			return nil, peerproto.Rejected{Reason: "go-jose refused the JWKS: " + err.Error()}
		}
		key = &set
	} else {
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON(raw); err != nil {
			return nil, peerproto.Rejected{Reason: "go-jose refused the key: " + err.Error()}
		}
		key = &jwk
	}
	d.keys[slot] = key
	return key, nil
}

// pick: go-jose's JWS and JWE calls take one key; its JWT API picks from a JWKS by kid itself.
func pick(key interface{}, kid string) (interface{}, error) {
	set, ok := key.(*jose.JSONWebKeySet)
	if !ok {
		return key, nil
	}
	found := set.Key(kid)
	if len(found) != 1 {
		return nil, peerproto.Rejected{Reason: fmt.Sprintf("no single key in the JWKS for kid %q", kid)}
	}
	return &found[0], nil
}

func (d *driver) check(r *peerproto.Request) error {
	if !implemented(r.Suite) {
		return peerproto.Unsupported{Reason: "go-jose v2 does not implement " + r.Suite.Name}
	}
	form := r.SerializationOrCompact()
	producing := r.Op == "sign" || r.Op == "encrypt"
	if form == "general" && producing {
		return peerproto.Unsupported{Reason: "go-jose v2 serializes one signature or recipient " +
			"as flattened JSON only (FullSerialize)"}
	}
	if form != "compact" && form != "flattened" && form != "general" {
		return peerproto.Unsupported{Reason: "no serialization " + form}
	}
	if r.EntryPoint == "jwt" && form != "compact" {
		return peerproto.Unsupported{Reason: "go-jose's jwt package parses compact JWTs only"}
	}
	return nil
}

// Header members a driver cannot pass as extra protected members: go-jose sets them itself.
func extraHeaders(header map[string]interface{}) map[jose.HeaderKey]interface{} {
	extra := map[jose.HeaderKey]interface{}{}
	for name, value := range header {
		if name != "alg" && name != "enc" && name != "zip" {
			extra[jose.HeaderKey(name)] = value
		}
	}
	return extra
}

func serialize(compact bool, full func() string, short func() (string, error)) (interface{}, error) {
	if compact {
		return short()
	}
	return json.RawMessage(full()), nil
}

func (d *driver) Prepare(op string, r *peerproto.Request) (peerproto.Run, error) {
	if err := d.check(r); err != nil {
		return nil, err
	}
	key, err := d.key(r.Key)
	if err != nil {
		return nil, err
	}
	compact := r.SerializationOrCompact() == "compact"
	switch op {
	case "sign", "encrypt":
		data, err := r.Data()
		if err != nil {
			return nil, err
		}
		kid, _ := r.Header["kid"].(string)
		if key, err = pick(key, kid); err != nil {
			return nil, err
		}
		if op == "sign" {
			return d.signer(r, key, data, compact)
		}
		return d.encrypter(r, key, data, compact)
	case "verify":
		return d.verifier(r, key)
	}
	return d.decrypter(r, key)
}

func (d *driver) signer(r *peerproto.Request, key interface{}, data []byte, compact bool) (peerproto.Run, error) {
	options := &jose.SignerOptions{ExtraHeaders: extraHeaders(r.Header)}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(r.Suite.Alg),
		Key: key}, options)
	if err != nil {
		return nil, err
	}
	return func() (interface{}, error) {
		signed, err := signer.Sign(data)
		if err != nil {
			return nil, err
		}
		return serialize(compact, signed.FullSerialize, signed.CompactSerialize)
	}, nil
}

func (d *driver) encrypter(r *peerproto.Request, key interface{}, data []byte, compact bool) (peerproto.Run, error) {
	options := &jose.EncrypterOptions{ExtraHeaders: extraHeaders(r.Header)}
	if zip, ok := r.Header["zip"]; ok {
		if zip != "DEF" {
			return nil, peerproto.Unsupported{Reason: fmt.Sprintf("go-jose compresses with DEF only, not %v", zip)}
		}
		options.Compression = jose.DEFLATE
	}
	encrypter, err := jose.NewEncrypter(jose.ContentEncryption(r.Suite.EncName()),
		jose.Recipient{Algorithm: jose.KeyAlgorithm(r.Suite.Alg), Key: key}, options)
	if err != nil {
		return nil, err
	}
	return func() (interface{}, error) {
		sealed, err := encrypter.Encrypt(data)
		if err != nil {
			return nil, err
		}
		return serialize(compact, sealed.FullSerialize, sealed.CompactSerialize)
	}, nil
}

// v2 has no allow-list: ParseSigned/ParseEncrypted take every alg it implements, and the key's
// type decides whether the token's alg can verify. `algorithms` is therefore not passed on.
func (d *driver) verifier(r *peerproto.Request, key interface{}) (peerproto.Run, error) {
	token, err := r.TokenText()
	if err != nil {
		return nil, err
	}
	if r.EntryPoint == "jwt" {
		return func() (interface{}, error) {
			parsed, err := jwt.ParseSigned(token)
			if err != nil {
				return nil, peerproto.Reject(err)
			}
			return jwtClaims(parsed, key, "payload")
		}, nil
	}
	return func() (interface{}, error) {
		parsed, err := jose.ParseSigned(token)
		if err != nil {
			return nil, peerproto.Reject(err)
		}
		kid := ""
		if len(parsed.Signatures) > 0 {
			kid = parsed.Signatures[0].Header.KeyID
		}
		one, err := pick(key, kid)
		if err != nil {
			return nil, err
		}
		payload, err := parsed.Verify(one)
		if err != nil {
			return nil, peerproto.Reject(err)
		}
		return map[string]string{"payload": peerproto.Encode(payload)}, nil
	}, nil
}

func (d *driver) decrypter(r *peerproto.Request, key interface{}) (peerproto.Run, error) {
	token, err := r.TokenText()
	if err != nil {
		return nil, err
	}
	if r.EntryPoint == "jwt" {
		return func() (interface{}, error) {
			parsed, err := jwt.ParseEncrypted(token)
			if err != nil {
				return nil, peerproto.Reject(err)
			}
			return jwtClaims(parsed, key, "plaintext")
		}, nil
	}
	return func() (interface{}, error) {
		parsed, err := jose.ParseEncrypted(token)
		if err != nil {
			return nil, peerproto.Reject(err)
		}
		one, err := pick(key, parsed.Header.KeyID)
		if err != nil {
			return nil, err
		}
		plaintext, err := parsed.Decrypt(one)
		if err != nil {
			return nil, peerproto.Reject(err)
		}
		return map[string]string{"plaintext": peerproto.Encode(plaintext)}, nil
	}, nil
}

// The JWT API as its docs show it: Claims into jwt.Claims, then Validate against the current
// time (exp, nbf, iat with the package's default leeway). A Go map keeps no order, so the bytes
// handed back are the claims set as the library read it (json.RawMessage), after it parsed it.
func jwtClaims(parsed *jwt.JSONWebToken, key interface{}, member string) (interface{}, error) {
	if set, ok := key.(*jose.JSONWebKeySet); ok {
		key = *set
	}
	var standard jwt.Claims
	var raw json.RawMessage
	if err := parsed.Claims(key, &standard, &raw); err != nil {
		return nil, peerproto.Reject(err)
	}
	if err := standard.Validate(jwt.Expected{Time: time.Now()}); err != nil {
		return nil, peerproto.Reject(err)
	}
	return map[string]string{member: peerproto.Encode(raw)}, nil
}

func (d *driver) Info(suites []peerproto.Suite) map[string]interface{} {
	return map[string]interface{}{
		"name":              "go-jose",
		"version":           version(),
		"language":          "go",
		"runtime":           runtime.Version(),
		"supports":          peerproto.Names(suites, implemented),
		"allows_by_default": peerproto.Names(suites, implemented),
		"produces":          map[string][]string{"JWS": {"compact", "flattened"}, "JWE": {"compact", "flattened"}},
		"consumes": map[string][]string{"JWS": {"compact", "flattened", "general"},
			"JWE": {"compact", "flattened", "general"}},
		"entry_points": map[string]string{
			"jws": "jose.ParseSigned().Verify, jose.ParseEncrypted().Decrypt (" + docs + ")",
			"jwt": "jwt.ParseSigned/ParseEncrypted().Claims + Claims.Validate (" + docs + "/jwt)",
		},
	}
}

// The Debian package's version, written beside the binary by `make peers` (dpkg-query), since
// a GOPATH build carries no module version.
func version() string {
	exe, err := os.Executable()
	if err == nil {
		if text, err := os.ReadFile(filepath.Join(filepath.Dir(exe), "go-jose.version")); err == nil {
			if found := regexp.MustCompile(`^[0-9][^-+~\s]*`).Find(text); found != nil {
				return string(found)
			}
		}
	}
	return "2"
}

func main() {
	peerproto.Serve(&driver{keys: map[string]interface{}{}})
}
