package audit

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/transparency-dev/merkle/compact"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/note"
)

// The checkpoint file ("watermark") keeps the latest checkpoint the log
// committed outside the bbolt file, so that a store the disk rolled back
// to an older transaction (a damaged newest meta page makes bbolt open the
// previous one) cannot make the node sign a second root for a size it
// signed before: a fork its peers may already have cosigned.

// WatermarkSuffix names the checkpoint file beside the store.
const WatermarkSuffix = ".checkpoint"

// WatermarkPath is the checkpoint file of the store at dbPath.
func WatermarkPath(dbPath string) string { return dbPath + WatermarkSuffix }

// ErrRollback means the store's latest signed checkpoint is older than
// the one recorded in the checkpoint file (or has the same size and
// another root): the store was rolled back, and appending would fork the
// log.
var ErrRollback = errors.New("audit: the store is older than the checkpoint file beside it")

// The file holds two slots of markSlot bytes. A slot is a 4-byte
// big-endian length and that many bytes of a signed checkpoint note, then
// zeros; an empty slot has length 0. Writes alternate between the slots
// in place, each followed by one fsync, so a write torn by a crash leaves
// the other slot's (older) checkpoint whole; the file's checkpoint is the
// largest of the slots that open.
const (
	markSlot = 20 << 10 // room for MaxCheckpointSize and the length
	markFile = 2 * markSlot
)

// ReadWatermark reads the checkpoint file at path, a checkpoint signed by
// a key of known. ok is false when there is no file. A file of another
// size, or whose slots hold no checkpoint that opens with known, is
// ErrCorrupt.
func ReadWatermark(path string, known note.Verifiers) (cp Checkpoint, ok bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return Checkpoint{}, false, nil
	}
	if err != nil {
		return Checkpoint{}, false, fmt.Errorf("%w: read checkpoint file %s: %w", ErrStore, path, err)
	}
	cp, slot, err := readMarkSlots(data, known)
	if err != nil {
		return Checkpoint{}, false, fmt.Errorf("%w: checkpoint file %s: %w", ErrCorrupt, path, err)
	}
	return cp, slot >= 0, nil
}

// readMarkSlots returns the largest checkpoint of the file's slots that
// opens with known, and its slot; slot -1 when both slots are empty.
func readMarkSlots(data []byte, known note.Verifiers) (Checkpoint, int, error) {
	if len(data) != markFile {
		return Checkpoint{}, 0, fmt.Errorf("%d bytes, want %d", len(data), markFile)
	}
	best, slot := Checkpoint{}, -1
	var firstErr error
	for i := range 2 {
		b := data[i*markSlot : (i+1)*markSlot]
		n := binary.BigEndian.Uint32(b)
		if n == 0 {
			continue
		}
		if n > markSlot-4 {
			firstErr = cmp.Or(firstErr, fmt.Errorf("slot %d: length %d", i, n))
			continue
		}
		cp, _, err := OpenCheckpoint(b[4:4+n], known)
		if err != nil {
			firstErr = cmp.Or(firstErr, fmt.Errorf("slot %d: %w", i, err))
			continue
		}
		if slot < 0 || cp.Size > best.Size {
			best, slot = cp, i
		}
	}
	if slot < 0 && firstErr == nil {
		return Checkpoint{}, -1, nil // both empty: a crash right after the file was made
	}
	if slot < 0 {
		return Checkpoint{}, 0, firstErr
	}
	return best, slot, nil
}

// CompareWatermark compares the store's latest signed checkpoint (size,
// root) with the checkpoint file's: a larger size in the file, or the same
// size with another root, is ErrRollback naming both sizes.
func CompareWatermark(path string, mark Checkpoint, size uint64, root []byte) error {
	switch {
	case mark.Size > size:
		return fmt.Errorf("%w: the store's latest audit checkpoint is size %d but %s records size %d, signed earlier: "+
			"the store was rolled back and appending would sign a second root for size %d; restore the store (README, \"Restoring a node\")",
			ErrRollback, size, path, mark.Size, size+1)
	case mark.Size == size && !bytes.Equal(mark.Hash, root):
		return fmt.Errorf("%w: the store's audit checkpoint of size %d has another root than the one %s records: "+
			"the store was rolled back and rewritten; restore the store (README, \"Restoring a node\")", ErrRollback, size, path)
	}
	return nil
}

