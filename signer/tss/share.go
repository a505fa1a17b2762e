package tss

import (
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"math/big"

	"github.com/bnb-chain/tss-lib/v3/ecdsa/keygen"
	tsslib "github.com/bnb-chain/tss-lib/v3/tss"
	"github.com/btcsuite/btcd/btcec/v2"
)

// Share is one party's key share (tss-lib save data). It is secret: it is
// sealed before storage and zeroed after each session.
type Share struct {
	Data keygen.LocalPartySaveData
}

// MarshalShare encodes a share for sealing, into locked memory off the Go
// heap that the caller frees with secmem.Free once it is sealed.
func MarshalShare(s *Share) ([]byte, error) {
	if s == nil || s.Data.Xi == nil || s.Data.ECDSAPub == nil {
		return nil, fmt.Errorf("marshal share: %w", ErrBadShare)
	}
	return marshalShareData(s.Data)
}

// UnmarshalShare decodes a share and checks it belongs to pub (33-byte
// SEC1 compressed).
func UnmarshalShare(b []byte, pub []byte) (*Share, error) {
	var s Share
	if err := json.Unmarshal(b, &s.Data); err != nil {
		// the decoder's message may quote secret digits: keep it out
		return nil, fmt.Errorf("unmarshal share: %w: not a share encoding", ErrBadShare)
	}
	d := &s.Data
	if d.Xi == nil || d.ShareID == nil || d.ECDSAPub == nil || len(d.Ks) == 0 {
		return nil, fmt.Errorf("unmarshal share: %w: incomplete", ErrBadShare)
	}
	n := len(d.Ks)
	if len(d.BigXj) != n || len(d.NTildej) != n || len(d.H1j) != n || len(d.H2j) != n || len(d.PaillierPKs) != n {
		return nil, fmt.Errorf("unmarshal share: %w: per-party lists of different lengths", ErrBadShare)
	}
	for _, k := range d.Ks {
		if k == nil {
			return nil, fmt.Errorf("unmarshal share: %w: empty party key", ErrBadShare)
		}
	}
	if err := s.validatePoints(); err != nil {
		return nil, err
	}
	got, err := CompressedPubKey(s.PublicKey())
	if err != nil || string(got) != string(pub) {
		return nil, fmt.Errorf("unmarshal share: %w: public key mismatch", ErrBadShare)
	}
	return &s, nil
}

func (s *Share) validatePoints() error {
	if !s.Data.ECDSAPub.ValidateBasic() {
		return fmt.Errorf("unmarshal share: %w: public key not on curve", ErrBadShare)
	}
	for _, x := range s.Data.BigXj {
		if !x.ValidateBasic() {
			return fmt.Errorf("unmarshal share: %w: bad BigXj", ErrBadShare)
		}
	}
	return nil
}

// PublicKey is the key's (master) public key.
func (s *Share) PublicKey() *ecdsa.PublicKey {
	return &ecdsa.PublicKey{Curve: tsslib.S256(), X: s.Data.ECDSAPub.X(), Y: s.Data.ECDSAPub.Y()}
}

// Zero overwrites the share's secret integers (Go may keep other copies;
// this is best effort, as DESIGN.md §1.3 says).
func (s *Share) Zero() {
	if s == nil {
		return
	}
	zeroInts(s.Data.Xi, s.Data.P, s.Data.Q, s.Data.Alpha, s.Data.Beta)
	if sk := s.Data.PaillierSK; sk != nil {
		zeroInts(sk.LambdaN, sk.PhiN, sk.P, sk.Q)
	}
}

// ZeroPreParams overwrites pre-parameters' secrets.
func ZeroPreParams(pp *PreParams) {
	if pp == nil {
		return
	}
	zeroInts(pp.P, pp.Q, pp.Alpha, pp.Beta)
	if sk := pp.PaillierSK; sk != nil {
		zeroInts(sk.LambdaN, sk.PhiN, sk.P, sk.Q)
	}
}

// zeroInts clears each integer's words, the whole backing array: SetInt64(0)
// alone only shortens the slice and leaves the secret limbs in memory.
func zeroInts(xs ...*big.Int) {
	for _, x := range xs {
		if x != nil {
			w := x.Bits()
			clear(w[:cap(w)])
			x.SetInt64(0)
		}
	}
}

// CompressedPubKey is the 33-byte SEC1 encoding of a secp256k1 key.
func CompressedPubKey(pub *ecdsa.PublicKey) ([]byte, error) {
	var x, y btcec.FieldVal
	if pub == nil || pub.X == nil || x.SetByteSlice(pub.X.Bytes()) || y.SetByteSlice(pub.Y.Bytes()) {
		return nil, fmt.Errorf("compress public key: %w", ErrBadShare)
	}
	return btcec.NewPublicKey(&x, &y).SerializeCompressed(), nil
}

// ParsePubKey decodes a SEC1 secp256k1 public key.
func ParsePubKey(b []byte) (*ecdsa.PublicKey, error) {
	pk, err := btcec.ParsePubKey(b)
	if err != nil {
		return nil, fmt.Errorf("parse public key: %w", err)
	}
	return pk.ToECDSA(), nil
}

// holds reports whether the share was dealt to every one of parties: tss-lib
// panics on a party key missing from the share, so sessions check first.
func (s *Share) holds(parties []Party) error {
	have := map[string]bool{}
	for _, k := range s.Data.Ks {
		have[keyHex(k.Bytes())] = true
	}
	for _, p := range parties {
		if !have[keyHex(p.Key.Bytes())] {
			return fmt.Errorf("%w: %s holds no part of this share's committee", ErrBadShare, p.Node)
		}
	}
	return nil
}
