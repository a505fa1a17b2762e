package eth

import (
	"bytes"
	"errors"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/holiman/uint256"
)

// dynamicFee returns the fields of a type-2 transaction, signature included.
func dynamicFee(t *testing.T, raw []byte) *types.DynamicFeeTx {
	t.Helper()
	var tx types.Transaction
	if err := tx.UnmarshalBinary(raw); err != nil {
		t.Fatal(err)
	}
	v, r, s := tx.RawSignatureValues()
	return &types.DynamicFeeTx{
		ChainID: tx.ChainId(), Nonce: tx.Nonce(), GasTipCap: tx.GasTipCap(), GasFeeCap: tx.GasFeeCap(),
		Gas: tx.Gas(), To: tx.To(), Value: tx.Value(), Data: tx.Data(), AccessList: tx.AccessList(),
		V: v, R: r, S: s,
	}
}

func encode(t *testing.T, inner types.TxData) []byte {
	t.Helper()
	raw, err := types.NewTx(inner).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestTamperedTransaction changes a signed transaction's bytes after its
// summary was made: the summary must change and Verify must fail.
func TestTamperedTransaction(t *testing.T) {
	other := common.HexToAddress(addrOf(t, testKey(t, "coffer/test/eth/attacker")))
	tests := []struct {
		name   string
		intent func(t testing.TB) Intent
		edit   func(tx *types.DynamicFeeTx)
	}{
		{name: "fail/destination", intent: ethIntent, edit: func(tx *types.DynamicFeeTx) { tx.To = &other }},
		{name: "fail/amount", intent: ethIntent, edit: func(tx *types.DynamicFeeTx) { tx.Value = new(big.Int).Add(tx.Value, big.NewInt(1)) }},
		{name: "fail/fee", intent: ethIntent, edit: func(tx *types.DynamicFeeTx) { tx.GasFeeCap = new(big.Int).Mul(tx.GasFeeCap, big.NewInt(10)) }},
		{name: "fail/gas", intent: ethIntent, edit: func(tx *types.DynamicFeeTx) { tx.Gas++ }},
		{name: "fail/nonce", intent: ethIntent, edit: func(tx *types.DynamicFeeTx) { tx.Nonce++ }},
		{name: "fail/chain id", intent: ethIntent, edit: func(tx *types.DynamicFeeTx) { tx.ChainID = big.NewInt(1) }},
		{name: "fail/calldata recipient", intent: tokenIntent, edit: func(tx *types.DynamicFeeTx) { copy(tx.Data[4+12:], other[:]) }},
		{name: "fail/calldata amount", intent: tokenIntent, edit: func(tx *types.DynamicFeeTx) { tx.Data[len(tx.Data)-1]++ }},
		{name: "fail/token contract", intent: tokenIntent, edit: func(tx *types.DynamicFeeTx) { tx.To = &other }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.intent(t)
			u, err := Build(in)
			if err != nil {
				t.Fatal(err)
			}
			s, err := u.Attach([]Signature{sign(t, u, walletKey(t))})
			if err != nil {
				t.Fatal(err)
			}
			approved := s.Summary()
			inner := dynamicFee(t, s.Raw())
			inner.Data = bytes.Clone(inner.Data)
			tc.edit(inner)
			raw := encode(t, inner)

			got, err := DecodeSummary(raw, "")
			if err != nil {
				t.Fatalf("DecodeSummary: %v", err)
			}
			if got == approved {
				t.Fatal("tampered transaction has the approved summary")
			}
			if err := MatchIntent(in, got); !errors.Is(err, ErrSummaryMismatch) {
				t.Fatalf("MatchIntent: %v, want %v", err, ErrSummaryMismatch)
			}
			if err := Verify(raw, in.From); !errors.Is(err, ErrSenderMismatch) {
				t.Fatalf("Verify: %v, want %v", err, ErrSenderMismatch)
			}

			// The same edit on the unsigned bytes shows in the summary the
			// officers see, with the field named.
			unsigned := dynamicFee(t, u.Raw())
			unsigned.Data = bytes.Clone(unsigned.Data)
			tc.edit(unsigned)
			sum, err := DecodeSummary(encode(t, unsigned), in.From)
			if err != nil {
				t.Fatalf("DecodeSummary of unsigned: %v", err)
			}
			var me *MismatchError
			if err := MatchIntent(in, sum); !errors.As(err, &me) || me.Field == "source" {
				t.Fatalf("MatchIntent of unsigned: %v, want a mismatch of a transaction field", err)
			}
		})
	}
}

