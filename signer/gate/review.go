package gate

import "github.com/cofferhq/coffer/api/transferpb"

// Review is what an officer's client needs to rebuild b's transaction from
// its intent and recompute the request digest without trusting this node
// (internal/review checks it).
func (b *Built) Review() *transferpb.Review {
	r := &transferpb.Review{Intent: b.Canon, UnsignedTx: b.Unsigned, SourcePubkey: b.SrcPub,
		DestinationAddress: b.To}
	for _, s := range b.Sighashes {
		r.Sighashes = append(r.Sighashes, s[:])
	}
	switch b.Src.Chain {
	case "btc":
		r.Network = b.Src.Network
	case "eth":
		r.ChainId = b.Src.ChainID
		if b.Summary != nil {
			r.Token = b.Summary.Token
		}
	}
	return r
}
