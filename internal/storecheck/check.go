package storecheck

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Report is what a check found in a whole store.
type Report struct {
	Path         string
	Bytes        int64
	Buckets      int
	Keys         int
	AuditEntries uint64 // entries rehashed against the latest signed checkpoint
	AuditChecked bool   // false when the file has no audit log yet
	NewFile      bool   // no file yet: the node creates it
	Took         time.Duration
	Watermark    bool // the checkpoint file beside the store was compared
}

// Options tune Check.
type Options struct {
	// LockTimeout bounds the wait for the file's lock (default 2s).
	LockTimeout time.Duration
}

// Check checks the store at path (see the package doc) and returns what it
// read. A damaged store is a *Damage (errors.Is ErrDamaged); a store held
// by a running node is ErrLocked. A missing file is not an error: a new
// node creates it.
func Check(ctx context.Context, path string, opts Options, log *slog.Logger) (Report, error) {
	if log == nil {
		return Report{}, errors.New("check store: missing logger")
	}
	if opts.LockTimeout == 0 {
		opts.LockTimeout = 2 * time.Second
	}
	start := time.Now()
	rep := Report{Path: path}
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		rep.NewFile = true
		return rep, nil
	}
	if err != nil {
		return rep, fmt.Errorf("check store %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return rep, fmt.Errorf("check store %s: not a regular file", path)
	}
	rep.Bytes = fi.Size()
	db, err := open(path, opts.LockTimeout)
	if err != nil {
		return rep, err
	}
	defer db.Close()
	if err := checkDB(ctx, db, &rep); err != nil {
		return rep, err
	}
	rep.Took = time.Since(start)
	log.Info("store checked", "path", path, "bytes", rep.Bytes, "buckets", rep.Buckets, "keys", rep.Keys,
		"audit_entries", rep.AuditEntries, "took", rep.Took.Round(time.Millisecond))
	return rep, nil
}

// open opens the file as the node does (writable, so bbolt reads its
// free list here, under Guard, and the lock is exclusive) but never writes.
func open(path string, timeout time.Duration) (*bolt.DB, error) {
	var db *bolt.DB
	err := Guard(path, func() string { return "opening it" }, func() error {
		var err error
		db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout})
		return err
	})
	var d *Damage
	switch {
	case err == nil:
		return db, nil
	case errors.As(err, &d):
		return nil, err
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("check store %s: %w (stop the node first)", path, ErrLocked)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrVersionMismatch):
		return nil, &Damage{File: path, Where: "meta pages", Detail: fmt.Sprintf("bbolt cannot open it (%v)", err), Err: err}
	default:
		return nil, &Damage{File: path, Detail: fmt.Sprintf("bbolt cannot open it (%v)", err), Err: err}
	}
}

// checkDB runs the checks in one read transaction.
func checkDB(ctx context.Context, db *bolt.DB, rep *Report) error {
	path := db.Path()
	where := "the file"
	return Guard(path, func() string { return where }, func() error {
		return db.View(func(tx *bolt.Tx) error {
			if reach := tx.Size(); reach > rep.Bytes {
				return &Damage{File: path, Detail: fmt.Sprintf("the file is %d bytes but its live pages reach %d: it was cut", rep.Bytes, reach)}
			}
			if err := walk(ctx, tx, rep, &where); err != nil {
				return err
			}
			where = "bbolt consistency check"
			if err := consistency(tx, path); err != nil {
				return err
			}
			where = "audit log"
			return checkAudit(ctx, tx, path, rep, &where)
		})
	})
}

// walk reads every key and value of every bucket, so that every reachable
// page is touched here, under Guard, before bbolt's check reads them in a
// goroutine of its own.
func walk(ctx context.Context, tx *bolt.Tx, rep *Report, where *string) error {
	var bucket func(name string, b *bolt.Bucket) error
	bucket = func(name string, b *bolt.Bucket) error {
		rep.Buckets++
		*where = "bucket " + name
		return b.ForEach(func(k, v []byte) error {
			if rep.Keys%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return fmt.Errorf("check store: %w", err)
				}
			}
			rep.Keys++
			touch(k)
			touch(v)
			if v == nil {
				if sub := b.Bucket(k); sub != nil {
					if err := bucket(name+"/"+string(k), sub); err != nil {
						return err
					}
					*where = "bucket " + name
				}
			}
			return nil
		})
	}
	return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
		return bucket(string(name), b)
	})
}

// sink keeps touch's reads from being optimized away.
var sink byte

// touch reads the first and last byte of b here, under Guard: an element
// whose position points outside the mapped file faults in this goroutine,
// not in the one bbolt's check compares keys in.
func touch(b []byte) {
	if len(b) > 0 {
		sink ^= b[0] ^ b[len(b)-1]
	}
}

// consistency runs bbolt's check and reports its first finding (and how
// many there were).
func consistency(tx *bolt.Tx, path string) error {
	var first error
	n := 0
	for err := range tx.Check() {
		if first == nil {
			first = err
		}
		n++
	}
	if first == nil {
		return nil
	}
	detail := oneLine(first.Error())
	if n > 1 {
		detail += fmt.Sprintf(" (and %d more findings)", n-1)
	}
	return &Damage{File: path, Where: "bbolt consistency check", Detail: detail, Err: first}
}
