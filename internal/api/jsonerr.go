package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// describeJSONError turns an error from decoding a JSON body into words for
// the person who sent it: the field, what it must be and what it was,
// never the Go type it was to fill (`json: cannot unmarshal string into Go
// struct field AddBody.uri of type session.…` becomes `field "uri": want a
// string, got a number`).
func describeJSONError(err error) string {
	var ute *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &ute):
		want := kindWord(ute.Type)
		got := jsonValueWord(ute.Value)
		if ute.Field == "" {
			return fmt.Sprintf("the JSON body must be %s, got %s", want, got)
		}
		return fmt.Sprintf("field %q: want %s, got %s", ute.Field, want, got)
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON body at byte %d: %s", se.Offset, strings.TrimPrefix(se.Error(), "json: "))
	case errors.Is(err, io.EOF):
		return "empty body: send a JSON object"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "malformed JSON body: it ends in the middle of a value"
	}
	// Anything else (an unknown field, say): keep the message, without
	// the Go type names some of encoding/json's messages end with.
	msg := strings.TrimPrefix(err.Error(), "json: ")
	for _, cut := range []string{" into Go ", " of type "} {
		if i := strings.Index(msg, cut); i >= 0 {
			msg = msg[:i]
		}
	}
	return "invalid JSON body: " + msg
}

// kindWord describes what a JSON value must be to fill a value of type t.
func kindWord(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number, 0 or more"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "a base64 string"
		}
		return "a list"
	case reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "a value"
}

// jsonValueWord describes the JSON value json.UnmarshalTypeError.Value
// names ("string", "number", "number 1e400", "bool", "array", "object").
func jsonValueWord(v string) string {
	switch {
	case v == "string":
		return "a string"
	case v == "bool":
		return "true or false"
	case v == "array":
		return "a list"
	case v == "object":
		return "an object"
	case v == "number":
		return "a number"
	case strings.HasPrefix(v, "number "):
		return strings.TrimPrefix(v, "number ") // out of range, or not whole
	}
	return v
}
