package vault

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/cofferhq/coffer/hsm"
)

// selfTest seals and opens a random value, opens it again under other
// associated data, and signs and verifies a value, so a node with a wrong
// key, a missing capability or a broken server stops at start. The second
// open must fail: a transit that ignores associated_data (Vault before
// 1.13 accepted and dropped it) would open a share sealed for one key ID
// or generation as any other, and the cluster and node in the AAD would
// bind nothing either.
func (k *Keystore) selfTest(ctx context.Context) error {
	probe := make([]byte, 32)
	rand.Read(probe)
	aad := []byte("coffer/vault/selftest/v1")
	b, err := k.Seal(ctx, aad, probe)
	if err != nil {
		return err
	}
	got, err := k.Open(ctx, aad, b)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, probe) {
		return errors.New("seal/open round trip returned other bytes")
	}
	got, err = k.Open(ctx, []byte("coffer/vault/selftest/v1 other"), b)
	switch {
	case err == nil:
		clear(got)
		return fmt.Errorf("%w: transit key %q opened a blob under associated data it was not sealed with; upgrade Vault (1.13 or later)",
			ErrAADIgnored, k.cfg.SealKey)
	case !errors.Is(err, hsm.ErrUnseal):
		return fmt.Errorf("open under other associated data: %w", err)
	}
	if _, err := k.identity.Sign(nil, probe, crypto.Hash(0)); err != nil {
		return err
	}
	return nil
}
