package review

import (
	"bytes"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/cofferhq/coffer/api/transferpb"
)

// Agree refuses unless b shows the same request as a: the same digest,
// policy version, expiry, intent, transaction bytes, sighashes, keys and
// addresses, and the same decoded summary. Each node builds the
// transaction and its digest itself, so nodes that agree vouch for it
// together.
func Agree(a, b *transferpb.Transfer) error {
	switch {
	case a.RequestId != b.RequestId:
		return fmt.Errorf("%w: request %q, not %q", ErrMismatch, b.RequestId, a.RequestId)
	case !bytes.Equal(a.Digest, b.Digest):
		return fmt.Errorf("%w: digest %x, not %x", ErrMismatch, b.Digest, a.Digest)
	case a.PolicyHash != b.PolicyHash:
		return fmt.Errorf("%w: policy version %.12s, not %.12s", ErrMismatch, b.PolicyHash, a.PolicyHash)
	case a.ExpiresAtUnix != b.ExpiresAtUnix:
		return fmt.Errorf("%w: expiry %d, not %d", ErrMismatch, b.ExpiresAtUnix, a.ExpiresAtUnix)
	case !proto.Equal(a.Review, b.Review):
		return fmt.Errorf("%w: another intent or transaction", ErrMismatch)
	case !proto.Equal(a.Summary, b.Summary):
		return fmt.Errorf("%w: another decoded transaction", ErrMismatch)
	}
	return nil
}
