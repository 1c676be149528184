package intake

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/leadtriage/leadtriage/triage"
)

// ErrUnsupportedMediaType is returned by ParseLead for a body that is neither
// JSON nor a URL-encoded form.
var ErrUnsupportedMediaType = errors.New("unsupported media type")

// ParseLead decodes a lead body of the given Content-Type (application/json
// or application/x-www-form-urlencoded, UTF-8). It checks the shape only;
// triage validates the values. Errors are ErrUnsupportedMediaType or a
// *triage.FieldError naming the field ("" when the body as a whole is wrong).
//
// Known fields are company, name, email, phone, website, message, source,
// founded and employees (matched case-insensitively); every other field is
// kept as an extra. JSON and forms follow one input rule (checkField):
// values are valid UTF-8 without control characters other than tab and line
// breaks; field names are non-empty, valid UTF-8, without control or
// invisible characters or surrounding spaces; and no field is given twice,
// in any spelling of upper and lower case. Which of two values would win is
// a guess, and guessing with sales data is worse than saying no; a
// character the store would silently drop is refused rather than dropped.
func ParseLead(contentType string, body []byte) (triage.LeadInput, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return triage.LeadInput{}, fmt.Errorf("%w: %q", ErrUnsupportedMediaType, truncate(contentType, 60))
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return triage.LeadInput{}, fmt.Errorf("%w: charset %q (only utf-8)", ErrUnsupportedMediaType, truncate(cs, 20))
	}
	switch mt {
	case "application/json":
		return parseJSON(body)
	case "application/x-www-form-urlencoded":
		return parseForm(body)
	default:
		return triage.LeadInput{}, fmt.Errorf("%w: %q", ErrUnsupportedMediaType, truncate(mt, 60))
	}
}

// leadFields collects fields in a LeadInput and rejects repeats.
type leadFields struct {
	in   triage.LeadInput
	seen map[string]bool
}

// fieldOf is the LeadInput field named name (one of triage.Fields), or nil.
func fieldOf(in *triage.LeadInput, name string) *string {
	switch name {
	case "company":
		return &in.Company
	case "name":
		return &in.Name
	case "email":
		return &in.Email
	case "phone":
		return &in.Phone
	case "website":
		return &in.Website
	case "message":
		return &in.Message
	case "source":
		return &in.Source
	case "founded":
		return &in.Founded
	case "employees":
		return &in.Employees
	}
	return nil
}

func (f *leadFields) set(key, value string) error {
	if err := checkField(key, value); err != nil {
		return err
	}
	dst := fieldOf(&f.in, strings.ToLower(key))
	known := dst != nil
	if err := f.once(key); err != nil {
		return err
	}
	if known {
		*dst = value
		return nil
	}
	if f.in.Extra == nil {
		f.in.Extra = map[string]string{}
	}
	f.in.Extra[key] = value
	return nil
}

// once records that key was given and refuses it the second time, in any
// spelling of upper and lower case.
func (f *leadFields) once(key string) error {
	if f.seen == nil {
		f.seen = map[string]bool{}
	}
	name := strings.ToLower(key)
	if f.seen[name] {
		return &triage.FieldError{Field: fieldName(key), Problem: "is given more than once"}
	}
	f.seen[name] = true
	return nil
}

// checkField is the one input rule for a field name and its value, whatever
// the encoding they came in (see ParseLead).
func checkField(key, value string) error {
	switch {
	case key == "":
		return &triage.FieldError{Problem: "a field has no name"}
	case !utf8.ValidString(key):
		return &triage.FieldError{Field: fieldName(key), Problem: "the field name is not valid UTF-8"}
	case strings.TrimSpace(key) != key:
		return &triage.FieldError{Field: fieldName(key), Problem: "the field name has spaces around it"}
	}
	for _, r := range key {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return &triage.FieldError{Field: fieldName(key), Problem: fmt.Sprintf("the field name holds the control or invisible character %U", r)}
		}
	}
	if !utf8.ValidString(value) {
		return &triage.FieldError{Field: fieldName(key), Problem: "is not valid UTF-8"}
	}
	for _, r := range value {
		if unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' {
			return &triage.FieldError{Field: fieldName(key), Problem: fmt.Sprintf("holds the control character %U", r)}
		}
	}
	return nil
}

