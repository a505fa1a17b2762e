package gate

import (
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/chain/btc"
	"github.com/cofferhq/coffer/internal/review"
	"github.com/cofferhq/coffer/ledger"
	"github.com/cofferhq/coffer/policy"
)

// Transfer lifetimes: a request not signed by its expiry is expired.
const (
	defaultLifetime = 24 * time.Hour
	maxLifetime     = 7 * 24 * time.Hour
)

// ErrIntent means a transfer intent was refused before anything changed.
var ErrIntent = errors.New("invalid transfer intent")

// ErrStoreDamaged means a record this node needed does not decode: the
// node's store is damaged, whatever the intent said. It is never
// ErrIntent: a damaged node says so instead of blaming the request.
var ErrStoreDamaged = errors.New("node store damaged")

// intentOrDamage is IntentErr for what the intent got wrong, and
// ErrStoreDamaged, logged at ERROR here with the record it names, for a
// record of this node's store that does not decode.
func (g *Gate) intentOrDamage(err error, format string, a ...any) error {
	if errors.Is(err, ledger.ErrCorrupt) {
		g.log.Error("node store damaged: a record does not decode", "err", err)
		return fmt.Errorf("%w: %w", ErrStoreDamaged, err)
	}
	return IntentErr(format, a...)
}

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// Built is a transfer as this node built it from the intent: the unsigned
// transaction, its sighashes, the summary decoded from its bytes, the
// policy request and the request digest.
type Built struct {
	In         *transferpb.Intent
	Canon      []byte // deterministic encoding of the intent
	Src        WalletInfo
	SrcPub     []byte // compressed key that signs (the wallet's derived key)
	Dst        *WalletInfo
	To         string
	Unsigned   []byte
	Sighashes  [][32]byte
	Summary    *transferpb.Summary
	Outpoints  []string
	Inputs     []ledger.Input // btc: the amount and script stated for each outpoint
	NonceKey   string
	Req        policy.Request
	Digest     [32]byte
	Expires    time.Time
	PolicyHash string
	BTC        *btc.Unsigned
	Attach     func(sigs []Sig) (signed []byte, txHash string, err error)
}

type Sig struct {
	R, S     *big.Int
	Recovery byte
}

func IntentErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrIntent, fmt.Sprintf(format, a...))
}

// buildTransfer checks an intent against the active policy and this node's
// keys, and builds the transaction itself.
func (g *Gate) Build(pv *PolicyView, in *transferpb.Intent, initiator, role string, submitted time.Time) (*Built, error) {
	if in == nil {
		return nil, IntentErr("missing intent")
	}
	if !requestIDPattern.MatchString(in.RequestId) {
		return nil, IntentErr("request_id must match %s", requestIDPattern)
	}
	src, ok := pv.Wallets[in.SourceWallet]
	if !ok {
		return nil, IntentErr("source_wallet %q is not a wallet of the active policy", in.SourceWallet)
	}
	asset, ok := pv.Assets[in.Asset]
	if !ok || asset.Chain != src.Chain {
		return nil, IntentErr("asset %q is not a %s asset of the active policy", in.Asset, src.Chain)
	}
	amount, err := policy.ParseAmount(in.Amount)
	if err != nil || amount.IsZero() {
		return nil, IntentErr("amount %q must be a positive decimal in base units", in.Amount)
	}
	expires := submitted.Add(defaultLifetime)
	if in.ExpiresAtUnix != 0 {
		expires = time.Unix(in.ExpiresAtUnix, 0).UTC()
		if !expires.After(submitted) || expires.After(submitted.Add(maxLifetime)) {
			return nil, IntentErr("expires_at must be after submission and within %s", maxLifetime)
		}
	}
	b := &Built{In: in, Src: src, Expires: expires, PolicyHash: pv.Hash}
	if b.Canon, err = (proto.MarshalOptions{Deterministic: true}).Marshal(in); err != nil {
		return nil, IntentErr("encode: %v", err)
	}
	if b.SrcPub, err = g.WalletKey(src); err != nil {
		return nil, g.intentOrDamage(err, "%v", err)
	}
	b.To = in.Destination
	if w, ok := pv.Wallets[in.Destination]; ok {
		if w.Chain != src.Chain {
			return nil, IntentErr("destination wallet %s is on %s, not %s", w.ID, w.Chain, src.Chain)
		}
		b.Dst, b.To = &w, w.Address()
	} else if w, ok := pv.ByAddr[addrKey(string(src.Chain), in.Destination)]; ok {
		b.Dst = &w
	}
	if b.Dst != nil {
		// an own wallet is a destination only where its key is
		if _, err := g.WalletKey(*b.Dst); err != nil {
			return nil, g.intentOrDamage(err, "destination %v", err)
		}
	}
	switch src.Chain {
	case "btc":
		if in.Btc == nil || in.Eth != nil {
			return nil, IntentErr("a btc transfer needs the btc section and no eth section")
		}
		err = b.buildBTC(asset, amount)
	case "eth":
		if in.Eth == nil || in.Btc != nil {
			return nil, IntentErr("an eth transfer needs the eth section and no btc section")
		}
		err = b.buildETH(asset, amount)
	default:
		err = IntentErr("unsupported chain %q", src.Chain)
	}
	if err != nil {
		return nil, err
	}
	// an input stated otherwise than the ledger pinned it is refused here,
	// on whichever node builds the request, not only at reservation
	if err := g.store.CheckPinned(b.Inputs); err != nil {
		return nil, g.intentOrDamage(err, "%v", err)
	}
	b.Req.ID, b.Req.Initiator, b.Req.InitiatorRole = in.RequestId, initiator, role
	b.Req.Source, b.Req.To, b.Req.Asset = src.ID, b.To, asset.ID
	b.Req.SubmittedAt, b.Req.ExpiresAt = submitted.UTC(), expires
	b.Digest = review.RequestDigest(in.RequestId, src.ID, b.Canon, b.Unsigned, b.Sighashes, pv.Hash, expires)
	b.Req.Digest = policy.Hash(b.Digest)
	b.Summary.SourceWallet, b.Summary.SourceClass = src.ID, string(src.Class)
	b.Summary.DestinationClass = "external"
	if b.Dst != nil {
		b.Summary.DestinationWallet, b.Summary.DestinationClass = b.Dst.ID, string(b.Dst.Class)
	}
	return b, nil
}
