// Package peerproto is the peer protocol (peers/README.md, version 1) for Go drivers: JSON lines
// on stdin, one answer per request on stdout, in order. A driver supplies Info and the four
// operations as preparations; this package does the framing, batch, bench and the outcomes.
package peerproto

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// Suite is a suite as the harness sends it.
type Suite struct {
	Name   string  `json:"name"`
	Family string  `json:"family"`
	Alg    string  `json:"alg"`
	Enc    *string `json:"enc"`
	Kty    string  `json:"kty"`
	Crv    *string `json:"crv"`
}

// EncName is the suite's enc, "" for JWS.
func (s Suite) EncName() string {
	if s.Enc == nil {
		return ""
	}
	return *s.Enc
}

// Curve is the suite's crv, "" where it has none.
func (s Suite) Curve() string {
	if s.Crv == nil {
		return ""
	}
	return *s.Crv
}

// Request holds the members of every op; each op reads its own.
type Request struct {
	ID            json.RawMessage        `json:"id"`
	Op            string                 `json:"op"`
	Suites        []Suite                `json:"suites"`
	Suite         Suite                  `json:"suite"`
	Payload       string                 `json:"payload"`
	Plaintext     string                 `json:"plaintext"`
	Key           json.RawMessage        `json:"key"`
	Header        map[string]interface{} `json:"header"`
	Serialization string                 `json:"serialization"`
	Mode          string                 `json:"mode"`
	Algorithms    []string               `json:"algorithms"`
	EntryPoint    string                 `json:"entry_point"`
	Token         json.RawMessage        `json:"token"`
	Operation     string                 `json:"operation"`
	N             int                    `json:"n"`
	Inner         *Request               `json:"request"`
	Requests      []json.RawMessage      `json:"requests"`
}

// Data is the payload or plaintext, decoded.
func (r *Request) Data() ([]byte, error) {
	text := r.Payload
	if r.Op == "encrypt" {
		text = r.Plaintext
	}
	return base64.RawURLEncoding.DecodeString(text)
}

// TokenText is the token as text: a compact string, or the JSON serialization's object as JSON.
func (r *Request) TokenText() (string, error) {
	if len(r.Token) > 0 && r.Token[0] == '"' {
		var text string
		err := json.Unmarshal(r.Token, &text)
		return text, err
	}
	return string(r.Token), nil
}

// SerializationOrCompact is the request's serialization, compact when absent.
func (r *Request) SerializationOrCompact() string {
	if r.Serialization == "" {
		return "compact"
	}
	return r.Serialization
}

// Unsupported: the driver cannot do this. Rejected: the library refused the input.
type Unsupported struct{ Reason string }
type Rejected struct{ Reason string }

func (e Unsupported) Error() string { return e.Reason }
func (e Rejected) Error() string    { return e.Reason }

// Reject wraps a library error as a refusal, keeping its text.
func Reject(err error) error {
	if err == nil {
		return nil
	}
	switch err.(type) {
	case Unsupported, Rejected:
		return err
	}
	return Rejected{fmt.Sprintf("%T: %v", err, err)}
}

// Run is one prepared operation: the call of the data alone, as bench repeats it.
type Run func() (interface{}, error)

// Driver is what a Go peer implements.
type Driver interface {
	Info(suites []Suite) map[string]interface{}
	Prepare(op string, request *Request) (Run, error)
}

func answer(driver Driver, line []byte) (out map[string]interface{}) {
	var request Request
	if err := json.Unmarshal(line, &request); err != nil {
		return map[string]interface{}{"id": nil, "error": "bad request line: " + err.Error()}
	}
	out = map[string]interface{}{"id": request.ID}
	defer func() {
		if caught := recover(); caught != nil {
			out = map[string]interface{}{"id": request.ID, "error": fmt.Sprintf("panic: %v", caught)}
		}
	}()
	result, err := dispatch(driver, &request)
	switch err := err.(type) {
	case nil:
		out["result"] = result
	case Unsupported:
		out["unsupported"] = err.Reason
	case Rejected:
		out["rejected"] = err.Reason
	default:
		out["error"] = fmt.Sprintf("%T: %v", err, err)
	}
	return out
}

func dispatch(driver Driver, request *Request) (interface{}, error) {
	switch request.Op {
	case "info":
		return driver.Info(request.Suites), nil
	case "batch":
		answers := make([]map[string]interface{}, 0, len(request.Requests))
		for _, inner := range request.Requests {
			answers = append(answers, answer(driver, inner))
		}
		return answers, nil
	case "bench":
		return bench(driver, request)
	case "crash":
		os.Exit(3)
	case "hang":
		for {
			time.Sleep(time.Hour)
		}
	case "sign", "verify", "encrypt", "decrypt":
		run, err := driver.Prepare(request.Op, request)
		if err != nil {
			return nil, err
		}
		return run()
	}
	return nil, Unsupported{fmt.Sprintf("unknown op %q", request.Op)}
}

// bench runs the operation n times after what the library lets a caller prepare once (the key
// import); only the loop is timed, on Go's monotonic clock.
func bench(driver Driver, request *Request) (interface{}, error) {
	if request.Inner == nil || request.N < 1 {
		return nil, fmt.Errorf("bench needs a request and a positive n")
	}
	inner := *request.Inner
	inner.Op = request.Operation
	run, err := driver.Prepare(inner.Op, &inner)
	if err != nil {
		return nil, err
	}
	if _, err := run(); err != nil {
		return nil, err
	}
	start := time.Now()
	for i := 0; i < request.N; i++ {
		if _, err := run(); err != nil {
			return nil, err
		}
	}
	return map[string]interface{}{"n": request.N, "seconds": time.Since(start).Seconds()}, nil
}

// Serve answers requests until stdin closes.
func Serve(driver Driver) {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<30)
	out := bufio.NewWriter(os.Stdout)
	for in.Scan() {
		line := in.Bytes()
		if len(line) == 0 {
			continue
		}
		encoded, err := json.Marshal(answer(driver, line))
		if err != nil {
			encoded = []byte(`{"id":null,"error":"answer not encodable"}`)
		}
		out.Write(encoded)
		out.WriteByte('\n')
		out.Flush()
	}
}

// Names are the names of the suites `test` accepts.
func Names(suites []Suite, test func(Suite) bool) []string {
	names := []string{}
	for _, suite := range suites {
		if test(suite) {
			names = append(names, suite.Name)
		}
	}
	return names
}

// Encode is base64url without padding.
func Encode(data []byte) string { return base64.RawURLEncoding.EncodeToString(data) }

// IsJWKS tells a key set ({"keys": [...]}) from a single JWK.
func IsJWKS(raw json.RawMessage) bool {
	var probe struct {
		Keys json.RawMessage `json:"keys"`
		Kty  *string         `json:"kty"`
	}
	return json.Unmarshal(raw, &probe) == nil && probe.Keys != nil && probe.Kty == nil
}
