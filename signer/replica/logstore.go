package replica

import (
	"sync"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
)

// storeErrorFor is how long a failed write of the raft log is reported
// after it happened.
const storeErrorFor = time.Minute

// logStore is the raft log and stable store (raft-boltdb), remembering its
// last failed write: raft logs such a failure (a full disk) and goes on,
// so this node's proposals would only time out, with nothing to say why.
type logStore struct {
	*raftboltdb.BoltStore

	mu      sync.Mutex
	lastErr error
	at      time.Time
}

var (
	_ raft.LogStore    = (*logStore)(nil)
	_ raft.StableStore = (*logStore)(nil)
)

func (s *logStore) note(err error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.lastErr, s.at = err, time.Now()
	} else if s.lastErr != nil && time.Since(s.at) > time.Second {
		s.lastErr = nil // a write went through since
	}
	return err
}

// recentError is the last failed write if it is recent.
func (s *logStore) recentError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastErr == nil || time.Since(s.at) > storeErrorFor {
		return nil
	}
	return s.lastErr
}

func (s *logStore) StoreLog(l *raft.Log) error { return s.note(s.BoltStore.StoreLog(l)) }

func (s *logStore) StoreLogs(ls []*raft.Log) error { return s.note(s.BoltStore.StoreLogs(ls)) }

func (s *logStore) Set(k, v []byte) error { return s.note(s.BoltStore.Set(k, v)) }

func (s *logStore) SetUint64(k []byte, v uint64) error { return s.note(s.BoltStore.SetUint64(k, v)) }
