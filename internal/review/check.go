package review

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/chain/btc"
	"github.com/cofferhq/coffer/chain/eth"
)

// ErrMismatch means what a node returned does not hold together: its
// bytes are not the intent's transaction, or its digest is not theirs.
var ErrMismatch = errors.New("the request does not check out")

// Checked is a request as the officer's client rebuilt it.
type Checked struct {
	ID         string
	Digest     [32]byte
	Intent     *transferpb.Intent
	PolicyHash string
	Expires    time.Time
	// exactly one of BTC and ETH, decoded from the unsigned bytes
	BTC    *btc.Summary
	Inputs []btc.UTXO // btc: each input as the intent states it (its amount is under the signature)
	ETH    *eth.Summary
}

// Check rebuilds t's transaction from the intent t carries, refuses unless
// the bytes and sighashes are the ones the nodes sign and the digest is
// theirs, and decodes what the transaction does from its own bytes.
func Check(t *transferpb.Transfer) (*Checked, error) {
	r := t.GetReview()
	if r == nil {
		return nil, fmt.Errorf("%w: the node returns no intent and transaction to rebuild", ErrMismatch)
	}
	var in transferpb.Intent
	if err := proto.Unmarshal(r.Intent, &in); err != nil {
		return nil, fmt.Errorf("%w: decode the intent: %v", ErrMismatch, err)
	}
	canon, err := proto.MarshalOptions{Deterministic: true}.Marshal(&in)
	if err != nil || !bytes.Equal(canon, r.Intent) {
		return nil, fmt.Errorf("%w: the intent bytes are not a canonical encoding", ErrMismatch)
	}
	if in.RequestId != t.RequestId {
		return nil, fmt.Errorf("%w: the intent is request %q, not %q", ErrMismatch, in.RequestId, t.RequestId)
	}
	sighashes := make([][32]byte, len(r.Sighashes))
	for i, s := range r.Sighashes {
		if len(s) != 32 {
			return nil, fmt.Errorf("%w: sighash %d has %d bytes", ErrMismatch, i, len(s))
		}
		copy(sighashes[i][:], s)
	}
	c := &Checked{ID: t.RequestId, Intent: &in, PolicyHash: t.PolicyHash, Expires: time.Unix(t.ExpiresAtUnix, 0).UTC()}
	var unsigned []byte
	var built [][32]byte
	switch {
	case in.Btc != nil && in.Eth == nil:
		unsigned, built, err = c.rebuildBTC(r)
	case in.Eth != nil && in.Btc == nil:
		unsigned, built, err = c.rebuildETH(r)
	default:
		err = fmt.Errorf("%w: the intent names no single chain", ErrMismatch)
	}
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(unsigned, r.UnsignedTx) {
		return nil, fmt.Errorf("%w: the transaction rebuilt from the intent is not the one the node shows", ErrMismatch)
	}
	if len(built) != len(sighashes) {
		return nil, fmt.Errorf("%w: the node shows %d sighashes, the transaction has %d", ErrMismatch, len(sighashes), len(built))
	}
	for i := range built {
		if built[i] != sighashes[i] {
			return nil, fmt.Errorf("%w: sighash %d is not the rebuilt transaction's", ErrMismatch, i)
		}
	}
	c.Digest = RequestDigest(t.RequestId, in.SourceWallet, r.Intent, unsigned, built, t.PolicyHash, c.Expires)
	if !bytes.Equal(c.Digest[:], t.Digest) {
		return nil, fmt.Errorf("%w: the node shows digest %x, the request's is %x", ErrMismatch, t.Digest, c.Digest)
	}
	return c, nil
}

func (c *Checked) rebuildBTC(r *transferpb.Review) ([]byte, [][32]byte, error) {
	x := c.Intent.Btc
	amount, err := strconv.ParseInt(c.Intent.Amount, 10, 64)
	if err != nil || amount <= 0 {
		return nil, nil, fmt.Errorf("%w: amount %q is not a positive satoshi amount", ErrMismatch, c.Intent.Amount)
	}
	in := btc.Intent{Network: r.Network, WalletPubKey: r.SourcePubkey, Destination: r.DestinationAddress, Amount: amount,
		Fee: x.Fee, FeeRate: x.FeeRate, MaxFee: x.MaxFee}
	for _, u := range x.Utxos {
		in.UTXOs = append(in.UTXOs, btc.UTXO{TxID: u.Txid, Vout: u.Vout, Amount: u.Amount, PkScript: u.PkScript})
	}
	u, err := btc.Build(in)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: rebuild the bitcoin transaction: %v", ErrMismatch, err)
	}
	s, err := btc.DecodeSummary(r.UnsignedTx, r.Network, in.UTXOs)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrMismatch, err)
	}
	if err := btc.MatchIntent(in, s); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrMismatch, err)
	}
	c.BTC, c.Inputs = &s, in.UTXOs
	return u.Raw(), u.Sighashes(), nil
}

func (c *Checked) rebuildETH(r *transferpb.Review) ([]byte, [][32]byte, error) {
	x := c.Intent.Eth
	num := func(field, s string) (*big.Int, error) {
		v, ok := new(big.Int).SetString(s, 10)
		if !ok || v.Sign() < 0 {
			return nil, fmt.Errorf("%w: %s %q is not a decimal", ErrMismatch, field, s)
		}
		return v, nil
	}
	amount, err := num("amount", c.Intent.Amount)
	if err != nil {
		return nil, nil, err
	}
	maxFeePerGas, err := num("max_fee_per_gas", x.MaxFeePerGas)
	if err != nil {
		return nil, nil, err
	}
	prio, err := num("max_priority_fee_per_gas", x.MaxPriorityFeePerGas)
	if err != nil {
		return nil, nil, err
	}
	maxFee, err := num("max_fee", x.MaxFee)
	if err != nil {
		return nil, nil, err
	}
	from, err := eth.AddressFromPubKeyBytes(r.SourcePubkey)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: source key: %v", ErrMismatch, err)
	}
	kind := eth.AssetETH
	if r.Token != "" {
		kind = eth.AssetERC20
	}
	nonce := x.Nonce
	in := eth.Intent{Network: eth.NetworkName(r.ChainId), ChainID: r.ChainId, From: from, To: r.DestinationAddress,
		Asset: kind, Token: r.Token, Amount: amount, Nonce: &nonce, GasLimit: x.GasLimit,
		MaxFeePerGas: maxFeePerGas, MaxPriorityFeePerGas: prio, MaxFee: maxFee}
	u, err := eth.Build(in)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: rebuild the ethereum transaction: %v", ErrMismatch, err)
	}
	s, err := eth.DecodeSummary(r.UnsignedTx, from)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrMismatch, err)
	}
	if err := eth.MatchIntent(in, s); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrMismatch, err)
	}
	c.ETH = &s
	return u.Raw(), u.Sighashes(), nil
}
