package eth

import (
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
)

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeIntent(t *testing.T) {
	maxU256 := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))
	erc20 := func(m map[string]any) {
		m["asset"], m["token"], m["amount"], m["gas_limit"] = AssetERC20, tokenAddr(t), "1000000", "30000"
	}
	tests := []struct {
		name string
		edit func(m map[string]any)
		raw  string
		want error
	}{
		{name: "ok/ether on sepolia", edit: func(map[string]any) {}},
		{name: "ok/erc20", edit: erc20},
		{name: "ok/erc20 amount of 2^256-1", edit: func(m map[string]any) { erc20(m); m["amount"] = maxU256.String() }},
		{name: "ok/nonce zero", edit: func(m map[string]any) { m["nonce"] = "0" }},
		{name: "ok/lower-case addresses", edit: func(m map[string]any) { m["to"] = strings.ToLower(m["to"].(string)) }},
		{name: "ok/mainnet", edit: func(m map[string]any) { m["network"], m["chain_id"] = Mainnet, "1" }},
		{name: "ok/holesky", edit: func(m map[string]any) { m["network"], m["chain_id"] = Holesky, "17000" }},
		{name: "ok/hoodi", edit: func(m map[string]any) { m["network"], m["chain_id"] = Hoodi, "560048" }},
		{name: "ok/dev chain", edit: func(m map[string]any) { m["network"], m["chain_id"] = Dev, "31337" }},
		{name: "ok/fee exactly at the cap", edit: func(m map[string]any) { m["max_fee"] = "630000000000000" }},

		{name: "fail/unknown field", edit: func(m map[string]any) { m["data"] = "0x" }, want: ErrUnknownField},
		{name: "fail/access list field", edit: func(m map[string]any) { m["access_list"] = []any{} }, want: ErrUnknownField},
		{name: "fail/key in another case", edit: func(m map[string]any) { m["Nonce"] = m["nonce"]; delete(m, "nonce") }, want: ErrUnknownField},
		{name: "fail/duplicate key", raw: `{"to":"0x1","to":"0x2"}`, want: ErrDuplicateKey},
		{name: "fail/trailing data", raw: "TRAILING", want: ErrTrailingData},
		{name: "fail/not an object", raw: `"eth"`, want: ErrMalformedIntent},
		{name: "fail/number instead of string", raw: `{"nonce":7}`, want: ErrMalformedIntent},
		{name: "fail/missing chain ID", edit: func(m map[string]any) { delete(m, "chain_id") }, want: ErrMissingChainID},
		{name: "fail/zero chain ID", edit: func(m map[string]any) { m["chain_id"] = "0" }, want: ErrMissingChainID},
		{name: "fail/missing nonce", edit: func(m map[string]any) { delete(m, "nonce") }, want: ErrMissingNonce},
		{name: "fail/nonce above uint64", edit: func(m map[string]any) { m["nonce"] = "18446744073709551616" }, want: ErrAmountOverflow},
		{name: "fail/wrong network for the chain ID", edit: func(m map[string]any) { m["network"] = Mainnet }, want: ErrWrongNetwork},
		{name: "fail/dev with a public chain ID", edit: func(m map[string]any) { m["network"], m["chain_id"] = Dev, "1" }, want: ErrWrongNetwork},
		{name: "fail/unknown network", edit: func(m map[string]any) { m["network"] = "goerli" }, want: ErrUnknownNetwork},
		{name: "fail/zero amount", edit: func(m map[string]any) { m["amount"] = "0" }, want: ErrZeroAmount},
		{name: "fail/zero token amount", edit: func(m map[string]any) { erc20(m); m["amount"] = "0" }, want: ErrZeroAmount},
		{name: "fail/amount of 2^256", edit: func(m map[string]any) { m["amount"] = new(big.Int).Add(maxU256, big.NewInt(1)).String() }, want: ErrAmountOverflow},
		{name: "fail/amount with 79 digits", edit: func(m map[string]any) { m["amount"] = strings.Repeat("1", 79) }, want: ErrAmountOverflow},
		{name: "fail/negative amount", edit: func(m map[string]any) { m["amount"] = "-1" }, want: ErrInvalidAmount},
		{name: "fail/leading zero", edit: func(m map[string]any) { m["amount"] = "0250000000000000000" }, want: ErrInvalidAmount},
		{name: "fail/decimal ether", edit: func(m map[string]any) { m["amount"] = "0.25" }, want: ErrInvalidAmount},
		{name: "fail/hex amount", edit: func(m map[string]any) { m["amount"] = "0x10" }, want: ErrInvalidAmount},
		{name: "fail/missing amount", edit: func(m map[string]any) { delete(m, "amount") }, want: ErrMissingField},
		{name: "fail/fee above the cap", edit: func(m map[string]any) { m["max_fee"] = "629999999999999" }, want: ErrFeeAboveCap},
		{name: "fail/missing fee cap", edit: func(m map[string]any) { delete(m, "max_fee") }, want: ErrMissingField},
		{name: "fail/gas times fee overflows", edit: func(m map[string]any) {
			m["max_fee_per_gas"], m["max_priority_fee_per_gas"], m["max_fee"] = maxU256.String(), "1", maxU256.String()
		}, want: ErrAmountOverflow},
		{name: "fail/tip above fee cap", edit: func(m map[string]any) { m["max_priority_fee_per_gas"] = "30000000001" }, want: ErrTipAboveFeeCap},
		{name: "fail/zero fee cap", edit: func(m map[string]any) { m["max_fee_per_gas"], m["max_priority_fee_per_gas"] = "0", "0" }, want: ErrZeroAmount},
		{name: "fail/gas below 21000", edit: func(m map[string]any) { m["gas_limit"] = "20999" }, want: ErrGasTooLow},
		{name: "fail/missing gas limit", edit: func(m map[string]any) { delete(m, "gas_limit") }, want: ErrMissingField},
		{name: "fail/bad checksum", edit: func(m map[string]any) { m["to"] = flipCase(m["to"].(string)) }, want: ErrBadChecksum},
		{name: "fail/short address", edit: func(m map[string]any) { m["to"] = "0x1234" }, want: ErrInvalidAddress},
		{name: "fail/address without 0x", edit: func(m map[string]any) { m["to"] = m["to"].(string)[2:] }, want: ErrInvalidAddress},
		{name: "fail/zero address", edit: func(m map[string]any) { m["to"] = "0x" + strings.Repeat("0", 40) }, want: ErrInvalidAddress},
		{name: "fail/missing destination", edit: func(m map[string]any) { delete(m, "to") }, want: ErrMissingField},
		{name: "fail/missing wallet", edit: func(m map[string]any) { delete(m, "from") }, want: ErrMissingField},
		{name: "fail/destination is the wallet", edit: func(m map[string]any) { m["to"] = m["from"] }, want: ErrSelfTransfer},
		{name: "fail/unknown asset", edit: func(m map[string]any) { m["asset"] = "USDC" }, want: ErrUnknownAsset},
		{name: "fail/token given for ether", edit: func(m map[string]any) { m["token"] = tokenAddr(t) }, want: ErrUnknownAsset},
		{name: "fail/erc20 without token", edit: func(m map[string]any) { erc20(m); delete(m, "token") }, want: ErrMissingField},
		{name: "fail/erc20 to the token contract", edit: func(m map[string]any) { erc20(m); m["to"] = tokenAddr(t) }, want: ErrInvalidAddress},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var data []byte
			switch tc.raw {
			case "":
				m := intentJSONMap(t)
				tc.edit(m)
				data = mustJSON(t, m)
			case "TRAILING":
				data = append(mustJSON(t, intentJSONMap(t)), "{}"...)
			default:
				data = []byte(tc.raw)
			}
			in, err := DecodeIntent(data)
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("err = %v, want %v", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeIntent: %v", err)
			}
			if _, err := Build(in); err != nil {
				t.Fatalf("Build of a decoded intent: %v", err)
			}
		})
	}
}

