package qbittorrent

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Limits of a request's form.
const (
	// maxFormFiles bounds the file parts of a multipart body.
	maxFormFiles = 100
	// maxFormParts bounds the parts of a multipart body.
	maxFormParts = 200
	// maxFieldBytes bounds one non-file field of a multipart body.
	maxFieldBytes = 1 << 20
)

// form is a request's parameters: the query string, then the url-encoded
// or multipart body; and the file parts of a multipart body.
type form struct {
	values url.Values
	files  []formFile
}

// formFile is one file part of a multipart body.
type formFile struct {
	field, name string
	data        []byte
}

// readForm reads r's parameters, with the body capped at MaxBodyBytes.
func readForm(w http.ResponseWriter, r *http.Request) (*form, error) {
	f := &form{values: url.Values{}}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("bad query string: %w", err)
	}
	for k, vs := range q {
		f.values[k] = vs
	}
	if r.Body == nil || r.Method == http.MethodGet || r.Method == http.MethodHead {
		return f, nil
	}
	body := http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return f, nil
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return nil, fmt.Errorf("bad Content-Type: %w", err)
	}
	switch mt {
	case "application/x-www-form-urlencoded":
		b, err := io.ReadAll(body)
		if err != nil {
			return nil, err
		}
		vs, err := url.ParseQuery(string(b))
		if err != nil {
			return nil, fmt.Errorf("bad form body: %w", err)
		}
		for k, v := range vs {
			f.values[k] = append(f.values[k], v...)
		}
	case "multipart/form-data":
		if err := f.readMultipart(body, params["boundary"]); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// readMultipart reads a multipart body's fields and files into f.
func (f *form) readMultipart(body io.Reader, boundary string) error {
	if boundary == "" {
		return errors.New("multipart body without a boundary")
	}
	mr := multipart.NewReader(body, boundary)
	for parts := 0; ; parts++ {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return err
			}
			return fmt.Errorf("bad multipart body: %w", err)
		}
		if parts >= maxFormParts {
			return fmt.Errorf("more than %d parts in the multipart body", maxFormParts)
		}
		name := p.FormName()
		if p.FileName() != "" {
			if len(f.files) >= maxFormFiles {
				return fmt.Errorf("more than %d files in the multipart body", maxFormFiles)
			}
			data, err := io.ReadAll(p)
			if err != nil {
				return fmt.Errorf("reading file part %q: %w", name, err)
			}
			f.files = append(f.files, formFile{field: name, name: p.FileName(), data: data})
			continue
		}
		data, err := io.ReadAll(io.LimitReader(p, maxFieldBytes+1))
		if err != nil {
			return fmt.Errorf("reading field %q: %w", name, err)
		}
		if len(data) > maxFieldBytes {
			return fmt.Errorf("field %q is longer than %d bytes", name, maxFieldBytes)
		}
		f.values[name] = append(f.values[name], string(data))
	}
}

// get returns the first value of a parameter ("" when absent).
func (f *form) get(key string) string { return f.values.Get(key) }

// has reports whether a parameter is present.
func (f *form) has(key string) bool { return f.values.Has(key) }

// boolean reads a "true"/"false" parameter; absent or unparsable is def.
func (f *form) boolean(key string, def bool) bool {
	v, err := strconv.ParseBool(strings.TrimSpace(f.get(key)))
	if err != nil {
		return def
	}
	return v
}

// integer reads an integer parameter.
func (f *form) integer(key string) (int64, error) {
	v := strings.TrimSpace(f.get(key))
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not an integer", key, truncate(v, 40))
	}
	return n, nil
}

// rateLimit reads the "limit" parameter of the limit setters: bytes per
// second, 0 for none, which qBittorrent also writes as any number below 0.
func (f *form) rateLimit() (int64, error) {
	limit, err := f.integer("limit")
	return max(limit, 0), err
}

// float reads a number parameter.
func (f *form) float(key string) (float64, error) {
	v := strings.TrimSpace(f.get(key))
	n, err := strconv.ParseFloat(v, 64)
	if err != nil || n != n {
		return 0, fmt.Errorf("%s: %q is not a number", key, truncate(v, 40))
	}
	return n, nil
}

// list splits a parameter on sep, dropping empty items and spaces around
// them.
func (f *form) list(key, sep string) []string {
	var out []string
	for _, v := range f.values[key] {
		for _, s := range strings.Split(v, sep) {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
