package btc

import (
	"bytes"
	"encoding/asn1"
	"encoding/hex"
	"math/big"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// Test vector: BIP-143, section "Example", "Native P2WPKH"
// (https://github.com/bitcoin/bips/blob/master/bip-0143.mediawiki).
const (
	bip143Unsigned = "0100000002fff7f7881a8099afa6940d42d1e7f6362bec38171ea3edf433541db4e4ad969f0000000000eeffffffef51e1b804cc89d182d279655c3aa89e815b1b309fe287d9b2b55d57b90ec68a0100000000ffffffff02202cb206000000001976a9148280b37df378db99f66f85c95a783a76ac7a6d5988ac9093510d000000001976a9143bde42dbee7e4dbe6a21b2d50ce2f0167faa815988ac11000000"
	// Input 0 spends an ordinary P2PK output of 6.25 BTC.
	bip143Script0 = "2103c9f4836b9a4f77fc0d81f7bcb01b7f1b35916864b9476c241ce9fc198bd25432ac"
	bip143Amount0 = 625_000_000
	// Input 1 spends a P2WPKH output of 6 BTC.
	bip143Script1  = "00141d0f172a0ecb48aee1be1f2687d2963ae33f71a1"
	bip143Amount1  = 600_000_000
	bip143PubKey1  = "025476c2e83188368da1ff3e292e7acafcdb3566bb0ad253f62fc70f07aeee6357"
	bip143SigHash1 = "c37af31116d1b27caf68aae9e3ac82f1477929014d5b917657d0eb49478cb670"
	bip143Sig1     = "304402203609e17b84f6a7d30c80bfa610b5b4542f32a8a0d5447a12fb1366d7f01cc44a0220573a954c4518331561406f90300e8f3358f51928d43c212a8caed02de67eebee"
	bip143Signed   = "01000000000102fff7f7881a8099afa6940d42d1e7f6362bec38171ea3edf433541db4e4ad969f00000000494830450221008b9d1dc26ba6a9cb62127b02742fa9d754cd3bebf337f7a55d114c8e5cdd30be022040529b194ba3f9281a99f2b1c0a19c0489bc22ede944ccf4ecbab4cc618ef3ed01eeffffffef51e1b804cc89d182d279655c3aa89e815b1b309fe287d9b2b55d57b90ec68a0100000000ffffffff02202cb206000000001976a9148280b37df378db99f66f85c95a783a76ac7a6d5988ac9093510d000000001976a9143bde42dbee7e4dbe6a21b2d50ce2f0167faa815988ac000247304402203609e17b84f6a7d30c80bfa610b5b4542f32a8a0d5447a12fb1366d7f01cc44a0220573a954c4518331561406f90300e8f3358f51928d43c212a8caed02de67eebee0121025476c2e83188368da1ff3e292e7acafcdb3566bb0ad253f62fc70f07aeee635711000000"
)

func bip143Prevouts(t *testing.T, tx *wire.MsgTx) []UTXO {
	t.Helper()
	return []UTXO{
		{TxID: tx.TxIn[0].PreviousOutPoint.Hash.String(), Vout: tx.TxIn[0].PreviousOutPoint.Index, Amount: bip143Amount0, PkScript: mustHex(t, bip143Script0)},
		{TxID: tx.TxIn[1].PreviousOutPoint.Hash.String(), Vout: tx.TxIn[1].PreviousOutPoint.Index, Amount: bip143Amount1, PkScript: mustHex(t, bip143Script1)},
	}
}

func TestBIP143NativeP2WPKH(t *testing.T) {
	unsigned, err := decodeTx(mustHex(t, bip143Unsigned))
	if err != nil {
		t.Fatalf("decode unsigned vector: %v", err)
	}
	prevouts := bip143Prevouts(t, unsigned)

	t.Run("ok/sighash", func(t *testing.T) {
		hashes, err := sighashes(unsigned, prevouts)
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(hashes[1][:]); got != bip143SigHash1 {
			t.Fatalf("sighash of input 1 = %s, want %s", got, bip143SigHash1)
		}
	})

	t.Run("ok/address of the P2WPKH key", func(t *testing.T) {
		addr, err := P2WPKHAddress(mustHex(t, bip143PubKey1), Mainnet)
		if err != nil {
			t.Fatal(err)
		}
		a, err := btcutil.DecodeAddress(addr, &chaincfg.MainNetParams)
		if err != nil {
			t.Fatal(err)
		}
		script, err := txscript.PayToAddrScript(a)
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(script) != bip143Script1 {
			t.Fatalf("script of %s = %x, want %s", addr, script, bip143Script1)
		}
	})

	t.Run("ok/signature normalizes and DER-encodes to the vector", func(t *testing.T) {
		var rs struct{ R, S *big.Int }
		if _, err := asn1.Unmarshal(mustHex(t, bip143Sig1), &rs); err != nil {
			t.Fatal(err)
		}
		pub, err := btcec.ParsePubKey(mustHex(t, bip143PubKey1))
		if err != nil {
			t.Fatal(err)
		}
		for name, sig := range map[string]Signature{"low-S": {R: rs.R, S: rs.S}, "high-S": highS(Signature{R: rs.R, S: rs.S})} {
			es, err := sig.ecdsaSig()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !bytes.Equal(es.Serialize(), mustHex(t, bip143Sig1)) {
				t.Fatalf("%s: DER = %x, want %s", name, es.Serialize(), bip143Sig1)
			}
			if !es.Verify(mustHex(t, bip143SigHash1), pub) {
				t.Fatalf("%s: signature does not verify against the vector sighash", name)
			}
		}
	})

	t.Run("ok/script engine accepts the signed vector", func(t *testing.T) {
		signed, err := decodeTx(mustHex(t, bip143Signed))
		if err != nil {
			t.Fatal(err)
		}
		if err := verifyScripts(signed, prevouts); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("fail/script engine rejects the vector with a wrong input amount", func(t *testing.T) {
		signed, err := decodeTx(mustHex(t, bip143Signed))
		if err != nil {
			t.Fatal(err)
		}
		wrong := bip143Prevouts(t, signed)
		wrong[1].Amount++
		if err := verifyScripts(signed, wrong); !errorIs(err, ErrScriptFailed) {
			t.Fatalf("err = %v, want %v", err, ErrScriptFailed)
		}
	})

	t.Run("fail/the vector is not a transaction this package builds", func(t *testing.T) {
		if _, err := DecodeSummary(mustHex(t, bip143Signed), Mainnet, prevouts); err == nil {
			t.Fatal("DecodeSummary accepted a P2PK input and legacy outputs")
		}
	})
}
