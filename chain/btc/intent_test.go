package btc

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/chaincfg"
)

func TestDecodeIntent(t *testing.T) {
	testnet, mainnet := &chaincfg.TestNet3Params, &chaincfg.MainNetParams
	utxo := func(m map[string]any, i int) map[string]any { return m["utxos"].([]any)[i].(map[string]any) }
	tests := []struct {
		name string
		edit func(m map[string]any)
		raw  string // used instead of the edited map when set
		want error  // nil for ok/
	}{
		{name: "ok/fee rate with change", edit: func(map[string]any) {}},
		{name: "ok/absolute fee with change", edit: func(m map[string]any) { delete(m, "fee_rate"); m["fee"] = "2000" }},
		{name: "ok/absolute fee spending everything", edit: func(m map[string]any) { delete(m, "fee_rate"); m["fee"] = "30000"; m["max_fee"] = "30000" }},
		{name: "ok/fractional fee rate", edit: func(m map[string]any) { m["fee_rate"] = "1.125" }},
		{name: "ok/single input", edit: func(m map[string]any) { m["utxos"] = m["utxos"].([]any)[:1]; m["amount"] = "90000" }},
		{name: "ok/p2pkh destination", edit: func(m map[string]any) { m["destination"] = otherAddr(t, "p2pkh", testnet) }},
		{name: "ok/p2sh destination", edit: func(m map[string]any) { m["destination"] = otherAddr(t, "p2sh", testnet) }},
		{name: "ok/p2wsh destination", edit: func(m map[string]any) { m["destination"] = otherAddr(t, "p2wsh", testnet) }},
		{name: "ok/p2tr destination", edit: func(m map[string]any) { m["destination"] = otherAddr(t, "p2tr", testnet) }},
		{name: "ok/upper-case bech32 destination", edit: func(m map[string]any) { m["destination"] = strings.ToUpper(m["destination"].(string)) }},
		{name: "ok/amount exactly at the dust threshold", edit: func(m map[string]any) { m["amount"] = "294" }},
		{name: "ok/regtest", edit: func(m map[string]any) {
			m["network"] = Regtest
			m["destination"] = otherAddr(t, "p2wpkh", &chaincfg.RegressionNetParams)
		}},
		{name: "ok/signet", edit: func(m map[string]any) { m["network"] = Signet }},
		{name: "ok/mainnet", edit: func(m map[string]any) { m["network"] = Mainnet; m["destination"] = otherAddr(t, "p2tr", mainnet) }},

		{name: "fail/unknown field", edit: func(m map[string]any) { m["memo"] = "x" }, want: ErrUnknownField},
		{name: "fail/unknown field in a utxo", edit: func(m map[string]any) { utxo(m, 0)["height"] = "1" }, want: ErrUnknownField},
		{name: "fail/key in another case", edit: func(m map[string]any) { m["Amount"] = m["amount"]; delete(m, "amount") }, want: ErrUnknownField},
		{name: "fail/duplicate key", raw: `{"network":"testnet","network":"mainnet"}`, want: ErrDuplicateKey},
		{name: "fail/trailing data", raw: "TRAILING", want: ErrTrailingData},
		{name: "fail/second object", raw: "SECOND", want: ErrTrailingData},
		{name: "fail/not an object", raw: `["testnet"]`, want: ErrMalformedIntent},
		{name: "fail/not JSON", raw: `{"network":`, want: ErrMalformedIntent},
		{name: "fail/number instead of string", raw: `{"amount":120000}`, want: ErrMalformedIntent},
		{name: "fail/unknown network", edit: func(m map[string]any) { m["network"] = "testnet4" }, want: ErrUnknownNetwork},
		{name: "fail/wrong network address", edit: func(m map[string]any) { m["destination"] = otherAddr(t, "p2wpkh", mainnet) }, want: ErrWrongNetwork},
		{name: "fail/wrong network base58 address", edit: func(m map[string]any) { m["destination"] = otherAddr(t, "p2pkh", mainnet) }, want: ErrWrongNetwork},
		{name: "fail/invalid address checksum", edit: func(m map[string]any) {
			d, last := m["destination"].(string), "q"
			if strings.HasSuffix(d, "q") {
				last = "p"
			}
			m["destination"] = d[:len(d)-1] + last
		}, want: ErrInvalidAddress},
		{name: "fail/missing destination", edit: func(m map[string]any) { delete(m, "destination") }, want: ErrMissingField},
		{name: "fail/destination is the wallet", edit: func(m map[string]any) {
			a, _ := P2WPKHAddress(walletPub(), Testnet)
			m["destination"] = a
		}, want: ErrSelfTransfer},
		{name: "fail/zero amount", edit: func(m map[string]any) { m["amount"] = "0" }, want: ErrZeroAmount},
		{name: "fail/dust amount", edit: func(m map[string]any) { m["amount"] = "293" }, want: ErrDustAmount},
		{name: "fail/dust amount to p2pkh", edit: func(m map[string]any) {
			m["destination"] = otherAddr(t, "p2pkh", testnet)
			m["amount"] = "545"
		}, want: ErrDustAmount},
		{name: "fail/amount above 21 million BTC", edit: func(m map[string]any) { m["amount"] = "2100000000000001" }, want: ErrAmountOverflow},
		{name: "fail/amount above uint64", edit: func(m map[string]any) { m["amount"] = "18446744073709551616" }, want: ErrAmountOverflow},
		{name: "fail/amount with many digits", edit: func(m map[string]any) { m["amount"] = strings.Repeat("9", 40) }, want: ErrAmountOverflow},
		{name: "fail/utxo amounts overflow", edit: func(m map[string]any) {
			utxo(m, 0)["amount"] = "2100000000000000"
			utxo(m, 1)["amount"] = "2100000000000000"
		}, want: ErrAmountOverflow},
		{name: "fail/negative amount", edit: func(m map[string]any) { m["amount"] = "-120000" }, want: ErrInvalidAmount},
		{name: "fail/leading zero amount", edit: func(m map[string]any) { m["amount"] = "0120000" }, want: ErrInvalidAmount},
		{name: "fail/decimal amount", edit: func(m map[string]any) { m["amount"] = "120000.0" }, want: ErrInvalidAmount},
		{name: "fail/exponent amount", edit: func(m map[string]any) { m["amount"] = "12e4" }, want: ErrInvalidAmount},
		{name: "fail/missing amount", edit: func(m map[string]any) { delete(m, "amount") }, want: ErrMissingField},
		{name: "fail/duplicate inputs", edit: func(m map[string]any) { utxo(m, 1)["outpoint"] = utxo(m, 0)["outpoint"] }, want: ErrDuplicateInput},
		{name: "fail/no inputs", edit: func(m map[string]any) { m["utxos"] = []any{} }, want: ErrNoInputs},
		{name: "fail/foreign input", edit: func(m map[string]any) {
			utxo(m, 1)["pk_script"] = "0014" + strings.Repeat("ab", 20)
		}, want: ErrForeignInput},
		{name: "fail/malformed outpoint", edit: func(m map[string]any) { utxo(m, 0)["outpoint"] = txid(1) }, want: ErrInvalidOutpoint},
		{name: "fail/upper-case txid", edit: func(m map[string]any) { utxo(m, 0)["outpoint"] = strings.ToUpper(txid(1)) + ":0" }, want: ErrInvalidOutpoint},
		{name: "fail/vout above uint32", edit: func(m map[string]any) { utxo(m, 0)["outpoint"] = txid(1) + ":4294967296" }, want: ErrInvalidOutpoint},
		{name: "fail/insufficient funds for the amount", edit: func(m map[string]any) { m["amount"] = "150001" }, want: ErrInsufficientFunds},
		{name: "fail/insufficient funds for the fee", edit: func(m map[string]any) { m["amount"] = "149000" }, want: ErrInsufficientFunds},
		{name: "fail/insufficient funds for an absolute fee", edit: func(m map[string]any) {
			delete(m, "fee_rate")
			m["fee"] = "30001"
			m["max_fee"] = "40000"
		}, want: ErrInsufficientFunds},
		{name: "fail/fee rate gives a fee above the cap", edit: func(m map[string]any) { m["fee_rate"] = "50" }, want: ErrFeeAboveCap},
		{name: "fail/absolute fee above the cap", edit: func(m map[string]any) { delete(m, "fee_rate"); m["fee"] = "10001" }, want: ErrFeeAboveCap},
		{name: "fail/both fee and fee rate", edit: func(m map[string]any) { m["fee"] = "2000" }, want: ErrFeeMode},
		{name: "fail/neither fee nor fee rate", edit: func(m map[string]any) { delete(m, "fee_rate") }, want: ErrFeeMode},
		{name: "fail/fee rate with four decimals", edit: func(m map[string]any) { m["fee_rate"] = "1.0001" }, want: ErrInvalidAmount},
		{name: "fail/zero fee rate", edit: func(m map[string]any) { m["fee_rate"] = "0.000" }, want: ErrZeroAmount},
		{name: "fail/zero absolute fee", edit: func(m map[string]any) { delete(m, "fee_rate"); m["fee"] = "0" }, want: ErrZeroAmount},
		{name: "fail/missing fee cap", edit: func(m map[string]any) { delete(m, "max_fee") }, want: ErrMissingField},
		{name: "fail/absolute fee leaves dust change", edit: func(m map[string]any) {
			delete(m, "fee_rate")
			m["fee"] = "29800"
			m["max_fee"] = "30000"
		}, want: ErrDustChange},
		{name: "fail/missing wallet key", edit: func(m map[string]any) { delete(m, "wallet_pubkey") }, want: ErrMissingField},
		{name: "fail/uncompressed wallet key", edit: func(m map[string]any) {
			m["wallet_pubkey"] = hex.EncodeToString(walletKey.PubKey().SerializeUncompressed())
		}, want: ErrInvalidPublicKey},
		{name: "fail/wallet key not on the curve", edit: func(m map[string]any) { m["wallet_pubkey"] = "02" + strings.Repeat("ff", 32) }, want: ErrInvalidPublicKey},
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
				data = append(mustJSON(t, intentJSONMap(t)), " x"...)
			case "SECOND":
				data = append(mustJSON(t, intentJSONMap(t)), mustJSON(t, intentJSONMap(t))...)
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

func TestDecodeIntentFields(t *testing.T) {
	m := intentJSONMap(t)
	m["fee_rate"] = "12.5"
	in, err := DecodeIntent(mustJSON(t, m))
	if err != nil {
		t.Fatal(err)
	}
	want := testIntent(t)
	want.FeeRate = 12_500
	if in.Network != want.Network || in.Destination != want.Destination || in.Amount != want.Amount ||
		in.FeeRate != want.FeeRate || in.Fee != 0 || in.MaxFee != want.MaxFee ||
		hex.EncodeToString(in.WalletPubKey) != hex.EncodeToString(want.WalletPubKey) || !equalUTXOs(in.UTXOs, want.UTXOs) {
		t.Fatalf("decoded %+v, want %+v", in, want)
	}
}

func TestIntentTooLarge(t *testing.T) {
	data := []byte(`{"network":"` + strings.Repeat("x", maxIntentSize) + `"}`)
	if _, err := DecodeIntent(data); !errors.Is(err, ErrIntentTooLarge) {
		t.Fatalf("err = %v, want %v", err, ErrIntentTooLarge)
	}
}

// TestBuildRejects covers rules that only an Intent filled in Go can break.
func TestBuildRejects(t *testing.T) {
	tests := []struct {
		name string
		edit func(in *Intent)
		want error
	}{
		{name: "fail/negative fee", edit: func(in *Intent) { in.FeeRate, in.Fee = 0, -1 }, want: ErrInvalidAmount},
		{name: "fail/negative fee rate", edit: func(in *Intent) { in.FeeRate = -1 }, want: ErrInvalidAmount},
		{name: "fail/fee and fee rate", edit: func(in *Intent) { in.Fee = 1_000 }, want: ErrFeeMode},
		{name: "fail/no fee", edit: func(in *Intent) { in.FeeRate = 0 }, want: ErrFeeMode},
		{name: "fail/fee above 21 million BTC", edit: func(in *Intent) { in.FeeRate, in.Fee = 0, 2_100_000_000_000_001 }, want: ErrAmountOverflow},
		{name: "fail/fee rate too high", edit: func(in *Intent) { in.FeeRate = maxFeeRate + 1 }, want: ErrAmountOverflow},
		{name: "fail/no fee cap", edit: func(in *Intent) { in.MaxFee = 0 }, want: ErrMissingField},
		{name: "fail/negative fee cap", edit: func(in *Intent) { in.MaxFee = -1 }, want: ErrInvalidAmount},
		{name: "fail/negative amount", edit: func(in *Intent) { in.Amount = -1 }, want: ErrInvalidAmount},
		{name: "fail/amount above 21 million BTC", edit: func(in *Intent) { in.Amount = 2_100_000_000_000_001 }, want: ErrAmountOverflow},
		{name: "fail/empty utxo", edit: func(in *Intent) { in.UTXOs[1].Amount = 0 }, want: ErrInvalidAmount},
		{name: "fail/bad txid", edit: func(in *Intent) { in.UTXOs[0].TxID = "00" }, want: ErrInvalidOutpoint},
		{name: "fail/duplicate inputs", edit: func(in *Intent) { in.UTXOs[1] = in.UTXOs[0] }, want: ErrDuplicateInput},
		{name: "fail/too many inputs", edit: func(in *Intent) {
			in.UTXOs = nil
			for i := range MaxInputs + 1 {
				in.UTXOs = append(in.UTXOs, UTXO{TxID: txid(i), Amount: 1_000, PkScript: walletScript(t)})
			}
		}, want: ErrTooManyInputs},
		{name: "fail/no wallet key", edit: func(in *Intent) { in.WalletPubKey = nil }, want: ErrInvalidPublicKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := testIntent(t)
			tc.edit(&in)
			if _, err := Build(in); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}
