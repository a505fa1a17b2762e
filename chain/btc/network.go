package btc

import (
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"
)

// Network names accepted by this package.
const (
	Mainnet = "mainnet"
	Testnet = "testnet"
	Regtest = "regtest"
	Signet  = "signet"
)

// networks lists the supported networks in a fixed order (used to name the
// network an address really belongs to).
func networks() []string { return []string{Mainnet, Testnet, Regtest, Signet} }

// params returns the chain parameters of a network name.
func params(network string) (*chaincfg.Params, error) {
	switch network {
	case Mainnet:
		return &chaincfg.MainNetParams, nil
	case Testnet:
		return &chaincfg.TestNet3Params, nil
	case Regtest:
		return &chaincfg.RegressionNetParams, nil
	case Signet:
		return &chaincfg.SigNetParams, nil
	}
	return nil, fmt.Errorf("select network %q: %w", network, ErrUnknownNetwork)
}

// P2WPKHAddress returns the bech32 P2WPKH address of a compressed secp256k1
// public key (33 bytes, SEC1) on network ("mainnet", "testnet", "regtest" or
// "signet").
func P2WPKHAddress(pubKeyCompressed []byte, network string) (string, error) {
	p, err := params(network)
	if err != nil {
		return "", err
	}
	addr, err := p2wpkh(pubKeyCompressed, p)
	if err != nil {
		return "", err
	}
	return addr.EncodeAddress(), nil
}

// p2wpkh parses a compressed public key and returns its P2WPKH address.
func p2wpkh(pub []byte, p *chaincfg.Params) (*btcutil.AddressWitnessPubKeyHash, error) {
	if len(pub) != btcec.PubKeyBytesLenCompressed {
		return nil, fmt.Errorf("parse public key: %d bytes, want 33 (compressed): %w", len(pub), ErrInvalidPublicKey)
	}
	if _, err := btcec.ParsePubKey(pub); err != nil {
		return nil, fmt.Errorf("parse public key: %v: %w", err, ErrInvalidPublicKey)
	}
	addr, err := btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160(pub), p)
	if err != nil {
		return nil, fmt.Errorf("derive P2WPKH address: %v: %w", err, ErrInvalidPublicKey)
	}
	return addr, nil
}

// parseAddress decodes a destination address for p and returns it with its
// output script. Only standard single-destination types are accepted:
// P2PKH, P2SH, P2WPKH, P2WSH and P2TR.
func parseAddress(s string, p *chaincfg.Params) (btcutil.Address, []byte, error) {
	if s == "" {
		return nil, nil, fmt.Errorf("parse address: empty: %w", ErrMissingField)
	}
	if strings.ToUpper(s) == s {
		s = strings.ToLower(s) // bech32 may be written in upper case
	}
	addr, err := btcutil.DecodeAddress(s, p)
	if err != nil {
		if other := otherNetworks(s, p); other != "" {
			return nil, nil, fmt.Errorf("parse address %q for %s: belongs to %s: %w", s, p.Name, other, ErrWrongNetwork)
		}
		return nil, nil, fmt.Errorf("parse address %q: %v: %w", s, err, ErrInvalidAddress)
	}
	if !addr.IsForNet(p) {
		return nil, nil, fmt.Errorf("parse address %q for %s: belongs to %s: %w",
			s, p.Name, networkOf(addr), ErrWrongNetwork)
	}
	switch addr.(type) {
	case *btcutil.AddressPubKeyHash, *btcutil.AddressScriptHash,
		*btcutil.AddressWitnessPubKeyHash, *btcutil.AddressWitnessScriptHash,
		*btcutil.AddressTaproot:
	default:
		return nil, nil, fmt.Errorf("parse address %q: %T: %w", s, addr, ErrUnsupportedAddress)
	}
	script, err := txscript.PayToAddrScript(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("build output script for %q: %v: %w", s, err, ErrInvalidAddress)
	}
	return addr, script, nil
}

// otherNetworks names the supported networks other than p on which s is a
// valid address, or returns "".
func otherNetworks(s string, p *chaincfg.Params) string {
	for _, n := range networks() {
		q, _ := params(n)
		if q == p {
			continue
		}
		if addr, err := btcutil.DecodeAddress(s, q); err == nil && addr.IsForNet(q) {
			return networkOf(addr)
		}
	}
	return ""
}

// networkOf names the supported networks an address is valid for.
func networkOf(addr btcutil.Address) string {
	var names []string
	for _, n := range networks() {
		p, _ := params(n)
		if addr.IsForNet(p) {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return "an unsupported network"
	}
	return strings.Join(names, "/")
}

// scriptAddress renders an output script as its address on p. It fails for
// scripts that are not one of the accepted standard types.
func scriptAddress(script []byte, p *chaincfg.Params) (string, error) {
	class, addrs, _, err := txscript.ExtractPkScriptAddrs(script, p)
	if err != nil || len(addrs) != 1 {
		return "", fmt.Errorf("decode output script %x: %w", script, ErrUnsupportedAddress)
	}
	switch class {
	case txscript.PubKeyHashTy, txscript.ScriptHashTy, txscript.WitnessV0PubKeyHashTy,
		txscript.WitnessV0ScriptHashTy, txscript.WitnessV1TaprootTy:
		return addrs[0].EncodeAddress(), nil
	}
	return "", fmt.Errorf("decode output script %x: %s: %w", script, class, ErrUnsupportedAddress)
}
