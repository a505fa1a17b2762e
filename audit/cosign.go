package audit

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	"github.com/transparency-dev/merkle/proof"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/note"
)

// LastCosigned returns the last checkpoint of a peer's log that this node
// cosigned (ok false if none): the peer proves consistency from it.
func (l *Log) LastCosigned(ctx context.Context, origin string) (SignedCheckpoint, bool, error) {
	var sc SignedCheckpoint
	var ok bool
	err := l.view(ctx, func(b buckets) error {
		var err error
		sc, ok, err = lastCosigned(b, origin)
		return err
	})
	if err != nil {
		return SignedCheckpoint{}, false, fmt.Errorf("read last cosigned checkpoint of %s: %w", origin, err)
	}
	return sc, ok, nil
}

func lastCosigned(b buckets, origin string) (SignedCheckpoint, bool, error) {
	prefix := append([]byte(origin), 0)
	c := b.cosigs.Cursor()
	end := binary.BigEndian.AppendUint64(bytes.Clone(prefix), ^uint64(0))
	k, v := c.Seek(end)
	switch {
	case k == nil:
		k, v = c.Last()
	case !bytes.Equal(k, end):
		k, v = c.Prev()
	}
	if k == nil || !bytes.HasPrefix(k, prefix) || len(k) != len(prefix)+8 {
		return SignedCheckpoint{}, false, nil
	}
	n, err := note.Open(v, note.VerifierList())
	if n == nil {
		n = unverifiedNote(err)
	}
	if n == nil {
		return SignedCheckpoint{}, false, fmt.Errorf("%w: stored cosigned checkpoint %x: %w", ErrCorrupt, k, err)
	}
	cp, err := ParseCheckpoint([]byte(n.Text))
	if err != nil || cp.Origin != origin {
		return SignedCheckpoint{}, false, fmt.Errorf("%w: stored cosigned checkpoint %x does not parse", ErrCorrupt, k)
	}
	return SignedCheckpoint{Checkpoint: cp, Note: bytes.Clone(v)}, true, nil
}

// Cosign witnesses a peer's checkpoint: it checks the peer's signature, and
// that the checkpoint extends the last one this node cosigned for that
// peer (consistency is a proof from that size, as made by the peer's
// ConsistencyProof; a first checkpoint is accepted as is). It then adds
// this node's signature line to the note, stores it and returns it.
// Cosigning the same checkpoint again returns the stored note. A smaller
// size is ErrStale, a different root at the same size ErrFork, a failing
// proof ErrInconsistent.
func (l *Log) Cosign(ctx context.Context, signed []byte, consistency [][]byte) ([]byte, error) {
	l.cosignMu.Lock()
	defer l.cosignMu.Unlock()
	peers := make([]note.Verifier, 0, len(l.peers))
	for _, v := range l.peers {
		peers = append(peers, v)
	}
	cp, n, err := OpenCheckpoint(signed, note.VerifierList(peers...))
	if err != nil {
		return nil, fmt.Errorf("cosign checkpoint: %w", err)
	}
	if l.peers[cp.Origin] == nil {
		return nil, fmt.Errorf("cosign checkpoint of %s: %w: not a configured peer", cp.Origin, ErrUnknownNode)
	}
	last, seen, err := l.LastCosigned(ctx, cp.Origin)
	if err != nil {
		return nil, fmt.Errorf("cosign checkpoint of %s: %w", cp.Origin, err)
	}
	if seen {
		switch {
		case cp.Size < last.Size:
			return nil, fmt.Errorf("cosign checkpoint of %s size %d: %w (last cosigned: %d)", cp.Origin, cp.Size, ErrStale, last.Size)
		case cp.Size == last.Size && !bytes.Equal(cp.Hash, last.Hash):
			l.log.Error("peer signed two roots for one size", "peer", cp.Origin, "size", cp.Size)
			return nil, fmt.Errorf("cosign checkpoint of %s size %d: %w", cp.Origin, cp.Size, ErrFork)
		case cp.Size == last.Size:
			return last.Note, nil
		}
		if err := proof.VerifyConsistency(hasher, last.Size, cp.Size, consistency, last.Hash, cp.Hash); err != nil {
			l.log.Error("peer checkpoint inconsistent with the last cosigned", "peer", cp.Origin, "from", last.Size, "to", cp.Size, "err", err)
			return nil, fmt.Errorf("cosign checkpoint of %s from size %d to %d: %w: %w", cp.Origin, last.Size, cp.Size, ErrInconsistent, err)
		}
	}
	// Keep only the peer's own signature: cosign what it signed.
	own := &note.Note{Text: n.Text}
	for _, s := range n.Sigs {
		if s.Name == cp.Origin {
			own.Sigs = append(own.Sigs, s)
		}
	}
	out, err := note.Sign(own, l.cosigner)
	if err != nil {
		return nil, fmt.Errorf("cosign checkpoint of %s size %d: %w", cp.Origin, cp.Size, err)
	}
	err = l.db.Update(func(tx *bolt.Tx) error {
		b, err := auditBuckets(tx)
		if err != nil {
			return err
		}
		return b.cosigs.Put(cosigKey(cp.Origin, cp.Size), out)
	})
	if err != nil {
		return nil, fmt.Errorf("cosign checkpoint of %s size %d: %w: %w", cp.Origin, cp.Size, ErrStore, err)
	}
	l.log.Info("cosigned peer checkpoint", "peer", cp.Origin, "size", cp.Size)
	return out, nil
}

