package btc

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
)

// Test vector: BIP-173, section "Examples": the P2WPKH address of the
// public key 0279BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798.
const (
	bip173PubKey  = "0279BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798"
	bip173Mainnet = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
	bip173Testnet = "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx"
	bip173Program = "751e76e8199196d454941c45d1b3a323f1433bd6"
)

func TestP2WPKHAddress(t *testing.T) {
	pub := mustHex(t, bip173PubKey)
	tests := []struct {
		name    string
		pub     []byte
		network string
		want    string // exact address, or the prefix when wantPrefix
		prefix  bool
		err     error
	}{
		{name: "ok/mainnet BIP-173", pub: pub, network: Mainnet, want: bip173Mainnet},
		{name: "ok/testnet BIP-173", pub: pub, network: Testnet, want: bip173Testnet},
		{name: "ok/signet shares the testnet prefix", pub: pub, network: Signet, want: bip173Testnet},
		{name: "ok/regtest", pub: pub, network: Regtest, want: "bcrt1q", prefix: true},
		{name: "fail/unknown network", pub: pub, network: "testnet4", err: ErrUnknownNetwork},
		{name: "fail/empty network", pub: pub, network: "", err: ErrUnknownNetwork},
		{name: "fail/uncompressed key", pub: testKey("x").PubKey().SerializeUncompressed(), network: Mainnet, err: ErrInvalidPublicKey},
		{name: "fail/32 bytes", pub: pub[1:], network: Mainnet, err: ErrInvalidPublicKey},
		{name: "fail/empty key", network: Mainnet, err: ErrInvalidPublicKey},
		{name: "fail/not on the curve", pub: append([]byte{0x02}, mustHex(t, strings.Repeat("ff", 32))...), network: Mainnet, err: ErrInvalidPublicKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := P2WPKHAddress(tc.pub, tc.network)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (tc.prefix && !strings.HasPrefix(got, tc.want)) || (!tc.prefix && got != tc.want) {
				t.Fatalf("address %s, want %s", got, tc.want)
			}
			p, _ := params(tc.network)
			a, err := btcutil.DecodeAddress(got, p)
			if err != nil || !a.IsForNet(p) || hex.EncodeToString(a.ScriptAddress()) != bip173Program {
				t.Fatalf("%s does not decode to program %s on %s: %v", got, bip173Program, tc.network, err)
			}
		})
	}
}

func TestDustThreshold(t *testing.T) {
	// Bitcoin Core's dust limits at the default 3 sat/vB dust relay fee.
	p := &chaincfg.TestNet3Params
	for kind, want := range map[string]int64{"p2wpkh": 294, "p2wsh": 330, "p2tr": 330, "p2pkh": 546, "p2sh": 540} {
		_, script, err := parseAddress(otherAddr(t, kind, p), p)
		if err != nil {
			t.Fatal(err)
		}
		if got := dustThreshold(script); got != want {
			t.Errorf("dust threshold of %s = %d, want %d", kind, got, want)
		}
	}
}

func TestParseAddressTypes(t *testing.T) {
	p := &chaincfg.TestNet3Params
	// btcutil.DecodeAddress reads a hex public key as a P2PK "address".
	rawKey := hex.EncodeToString(testKey("coffer/test/other").PubKey().SerializeCompressed())
	if _, _, err := parseAddress(rawKey, p); !errors.Is(err, ErrUnsupportedAddress) {
		t.Fatalf("err = %v, want %v", err, ErrUnsupportedAddress)
	}
	if _, _, err := parseAddress("tb1", p); !errors.Is(err, ErrInvalidAddress) {
		t.Fatalf("err = %v, want %v", err, ErrInvalidAddress)
	}
}
