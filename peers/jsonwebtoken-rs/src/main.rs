//! jose-harness peer driver for Rust's `jsonwebtoken` 8 (Debian's librust-jsonwebtoken-dev, on
//! ring), built offline by `make peers`. JWS only: the crate signs and verifies JWTs. The
//! protocol is ../README.md; see ../DRIVERS.md.
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::io::{self, BufRead, Write};
use std::str::FromStr;
use std::time::Instant;

// Its Algorithm enum, less ES512 (ring 0.16 has no P-521): no ES256K, no Ed448.
const JWS_ALGS: &[&str] = &[
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256",
    "ES384", "EdDSA",
];
const DOCS: &str = "https://docs.rs/jsonwebtoken/8";

enum Outcome {
    Rejected(String),
    Unsupported(String),
    Error(String),
}
use Outcome::*;

type Answer = Result<Value, Outcome>;

fn text<'a>(v: &'a Value, name: &str) -> &'a str {
    v.get(name).and_then(Value::as_str).unwrap_or("")
}

fn implemented(suite: &Value) -> bool {
    text(suite, "family") == "JWS"
        && JWS_ALGS.contains(&text(suite, "alg"))
        && (text(suite, "alg") != "EdDSA" || text(suite, "crv") == "Ed25519")
}

fn unb64(data: &str) -> Result<Vec<u8>, Outcome> {
    base64::decode_config(data, base64::URL_SAFE_NO_PAD).map_err(|e| Error(format!("base64url: {e}")))
}

fn b64(data: &[u8]) -> String {
    base64::encode_config(data, base64::URL_SAFE_NO_PAD)
}

// DER, for the private keys: jsonwebtoken 8 reads no private JWK, only PKCS#1 (RSA) and
// PKCS#8 (EC, Ed25519) DER or PEM.
fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes: Vec<u8> = n.to_be_bytes().iter().copied().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

fn der_uint(bytes: &[u8]) -> Vec<u8> {
    let trimmed: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
    let mut content = if trimmed.first().map_or(true, |b| b & 0x80 != 0) { vec![0] } else { vec![] };
    content.extend(trimmed);
    der(0x02, &content)
}

fn member(jwk: &Value, name: &str) -> Result<Vec<u8>, Outcome> {
    match jwk.get(name).and_then(Value::as_str) {
        Some(v) => unb64(v),
        None => Err(Rejected(format!("the JWK has no {name}"))),
    }
}

fn rsa_pkcs1(jwk: &Value) -> Result<Vec<u8>, Outcome> {
    let mut body = der_uint(&[0]);
    for name in ["n", "e", "d", "p", "q", "dp", "dq", "qi"] {
        body.extend(der_uint(&member(jwk, name)?));
    }
    Ok(der(0x30, &body))
}

fn pkcs8(algorithm: &[u8], private: &[u8]) -> Vec<u8> {
    let mut body = der_uint(&[0]);
    body.extend(der(0x30, algorithm));
    body.extend(der(0x04, private));
    der(0x30, &body)
}

fn ec_pkcs8(jwk: &Value) -> Result<Vec<u8>, Outcome> {
    let curve: &[u8] = match text(jwk, "crv") {
        "P-256" => &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07],
        "P-384" => &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22],
        other => return Err(Unsupported(format!("jsonwebtoken has no curve {other}"))),
    };
    let mut algorithm = vec![0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    algorithm.extend_from_slice(curve);
    let mut point = vec![0x00, 0x04];
    point.extend(member(jwk, "x")?);
    point.extend(member(jwk, "y")?);
    let mut key = der_uint(&[1]);
    key.extend(der(0x04, &member(jwk, "d")?));
    key.extend(der(0xa1, &der(0x03, &point)));
    Ok(pkcs8(&algorithm, &der(0x30, &key)))
}