// TestDecodeSummaryRejects covers transactions this package must not accept.
func TestDecodeSummaryRejects(t *testing.T) {
	key := walletKey(t)
	u, err := Build(tokenIntent(t))
	if err != nil {
		t.Fatal(err)
	}
	to, chainID := common.HexToAddress(recipient(t)), big.NewInt(1)
	signed := func(inner types.TxData) []byte {
		tx, err := types.SignNewTx(key, types.LatestSignerForChainID(chainID), inner)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := tx.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	base := func(edit func(tx *types.DynamicFeeTx)) []byte {
		inner := dynamicFee(t, u.Raw())
		inner.Data = bytes.Clone(inner.Data)
		edit(inner)
		return signed(inner)
	}
	withData := func(data []byte) []byte { return base(func(tx *types.DynamicFeeTx) { tx.Data = data }) }
	transfer := transferCalldata(to, big.NewInt(5))
	tests := []struct {
		name   string
		raw    []byte
		wallet string
		want   error
	}{
		{name: "ok/erc20 transfer", raw: base(func(*types.DynamicFeeTx) {})},
		{name: "ok/unsigned with the wallet", raw: u.Raw(), wallet: wallet(t)},
		{name: "fail/unsigned without a wallet", raw: u.Raw(), want: ErrMissingField},
		{name: "fail/legacy", raw: signed(&types.LegacyTx{Nonce: 1, GasPrice: big.NewInt(1), Gas: 21000, To: &to, Value: big.NewInt(1)}), want: ErrUnsupportedTxType},
		{name: "fail/access list type 1", raw: signed(&types.AccessListTx{ChainID: chainID, Gas: 21000, GasPrice: big.NewInt(1), To: &to, Value: big.NewInt(1)}), want: ErrUnsupportedTxType},
		{name: "fail/blob type 3", raw: signed(&types.BlobTx{ChainID: uint256.NewInt(1), Gas: 21000, GasFeeCap: uint256.NewInt(1), To: to, Value: uint256.NewInt(1), BlobFeeCap: uint256.NewInt(1), BlobHashes: []common.Hash{{1}}}), want: ErrUnsupportedTxType},
		{name: "fail/set code type 4", raw: signed(&types.SetCodeTx{ChainID: uint256.NewInt(1), Gas: 21000, GasFeeCap: uint256.NewInt(1), To: to, Value: uint256.NewInt(1), AuthList: []types.SetCodeAuthorization{{}}}), want: ErrUnsupportedTxType},
		{name: "fail/contract creation", raw: base(func(tx *types.DynamicFeeTx) { tx.To = nil }), want: ErrContractCreation},
		{name: "fail/access list", raw: base(func(tx *types.DynamicFeeTx) { tx.AccessList = types.AccessList{{Address: to}} }), want: ErrAccessList},
		{name: "fail/approve calldata", raw: withData(append([]byte{0x09, 0x5e, 0xa7, 0xb3}, transfer[4:]...)), want: ErrUnexpectedCalldata},
		{name: "fail/transfer with a trailing byte", raw: withData(append(bytes.Clone(transfer), 0)), want: ErrUnexpectedCalldata},
		{name: "fail/transfer with dirty address padding", raw: withData(func() []byte { d := bytes.Clone(transfer); d[4] = 1; return d }()), want: ErrUnexpectedCalldata},
		{name: "fail/bare selector", raw: withData(transfer[:4]), want: ErrUnexpectedCalldata},
		{name: "fail/erc20 transfer carrying ether", raw: base(func(tx *types.DynamicFeeTx) { tx.Value = big.NewInt(1) }), want: ErrUnexpectedValue},
		{name: "fail/zero token amount", raw: withData(transferCalldata(to, big.NewInt(0))), want: ErrZeroAmount},
		{name: "fail/zero ether", raw: withData(nil), want: ErrZeroAmount},
		{name: "fail/gas below 21000", raw: base(func(tx *types.DynamicFeeTx) { tx.Gas = 20_999 }), want: ErrGasTooLow},
		{name: "fail/tip above fee cap", raw: base(func(tx *types.DynamicFeeTx) { tx.GasTipCap = new(big.Int).Add(tx.GasFeeCap, big.NewInt(1)) }), want: ErrTipAboveFeeCap},
		{name: "fail/payment to self", raw: withData(transferCalldata(common.HexToAddress(wallet(t)), big.NewInt(5))), want: ErrSelfTransfer},
		{name: "fail/high S", raw: func() []byte {
			inner := dynamicFee(t, base(func(*types.DynamicFeeTx) {}))
			inner.S = new(big.Int).Sub(crypto.S256().Params().N, inner.S)
			inner.V = new(big.Int).Xor(inner.V, big.NewInt(1))
			return encode(t, inner)
		}(), want: ErrInvalidSignature},
		{name: "fail/chain ID zero (the library's signer panics on it)", raw: func() []byte {
			inner := dynamicFee(t, base(func(*types.DynamicFeeTx) {}))
			inner.ChainID = new(big.Int)
			return encode(t, inner)
		}(), want: ErrMissingChainID},
		{name: "fail/trailing byte", raw: append(bytes.Clone(u.Raw()), 0), wallet: wallet(t), want: ErrMalformedTx},
		{name: "fail/truncated", raw: u.Raw()[:len(u.Raw())-1], wallet: wallet(t), want: ErrMalformedTx},
		{name: "fail/type byte only", raw: []byte{2}, wallet: wallet(t), want: ErrMalformedTx},
		{name: "fail/too large", raw: append([]byte{2}, make([]byte, MaxTxSize)...), wallet: wallet(t), want: ErrMalformedTx},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeSummary(tc.raw, tc.wallet)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}