// fieldName keeps hostile field names from bloating an error answer.
func fieldName(key string) string {
	if !utf8.ValidString(key) {
		key = strings.ToValidUTF8(key, "\uFFFD")
	}
	return truncate(key, triage.MaxExtraKey)
}

func parseJSON(body []byte) (triage.LeadInput, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return triage.LeadInput{}, malformed(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return triage.LeadInput{}, &triage.FieldError{Problem: "the body must be a JSON object"}
	}
	var f leadFields
	for dec.More() {
		from := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return triage.LeadInput{}, malformed(err)
		}
		key, ok := tok.(string)
		if !ok {
			return triage.LeadInput{}, &triage.FieldError{Problem: "malformed JSON: expected a field name"}
		}
		if lossy(body[from:dec.InputOffset()], key) {
			return triage.LeadInput{}, &triage.FieldError{Field: fieldName(key), Problem: "the field name is not valid UTF-8"}
		}
		if err := checkField(key, ""); err != nil { // the name first, as for a form
			return triage.LeadInput{}, err
		}
		from = dec.InputOffset()
		tok, err = dec.Token()
		if err != nil {
			return triage.LeadInput{}, malformed(err)
		}
		if s, ok := tok.(string); ok && lossy(body[from:dec.InputOffset()], s) {
			return triage.LeadInput{}, &triage.FieldError{Field: fieldName(key), Problem: "is not valid UTF-8"}
		}
		var value string
		switch v := tok.(type) {
		case nil:
			// A form tool's empty field: same as absent, but still a
			// field that may not be given twice.
			if err := f.once(key); err != nil {
				return triage.LeadInput{}, err
			}
			continue
		case string:
			value = v
		case json.Number:
			value = v.String()
		case bool:
			switch strings.ToLower(key) {
			case "founded", "employees":
				return triage.LeadInput{}, &triage.FieldError{Field: fieldName(key), Problem: "must be a number or a string, not true/false"}
			}
			value = fmt.Sprint(v)
		case json.Delim:
			return triage.LeadInput{}, &triage.FieldError{Field: fieldName(key), Problem: "must be a string or a number, not a nested object or array"}
		default:
			return triage.LeadInput{}, &triage.FieldError{Field: fieldName(key), Problem: "has an unsupported type"}
		}
		if err := f.set(key, value); err != nil {
			return triage.LeadInput{}, err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return triage.LeadInput{}, malformed(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return triage.LeadInput{}, &triage.FieldError{Problem: "malformed JSON: unexpected data after the object"}
	}
	return f.in, nil
}

// lossy reports whether decoding raw, the JSON text of a string token,
// replaced something with U+FFFD: invalid UTF-8 bytes or an unpaired
// surrogate escape ("\ud800"), which encoding/json decodes silently. A
// U+FFFD the sender wrote itself, literally or as \ufffd, is kept.
func lossy(raw []byte, decoded string) bool {
	if !utf8.Valid(raw) {
		return true
	}
	n := strings.Count(decoded, "\uFFFD")
	if n == 0 {
		return false
	}
	written := bytes.Count(raw, []byte("\uFFFD")) + bytes.Count(bytes.ToLower(raw), []byte(`\ufffd`))
	return n > written
}

func malformed(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &triage.FieldError{Problem: "malformed JSON: unexpected end of the body"}
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &triage.FieldError{Problem: fmt.Sprintf("malformed JSON at byte %d", se.Offset)}
	}
	return &triage.FieldError{Problem: "malformed JSON"}
}

func parseForm(body []byte) (triage.LeadInput, error) {
	var f leadFields
	for part := range strings.SplitSeq(string(body), "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return triage.LeadInput{}, &triage.FieldError{Problem: "malformed form: bad %-escape in a field name"}
		}
		value, err := url.QueryUnescape(v)
		if err != nil {
			return triage.LeadInput{}, &triage.FieldError{Field: fieldName(key), Problem: "malformed form: bad %-escape"}
		}
		if err := f.set(key, value); err != nil {
			return triage.LeadInput{}, err
		}
	}
	return f.in, nil
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
