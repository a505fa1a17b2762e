package eth

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"errors"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
)

// testKey derives a deterministic secp256k1 key from a label; it stands in
// for the threshold wallet key.
func testKey(t testing.TB, label string) *ecdsa.PrivateKey {
	t.Helper()
	seed := sha256.Sum256([]byte(label))
	key, err := crypto.ToECDSA(seed[:])
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func addrOf(t testing.TB, key *ecdsa.PrivateKey) string {
	t.Helper()
	a, err := AddressFromPubKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func walletKey(t testing.TB) *ecdsa.PrivateKey { return testKey(t, "coffer/test/eth/wallet") }

func wallet(t testing.TB) string { return addrOf(t, walletKey(t)) }

func recipient(t testing.TB) string { return addrOf(t, testKey(t, "coffer/test/eth/recipient")) }

func tokenAddr(t testing.TB) string { return addrOf(t, testKey(t, "coffer/test/eth/token")) }

func gwei(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(1_000_000_000)) }

// ethIntent is a valid Sepolia transfer of 0.25 ETH.
func ethIntent(t testing.TB) Intent {
	t.Helper()
	nonce := uint64(7)
	return Intent{
		Network: Sepolia, ChainID: 11155111,
		From: wallet(t), To: recipient(t), Asset: AssetETH,
		Amount:   new(big.Int).Mul(big.NewInt(25), big.NewInt(10_000_000_000_000_000)),
		Nonce:    &nonce,
		GasLimit: 21000, MaxFeePerGas: gwei(30), MaxPriorityFeePerGas: gwei(2),
		MaxFee: gwei(1_000_000), // 0.001 ETH
	}
}

// tokenIntent is a valid mainnet ERC-20 transfer of 1 000 000 base units.
func tokenIntent(t testing.TB) Intent {
	t.Helper()
	in := ethIntent(t)
	in.Network, in.ChainID = Mainnet, 1
	in.Asset, in.Token, in.Amount = AssetERC20, tokenAddr(t), big.NewInt(1_000_000)
	in.GasLimit = 65_000
	in.MaxFee = gwei(2_000_000)
	return in
}

// intentJSONMap is ethIntent in its JSON form, as a map tests can edit.
func intentJSONMap(t testing.TB) map[string]any {
	t.Helper()
	in := ethIntent(t)
	return map[string]any{
		"network":                  in.Network,
		"chain_id":                 "11155111",
		"from":                     in.From,
		"to":                       in.To,
		"asset":                    in.Asset,
		"amount":                   in.Amount.String(),
		"nonce":                    "7",
		"gas_limit":                "21000",
		"max_fee_per_gas":          in.MaxFeePerGas.String(),
		"max_priority_fee_per_gas": in.MaxPriorityFeePerGas.String(),
		"max_fee":                  in.MaxFee.String(),
	}
}

// sign signs the signing hash of u with key, as a threshold session would.
func sign(t testing.TB, u *Unsigned, key *ecdsa.PrivateKey) Signature {
	t.Helper()
	h := u.SigningHash()
	b, err := crypto.Sign(h[:], key)
	if err != nil {
		t.Fatal(err)
	}
	s, err := SignatureFromBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func flipS(s Signature) Signature {
	return Signature{R: s.R, S: new(big.Int).Sub(crypto.S256().Params().N, s.S), V: s.V ^ 1}
}

func errorIs(err, target error) bool { return err != nil && errors.Is(err, target) }
