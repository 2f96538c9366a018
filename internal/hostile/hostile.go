// Package hostile makes small hostile inputs for the readers' tests: gzip streams that inflate to
// gigabytes of zeros, and tar entries that declare huge sizes while taking a few hundred bytes.
// Nothing here is used outside tests.
package hostile

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"hash/adler32"
	"strconv"
)

// zeroMember is one gzip member holding memberSize zero bytes (about 1 KB compressed).
const memberSize = 1 << 20

var zeroMember = func() []byte {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	zw.Write(make([]byte, memberSize))
	zw.Close()
	return b.Bytes()
}()

// Gzip returns a gzip stream (concatenated members, which gzip readers read as one stream) that
// inflates to prefix, then zeros zero bytes, then suffix. It is about zeros/1000 bytes long, and
// cheap to make: the zeros are one precompressed member repeated.
func Gzip(prefix []byte, zeros int64, suffix []byte) []byte {
	var b bytes.Buffer
	member := func(data []byte) {
		zw := gzip.NewWriter(&b)
		zw.Write(data)
		zw.Close()
	}
	if len(prefix) > 0 {
		member(prefix)
	}
	for ; zeros >= memberSize; zeros -= memberSize {
		b.Write(zeroMember)
	}
	if zeros > 0 {
		member(make([]byte, zeros))
	}
	if len(suffix) > 0 || b.Len() == 0 {
		member(suffix)
	}
	return b.Bytes()
}

// Block is the size of a tar block.
const Block = 512

// TarHeader returns a ustar header block for an entry of the given name, size and type ('0' for a
// regular file, '2' a symbolic link to link, 'x' a PAX extended header, …).
func TarHeader(name string, size int64, typ byte, link string) []byte {
	h := make([]byte, Block)
	copy(h[0:100], name)
	copy(h[100:108], "0000644\x00")
	copy(h[108:116], "0000000\x00")
	copy(h[116:124], "0000000\x00")
	copy(h[124:136], fmt.Sprintf("%011o\x00", size))
	copy(h[136:148], "14000000000\x00")
	h[156] = typ
	copy(h[157:257], link)
	copy(h[257:265], "ustar\x0000")
	for i := 148; i < 156; i++ {
		h[i] = ' '
	}
	sum := 0
	for _, c := range h {
		sum += int(c)
	}
	copy(h[148:156], fmt.Sprintf("%06o\x00 ", sum))
	return h
}

// pad returns b padded with zeros to a whole number of tar blocks.
func pad(b []byte) []byte {
	if r := len(b) % Block; r != 0 {
		b = append(b, make([]byte, Block-r)...)
	}
	return b
}

// TarFile returns a regular-file entry (header and padded data).
func TarFile(name string, data []byte) []byte {
	return append(TarHeader(name, int64(len(data)), '0', ""), pad(bytes.Clone(data))...)
}

// TarEnd is the end of a tar archive: two zero blocks.
func TarEnd() []byte { return make([]byte, 2*Block) }

// SparseTarFile returns a PAX (GNU sparse format 1.0) entry named name whose declared size is
// realSize and whose content is all holes: it takes three blocks and reads as realSize zero bytes.
func SparseTarFile(name string, realSize int64) []byte {
	var pax []byte
	for _, kv := range [][2]string{{"GNU.sparse.major", "1"}, {"GNU.sparse.minor", "0"},
		{"GNU.sparse.name", name}, {"GNU.sparse.realsize", strconv.FormatInt(realSize, 10)}} {
		rec := " " + kv[0] + "=" + kv[1] + "\n"
		n := len(rec)
		for len(strconv.Itoa(n))+len(rec) != n {
			n = len(strconv.Itoa(n)) + len(rec)
		}
		pax = append(pax, strconv.Itoa(n)+rec...)
	}
	out := TarHeader("PaxHeaders/"+name, int64(len(pax)), 'x', "")
	out = append(out, pad(pax)...)
	sparseMap := pad([]byte("0\n")) // no data segments: the whole file is a hole
	out = append(out, TarHeader(name, int64(len(sparseMap)), '0', "")...)
	return append(out, sparseMap...)
}

// zeroSegment is raw deflate data for memberSize zero bytes ending on a byte boundary (a sync
// flush), which can follow any other such segment: its back-references stay within itself.
var zeroSegment = func() []byte {
	var b bytes.Buffer
	fw, _ := flate.NewWriter(&b, flate.BestCompression)
	fw.Write(make([]byte, memberSize))
	fw.Flush()
	return b.Bytes()
}()

// Zlib returns a zlib stream (RFC 1950) that inflates to prefix followed by zeros zero bytes, with
// a correct Adler-32; like Gzip, it is about zeros/1000 bytes long and cheap to make.
func Zlib(prefix []byte, zeros int64) []byte {
	b := bytes.NewBuffer([]byte{0x78, 0xda})
	fw, _ := flate.NewWriter(b, flate.BestCompression)
	fw.Write(prefix)
	fw.Flush()
	rest := zeros
	for ; rest >= memberSize; rest -= memberSize {
		b.Write(zeroSegment)
	}
	fw, _ = flate.NewWriter(b, flate.BestCompression)
	fw.Write(make([]byte, rest))
	fw.Close()
	const mod = 65521
	sum := adler32.Checksum(prefix)
	a, s := uint64(sum&0xffff), uint64(sum>>16)
	s = (s + uint64(zeros%mod)*a) % mod
	return binary.BigEndian.AppendUint32(b.Bytes(), uint32(s<<16|a))
}