// markWriter writes the checkpoint file: into the slot that does not hold
// the latest checkpoint, then fsync.
type markWriter struct {
	f    *os.File
	next int // the slot the next write goes to
}

// openMarkWriter opens the checkpoint file at path for writing, creating
// it (both slots empty, fsynced with its directory) if it does not exist.
// next is the slot that does not hold the file's latest checkpoint.
func openMarkWriter(path string, next int) (*markWriter, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		if f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
			err = createMarkFile(f, path)
		}
	}
	if err != nil {
		if f != nil {
			f.Close()
		}
		return nil, fmt.Errorf("open checkpoint file %s: %w", path, err)
	}
	return &markWriter{f: f, next: next}, nil
}

func createMarkFile(f *os.File, path string) error {
	if _, err := f.WriteAt(make([]byte, markFile), 0); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// write puts signed into the next slot and fsyncs the file.
func (w *markWriter) write(signed []byte) error {
	if len(signed) > markSlot-4 {
		return fmt.Errorf("write checkpoint file %s: a note of %d bytes", w.f.Name(), len(signed))
	}
	buf := make([]byte, markSlot)
	binary.BigEndian.PutUint32(buf, uint32(len(signed)))
	copy(buf[4:], signed)
	if _, err := w.f.WriteAt(buf, int64(w.next*markSlot)); err != nil {
		return fmt.Errorf("write checkpoint file %s: %w", w.f.Name(), err)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("write checkpoint file %s: fsync: %w", w.f.Name(), err)
	}
	w.next = 1 - w.next
	return nil
}

func (w *markWriter) close() error { return w.f.Close() }

// openWatermark compares the checkpoint file with the store at open. A
// missing file is written from the store (a new log, or the first start
// of a node that had none: WARN); a file behind the store (a crash
// between the store's commit and the file's write) is brought forward.
func (l *Log) openWatermark(st treeState, created bool) error {
	mark, ok, slot, err := l.readMark()
	if err != nil {
		return fmt.Errorf("%w (if the store is known good, remove the file: the node writes it again from the store)", err)
	}
	if ok {
		if err := CompareWatermark(l.markPath, mark, st.size(), st.root); err != nil {
			l.log.Error("audit log refuses to append: store rolled back", "store_size", st.size(), "file_size", mark.Size, "file", l.markPath)
			return err
		}
	}
	if l.mark, err = openMarkWriter(l.markPath, 1-slot); err != nil {
		return fmt.Errorf("%w: %w", ErrStore, err)
	}
	if ok {
		l.markSize = mark.Size
		if mark.Size == st.size() {
			return nil
		}
	}
	signed, err := l.latestSigned()
	if err != nil {
		return err
	}
	if err := l.mark.write(signed); err != nil {
		return fmt.Errorf("%w: %w", ErrStore, err)
	}
	switch {
	case !ok && !created:
		l.log.Warn("checkpoint file missing; written from the store (first start with it?)", "file", l.markPath, "size", st.size())
	case ok:
		l.log.Warn("checkpoint file behind the store (a stop between commit and file write); brought forward",
			"file", l.markPath, "file_size", mark.Size, "size", st.size())
	}
	l.markSize = st.size()
	return nil
}

// readMark reads the checkpoint file with this log's key: its latest
// checkpoint and slot (slot 1 when there is none, so writes start at 0).
func (l *Log) readMark() (cp Checkpoint, ok bool, slot int, err error) {
	data, err := os.ReadFile(l.markPath)
	if errors.Is(err, os.ErrNotExist) {
		return Checkpoint{}, false, 1, nil
	}
	if err != nil {
		return Checkpoint{}, false, 0, fmt.Errorf("%w: read checkpoint file %s: %w", ErrStore, l.markPath, err)
	}
	cp, slot, err = readMarkSlots(data, l.self)
	if err != nil {
		return Checkpoint{}, false, 0, fmt.Errorf("%w: checkpoint file %s: %w", ErrCorrupt, l.markPath, err)
	}
	if slot < 0 {
		return Checkpoint{}, false, 1, nil
	}
	return cp, true, slot, nil
}

// latestSigned is the store's latest signed checkpoint note.
func (l *Log) latestSigned() ([]byte, error) {
	var signed []byte
	err := l.view(context.Background(), func(b buckets) error {
		var err error
		_, signed, err = b.latestCheckpoint()
		return err
	})
	return signed, err
}

// Ahead takes a checkpoint of this log that a peer cosigned earlier and
// now returns because the log asked it to cosign a smaller tree, or
// another root at the same size: the peer's copy of what this node
// signed before. It must carry this node's own valid signature (a peer
// cannot make one up, so a hostile peer can only return a true one). If
// it is ahead of the store, or forks it, the store was rolled back: the
// checkpoint file records it, every later append is refused with
// ErrRollback (as at the next start), and Ahead returns that error. A
// checkpoint the store already holds changes nothing and returns nil.
func (l *Log) Ahead(signed []byte) error {
	cp, _, err := OpenCheckpoint(signed, l.self)
	if err != nil {
		return fmt.Errorf("checkpoint a peer cosigned: %w", err)
	}
	if cp.Origin != l.origin {
		return fmt.Errorf("checkpoint a peer cosigned: %w: origin %q, this log is %q", ErrMalformed, cp.Origin, l.origin)
	}
	l.markMu.Lock()
	defer l.markMu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.st
	size := st.size()
	var why error
	switch {
	case cp.Size > size:
		why = fmt.Errorf("%w: a peer cosigned this node's audit checkpoint of size %d, signed earlier, but the store holds size %d: "+
			"the store was rolled back; restore it (README, \"Restoring a node\")", ErrRollback, cp.Size, size)
	case cp.Size == size && !bytes.Equal(cp.Hash, st.root):
		why = fmt.Errorf("%w: a peer cosigned another root of this node's audit log for size %d: "+
			"the store was rolled back and rewritten; restore it (README, \"Restoring a node\")", ErrRollback, size)
	case cp.Size < size:
		// the store grew past what the peer cosigned: its tree at that
		// size must have the root the peer holds, or it forked since
		root, err := l.rootAt(cp.Size)
		if err != nil {
			return fmt.Errorf("checkpoint a peer cosigned: %w", err)
		}
		if bytes.Equal(root, cp.Hash) {
			return nil
		}
		why = fmt.Errorf("%w: a peer cosigned another root of this node's audit log for size %d than the store holds: "+
			"the store was rolled back and rewritten past it; restore it (README, \"Restoring a node\")", ErrRollback, cp.Size)
	default:
		return nil
	}
	if l.broken == nil || !errors.Is(l.broken, ErrRollback) {
		l.log.Error("audit log refuses to append: a peer holds a later checkpoint of it", "store_size", size, "cosigned_size", cp.Size)
		l.broken = why
	}
	if cp.Size > l.markSize {
		if err := l.mark.write(signed); err != nil {
			l.log.Error("checkpoint file not written", "err", err)
		} else {
			l.markSize = cp.Size
		}
	}
	return why
}

// rootAt is the root of the stored tree at an earlier size, from the
// stored node hashes.
func (l *Log) rootAt(size uint64) ([]byte, error) {
	var root []byte
	err := l.db.View(func(tx *bolt.Tx) error {
		b, err := auditBuckets(tx)
		if err != nil {
			return err
		}
		hashes, err := b.nodeHashes(compact.RangeNodes(0, size, nil))
		if err != nil {
			return err
		}
		rng, err := l.rf.NewRange(0, size, hashes)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		root, err = rootOf(rng)
		return err
	})
	return root, err
}