fn encoding_key(jwk: &Value) -> Result<EncodingKey, Outcome> {
    match text(jwk, "kty") {
        "oct" => Ok(EncodingKey::from_secret(&member(jwk, "k")?)),
        "RSA" => Ok(EncodingKey::from_rsa_der(&rsa_pkcs1(jwk)?)),
        "EC" => Ok(EncodingKey::from_ec_der(&ec_pkcs8(jwk)?)),
        "OKP" => {
            let algorithm = [0x06, 0x03, 0x2b, 0x65, 0x70];
            Ok(EncodingKey::from_ed_der(&pkcs8(&algorithm, &der(0x04, &member(jwk, "d")?))))
        }
        other => Err(Unsupported(format!("no key type {other}"))),
    }
}

// A JWKS: the key whose kid the token's header names (jsonwebtoken 8 has no key-set lookup).
fn decoding_key(key: &Value, token: &str) -> Result<DecodingKey, Outcome> {
    let jwk = match key.get("keys").and_then(Value::as_array) {
        Some(keys) if key.get("kty").is_none() => {
            let kid = jsonwebtoken::decode_header(token)
                .map_err(|e| Rejected(format!("{e}")))?
                .kid;
            let found: Vec<&Value> = keys
                .iter()
                .filter(|k| kid.as_deref().map_or(true, |kid| text(k, "kid") == kid))
                .collect();
            if found.len() != 1 {
                return Err(Rejected(format!("no single key in the JWKS for kid {kid:?}")));
            }
            found[0].clone()
        }
        _ => key.clone(),
    };
    // An HMAC secret goes in as from_secret, as its docs show for HS*: 8.2's from_jwk decodes an
    // oct key's "k" as standard base64, not base64url (RFC 7518 §6.4.1), and refuses any key
    // with '-' or '_' in it.
    if text(&jwk, "kty") == "oct" {
        return Ok(DecodingKey::from_secret(&member(&jwk, "k")?));
    }
    let parsed: Jwk = serde_json::from_value(jwk).map_err(|e| Rejected(format!("JWK: {e}")))?;
    DecodingKey::from_jwk(&parsed).map_err(|e| Rejected(format!("jsonwebtoken refused the key: {e}")))
}

struct Prepared(Box<dyn Fn() -> Answer>);

fn prepare(op: &str, r: &Value) -> Result<Prepared, Outcome> {
    let suite = &r["suite"];
    if !implemented(suite) {
        return Err(Unsupported(format!("jsonwebtoken does not implement {}", text(suite, "name"))));
    }
    let form = r.get("serialization").and_then(Value::as_str).unwrap_or("compact");
    if form != "compact" {
        return Err(Unsupported("jsonwebtoken reads and writes compact JWTs only".into()));
    }
    let alg = Algorithm::from_str(text(suite, "alg")).map_err(|e| Error(format!("{e}")))?;
    match op {
        "sign" => {
            let payload = String::from_utf8(unb64(text(r, "payload"))?)
                .map_err(|_| Unsupported("jsonwebtoken signs JSON claims only".into()))?;
            let claims = RawValue::from_string(payload)
                .map_err(|_| Unsupported("jsonwebtoken signs JSON claims only".into()))?;
            let mut header = Header::new(alg);
            for (name, value) in r.get("header").and_then(Value::as_object).unwrap_or(&Map::new()) {
                let value = value.as_str().map(str::to_owned);
                match name.as_str() {
                    "alg" => {}
                    "kid" => header.kid = value,
                    "typ" => header.typ = value,
                    "cty" => header.cty = value,
                    other => {
                        return Err(Unsupported(format!("jsonwebtoken's Header has no member {other}")))
                    }
                }
            }
            let key = encoding_key(&r["key"])?;
            Ok(Prepared(Box::new(move || {
                encode(&header, &claims, &key).map(Value::String).map_err(|e| Rejected(format!("{e}")))
            })))
        }
        "verify" => {
            let token = text(r, "token").to_owned();
            let key = decoding_key(&r["key"], &token)?;
            // It always takes an allow-list (Validation::new(alg)): with none given, the suite's
            // own alg, as an application must write it; else the named algs it knows.
            let mut validation = Validation::new(alg);
            if let Some(names) = r.get("algorithms").and_then(Value::as_array) {
                validation.algorithms = names
                    .iter()
                    .filter_map(|n| n.as_str().and_then(|n| Algorithm::from_str(n).ok()))
                    .collect();
            }
            let jwt = text(r, "entry_point") == "jwt";
            if !jwt {
                // The JWS entry point: the same decode, without claim requirements.
                validation.validate_exp = false;
                validation.required_spec_claims.clear();
            }
            Ok(Prepared(Box::new(move || {
                let data = decode::<Box<RawValue>>(&token, &key, &validation)
                    .map_err(|e| Rejected(format!("{e:?}")))?;
                Ok(json!({"payload": b64(data.claims.get().as_bytes())}))
            })))
        }
        _ => Err(Unsupported("jsonwebtoken implements no JWE".into())),
    }
}

