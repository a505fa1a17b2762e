package storerestore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/note"

	"github.com/cofferhq/coffer/audit"
	"github.com/cofferhq/coffer/internal/storecheck"
)

// Options say what to restore where.
type Options struct {
	Path      string // the node's store (node.db)
	RaftDir   string // the node's raft directory
	Snapshot  string // the snapshot to put back; "": an empty store, the audit log from AuditTail alone
	AuditTail string // optional: a bundle of the node's log, or a store file whose log is read
	Origin    string // the node's audit log origin
	Key       string // the node's audit verifier key
	Now       time.Time
}

// Result is what Restore did.
type Result struct {
	Bytes      int64
	AuditSize  uint64         // the restored store's audit log size
	Tail       audit.Restored // entries put back from AuditTail
	Mark       uint64         // the size the checkpoint file records (0: no file)
	MovedStore string         // where the damaged store went ("" if there was none)
	MovedRaft  string         // where the raft directory went ("" if there was none)
	Check      storecheck.Report
}

// ErrBehind means the snapshot's audit log, with the tail given, still
// ends below the checkpoint the node signed last.
var ErrBehind = errors.New("restore: the snapshot's audit log is behind the checkpoint this node signed last")

// Restore puts a snapshot back in place of the node's store (see the
// package documentation). Nothing at Path or RaftDir changes unless every
// check passed.
func Restore(ctx context.Context, o Options, log *slog.Logger) (Result, error) {
	var res Result
	self, err := note.NewVerifier(o.Key)
	if err != nil {
		return res, fmt.Errorf("restore: the node's audit key: %w", err)
	}
	selfV := note.VerifierList(self)
	unlock, err := lockStore(o.Path)
	if err != nil {
		return res, err
	}
	defer unlock()

	// a copy beside the store, checked and completed there
	tmp := o.Path + ".restoring"
	_ = os.Remove(tmp)
	defer os.Remove(tmp) // after the rename: no such file
	if o.Snapshot == "" {
		// a store lost whole, no snapshot: its audit log comes back from
		// the bundle alone, its ledger and shares from the cluster's log
		if o.AuditTail == "" {
			return res, errors.New("restore: give --from SNAPSHOT, or --audit-tail BUNDLE to rebuild the audit log alone")
		}
	} else {
		in, err := os.Open(o.Snapshot)
		if err != nil {
			return res, fmt.Errorf("restore: %w", err)
		}
		res.Bytes, err = WriteFile(tmp, func(w io.Writer) (int64, error) { return io.Copy(w, in) })
		in.Close()
		if err != nil {
			return res, fmt.Errorf("restore: copy %s: %w", o.Snapshot, err)
		}
		if _, err := storecheck.Check(ctx, tmp, storecheck.Options{}, log); err != nil {
			return res, fmt.Errorf("restore: the snapshot %s is not whole: %w", o.Snapshot, err)
		}
	}
	db, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return res, fmt.Errorf("restore: open the copy: %w", err)
	}
	closeDB := func() error {
		if db == nil {
			return nil
		}
		err := db.Close()
		db = nil
		return err
	}
	defer closeDB()
	if o.Snapshot != "" {
		if err := sameNode(db, o); err != nil {
			return res, fmt.Errorf("restore: the snapshot %s: %w", o.Snapshot, err)
		}
	}
	if o.AuditTail != "" {
		if res.Tail, err = restoreTail(ctx, db, o.AuditTail, selfV); err != nil {
			return res, err
		}
	}
	if err := sameNode(db, o); err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	var got audit.StoredLog
	if err := db.View(func(tx *bolt.Tx) error {
		got, err = audit.CheckStored(ctx, tx)
		return err
	}); err != nil {
		return res, fmt.Errorf("restore: the completed copy: %w", err)
	}
	res.AuditSize = got.Size
	markPath := audit.WatermarkPath(o.Path)
	mark, ok, err := audit.ReadWatermark(markPath, selfV)
	if err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	if ok {
		res.Mark = mark.Size
		if err := audit.CompareWatermark(markPath, mark, got.Size, got.Root); err != nil {
			return res, fmt.Errorf("%w: the snapshot's log ends at size %d (%d entries put back from --audit-tail), %s records size %d: "+
				"give --audit-tail a bundle of this node's log that reaches size %d (an auditor's `coffer audit export`, or the damaged store itself if its log still reads)",
				ErrBehind, got.Size, res.Tail.To-res.Tail.From, markPath, mark.Size, mark.Size)
		}
	}
	if err := closeDB(); err != nil {
		return res, fmt.Errorf("restore: close the copy: %w", err)
	}
	if res.Check, err = storecheck.Check(ctx, tmp, storecheck.Options{}, log); err != nil {
		return res, fmt.Errorf("restore: the completed copy: %w", err)
	}

	// every check passed: move the damaged store and raft state aside
	stamp := o.Now.UTC().Format("20060102T150405Z")
	if res.MovedStore, err = moveAside(o.Path, stamp); err != nil {
		return res, err
	}
	if res.MovedRaft, err = moveAside(o.RaftDir, stamp); err != nil {
		return res, err
	}
	if err := os.Rename(tmp, o.Path); err != nil {
		return res, fmt.Errorf("restore: put the snapshot in place: %w", err)
	}
	if err := syncDir(filepath.Dir(o.Path)); err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	if !ok { // no checkpoint file: the node writes it from the store at start
		log.Warn("no checkpoint file beside the store: nothing proved the snapshot's audit log is the latest", "file", markPath)
	}
	return res, nil
}

