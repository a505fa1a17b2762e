package signer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	ctss "github.com/cofferhq/coffer/signer/tss"
)

// lazyShare unseals a share when a session first runs, not when it is
// prepared: a Prepare that never runs (a hostile coordinator can send
// many) costs no HSM unsealing and leaves no secret in memory. One share
// serves every sub-session of a transfer; zero ends it for all.
type lazyShare struct {
	open func(context.Context) (*ctss.Share, error)

	mu     sync.Mutex
	sh     *ctss.Share
	zeroed bool
}

var (
	_ slog.LogValuer = (*lazyShare)(nil)
	_ fmt.Formatter  = (*lazyShare)(nil)
)

// LogValue and Format keep the share out of logs and messages: fmt prints
// the unexported sh field's target for a wrong verb, without asking the
// Share to redact itself.
func (l *lazyShare) LogValue() slog.Value       { return slog.StringValue("REDACTED") }
func (l *lazyShare) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, "REDACTED") }

func (n *Node) lazyShare(keyID string, gen uint32, blob, pub []byte) *lazyShare {
	return &lazyShare{open: func(ctx context.Context) (*ctss.Share, error) {
		return n.openShare(ctx, keyID, gen, blob, pub)
	}}
}

// get unseals the share on its first call and returns it on every call.
func (l *lazyShare) get(ctx context.Context) (*ctss.Share, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.zeroed {
		return nil, errors.New("the session ended")
	}
	if l.sh == nil {
		sh, err := l.open(ctx)
		if err != nil {
			return nil, err
		}
		l.sh = sh
	}
	return l.sh, nil
}

// zero overwrites the share if it was unsealed; get fails from then on.
func (l *lazyShare) zero() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.zeroed = true
	if l.sh != nil {
		l.sh.Zero()
	}
}
