package storerestore

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
)

// Snapshot writes a consistent copy of db (bbolt's tx.WriteTo, in one read
// transaction) to w and returns its size. Writers of a running node go on
// meanwhile; a very large file's growth waits for the copy.
func Snapshot(db *bolt.DB, w io.Writer) (int64, error) {
	var n int64
	err := db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("snapshot %s: %w", db.Path(), err)
	}
	return n, nil
}

// WriteFile writes a snapshot to path durably: a temporary file beside
// it, fsynced, mode 0600, renamed over path, the directory fsynced. A
// failure leaves no partial file at path.
func WriteFile(path string, write func(io.Writer) (int64, error)) (int64, error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return 0, fmt.Errorf("write snapshot %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // after the rename: no such file
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return 0, fmt.Errorf("write snapshot %s: %w", path, err)
	}
	n, err := write(tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("write snapshot %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return n, fmt.Errorf("write snapshot %s: %w", path, err)
	}
	return n, syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}
