package ledger

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

var (
	bucketKeys      = []byte("keys")
	bucketPreParams = []byte("preparams")
	bucketMeta      = []byte("meta")
)

// Store is one node's bbolt file. It is safe for concurrent use.
type Store struct {
	db  *bolt.DB
	log *slog.Logger

	mu sync.Mutex
	// applyMu orders commits and what the spend watcher is told of them:
	// it sees changes in the order they were committed.
	applyMu  sync.Mutex
	watcher  SpendWatcher
	changed  chan struct{} // closed and replaced after each transfer change
	verifier ApprovalVerifier
	policies PolicyVerifier
}

// Options tune Open.
type Options struct {
	// LockTimeout bounds the wait for bbolt's file lock (default 2s).
	LockTimeout time.Duration
	// ReadOnly opens the file without writing (auditing, tests).
	ReadOnly bool
}

// Open opens or creates the store at path.
func Open(path string, opts Options, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		return nil, errors.New("open ledger: missing logger")
	}
	if opts.LockTimeout == 0 {
		opts.LockTimeout = 2 * time.Second
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.LockTimeout, ReadOnly: opts.ReadOnly})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("open ledger %s: %w", path, ErrLocked)
		}
		return nil, fmt.Errorf("open ledger %s: %w", path, err)
	}
	s := &Store{db: db, log: logger.With("component", "ledger"), changed: make(chan struct{})}
	if !opts.ReadOnly {
		err = db.Update(func(tx *bolt.Tx) error {
			for _, b := range append([][]byte{bucketKeys, bucketPreParams, bucketMeta}, replicatedBuckets...) {
				if _, err := tx.CreateBucketIfNotExists(b); err != nil {
					return err
				}
			}
			if tx.Bucket(bucketOpen) == nil { // a file from before the index
				return rebuildOpen(tx)
			}
			return nil
		})
		if err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("init ledger %s: %w", path, err)
		}
		return s, nil
	}
	// read-only: nothing can be created, so a file without the ledger's
	// buckets is not a ledger
	err = db.View(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketKeys, bucketPreParams, bucketMeta} {
			if tx.Bucket(b) == nil {
				return fmt.Errorf("%w: no %q bucket", ErrCorrupt, b)
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open ledger %s read-only: %w", path, err)
	}
	return s, nil
}

// Close closes the file and releases its lock.
func (s *Store) Close() error { return s.db.Close() }

// Path is the file's path.
func (s *Store) Path() string { return s.db.Path() }

// DB is the underlying bbolt handle, for packages that keep their own
// buckets in the node's file (audit). They must not touch the ledger's
// buckets (keys, preparams, meta).
func (s *Store) DB() *bolt.DB { return s.db }

// Changed returns a channel that is closed the next time a command changes
// a transfer: a waiter reads state, then waits on the channel it took
// before reading, so it misses no change.
func (s *Store) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

func (s *Store) notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.changed)
	s.changed = make(chan struct{})
}
