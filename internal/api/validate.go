package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"

	"github.com/gobit/gobit/internal/session"
)

// decodeJSONBody decodes a request body that must be exactly one JSON object
// into v, a pointer to a struct. Every way a client can get it wrong is a
// 4xx naming the problem: a Content-Type other than application/json (or
// none) is a 415; an empty body, malformed JSON, a value that is not an
// object, a field of the wrong type or out of its type's range, an unknown
// field, or data after the object is a 400. Errors never show Go type names.
func decodeJSONBody(r *http.Request, v any) error {
	mt, _, err := mediaType(r)
	if err != nil {
		return err
	}
	if mt != contentJSON && mt != "" {
		return unsupportedType(mt, contentJSON)
	}
	dec := json.NewDecoder(r.Body)
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return jsonError(err, v)
	}
	if _, err := dec.Token(); err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return badRequest("malformed JSON body: data after the object")
	}
	if raw = bytes.TrimSpace(raw); len(raw) == 0 || raw[0] != '{' {
		return badRequest("JSON body must be an object, got %s", jsonKind(raw))
	}
	strict := json.NewDecoder(bytes.NewReader(raw))
	strict.DisallowUnknownFields()
	if err := strict.Decode(v); err != nil {
		return jsonError(err, v)
	}
	return nil
}

// bodyError classifies an error reading a request body: over the size cap
// it stays a MaxBytesError (413); anything else (a broken chunked encoding,
// a client that went away) is the client's fault, a 400.
func bodyError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return err
	}
	return badRequest("reading the request body: %v", err)
}

// jsonError turns an encoding/json or body-reading error into a request
// error with a message for the API's user.
func jsonError(err error, v any) error {
	var (
		mbe *http.MaxBytesError
		se  *json.SyntaxError
		te  *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &mbe):
		return err
	case errors.Is(err, io.EOF):
		return badRequest("empty body: send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("malformed JSON body: it ends before the object does")
	case errors.As(err, &se):
		return badRequest("malformed JSON body at byte %d: %s", se.Offset, strings.TrimPrefix(se.Error(), "json: "))
	case errors.As(err, &te):
		if te.Field == "" {
			return badRequest("JSON body must be an object, got %s", te.Value)
		}
		want, ok := session.FieldRange(te.Field)
		if !ok {
			want = kindName(te.Type)
		}
		return badRequest("field %q: got %s, want %s", te.Field, te.Value, want)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.TrimPrefix(err.Error(), "json: unknown field ")
		return badRequest("unknown field %s: accepted fields are %s", name, strings.Join(jsonFields(v), ", "))
	default:
		return badRequest("bad JSON body: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
}

// jsonKind names the kind of JSON value raw starts with.
func jsonKind(raw []byte) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

// kindName describes the JSON values a Go type accepts.
func kindName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return fmt.Sprintf("an integer that fits in %d bits", t.Bits())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return fmt.Sprintf("a non-negative integer that fits in %d bits", t.Bits())
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	default:
		return "an object"
	}
}

// jsonFields lists the JSON names of the fields of the struct v points to.
func jsonFields(v any) []string {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		names = append(names, name)
	}
	return names
}
