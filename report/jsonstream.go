package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
)

// jsonObject writes a JSON object field by field, byte for byte as encoding/json's Encoder with
// two-space indentation writes the whole value, but marshalling the elements of an array one at a
// time (arrayField): the JSON of a capture with a million connections then never exists in memory
// at once, only the connection being written. Errors are sticky; end returns the first.
type jsonObject struct {
	w     *bufio.Writer
	count int
	err   error
	// buf and enc are reused for every value: json.MarshalIndent would make two new buffers for
	// each of a flood's 100,000 connections.
	buf bytes.Buffer
	enc *json.Encoder
}

func newJSONObject(w io.Writer) *jsonObject {
	o := &jsonObject{w: bufio.NewWriterSize(w, 64<<10)}
	o.raw("{")
	return o
}

func (o *jsonObject) raw(s string) {
	if o.err == nil {
		_, o.err = o.w.WriteString(s)
	}
}

// name starts the next field.
func (o *jsonObject) name(n string) {
	if o.count > 0 {
		o.raw(",")
	}
	o.count++
	key, _ := json.Marshal(n)
	o.raw("\n  " + string(key) + ": ")
}

// marshal writes v indented as it stands at depth levels of nesting.
func (o *jsonObject) marshal(v any, depth int) {
	if o.err != nil {
		return
	}
	if o.enc == nil {
		o.enc = json.NewEncoder(&o.buf)
	}
	// The Encoder writes what MarshalIndent returns, and a newline.
	o.enc.SetIndent(indents[:2*depth], "  ")
	o.buf.Reset()
	if o.err = o.enc.Encode(v); o.err != nil {
		return
	}
	_, o.err = o.w.Write(bytes.TrimSuffix(o.buf.Bytes(), []byte("\n")))
}

// indents holds the prefixes of marshal, two spaces per level.
const indents = "                "

// field writes one field whole.
func (o *jsonObject) field(name string, v any) {
	o.name(name)
	o.marshal(v, 1)
}

// arrayField writes a field whose value is an array of n elements, marshalling elem(i) one at a
// time. A nil array is written as null, as encoding/json writes a nil slice.
func arrayField[T any](o *jsonObject, name string, n int, isNil bool, elem func(i int) T) {
	o.name(name)
	switch {
	case isNil:
		o.raw("null")
		return
	case n == 0:
		o.raw("[]")
		return
	}
	o.raw("[")
	// One element variable for the whole array, marshalled through its pointer (the same bytes):
	// passing each element itself as an any would copy it to the heap, 430 bytes per connection
	// of a flood.
	var v T
	for i := 0; i < n && o.err == nil; i++ {
		if i > 0 {
			o.raw(",")
		}
		o.raw("\n    ")
		v = elem(i)
		o.marshal(&v, 2)
	}
	o.raw("\n  ]")
}

// end closes the object, as the Encoder does with a newline, and flushes.
func (o *jsonObject) end() error {
	o.raw("\n}\n")
	if o.err == nil {
		o.err = o.w.Flush()
	}
	return o.err
}
