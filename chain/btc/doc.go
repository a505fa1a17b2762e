// Package btc builds, signs and verifies Bitcoin transfers of a threshold
// wallet: P2WPKH UTXOs of one wallet key, spent to one destination with
// change back to the wallet.
//
// The flow is intent → unsigned transaction → sighashes → signatures →
// signed transaction:
//
//	in, err := btc.DecodeIntent(jsonBytes)     // or fill an Intent in Go
//	u, err := btc.Build(in)                    // *Unsigned
//	u.Raw(), u.Sighashes(), u.Summary()        // what is approved and signed
//	s, err := u.Attach(sigs)                   // one Signature per input
//	s.Raw()                                    // broadcastable
//	err = btc.Verify(s.Raw(), in.Network, u.Prevouts())
//	sum, err := btc.DecodeSummary(raw, network, prevouts)
//	err = btc.MatchIntent(in, sum)             // rebuild and compare
//
// Exported API: P2WPKHAddress; Intent, UTXO, DecodeIntent, Build; Unsigned
// (Raw, Sighashes, Summary, Prevouts, TxID, EstimatedVSize, PSBT, Attach);
// Signature, SignatureFromCompact; Signed (Raw, TxID, VSize, Summary, PSBT);
// Summary, DecodeSummary, MatchIntent, Verify; PSBT, ReadPSBT.
//
// JSON intent (DecodeIntent). Amounts are decimal strings of satoshi;
// fee_rate is sat/vB with at most three decimals; exactly one of fee and
// fee_rate is given; max_fee is required.
//
//	{"network": "testnet",
//	 "wallet_pubkey": "02…33-byte compressed key, hex…",
//	 "destination": "tb1q…",
//	 "amount": "150000",
//	 "fee_rate": "12.5",
//	 "max_fee": "20000",
//	 "utxos": [{"outpoint": "<txid>:<vout>", "amount": "200000", "pk_script": "0014…"}]}
//
// Invariants:
//   - Pure: no I/O, no clock, no global state; the same intent always gives
//     the same bytes and sighashes.
//   - Decoding is strict: unknown, duplicate or non-lower-case keys,
//     trailing data, non-canonical numbers and every rule below are errors
//     that wrap a sentinel of errors.go.
//   - Build spends exactly the intent's UTXOs, in order; each must be a
//     P2WPKH output of the wallet key, none twice, at most MaxInputs. Output
//     0 pays Destination (any standard address of the intent's network
//     except the wallet itself, never dust); output 1, if present, is change
//     to the wallet and never dust. Version 2, lock time 0, every sequence
//     0xffffffff (no RBF: a UTXO is only ever signed into one transaction).
//   - Fee: an absolute fee is used exactly (change that would be dust is an
//     error); a fee rate is applied to the vsize of the signed transaction
//     estimated with 72-byte signatures (the real one is never larger), and
//     change that would be dust goes to the fee. The fee never exceeds
//     MaxFee. Dust follows Bitcoin Core's 3 sat/vB rule.
//   - Sighashes are BIP-143, SIGHASH_ALL, computed by txscript, one per
//     input in input order. Nothing here signs; callers sign exactly these.
//   - Attach normalizes each signature to low S, checks it against its
//     sighash and the wallet key, DER-encodes it, and runs the txscript
//     engine (standard flags) on every input before returning.
//   - A Summary is decoded from transaction bytes plus the spent UTXOs,
//     never from the intent; DecodeSummary, Verify and ReadPSBT reject any
//     transaction Build would not produce. A transaction changed after its
//     summary was made yields a different summary and fails Verify.
//   - Amounts are committed by BIP-143: a UTXO amount misstated in an
//     intent or PSBT gives a summary with a wrong fee, but its signature
//     cannot be valid on chain.
package btc
