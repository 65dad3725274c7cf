package correlate

import "fmt"

// enum is a small enumeration of the JSON contract, named by its String: VerdictKind,
// SegmentKind, MatchedBy.
type enum interface {
	~uint8
	String() string
}

// enumText is MarshalText for an enum of n values; what names the enum in the error.
func enumText[T enum](v, n T, what string) ([]byte, error) {
	if v >= n {
		return nil, fmt.Errorf("correlate: unknown %s %d", what, uint8(v))
	}
	return []byte(v.String()), nil
}

// enumParse is UnmarshalText for an enum of n values: it sets *p to the value named b, and
// leaves it alone when no value is.
func enumParse[T enum](p *T, b []byte, n T, what string) error {
	for v := T(0); v < n; v++ {
		if v.String() == string(b) {
			*p = v
			return nil
		}
	}
	return fmt.Errorf("correlate: unknown %s %q", what, b)
}
