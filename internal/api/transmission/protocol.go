package transmission

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// Limits of the request decoder.
const (
	// maxBatch bounds the requests of one JSON-RPC batch.
	maxBatch = 64
	// maxMethodLen bounds a method name.
	maxMethodLen = 64
)

// JSON-RPC 2.0 error codes (https://www.jsonrpc.org/specification), and the
// application codes Transmission 4.1 adds above zero.
const (
	codeParseError     = -32700
	codeInvalidRequest = -32600
	codeMethodNotFound = -32601
	codeInvalidParams  = -32602
	codeInternalError  = -32603

	codePathNotAbsolute = 3
	codeSystemError     = 5
	codeFileIndex       = 6
	codeHTTPError       = 7
	codeCorruptTorrent  = 8
)

// codeMessages are the messages Transmission gives its error codes.
var codeMessages = map[int]string{
	codeParseError:      "Parse error",
	codeInvalidRequest:  "Invalid Request",
	codeMethodNotFound:  "Method not found",
	codeInvalidParams:   "Invalid params",
	codeInternalError:   "Internal error",
	codePathNotAbsolute: "path is not absolute",
	codeSystemError:     "system error",
	codeFileIndex:       "file index out of range",
	codeHTTPError:       "HTTP error from backend service",
	codeCorruptTorrent:  "invalid or corrupt torrent file",
}

// methodNotFound is the classic protocol's result for an unknown method, as
// Transmission words it.
const methodNotFound = "method name not recognized"

// rpcError is a failed call: Msg is the classic protocol's result string,
// Code the JSON-RPC error code.
type rpcError struct {
	Code int
	Msg  string
}

func (e *rpcError) Error() string { return e.Msg }

