// Package pcapfile reads capture files written by tcpdump, dumpcap, Wireshark and editcap and
// returns their packets as raw link-layer bytes.
//
// It is the first stage of wspath's capture pipeline:
//
//	bytes -> packets (pcapfile) -> TCP segments (tcpdecode) -> streams (tcpstream) -> ...
//
// Both formats are read without cgo: classic pcap (microsecond and nanosecond timestamps, either
// byte order, and the "modified" Kuznetzov variant) and pcapng (several interfaces with different
// link types, per-interface timestamp resolution and offset, enhanced, simple and obsolete packet
// blocks, several sections). Each packet names its Interface (pcapng if_name, numbered across
// sections and, in a Merger, across files by name), so that a host captured on several interfaces
// at once can be read one interface at a time. Either may be gzip-compressed; gzip is recognised
// by its magic bytes, not by the file name. TLS key logs stored in pcapng Decryption Secrets
// Blocks (editcap --inject-secrets) are collected and available from Secrets.
//
// Usage:
//
//	r, err := pcapfile.Open("hop1.pcapng.gz")
//	if err != nil { ... }
//	defer r.Close()
//	for {
//		p, err := r.Next()
//		if err == io.EOF {
//			break
//		}
//		if err != nil { ... } // *Error: file, packet number, offset; errors.Is(err, ErrTruncated)
//		use(p.LinkType, p.Data) // p.Data is reused by the next call to Next
//	}
//
// OpenAll reads several files (tcpdump -C / -G rotation) as one stream ordered by timestamp.
// A Merger can map its files into memory instead of copying them (MapFiles, on Linux), and keep
// the packets' Data valid past the next call for as long as their Buffer is held (KeepData), so
// that another goroutine can read them without a copy.
//
// A Reader or Merger is not safe for concurrent use. Every length read from a file is checked
// against a fixed bound before it is used (MaxCaptureLength for packet data, 16 MiB for any pcapng
// block), and buffers grow only as data actually arrives, so a corrupt or hostile file cannot make
// the reader allocate more than about twice its own size, nor panic.
package pcapfile