fn info(r: &Value) -> Value {
    let names: Vec<&Value> = r["suites"]
        .as_array()
        .map(|s| s.iter().filter(|s| implemented(s)).map(|s| &s["name"]).collect())
        .unwrap_or_default();
    json!({
        "name": "jsonwebtoken",
        "version": option_env!("JSONWEBTOKEN_VERSION").unwrap_or("8"),
        "language": "rust",
        "runtime": "ring 0.16", "supports": names, "allows_by_default": names,
        "produces": {"JWS": ["compact"]}, "consumes": {"JWS": ["compact"]},
        "entry_points": {
            "jws": format!("decode with no required claims ({DOCS})"),
            "jwt": format!("decode with Validation::new(alg): exp required ({DOCS})"),
        },
    })
}

fn bench(r: &Value) -> Answer {
    let op = text(r, "operation");
    let n = r.get("n").and_then(Value::as_u64).unwrap_or(0);
    if n == 0 {
        return Err(Error("bench needs a positive n".into()));
    }
    let run = prepare(op, &r["request"])?;
    (run.0)()?;
    let start = Instant::now();
    for _ in 0..n {
        (run.0)()?;
    }
    Ok(json!({"n": n, "seconds": start.elapsed().as_secs_f64()}))
}

fn answer(r: &Value) -> Value {
    let op = text(r, "op");
    let result: Answer = match op {
        "info" => Ok(info(r)),
        "batch" => Ok(Value::Array(
            r["requests"].as_array().map(|a| a.iter().map(answer).collect()).unwrap_or_default(),
        )),
        "bench" => bench(r),
        "crash" => std::process::exit(3),
        "hang" => loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        },
        "sign" | "verify" | "encrypt" | "decrypt" => prepare(op, r).and_then(|run| (run.0)()),
        other => Err(Unsupported(format!("unknown op {other:?}"))),
    };
    let mut out: HashMap<&str, Value> = HashMap::new();
    out.insert("id", r.get("id").cloned().unwrap_or(Value::Null));
    match result {
        Ok(v) => out.insert("result", v),
        Err(Rejected(t)) => out.insert("rejected", Value::String(t)),
        Err(Unsupported(t)) => out.insert("unsupported", Value::String(t)),
        Err(Error(t)) => out.insert("error", Value::String(t)),
    };
    json!(out)
}

fn main() {
    let stdin = io::stdin();
    let mut stdout = io::stdout();
    for line in stdin.lock().lines() {
        let line = match line {
            Ok(line) => line,
            Err(_) => break,
        };
        if line.trim().is_empty() {
            continue;
        }
        let reply = match serde_json::from_str::<Value>(&line) {
            Ok(request) => answer(&request),
            Err(e) => json!({"id": null, "error": format!("bad request line: {e}")}),
        };
        let _ = writeln!(stdout, "{reply}");
        let _ = stdout.flush();
    }
}