func errorf(code int, format string, args ...any) *rpcError {
	return &rpcError{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// request is one decoded call, in either form.
type request struct {
	// jsonrpc is set for the JSON-RPC 2.0 form.
	jsonrpc bool
	// method is the method name in dash-case ("torrent-get").
	method string
	// args are the arguments ("arguments" or "params") with their names in
	// snake_case.
	args args
	// tag is the classic form's tag, echoed verbatim; id the JSON-RPC id
	// (nil for a notification, which gets no answer).
	tag json.RawMessage
	id  json.RawMessage
	// bad, when set, is answered instead of running the method (a JSON-RPC
	// request that is not valid).
	bad *rpcError
}

// name returns the name under which a value is answered: legacy as given
// for the classic form, its snake_case for JSON-RPC.
func (r *request) name(legacy string) string {
	if r.jsonrpc {
		return snake(legacy)
	}
	return legacy
}

// decodeBody decodes a request body: one call, or for JSON-RPC a batch.
// batch reports whether the body was a JSON array. A body that is not JSON
// returns an error (answered as a parse error).
func decodeBody(body []byte) (reqs []*request, batch bool, err error) {
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '[' {
		var items []json.RawMessage
		if err := json.Unmarshal(body, &items); err != nil {
			return nil, true, err
		}
		if len(items) == 0 {
			return []*request{{jsonrpc: true, bad: errorf(codeInvalidRequest, "empty batch"), id: json.RawMessage("null")}}, false, nil
		}
		if len(items) > maxBatch {
			return []*request{{jsonrpc: true, bad: errorf(codeInvalidRequest, "batch of %d requests: at most %d", len(items), maxBatch), id: json.RawMessage("null")}}, false, nil
		}
		for _, it := range items {
			reqs = append(reqs, decodeOne(it, true))
		}
		return reqs, true, nil
	}
	if !json.Valid(body) {
		return nil, false, errors.New("request body is not valid JSON")
	}
	return []*request{decodeOne(body, false)}, false, nil
}

// decodeOne decodes one call. inBatch calls are JSON-RPC whatever they say.
func decodeOne(raw json.RawMessage, inBatch bool) *request {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil || top == nil {
		return &request{jsonrpc: true, bad: errorf(codeInvalidRequest, "request must be an Array or Object"), id: json.RawMessage("null")}
	}
	r := &request{}
	if v, ok := top["jsonrpc"]; ok || inBatch {
		r.jsonrpc = true
		r.id = json.RawMessage("null")
		if id, ok := top["id"]; ok {
			if !validID(id) {
				r.bad = errorf(codeInvalidRequest, "id must be a string, a number or null")
				return r
			}
			r.id = id
		} else {
			r.id = nil // a notification
		}
		var ver string
		if json.Unmarshal(v, &ver) != nil || ver != "2.0" {
			r.bad = errorf(codeInvalidRequest, "jsonrpc must be \"2.0\"")
			return r
		}
	} else if tag, ok := top["tag"]; ok && isNumber(tag) {
		r.tag = tag
	}
	var method string
	if err := json.Unmarshal(top["method"], &method); err != nil || method == "" {
		r.bad = errorf(codeInvalidRequest, "no method name")
		if !r.jsonrpc {
			r.bad = errorf(codeMethodNotFound, "%s", methodNotFound)
		}
		return r
	}
	if len(method) > maxMethodLen {
		method = method[:maxMethodLen]
	}
	r.method = strings.ReplaceAll(strings.ToLower(method), "_", "-")
	argKey := "arguments"
	if r.jsonrpc {
		argKey = "params"
	}
	a, err := decodeArgs(top[argKey])
	if err != nil {
		r.bad = errorf(codeInvalidParams, "%s: %v", argKey, err)
		return r
	}
	r.args = a
	return r
}

// decodeArgs decodes an arguments object, renaming its keys to snake_case.
// Absent or null arguments are an empty set.
func decodeArgs(raw json.RawMessage) (args, error) {
	a := args{}
	if len(raw) == 0 || string(raw) == "null" {
		return a, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, errors.New("not an object")
	}
	for k, v := range m {
		a[snake(k)] = v
	}
	return a, nil
}

func validID(id json.RawMessage) bool {
	if string(id) == "null" || isNumber(id) {
		return true
	}
	var s string
	return json.Unmarshal(id, &s) == nil
}

func isNumber(v json.RawMessage) bool {
	var n json.Number
	return len(v) > 0 && (v[0] == '-' || (v[0] >= '0' && v[0] <= '9')) && json.Unmarshal(v, &n) == nil
}

// snake turns a dash-case or camelCase name into snake_case: "hashString"
// and "hash-string" become "hash_string", "isUTP" becomes "is_utp".
func snake(s string) string {
	rs := []rune(s)
	var b strings.Builder
	b.Grow(len(s) + 4)
	for i, c := range rs {
		switch {
		case c == '-':
			b.WriteByte('_')
		case unicode.IsUpper(c):
			if i > 0 {
				prev := rs[i-1]
				nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
				if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
					b.WriteByte('_')
				}
			}
			b.WriteRune(unicode.ToLower(c))
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// classicResponse is the classic protocol's answer.
type classicResponse struct {
	Result    string          `json:"result"`
	Arguments any             `json:"arguments"`
	Tag       json.RawMessage `json:"tag,omitempty"`
}

// jsonrpcResponse is a JSON-RPC 2.0 answer.
type jsonrpcResponse struct {
	JSONRPC string          `json:"jsonrpc"`
	Result  any             `json:"result,omitempty"`
	Error   *jsonrpcError   `json:"error,omitempty"`
	ID      json.RawMessage `json:"id"`
}

type jsonrpcError struct {
	Code    int            `json:"code"`
	Message string         `json:"message"`
	Data    map[string]any `json:"data,omitempty"`
}

// answer builds the answer to r from a method's result or error; nil for a
// JSON-RPC notification.
func answer(r *request, result map[string]any, err *rpcError) any {
	if r.jsonrpc {
		if r.id == nil {
			return nil
		}
		resp := jsonrpcResponse{JSONRPC: "2.0", ID: r.id}
		if err != nil {
			msg := codeMessages[err.Code]
			if msg == "" {
				msg = err.Msg
			}
			resp.Error = &jsonrpcError{Code: err.Code, Message: msg, Data: map[string]any{"error_string": err.Msg}}
		} else {
			if result == nil {
				result = map[string]any{}
			}
			resp.Result = result
		}
		return resp
	}
	resp := classicResponse{Result: "success", Arguments: result, Tag: r.tag}
	if err != nil {
		resp.Result = err.Msg
	}
	if resp.Arguments == nil {
		resp.Arguments = map[string]any{}
	}
	return resp
}
