package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"gopkg.in/yaml.v3"

	"github.com/cofferhq/coffer/api/operatorpb"
	"github.com/cofferhq/coffer/chain/btc"
	"github.com/cofferhq/coffer/policy"
	ctss "github.com/cofferhq/coffer/signer/tss"
)

func TestWalletSpecValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ws    walletSpec
		wants []string // substrings of the error; none means valid
		id    string   // the wallet ID after defaults
	}{
		{name: "ok/btc defaults to regtest and CHAIN-CLASS", ws: walletSpec{keyID: "hot", class: "hot", chain: "btc"}, id: "btc-hot"},
		{name: "ok/eth child with an ID", ws: walletSpec{keyID: "cold", class: "cold", chain: "eth", chainID: 1, child: true, index: 7, id: "eth-cold-7"}, id: "eth-cold-7"},
		{name: "fail/unknown class and chain", ws: walletSpec{keyID: "hot", class: "lukewarm", chain: "doge"}, wants: []string{`--class "lukewarm"`, `--chain "doge"`}},
		{name: "fail/eth without a chain ID", ws: walletSpec{keyID: "hot", class: "hot", chain: "eth"}, wants: []string{"--chain-id is required"}},
		{name: "fail/eth with a network", ws: walletSpec{keyID: "hot", class: "hot", chain: "eth", chainID: 1, network: "regtest"}, wants: []string{"--network is for btc"}},
		{name: "fail/btc with a chain ID", ws: walletSpec{keyID: "hot", class: "hot", chain: "btc", chainID: 1}, wants: []string{"--chain-id is for eth"}},
		{name: "fail/unknown network", ws: walletSpec{keyID: "hot", class: "hot", chain: "btc", network: "testnet9"}, wants: []string{`--network "testnet9"`}},
		{name: "fail/hardened index", ws: walletSpec{keyID: "hot", class: "hot", chain: "btc", child: true, index: 1 << 31}, wants: []string{"hardened"}},
		{name: "fail/malformed key ID", ws: walletSpec{keyID: "hot/1", class: "hot", chain: "btc"}, wants: []string{`--key "hot/1"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := tc.ws
			err := ws.validate()
			if len(tc.wants) == 0 {
				if err != nil || ws.id != tc.id {
					t.Fatalf("validate = %v, id %q; want nil, %q", err, ws.id, tc.id)
				}
				return
			}
			if err == nil {
				t.Fatal("validate succeeded")
			}
			for _, w := range tc.wants {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("validate = %v; want it to mention %s", err, w)
				}
			}
		})
	}
}

// TestWalletEntryDecodesAsPolicy checks that the printed entry is a valid
// wallets: item for the policy's strict decoder, with the derived address.
func TestWalletEntryDecodesAsPolicy(t *testing.T) {
	priv, err := btcec.NewPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	pub := priv.PubKey().SerializeCompressed()
	key := &operatorpb.KeyInfo{KeyId: "hot", PublicKey: pub, ChainCode: ctss.ChainCode(pub), Threshold: 1, Committee: []string{"a", "b", "c"}}
	master, _ := ctss.ParsePubKey(pub)
	_, child, err := ctss.Derive(master, key.ChainCode, []uint32{3})
	if err != nil {
		t.Fatal(err)
	}
	childPub, _ := ctss.CompressedPubKey(child)
	wantMaster, _ := btc.P2WPKHAddress(pub, "mainnet")
	wantChild, _ := btc.P2WPKHAddress(childPub, "regtest")
	for _, tc := range []struct {
		name string
		ws   walletSpec
		want policy.Wallet
	}{
		{"ok/master key on mainnet", walletSpec{keyID: "hot", class: "hot", chain: "btc", network: "mainnet"},
			policy.Wallet{ID: "btc-hot", Chain: "btc", Network: "mainnet", Class: "hot", KeyID: "hot", Addresses: []string{wantMaster}}},
		{"ok/child m/3 on regtest", walletSpec{keyID: "hot", class: "warm", chain: "btc", child: true, index: 3, id: "btc-warm-3"},
			policy.Wallet{ID: "btc-warm-3", Chain: "btc", Network: "regtest", Class: "warm", KeyID: "hot/3", Addresses: []string{wantChild}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := tc.ws
			if err := ws.validate(); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := ws.print(&out, key); err != nil {
				t.Fatal(err)
			}
			dec := yaml.NewDecoder(strings.NewReader("wallets:\n" + out.String()))
			dec.KnownFields(true)
			var doc struct {
				Wallets []policy.Wallet `yaml:"wallets"`
			}
			if err := dec.Decode(&doc); err != nil {
				t.Fatalf("decode %q: %v", out.String(), err)
			}
			if len(doc.Wallets) != 1 {
				t.Fatalf("got %d wallets in %q", len(doc.Wallets), out.String())
			}
			got := doc.Wallets[0]
			if got.ID != tc.want.ID || got.Chain != tc.want.Chain || got.Network != tc.want.Network || got.ChainID != 0 ||
				got.Class != tc.want.Class || got.KeyID != tc.want.KeyID || strings.Join(got.Addresses, ",") != tc.want.Addresses[0] {
				t.Fatalf("entry = %+v, want %+v", got, tc.want)
			}
		})
	}
}
