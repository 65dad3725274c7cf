package capture

import (
	"reflect"
	"testing"
	"time"
)

// TestMessageStart checks that Message.start sets every field of a used Message as the literal
// it stands for does: a field added to Message and forgotten there fails here.
func TestMessageStart(t *testing.T) {
	var used Message
	fillNonZero(t, reflect.ValueOf(&used).Elem())
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600))
	ref := PacketRef{File: "a.pcap", Number: 7}
	used.start(OpBinary, at, 99, ref, 1234)
	want := Message{Opcode: OpBinary, First: at, Last: at, Frames: 1, Offset: 99, Packet: ref, WireLength: 1234}
	if !reflect.DeepEqual(used, want) {
		t.Fatalf("start left\n%+v\nwant\n%+v", used, want)
	}
}

// fillNonZero sets every field of v, recursively, to a value that is not its zero.
func fillNonZero(t *testing.T, v reflect.Value) {
	t.Helper()
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(time.Unix(5, 6)))
			return
		}
		for i := range v.NumField() {
			if !v.Field(i).CanSet() {
				t.Fatalf("%s.%s: unexported, cannot be checked", v.Type(), v.Type().Field(i).Name)
			}
			fillNonZero(t, v.Field(i))
		}
	case reflect.Array:
		for i := range v.Len() {
			fillNonZero(t, v.Index(i))
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fillNonZero(t, v.Index(0))
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(3)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(3)
	default:
		t.Fatalf("%s: a %s, not filled", v.Type(), v.Kind())
	}
}
