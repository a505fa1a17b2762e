package audit

import (
	"context"
	"fmt"
	"time"

	"github.com/transparency-dev/merkle/compact"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/note"
)

// request is one Append or AppendAll waiting for its batch.
type request struct {
	ctx   context.Context
	recs  []Record
	first uint64     // set by the committer before done
	done  chan error // buffered; receives exactly one result
}

// commitLoop is the group committer: it takes the first waiting request,
// adds every other request already waiting (up to maxBatch records), and
// commits them in one transaction. Requests arriving meanwhile form the
// next batch, so batches grow with the load.
func (l *Log) commitLoop() {
	defer close(l.stopped)
	for {
		var batch []*request
		select {
		case <-l.quit:
			return
		case r := <-l.reqs:
			batch = append(batch, r)
		}
		n := len(batch[0].recs)
	gather:
		for n < l.maxBatch {
			select {
			case r := <-l.reqs:
				batch = append(batch, r)
				n += len(r.recs)
			default:
				break gather
			}
		}
		l.commit(batch)
	}
}

// commit appends a batch atomically: either every request's records are
// in the file with the checkpoint signed over them, or none is and every
// request gets the error.
func (l *Log) commit(batch []*request) {
	live := batch[:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- fmt.Errorf("append audit record: %w", err)
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	next, err := l.write(live)
	if err != nil {
		for _, r := range live {
			r.done <- err
		}
		return
	}
	l.mu.Lock()
	l.st = next
	l.mu.Unlock()
	for _, r := range live {
		r.done <- nil
	}
}

// write builds, signs and commits the batch, returning the new state. The
// committed state is untouched on error.
func (l *Log) write(batch []*request) (treeState, error) {
	// held from the checks to the checkpoint file, so that Ahead cannot
	// slip between them: no batch signs a size at or below the file's
	l.markMu.Lock()
	defer l.markMu.Unlock()
	l.mu.RLock()
	st, broken := l.st, l.broken
	l.mu.RUnlock()
	if broken != nil {
		return treeState{}, fmt.Errorf("append audit record: %w", broken)
	}
	rng, err := st.clone(l.rf)
	if err != nil {
		return treeState{}, fmt.Errorf("append audit record: %w: %w", ErrCorrupt, err)
	}
	first := rng.End()
	var leaves [][]byte
	var nodes []treeNode
	visit := func(id compact.NodeID, hash []byte) { nodes = append(nodes, treeNode{id, hash}) }
	for _, r := range batch {
		r.first = first + uint64(len(leaves))
		for _, rec := range r.recs {
			rec.Index = first + uint64(len(leaves))
			leaf, err := encode(rec)
			if err != nil {
				return treeState{}, fmt.Errorf("append audit record: %w", err)
			}
			leaves = append(leaves, leaf)
			if err := rng.Append(hasher.HashLeaf(leaf), visit); err != nil {
				return treeState{}, fmt.Errorf("append audit record: %w: %w", ErrCorrupt, err)
			}
		}
	}
	root, err := rootOf(rng)
	if err != nil {
		return treeState{}, fmt.Errorf("append audit record: %w: %w", ErrCorrupt, err)
	}
	size := rng.End()
	if size <= l.markSize { // whatever the store says, never a second root for a signed size
		return treeState{}, fmt.Errorf("append audit record: %w: size %d is at or below the size %d this node signed before (%s)",
			ErrRollback, size, l.markSize, l.markPath)
	}
	cp := Checkpoint{Origin: l.origin, Size: size, Hash: root}
	signed, err := note.Sign(&note.Note{Text: string(cp.Text())}, l.signer)
	if err != nil {
		l.log.Error("checkpoint signing failed; batch refused", "size", size, "records", len(leaves), "err", err)
		return treeState{}, fmt.Errorf("append audit record: sign checkpoint %d: %w", size, err)
	}
	start := time.Now()
	err = l.db.Update(func(tx *bolt.Tx) error {
		b, err := auditBuckets(tx)
		if err != nil {
			return err
		}
		if err := b.putBatch(first, leaves, nodes, size, signed); err != nil {
			return err
		}
		if l.failCommit != nil {
			return l.failCommit(tx)
		}
		return nil
	})
	if err != nil {
		l.log.Error("audit commit failed; batch refused", "size", size, "records", len(leaves), "err", err)
		l.reload()
		return treeState{}, fmt.Errorf("append audit record: commit entries %d..%d: %w: %w", first, size-1, ErrStore, err)
	}
	if err := l.mark.write(signed); err != nil {
		// the batch is in the store but not acknowledged: callers refuse
		// to sign; the next commit writes the file again
		l.log.Error("checkpoint file not written; batch refused", "size", size, "err", err)
		l.reload()
		return treeState{}, fmt.Errorf("append audit record: entries %d..%d: %w: %w", first, size-1, ErrStore, err)
	}
	l.markSize = size
	l.log.Debug("batch committed", "first", first, "records", len(leaves), "requests", len(batch), "took", time.Since(start))
	return treeState{rng: rng, root: root}, nil
}
