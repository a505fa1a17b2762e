package signer

import (
	"fmt"
	"testing"

	"github.com/cofferhq/coffer/audit"
	"github.com/cofferhq/coffer/hsm"
	"github.com/cofferhq/coffer/ledger"
	"github.com/cofferhq/coffer/signer/api"
	"github.com/cofferhq/coffer/signer/gate"
	"github.com/cofferhq/coffer/signer/replica"
)

// Damage to this node's store is its own kind, reported as such to the
// client, never as the caller's invalid input.
func TestClassifyDamage(t *testing.T) {
	for _, c := range []struct {
		err  error
		want api.Kind
	}{
		{fmt.Errorf("decode transfer x: %w", ledger.ErrCorrupt), api.KindDamaged},
		{fmt.Errorf("unseal share: %w: %w", gate.ErrStoreDamaged, hsm.ErrUnseal), api.KindDamaged},
		{fmt.Errorf("%w: %w", gate.ErrStoreDamaged, ledger.ErrCorrupt), api.KindDamaged},
		{fmt.Errorf("audit: %w", audit.ErrCorrupt), api.KindDamaged},
		{gate.IntentErr("amount"), api.KindInvalid},
		{fmt.Errorf("propose: %w: deadline (this node cannot write its raft log: no space left on device)", replica.ErrTimeout), api.KindUnavailable},
	} {
		if got := classifyErr(c.err); got != c.want {
			t.Errorf("%v: kind %d, want %d", c.err, got, c.want)
		}
	}
}