// flipCase changes the case of the last letter of a checksummed address.
func flipCase(s string) string {
	b := []byte(s)
	for i := len(b) - 1; i >= 2; i-- {
		switch {
		case b[i] >= 'a' && b[i] <= 'f':
			b[i] -= 'a' - 'A'
			return string(b)
		case b[i] >= 'A' && b[i] <= 'F':
			b[i] += 'a' - 'A'
			return string(b)
		}
	}
	panic("no letter in " + s)
}

func TestDecodeIntentFields(t *testing.T) {
	in, err := DecodeIntent(mustJSON(t, intentJSONMap(t)))
	if err != nil {
		t.Fatal(err)
	}
	want := ethIntent(t)
	if in.Network != want.Network || in.ChainID != want.ChainID || in.From != want.From || in.To != want.To ||
		in.Asset != want.Asset || in.Token != "" || in.Amount.Cmp(want.Amount) != 0 || in.Nonce == nil || *in.Nonce != *want.Nonce ||
		in.GasLimit != want.GasLimit || in.MaxFeePerGas.Cmp(want.MaxFeePerGas) != 0 ||
		in.MaxPriorityFeePerGas.Cmp(want.MaxPriorityFeePerGas) != 0 || in.MaxFee.Cmp(want.MaxFee) != 0 {
		t.Fatalf("decoded %+v, want %+v", in, want)
	}
}

func TestBuildRejectsMissingPointers(t *testing.T) {
	tests := []struct {
		name string
		edit func(in *Intent)
		want error
	}{
		{name: "fail/nil nonce", edit: func(in *Intent) { in.Nonce = nil }, want: ErrMissingNonce},
		{name: "fail/nil amount", edit: func(in *Intent) { in.Amount = nil }, want: ErrMissingField},
		{name: "fail/nil fee cap", edit: func(in *Intent) { in.MaxFee = nil }, want: ErrMissingField},
		{name: "fail/negative tip", edit: func(in *Intent) { in.MaxPriorityFeePerGas = big.NewInt(-1) }, want: ErrInvalidAmount},
		{name: "fail/zero chain ID", edit: func(in *Intent) { in.ChainID = 0 }, want: ErrMissingChainID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := ethIntent(t)
			tc.edit(&in)
			if _, err := Build(in); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}