// sameNode checks the copy's audit log is this node's.
func sameNode(db *bolt.DB, o Options) error {
	return db.View(func(tx *bolt.Tx) error {
		m := tx.Bucket([]byte("audit/meta"))
		if m == nil {
			return errors.New("it holds no audit log")
		}
		if string(m.Get([]byte("origin"))) != o.Origin || string(m.Get([]byte("key"))) != o.Key {
			return fmt.Errorf("it is the store of %q, not of this node (%q, or another key)", m.Get([]byte("origin")), o.Origin)
		}
		return nil
	})
}

// restoreTail reads the tail source: a bundle, or a store file (the
// damaged store) whose audit log is exported first.
func restoreTail(ctx context.Context, db *bolt.DB, src string, self note.Verifiers) (audit.Restored, error) {
	f, err := os.Open(src)
	if err != nil {
		return audit.Restored{}, fmt.Errorf("restore: --audit-tail: %w", err)
	}
	defer f.Close()
	var r io.Reader = f
	if isBolt(f) {
		exported, err := exportStore(ctx, src)
		if err != nil {
			return audit.Restored{}, err
		}
		defer os.Remove(exported.Name())
		defer exported.Close()
		r = exported
	} else if _, err := f.Seek(0, io.SeekStart); err != nil {
		return audit.Restored{}, fmt.Errorf("restore: --audit-tail: %w", err)
	}
	b, err := audit.ReadBundle(src, r)
	if err != nil {
		return audit.Restored{}, fmt.Errorf("restore: --audit-tail: %w", err)
	}
	t, err := audit.RestoreLog(ctx, db, b, self)
	if err != nil {
		return t, fmt.Errorf("restore: --audit-tail: %w", err)
	}
	return t, nil
}

// isBolt reports whether f starts like a bbolt file (its first meta page's
// magic), and leaves f's offset anywhere.
func isBolt(f *os.File) bool {
	var hdr [32]byte
	if _, err := f.ReadAt(hdr[:], 0); err != nil {
		return false
	}
	// page header (16 bytes), then meta: magic uint32 0xED0CDAED, little endian
	return hdr[16] == 0xED && hdr[17] == 0xDA && hdr[18] == 0x0C && hdr[19] == 0xED
}

// exportStore exports the audit log of a (possibly damaged) store file
// into a temporary bundle, reading it read-only and under storecheck.Guard.
func exportStore(ctx context.Context, path string) (*os.File, error) {
	out, err := os.CreateTemp("", "coffer-audit-tail-*.bundle")
	if err != nil {
		return nil, fmt.Errorf("restore: --audit-tail: %w", err)
	}
	err = storecheck.Guard(path, func() string { return "exporting its audit log" }, func() error {
		db, err := bolt.Open(path, 0o400, &bolt.Options{ReadOnly: true, Timeout: 2 * time.Second})
		if err != nil {
			return err
		}
		defer db.Close()
		return audit.Export(ctx, db, out)
	})
	if err == nil {
		_, err = out.Seek(0, io.SeekStart)
	}
	if err != nil {
		out.Close()
		os.Remove(out.Name())
		return nil, fmt.Errorf("restore: --audit-tail %s: its audit log does not read (use an auditor's export bundle instead): %w", path, err)
	}
	return out, nil
}

// moveAside renames path to path.before-restore-STAMP, if it exists.
func moveAside(path, stamp string) (string, error) {
	if path == "" {
		return "", nil
	}
	if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	to := path + ".before-restore-" + stamp
	if err := os.Rename(path, to); err != nil {
		return "", fmt.Errorf("restore: move %s aside: %w", path, err)
	}
	return to, nil
}

// lockStore takes the store's file lock shared: a running node holds it
// exclusively, so a restore never replaces the store under a running
// node, and a node started meanwhile waits; reading the same file's
// audit log for the tail takes it shared too.
func lockStore(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return func() {}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("restore: %s is in use (stop the node first): %w", path, err)
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}
