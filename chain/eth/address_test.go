package eth

import (
	"crypto/ecdsa"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/ethereum/go-ethereum/crypto"
)

// Test vectors: EIP-55, section "Test Cases"
// (https://github.com/ethereum/EIPs/blob/master/EIPS/eip-55.md): addresses
// written in their checksum case (all caps, all lower, and mixed).
var eip55Vectors = []string{
	"0x52908400098527886E0F7030069857D2E4169EE7",
	"0x8617E340B3D01FA5F11F306F4090FD50E238070D",
	"0xde709f2102306220921060314715629080e2fb77",
	"0x27b1fdb04752bbc536007a920d24acb045561c26",
	"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
	"0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
	"0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
	"0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
}

func TestParseAddress(t *testing.T) {
	for _, v := range eip55Vectors {
		t.Run("ok/EIP-55 "+v, func(t *testing.T) {
			a, err := parseAddress("to", v)
			if err != nil || a.Hex() != v {
				t.Fatalf("parseAddress = %s, %v; want %s", a.Hex(), err, v)
			}
			lower, err := parseAddress("to", strings.ToLower(v))
			if err != nil || lower != a {
				t.Fatalf("lower case: %s, %v", lower.Hex(), err)
			}
		})
	}
	tests := []struct {
		name, in string
		want     error
	}{
		{name: "fail/one letter in the wrong case", in: flipCase(eip55Vectors[4]), want: ErrBadChecksum},
		{name: "fail/all caps of a mixed-case address", in: "0x" + strings.ToUpper(eip55Vectors[7][2:]), want: ErrBadChecksum},
		{name: "fail/upper-case 0X prefix", in: "0X" + eip55Vectors[4][2:], want: ErrInvalidAddress},
		{name: "fail/41 digits", in: eip55Vectors[2] + "0", want: ErrInvalidAddress},
		{name: "fail/not hex", in: "0x" + strings.Repeat("g", 40), want: ErrInvalidAddress},
		{name: "fail/empty", in: "", want: ErrMissingField},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := parseAddress("to", tc.in); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestAddressFromPubKey(t *testing.T) {
	key := testKey(t, "coffer/test/eth/address")
	want := crypto.PubkeyToAddress(key.PublicKey).Hex()
	// A tss-lib key comes with btcec's curve rather than go-ethereum's.
	btcKey, _ := btcec.PrivKeyFromBytes(crypto.FromECDSA(key))
	btcPub := btcKey.PubKey().ToECDSA()
	offCurve := &ecdsa.PublicKey{Curve: crypto.S256(), X: big.NewInt(1), Y: big.NewInt(1)}
	tests := []struct {
		name string
		pub  *ecdsa.PublicKey
		err  error
	}{
		{name: "ok/go-ethereum key", pub: &key.PublicKey},
		{name: "ok/btcec key", pub: btcPub},
		{name: "fail/nil", pub: nil, err: ErrInvalidPublicKey},
		{name: "fail/nil coordinates", pub: &ecdsa.PublicKey{Curve: crypto.S256()}, err: ErrInvalidPublicKey},
		{name: "fail/off the curve", pub: offCurve, err: ErrInvalidPublicKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AddressFromPubKey(tc.pub)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil || got != want {
				t.Fatalf("AddressFromPubKey = %s, %v; want %s", got, err, want)
			}
		})
	}
	bytesTests := []struct {
		name string
		pub  []byte
		err  error
	}{
		{name: "ok/compressed", pub: crypto.CompressPubkey(&key.PublicKey)},
		{name: "ok/uncompressed", pub: crypto.FromECDSAPub(&key.PublicKey)},
		{name: "fail/64 bytes", pub: crypto.FromECDSAPub(&key.PublicKey)[1:], err: ErrInvalidPublicKey},
		{name: "fail/compressed off the curve", pub: append([]byte{0x02}, make([]byte, 32)...), err: ErrInvalidPublicKey},
		{name: "fail/empty", err: ErrInvalidPublicKey},
	}
	for _, tc := range bytesTests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AddressFromPubKeyBytes(tc.pub)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil || got != want {
				t.Fatalf("AddressFromPubKeyBytes = %s, %v; want %s", got, err, want)
			}
		})
	}
}

func TestTransferSelector(t *testing.T) {
	if got := crypto.Keccak256([]byte("transfer(address,uint256)"))[:4]; string(got) != transferSelector {
		t.Fatalf("selector %x, want keccak256 prefix %x", []byte(transferSelector), got)
	}
}
