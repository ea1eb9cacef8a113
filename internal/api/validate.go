package api

import (
	"bytes"
	"encoding/json"
	"errors"
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
		return badRequest("the JSON body must be an object, got %s", jsonKind(raw))
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
// error with a message for the API's user: over the size cap it stays a
// MaxBytesError (413); a field of the wrong type names the field's range
// where the session has one; an unknown field lists the accepted ones;
// everything else is worded by describeJSONError.
func jsonError(err error, v any) error {
	var (
		mbe *http.MaxBytesError
		te  *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &mbe):
		return err
	case errors.As(err, &te) && te.Field != "":
		if want, ok := session.FieldRange(te.Field); ok {
			return badRequest("field %q: want %s, got %s", te.Field, want, jsonValueWord(te.Value))
		}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.TrimPrefix(err.Error(), "json: unknown field ")
		return badRequest("unknown field %s: accepted fields are %s", name, strings.Join(jsonFields(v), ", "))
	}
	return badRequest("%s", describeJSONError(err))
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
