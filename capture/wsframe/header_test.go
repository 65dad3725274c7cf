package wsframe

import (
	"bytes"
	"errors"
	"testing"
)

func TestParseHeader_Cases(t *testing.T) {
	key := [4]byte{1, 2, 3, 4}
	tests := []struct {
		name    string
		in      []byte
		want    Header
		wantErr error
	}{
		{"empty", nil, Header{}, ErrShort},
		{"one byte", []byte{0x81}, Header{}, ErrShort},
		{"text 7-bit", []byte{0x81, 0x05}, Header{Fin: true, Opcode: 1, Length: 5, Size: 2}, nil},
		{"masked", []byte{0x82, 0x85, 1, 2, 3, 4}, Header{Fin: true, Opcode: 2, Masked: true, Mask: key, Length: 5, Size: 6}, nil},
		{"masked short", []byte{0x82, 0x85, 1, 2, 3}, Header{}, ErrShort},
		{"16-bit", []byte{0x01, 126, 0x01, 0x00}, Header{Opcode: 1, Length: 256, Size: 4}, nil},
		{"16-bit short", []byte{0x01, 126, 0x01}, Header{}, ErrShort},
		{"64-bit masked", []byte{0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4}, Header{Fin: true, Opcode: 2, Masked: true, Mask: key, Length: 65536, Size: 14}, nil},
		{"rsv bits", []byte{0xf1, 0x00}, Header{Fin: true, RSV1: true, RSV2: true, RSV3: true, Opcode: 1, Size: 2}, nil},
		{"close", []byte{0x88, 0x02}, Header{Fin: true, Opcode: 8, Length: 2, Size: 2}, nil},
		{"reserved opcode 3", []byte{0x83, 0x00}, Header{Fin: true, Opcode: 3, Size: 2}, ErrReservedOpcode},
		{"reserved opcode 0xb", []byte{0x8b, 0x00}, Header{Fin: true, Opcode: 0xb, Size: 2}, ErrReservedOpcode},
		{"control too long", []byte{0x89, 126, 0, 126}, Header{Fin: true, Opcode: 9, Length: 126, Size: 4}, ErrControlTooLong},
		{"fragmented control", []byte{0x09, 0x00}, Header{Opcode: 9, Size: 2}, ErrControlFragmented},
		{"64-bit MSB", []byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0}, Header{Fin: true, Opcode: 2, Length: 1 << 63, Size: 10}, ErrLengthMSB},
		{"non-minimal 16", []byte{0x82, 126, 0, 5}, Header{Fin: true, Opcode: 2, Length: 5, Size: 4}, ErrNonMinimalLength},
		{"non-minimal 64", []byte{0x82, 127, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, Header{Fin: true, Opcode: 2, Length: 0xffff, Size: 10}, ErrNonMinimalLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := ParseHeader(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == ErrShort {
				return
			}
			if h != tt.want {
				t.Errorf("got %+v, want %+v", h, tt.want)
			}
		})
	}
}

func TestParseClose_Cases(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		code    uint16
		reason  string
		wantErr error
	}{
		{"empty", nil, 0, "", nil},
		{"one byte", []byte{0x03}, 0, "", ErrCloseLength},
		{"normal", []byte{0x03, 0xe8}, 1000, "", nil},
		{"with reason", append([]byte{0x03, 0xe9}, "bye ✓"...), 1001, "bye ✓", nil},
		{"app code", []byte{0x0f, 0xa0}, 4000, "", nil},
		{"1005 not allowed", []byte{0x03, 0xed}, 1005, "", ErrCloseCode},
		{"999", []byte{0x03, 0xe7}, 999, "", ErrCloseCode},
		{"bad utf8", []byte{0x03, 0xe8, 0xff, 'a'}, 1000, "\ufffda", ErrCloseUTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, reason, err := ParseClose(tt.in)
			if !errors.Is(err, tt.wantErr) || code != tt.code || reason != tt.reason {
				t.Errorf("got (%d, %q, %v), want (%d, %q, %v)", code, reason, err, tt.code, tt.reason, tt.wantErr)
			}
		})
	}
}

func TestMaskBytes_AllPhasesAndLengths(t *testing.T) {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	src := make([]byte, 70)
	for i := range src {
		src[i] = byte(i * 7)
	}
	for phase := 0; phase < 4; phase++ {
		for n := 0; n <= len(src); n++ {
			want := make([]byte, n)
			for i := range want {
				want[i] = src[i] ^ key[(phase+i)%4]
			}
			got := make([]byte, n)
			next := maskBytes(got, src[:n], key, phase)
			if !bytes.Equal(got, want) || next != (phase+n)%4 {
				t.Fatalf("phase %d len %d: got %x next %d", phase, n, got, next)
			}
			inplace := append([]byte(nil), src[:n]...)
			maskBytes(inplace, inplace, key, phase)
			if !bytes.Equal(inplace, want) {
				t.Fatalf("phase %d len %d: in place differs", phase, n)
			}
		}
	}
}
