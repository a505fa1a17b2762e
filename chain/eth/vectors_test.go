package eth

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// Test vector: EIP-155, section "Example"
// (https://github.com/ethereum/EIPs/blob/master/EIPS/eip-155.md).
const (
	eip155Key         = "4646464646464646464646464646464646464646464646464646464646464646"
	eip155SigningHash = "daf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53"
	eip155R           = "18515461264373351373200002665853028612451056578545711640558177340181847433846"
	eip155S           = "46948507304638947509940763649030358759909902576025900602547168820602576006531"
	eip155V           = 37 // CHAIN_ID × 2 + 35: recovery ID 0
	eip155Signed      = "f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83"
)

func eip155Tx() *types.Transaction {
	to := common.HexToAddress("0x3535353535353535353535353535353535353535")
	return types.NewTx(&types.LegacyTx{
		Nonce: 9, GasPrice: big.NewInt(20_000_000_000), Gas: 21000, To: &to,
		Value: new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil),
	})
}

func bigDec(t *testing.T, s string) *big.Int {
	t.Helper()
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		t.Fatalf("bad decimal %q", s)
	}
	return v
}

func TestEIP155Vector(t *testing.T) {
	signer := types.NewEIP155Signer(big.NewInt(1))
	tx := eip155Tx()
	if got := hex.EncodeToString(signer.Hash(tx).Bytes()); got != eip155SigningHash {
		t.Fatalf("signing hash %s, want %s", got, eip155SigningHash)
	}
	low := Signature{R: bigDec(t, eip155R), S: bigDec(t, eip155S), V: eip155V - 35 - 2}
	n := crypto.S256().Params().N
	high := Signature{R: low.R, S: new(big.Int).Sub(n, low.S), V: low.V ^ 1}

	for name, sig := range map[string]Signature{"ok/low-S as given": low, "ok/high-S normalized with V flipped": high} {
		t.Run(name, func(t *testing.T) {
			b, err := sig.bytes65()
			if err != nil {
				t.Fatal(err)
			}
			signed, err := tx.WithSignature(signer, b[:])
			if err != nil {
				t.Fatal(err)
			}
			raw, err := signed.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(raw) != eip155Signed {
				t.Fatalf("signed tx %x, want %s", raw, eip155Signed)
			}
			sender, err := types.Sender(signer, signed)
			if err != nil {
				t.Fatal(err)
			}
			key, err := crypto.HexToECDSA(eip155Key)
			if err != nil {
				t.Fatal(err)
			}
			addr, err := AddressFromPubKey(&key.PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			// 0x9d8A…5A4F is the well-known address of the key 0x4646…46.
			if addr != sender.Hex() || addr != "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F" {
				t.Fatalf("AddressFromPubKey = %s, the vector recovers to %s", addr, sender.Hex())
			}
		})
	}

	t.Run("fail/a legacy transaction is not accepted", func(t *testing.T) {
		if _, err := DecodeSummary(mustHex(t, eip155Signed), ""); !errors.Is(err, ErrUnsupportedTxType) {
			t.Fatalf("err = %v, want %v", err, ErrUnsupportedTxType)
		}
	})
}

// Test vector: the EIP-1559 transaction of ethereum/tests
// BlockchainTests/ValidBlocks/bcEIP4844-blobtransactions/blockWithAllTransactionTypes.json,
// as embedded in go-ethereum's core/types/block_test.go (TestEIP4844BlockEncoding).
// Its sender is the ethereum/tests account whose key is eip1559Key.
const (
	eip1559Signed = "02f8670102018203e885e8d4a5100094100000000000000000000000000000000000000a0580c080a0352a7be5002ce111bc5167f3addf97a75e2e0b810d826af71d2caae18aed284ea065d38f8a5c8948ce706842e8861fb21020b93a4d5e489162a0e6d419a457b735"
	eip1559Key    = "45a915e4d060149eb4365960e6a7a45f334393093061116b197e3240065ff2d8"
	eip1559R      = "352a7be5002ce111bc5167f3addf97a75e2e0b810d826af71d2caae18aed284e"
	eip1559S      = "65d38f8a5c8948ce706842e8861fb21020b93a4d5e489162a0e6d419a457b735"
)

func TestEIP1559Vector(t *testing.T) {
	key, err := crypto.HexToECDSA(eip1559Key)
	if err != nil {
		t.Fatal(err)
	}
	from, err := AddressFromPubKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if from != "0xa94f5374Fce5edBC8E2a8697C15331677e6EbF0B" { // the ethereum/tests sender
		t.Fatalf("address of the vector key = %s", from)
	}
	nonce := uint64(2)
	in := Intent{
		Network: Mainnet, ChainID: 1, From: from,
		To: "0x100000000000000000000000000000000000000a", Asset: AssetETH, Amount: big.NewInt(5),
		Nonce: &nonce, GasLimit: 0xe8d4a51000,
		MaxFeePerGas: big.NewInt(1000), MaxPriorityFeePerGas: big.NewInt(1),
		MaxFee: new(big.Int).Mul(big.NewInt(0xe8d4a51000), big.NewInt(1000)),
	}
	u, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := new(big.Int).SetString(eip1559R, 16)
	s, _ := new(big.Int).SetString(eip1559S, 16)
	n := crypto.S256().Params().N
	for name, sig := range map[string]Signature{
		"ok/vector signature":                  {R: r, S: s, V: 0},
		"ok/high-S form normalized, V flipped": {R: r, S: new(big.Int).Sub(n, s), V: 1},
	} {
		t.Run(name, func(t *testing.T) {
			signed, err := u.Attach([]Signature{sig})
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(signed.Raw()) != eip1559Signed {
				t.Fatalf("signed tx %x, want %s", signed.Raw(), eip1559Signed)
			}
			if err := Verify(signed.Raw(), from); err != nil {
				t.Fatal(err)
			}
			got, err := DecodeSummary(mustHex(t, eip1559Signed), "")
			if err != nil {
				t.Fatal(err)
			}
			if got != u.Summary() || got.Source != from || got.Amount != "5" || got.MaxFee != "1000000000000000" || got.Network != Mainnet {
				t.Fatalf("summary %+v, want %+v", got, u.Summary())
			}
		})
	}
	t.Run("ok/our signing hash is the one the vector key signs", func(t *testing.T) {
		h := u.SigningHash()
		sig, err := crypto.Sign(h[:], key)
		if err != nil {
			t.Fatal(err)
		}
		pub, err := crypto.Ecrecover(h[:], sig)
		if err != nil || !bytes.Equal(pub, crypto.FromECDSAPub(&key.PublicKey)) {
			t.Fatalf("recovery from our signing hash failed: %v", err)
		}
		vec := append(append(mustHex(t, eip1559R), mustHex(t, eip1559S)...), 0)
		if !crypto.VerifySignature(crypto.FromECDSAPub(&key.PublicKey), h[:], vec[:64]) {
			t.Fatal("the vector's signature does not verify against our signing hash")
		}
	})
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
