package tss

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"math/bits"

	"github.com/bnb-chain/tss-lib/v3/crypto/paillier"
	"github.com/bnb-chain/tss-lib/v3/ecdsa/keygen"
	"github.com/cofferhq/coffer/internal/secmem"
)

// The sealed encodings of shares and pre-parameters are tss-lib's JSON, as
// encoding/json writes it. encoding/json keeps what it encodes in a pooled
// buffer that outlives the call, so the secret integers never go through
// it: the public fields are encoded with the secret ones nil, and each
// secret is written in decimal, word by word, into a buffer of exactly
// the size needed, outside the Go heap and locked into RAM (secmem), which
// the caller frees with secmem.Free after sealing. UnmarshalShare
// and UnmarshalPreParams read both encodings alike (they are the same
// bytes).

// secretField is one top-level secret of the encoded object: its JSON
// name and what to write in place of its null.
type secretField struct {
	name  string
	write func(dst []byte) []byte
	size  int // upper bound of the bytes write appends
}

// encodePublic is encoding/json's Marshal; a test watches what reaches it.
var encodePublic = json.Marshal

// marshalWithSecrets encodes public (whose secret fields are nil) and
// puts each secret field's value where its null is.
func marshalWithSecrets(public any, secrets []secretField) ([]byte, error) {
	pub, err := encodePublic(public)
	if err != nil {
		return nil, err
	}
	size := len(pub)
	for _, f := range secrets {
		size += f.size
	}
	buf, err := secmem.New(size) // locked, off the heap; the caller frees it with secmem.Free
	if err != nil {
		return nil, err
	}
	out := buf[:0] // never grows: no copy of a secret is left behind
	rest := pub
	for _, f := range secrets {
		key := []byte(`"` + f.name + `":null`)
		i := bytes.Index(rest, key)
		if i < 0 || bytes.Contains(rest[i+len(key):], key) {
			secmem.Free(out)
			return nil, fmt.Errorf("encode: field %s is not there exactly once", f.name)
		}
		out = append(out, rest[:i+len(key)-len("null")]...)
		out = f.write(out)
		rest = rest[i+len(key):]
	}
	out = append(out, rest...)
	if cap(out) != size {
		secmem.Free(buf) // out is a heap copy: clear both
		secmem.Free(out)
		return nil, fmt.Errorf("encode: %d bytes for %d", len(out), size)
	}
	return out, nil
}

// decimalSize bounds the decimal digits of x.
func decimalSize(x *big.Int) int { return x.BitLen()*30103/100000 + 2 }

// appendDecimal writes x (not negative) in decimal to dst, through words
// this function owns and clears, with no other copy.
func appendDecimal(dst []byte, x *big.Int) []byte {
	const chunk = 10_000_000_000_000_000_000 // 10^19, the most a uint64 remainder holds
	if x.Sign() == 0 {
		return append(dst, '0')
	}
	words := make([]uint64, len(x.Bits()))
	for i, w := range x.Bits() {
		words[i] = uint64(w)
	}
	rems := make([]uint64, 0, len(words)*2+1)
	defer func() { clear(words); clear(rems[:cap(rems)]) }()
	for top := len(words); top > 0; {
		var r uint64
		for i := top - 1; i >= 0; i-- {
			words[i], r = bits.Div64(r, words[i], chunk)
		}
		rems = append(rems, r)
		for top > 0 && words[top-1] == 0 {
			top--
		}
	}
	for i := len(rems) - 1; i >= 0; i-- {
		n := 19
		if i == len(rems)-1 { // the leading chunk, without leading zeros
			n = 1
			for v := rems[i]; v >= 10; v /= 10 {
				n++
			}
		}
		start := len(dst)
		dst = dst[:start+n]
		for j, v := start+n-1, rems[i]; j >= start; j-- {
			dst[j] = byte('0' + v%10)
			v /= 10
		}
	}
	return dst
}

// intField is a secret integer field (null when nil, as encoding/json).
func intField(name string, x *big.Int) secretField {
	if x == nil {
		return secretField{name: name, write: func(d []byte) []byte { return append(d, "null"...) }, size: 4}
	}
	return secretField{name: name, write: func(d []byte) []byte { return appendDecimal(d, x) }, size: decimalSize(x)}
}

// paillierField is the Paillier private key, as encoding/json writes it:
// {"N":…,"LambdaN":…,"PhiN":…,"P":…,"Q":…}.
func paillierField(sk *paillier.PrivateKey) secretField {
	if sk == nil {
		return secretField{name: "PaillierSK", write: func(d []byte) []byte { return append(d, "null"...) }, size: 4}
	}
	parts := []secretField{intField("N", sk.N), intField("LambdaN", sk.LambdaN), intField("PhiN", sk.PhiN), intField("P", sk.P), intField("Q", sk.Q)}
	size := 2
	for _, p := range parts {
		size += len(p.name) + 4 + p.size
	}
	return secretField{name: "PaillierSK", size: size, write: func(d []byte) []byte {
		d = append(d, '{')
		for i, p := range parts {
			if i > 0 {
				d = append(d, ',')
			}
			d = append(append(append(d, '"'), p.name...), `":`...)
			d = p.write(d)
		}
		return append(d, '}')
	}}
}

// preParamsSecrets clears the secret fields of pp (a copy) and returns
// them as fields to write, in the order encoding/json writes them.
func preParamsSecrets(pp *keygen.LocalPreParams) []secretField {
	out := []secretField{paillierField(pp.PaillierSK), intField("Alpha", pp.Alpha), intField("Beta", pp.Beta),
		intField("P", pp.P), intField("Q", pp.Q)}
	pp.PaillierSK, pp.Alpha, pp.Beta, pp.P, pp.Q = nil, nil, nil, nil, nil
	return out
}

// marshalShareData encodes save data without passing a secret through
// encoding/json.
func marshalShareData(d keygen.LocalPartySaveData) ([]byte, error) {
	public := d // a shallow copy: only its pointers are cleared
	secrets := preParamsSecrets(&public.LocalPreParams)
	secrets = append(secrets, intField("Xi", public.Xi))
	public.Xi = nil
	return marshalWithSecrets(public, secrets)
}

// marshalPreParamsData is marshalShareData for pre-parameters alone.
func marshalPreParamsData(pp keygen.LocalPreParams) ([]byte, error) {
	return marshalWithSecrets(pp, preParamsSecrets(&pp))
}
