package tlsdecrypt

import (
	"testing"

	"github.com/wspath/wspath/capture/packet"
)

// FuzzConn feeds arbitrary bytes, chunkings and gaps to a Conn; it must never panic and its
// Info must stay consistent. Seeds are the test captures with their key logs.
func FuzzConn(f *testing.F) {
	for _, cc := range captureCases {
		if cc.keys != "" {
			continue
		}
		streams, _ := readCapture(f, cc.path())
		all := joined(streams[0])
		// The handshake and the first records: large inputs slow the fuzzer down.
		all[0], all[1] = all[0][:min(len(all[0]), 4096)], all[1][:min(len(all[1]), 4096)]
		f.Add(all[0], all[1], readKeys(f, cc.name+".keys"), uint16(1400), uint8(0))
		f.Add(all[0], all[1], readKeys(f, cc.name+".keys"), uint16(7), uint8(3))
	}
	f.Fuzz(func(t *testing.T, client, server, keys []byte, chunk uint16, gapEvery uint8) {
		kl, _ := ParseKeylog(keys)
		col := &collector{}
		c := NewConn(kl, col)
		n := int(chunk)%4096 + 1
		var in [2][]byte = [2][]byte{client, server}
		for step := 0; len(in[0])+len(in[1]) > 0; step++ {
			d := packet.Direction(step % 2)
			k := min(n, len(in[d]))
			c.Feed(d, in[d][:k], packet.Meta{Number: step})
			in[d] = in[d][k:]
			if gapEvery != 0 && step%int(gapEvery) == int(gapEvery)-1 {
				c.Gap(d, uint64(step))
			}
		}
		c.Close()
		i := c.Info()
		if i.Decrypted && i.Reason != "" {
			t.Fatalf("decrypted with reason %q", i.Reason)
		}
		// What Info reports is what the handler received.
		for d := 0; d < 2; d++ {
			if i.PlainBytes[d] != int64(col.plain[d].Len()) || i.Records[d] != len(col.records[d]) {
				t.Fatalf("dir %d: Info says %d plaintext bytes and %d records, the handler got %d and %d",
					d, i.PlainBytes[d], i.Records[d], col.plain[d].Len(), len(col.records[d]))
			}
			if col.calls[d] > i.PlainRecords[d] || i.PlainRecords[d] > i.Records[d] {
				t.Fatalf("dir %d: %d Plaintext calls, %d records decrypted, %d records", d, col.calls[d], i.PlainRecords[d], i.Records[d])
			}
		}
	})
}