// AddCosignatures merges the cosignatures of a copy of one of this node's
// checkpoints (as returned by a peer's Cosign) into the stored note, so
// that Export carries them. Signatures by unknown keys are dropped; an
// invalid one by a known key is ErrSignature. A note with this node's
// signature over another text of a stored size is ErrFork.
func (l *Log) AddCosignatures(ctx context.Context, cosigned []byte) error {
	l.cosignMu.Lock()
	defer l.cosignMu.Unlock()
	known := l.allVerifiers()
	cp, n, err := OpenCheckpoint(cosigned, known)
	if err != nil {
		return fmt.Errorf("add cosignatures: %w", err)
	}
	if cp.Origin != l.origin {
		return fmt.Errorf("add cosignatures: %w: checkpoint of %s, this log is %s", ErrUnknownNode, cp.Origin, l.origin)
	}
	err = l.db.Update(func(tx *bolt.Tx) error {
		b, err := auditBuckets(tx)
		if err != nil {
			return err
		}
		stored := b.checkpoints.Get(u64(cp.Size))
		if stored == nil {
			return fmt.Errorf("size %d: %w", cp.Size, ErrNotFound)
		}
		_, sn, err := OpenCheckpoint(stored, known)
		if err != nil {
			return fmt.Errorf("%w: stored checkpoint %d: %w", ErrCorrupt, cp.Size, err)
		}
		if sn.Text != n.Text {
			l.log.Error("a note signed by this node's key differs from the stored checkpoint", "size", cp.Size)
			return fmt.Errorf("size %d: %w", cp.Size, ErrFork)
		}
		merged := &note.Note{Text: sn.Text, Sigs: sn.Sigs}
		have := map[string]bool{}
		for _, s := range sn.Sigs {
			have[s.Name] = true
		}
		for _, s := range n.Sigs {
			if !have[s.Name] {
				merged.Sigs = append(merged.Sigs, s)
				have[s.Name] = true
			}
		}
		out, err := note.Sign(merged)
		if err != nil {
			return err
		}
		return b.checkpoints.Put(u64(cp.Size), out)
	})
	if err != nil {
		return fmt.Errorf("add cosignatures to checkpoint %d: %w", cp.Size, err)
	}
	return nil
}

func (l *Log) allVerifiers() note.Verifiers {
	list := []note.Verifier{}
	for _, v := range l.peers {
		list = append(list, v)
	}
	self, _ := note.NewVerifier(l.signer.VerifierKey())
	list = append(list, l.peerCosig...)
	return note.VerifierList(append(list, self)...)
}

func unverifiedNote(err error) *note.Note {
	if e, ok := err.(*note.UnverifiedNoteError); ok {
		return e.Note
	}
	return nil
}
