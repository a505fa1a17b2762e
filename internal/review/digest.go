package review

import (
	"crypto/sha256"
	"encoding/binary"
	"strconv"
	"time"
)

// RequestDigest is DESIGN.md §5's request digest: SHA-256 over a domain tag
// and the length-prefixed request ID, wallet, intent, unsigned transaction,
// sighashes, policy hash and expiry (Unix seconds, decimal).
func RequestDigest(id, wallet string, intent, unsigned []byte, sighashes [][32]byte, policyHash string, expires time.Time) [32]byte {
	h := sha256.New()
	h.Write([]byte("coffer/transfer/v1"))
	lp := func(b []byte) {
		h.Write(binary.BigEndian.AppendUint32(nil, uint32(len(b))))
		h.Write(b)
	}
	lp([]byte(id))
	lp([]byte(wallet))
	lp(intent)
	lp(unsigned)
	var all []byte
	for _, s := range sighashes {
		all = append(all, s[:]...)
	}
	lp(all)
	lp([]byte(policyHash))
	lp([]byte(strconv.FormatInt(expires.Unix(), 10)))
	var d [32]byte
	copy(d[:], h.Sum(nil))
	return d
}
