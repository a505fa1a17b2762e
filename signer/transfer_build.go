package signer

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/chain/btc"
	"github.com/cofferhq/coffer/policy"
)

// Transfer lifetimes: a request not signed by its expiry is expired.
const (
	defaultLifetime = 24 * time.Hour
	maxLifetime     = 7 * 24 * time.Hour
)

// ErrIntent means a transfer intent was refused before anything changed.
var ErrIntent = errors.New("invalid transfer intent")

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// built is a transfer as this node built it from the intent: the unsigned
// transaction, its sighashes, the summary decoded from its bytes, the
// policy request and the request digest.
type built struct {
	in         *transferpb.Intent
	canon      []byte // deterministic encoding of the intent
	src        walletInfo
	srcPub     []byte // compressed key that signs (the wallet's derived key)
	dst        *walletInfo
	to         string
	unsigned   []byte
	sighashes  [][32]byte
	summary    *transferpb.Summary
	outpoints  []string
	nonceKey   string
	req        policy.Request
	digest     [32]byte
	expires    time.Time
	policyHash string
	btcU       *btc.Unsigned
	attach     func(sigs []sig) (signed []byte, txHash string, err error)
}

type sig struct {
	R, S     *big.Int
	Recovery byte
}

func intentErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrIntent, fmt.Sprintf(format, a...))
}

// buildTransfer checks an intent against the active policy and this node's
// keys, and builds the transaction itself.
func (n *Node) buildTransfer(pv *policyView, in *transferpb.Intent, initiator, role string, submitted time.Time) (*built, error) {
	if in == nil {
		return nil, intentErr("missing intent")
	}
	if !requestIDPattern.MatchString(in.RequestId) {
		return nil, intentErr("request_id must match %s", requestIDPattern)
	}
	src, ok := pv.wallets[in.SourceWallet]
	if !ok {
		return nil, intentErr("source_wallet %q is not a wallet of the active policy", in.SourceWallet)
	}
	asset, ok := pv.assets[in.Asset]
	if !ok || asset.Chain != src.Chain {
		return nil, intentErr("asset %q is not a %s asset of the active policy", in.Asset, src.Chain)
	}
	amount, err := policy.ParseAmount(in.Amount)
	if err != nil || amount.IsZero() {
		return nil, intentErr("amount %q must be a positive decimal in base units", in.Amount)
	}
	expires := submitted.Add(defaultLifetime)
	if in.ExpiresAtUnix != 0 {
		expires = time.Unix(in.ExpiresAtUnix, 0).UTC()
		if !expires.After(submitted) || expires.After(submitted.Add(maxLifetime)) {
			return nil, intentErr("expires_at must be after submission and within %s", maxLifetime)
		}
	}
	b := &built{in: in, src: src, expires: expires, policyHash: pv.hash}
	if b.canon, err = (proto.MarshalOptions{Deterministic: true}).Marshal(in); err != nil {
		return nil, intentErr("encode: %v", err)
	}
	if b.srcPub, err = n.walletKey(src); err != nil {
		return nil, intentErr("%v", err)
	}
	b.to = in.Destination
	if w, ok := pv.wallets[in.Destination]; ok {
		if w.Chain != src.Chain {
			return nil, intentErr("destination wallet %s is on %s, not %s", w.ID, w.Chain, src.Chain)
		}
		b.dst, b.to = &w, w.Address()
	} else if w, ok := pv.byAddr[addrKey(string(src.Chain), in.Destination)]; ok {
		b.dst = &w
	}
	switch src.Chain {
	case "btc":
		if in.Btc == nil || in.Eth != nil {
			return nil, intentErr("a btc transfer needs the btc section and no eth section")
		}
		err = b.buildBTC(asset, amount)
	case "eth":
		if in.Eth == nil || in.Btc != nil {
			return nil, intentErr("an eth transfer needs the eth section and no btc section")
		}
		err = b.buildETH(asset, amount)
	default:
		err = intentErr("unsupported chain %q", src.Chain)
	}
	if err != nil {
		return nil, err
	}
	b.req.ID, b.req.Initiator, b.req.InitiatorRole = in.RequestId, initiator, role
	b.req.Source, b.req.To, b.req.Asset = src.ID, b.to, asset.ID
	b.req.SubmittedAt, b.req.ExpiresAt = submitted.UTC(), expires
	b.digest = requestDigest(in.RequestId, src.ID, b.canon, b.unsigned, b.sighashes, pv.hash, expires)
	b.req.Digest = policy.Hash(b.digest)
	b.summary.SourceWallet, b.summary.SourceClass = src.ID, string(src.Class)
	b.summary.DestinationClass = "external"
	if b.dst != nil {
		b.summary.DestinationWallet, b.summary.DestinationClass = b.dst.ID, string(b.dst.Class)
	}
	return b, nil
}

// requestDigest is DESIGN.md §5's request digest: SHA-256 over a domain tag
// and the length-prefixed request ID, wallet, intent, unsigned transaction,
// sighashes, policy hash and expiry.
func requestDigest(id, wallet string, intent, unsigned []byte, sighashes [][32]byte, policyHash string, expires time.Time) [32]byte {
	h := sha256.New()
	h.Write([]byte("coffer/transfer/v1"))
	lp := func(b []byte) {
		h.Write(binary.BigEndian.AppendUint32(nil, uint32(len(b))))
		h.Write(b)
	}
	lp([]byte(id))
	lp([]byte(wallet))
	lp(intent)
	lp(unsigned)
	var all []byte
	for _, s := range sighashes {
		all = append(all, s[:]...)
	}
	lp(all)
	lp([]byte(policyHash))
	lp([]byte(strconv.FormatInt(expires.Unix(), 10)))
	var d [32]byte
	copy(d[:], h.Sum(nil))
	return d
}
