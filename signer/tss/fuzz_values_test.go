package tss

import (
	"crypto/sha256"
	"fmt"
	"math/big"
	"strings"

	"github.com/bnb-chain/tss-lib/v3/ecdsa/keygen"
	"github.com/bnb-chain/tss-lib/v3/ecdsa/resharing"
	"github.com/bnb-chain/tss-lib/v3/ecdsa/signing"
	tsslib "github.com/bnb-chain/tss-lib/v3/tss"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// The hostile-peer harness (fuzz_test.go) mutates one field of one round
// message of one party. This file holds what it mutates: the round
// messages of each protocol, their fields found by protobuf reflection,
// and the hostile values.

// fuzzProtocols lists every round message tss-lib v3 sends, in round
// order, for each protocol the harness runs, and the hostile node. In
// resharing it is n1, party 0 of both committees: the new parties take
// the SSID and the public key from old party 0.
var fuzzProtocols = []struct {
	name    string
	hostile string
	msgs    []proto.Message
}{
	{"keygen", "n3", []proto.Message{
		&keygen.KGRound1Message{}, &keygen.KGRound2Message1{}, &keygen.KGRound2Message2{}, &keygen.KGRound3Message{},
	}},
	{"sign", "n3", []proto.Message{
		&signing.SignRound1Message1{}, &signing.SignRound1Message2{}, &signing.SignRound2Message{},
		&signing.SignRound3Message{}, &signing.SignRound4Message{}, &signing.SignRound5Message{},
		&signing.SignRound6Message{}, &signing.SignRound7Message{}, &signing.SignRound8Message{},
		&signing.SignRound9Message{},
	}},
	{"reshare", "n1", []proto.Message{
		&resharing.DGRound1Message{}, &resharing.DGRound2Message1{}, &resharing.DGRound2Message2{},
		&resharing.DGRound3Message1{}, &resharing.DGRound3Message2{}, &resharing.DGRound4Message1{},
		&resharing.DGRound4Message2{},
	}},
}

func fuzzHostileOf(p string) string {
	for _, fp := range fuzzProtocols {
		if fp.name == p {
			return fp.hostile
		}
	}
	panic("unknown protocol " + p)
}

// fuzzValues are the hostile values put in a bytes field, or in one
// element of a repeated bytes field. The first, plus1, is the one a
// structural check cannot refuse: only the proof it breaks can.
var fuzzValues = []string{
	"plus1",  // the honest value + 1
	"zero",   // 0x00
	"one",    // 0x01
	"empty",  // no bytes
	"neg64",  // 0xff×8: -1 to big.Int.Int64, as length prefixes are read
	"min64",  // 0x80 00×7: math.MinInt64 to big.Int.Int64
	"N",      // the sender's Paillier modulus
	"N+1",    // even
	"N^2",    // the Paillier ciphertext modulus
	"q",      // the secp256k1 group order
	"p",      // the secp256k1 field prime
	"2^4096", // far above every modulus
	"rand",   // 32 random bytes: off the curve as a coordinate
	"trunc",  // the honest value less its last byte
	"huge",   // a blob filling the message up to just under MaxPayload
	"G",      // a point field pair (…_x, …_y) set to the generator: on the curve, not the honest point
}

// fuzzListValues change the number of elements of a repeated field.
var fuzzListValues = []string{
	"none",  // no elements
	"drop",  // the last element removed
	"extra", // the last element repeated once more
	"many",  // 4096 extra elements
}

// fuzzPositions are the elements of a repeated field a value goes to.
// A proof's elements have fixed meanings, so the long mode tries every
// element of a list of up to 16, and the edges of the halves of a longer
// one (a DLN proof's length prefixes are elements 0 and 129 of 258, with
// its α and t values between; a modulus proof's W, x…, a, b, z… are 0,
// 1–80, 81, 82, 83–162).
var fuzzPositions = []string{"first", "mid", "last"}

func fuzzLongPositions() []string {
	out := []string{"first"}
	for i := 1; i < 16; i++ {
		out = append(out, fmt.Sprintf("i%d", i))
	}
	return append(out, "mid-1", "mid", "mid+1", "last")
}

// position is the index pos names in a list of n, or -1.
func position(pos string, n int) int {
	i := -1
	switch pos {
	case "first":
		i = 0
	case "mid-1":
		i = n/2 - 1
	case "mid":
		i = n / 2
	case "mid+1":
		i = n/2 + 1
	case "last":
		i = n - 1
	default:
		if _, err := fmt.Sscanf(pos, "i%d", &i); err != nil {
			panic("unknown position " + pos)
		}
		if n > 16 {
			return -1 // a long list's edges are enough
		}
	}
	if i >= n {
		return -1
	}
	return i
}

var (
	secpQ = tsslib.S256().Params().N
	secpP = tsslib.S256().Params().P
)

// valueCtx is what a hostile value may depend on.
type valueCtx struct {
	n    *big.Int // the sender's Paillier modulus
	room int      // bytes the message may grow by and stay under MaxPayload
	seed string   // for rand
	// positions: the mode's list; a position that names the same element
	// as one before it does not apply
	positions []string
}

// hostileValue returns the value named v given the honest value orig, and
// false when v means nothing for it (trunc of an empty value).
func hostileValue(v string, orig []byte, vc valueCtx) ([]byte, bool) {
	switch v {
	case "plus1":
		return new(big.Int).Add(new(big.Int).SetBytes(orig), big.NewInt(1)).Bytes(), true
	case "zero":
		return []byte{0}, true
	case "one":
		return []byte{1}, true
	case "empty":
		return []byte{}, true
	case "neg64":
		return []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, true
	case "min64":
		return []byte{0x80, 0, 0, 0, 0, 0, 0, 0}, true
	case "N":
		return vc.n.Bytes(), true
	case "N+1":
		return new(big.Int).Add(vc.n, big.NewInt(1)).Bytes(), true
	case "N^2":
		return new(big.Int).Mul(vc.n, vc.n).Bytes(), true
	case "q":
		return secpQ.Bytes(), true
	case "p":
		return secpP.Bytes(), true
	case "2^4096":
		return new(big.Int).Lsh(big.NewInt(1), 4096).Bytes(), true
	case "rand":
		h := sha256.Sum256([]byte("coffer/fuzz/rand\x00" + vc.seed))
		return h[:], true
	case "trunc":
		if len(orig) == 0 {
			return nil, false
		}
		return append([]byte(nil), orig[:len(orig)-1]...), true
	case "huge":
		if vc.room < 1024 {
			return nil, false
		}
		b := make([]byte, vc.room)
		for i := range b {
			b[i] = 0xff
		}
		return b, true
	}
	panic("unknown hostile value " + v)
}

// fuzzFields lists the bytes and repeated-bytes fields of m.
func fuzzFields(m proto.Message) []protoreflect.FieldDescriptor {
	fds := m.ProtoReflect().Descriptor().Fields()
	var out []protoreflect.FieldDescriptor
	for i := range fds.Len() {
		fd := fds.Get(i)
		if fd.Kind() != protoreflect.BytesKind {
			panic(fmt.Sprintf("%s.%s is %v: the harness mutates bytes fields only", m.ProtoReflect().Descriptor().Name(), fd.Name(), fd.Kind()))
		}
		out = append(out, fd)
	}
	return out
}

func msgName(m proto.Message) string { return string(m.ProtoReflect().Descriptor().Name()) }

// mutate applies c to m, and reports false when c does not apply to this
// message (a position in an empty list, trunc of an empty value).
func mutate(m proto.Message, c fuzzCase, vc valueCtx) bool {
	r := m.ProtoReflect()
	fd := r.Descriptor().Fields().ByName(protoreflect.Name(c.Field))
	if fd == nil {
		return false
	}
	if c.Value == "G" {
		return setGenerator(r, fd)
	}
	if !fd.IsList() {
		v, ok := hostileValue(c.Value, r.Get(fd).Bytes(), vc)
		if !ok {
			return false
		}
		r.Set(fd, protoreflect.ValueOfBytes(v))
		return true
	}
	list := r.Mutable(fd).List()
	n := list.Len()
	if c.Elem == "list" {
		return mutateList(r, fd, list, c.Value)
	}
	i := position(c.Elem, n)
	if i < 0 {
		return false
	}
	for _, p := range vc.positions {
		if p == c.Elem {
			break
		}
		if position(p, n) == i {
			return false
		}
	}
	v, ok := hostileValue(c.Value, list.Get(i).Bytes(), vc)
	if !ok {
		return false
	}
	list.Set(i, protoreflect.ValueOfBytes(v))
	return true
}

// setGenerator sets the point whose x is fd (a field named …_x beside a
// …_y) to the generator.
func setGenerator(r protoreflect.Message, fd protoreflect.FieldDescriptor) bool {
	name := string(fd.Name())
	if fd.IsList() || !strings.HasSuffix(name, "_x") {
		return false
	}
	fy := r.Descriptor().Fields().ByName(protoreflect.Name(strings.TrimSuffix(name, "_x") + "_y"))
	if fy == nil {
		return false
	}
	params := tsslib.S256().Params()
	r.Set(fd, protoreflect.ValueOfBytes(params.Gx.Bytes()))
	r.Set(fy, protoreflect.ValueOfBytes(params.Gy.Bytes()))
	return true
}

func mutateList(r protoreflect.Message, fd protoreflect.FieldDescriptor, list protoreflect.List, v string) bool {
	n := list.Len()
	switch v {
	case "none":
		if n == 0 {
			return false
		}
		r.Clear(fd)
	case "drop":
		if n == 0 {
			return false
		}
		list.Truncate(n - 1)
	case "extra":
		if n == 0 {
			return false
		}
		list.Append(protoreflect.ValueOfBytes(append([]byte(nil), list.Get(n-1).Bytes()...)))
	case "many":
		for range 4096 {
			list.Append(protoreflect.ValueOfBytes([]byte{1}))
		}
	default:
		panic("unknown list value " + v)
	}
	return true
}

// encodeContent re-encodes content as tss-lib puts it on the wire.
func encodeContent(from *tsslib.PartyID, broadcast bool, content tsslib.MessageContent) ([]byte, error) {
	routing := tsslib.MessageRouting{From: from, IsBroadcast: broadcast}
	wire, _, err := tsslib.NewMessage(routing, content, tsslib.NewMessageWrapper(routing, content)).WireBytes()
	return wire, err
}
