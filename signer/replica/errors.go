package replica

import "errors"

var (
	// ErrEntry means a log entry is malformed or oversized.
	ErrEntry = errors.New("replica: malformed log entry")
	// ErrUnauthenticated means a log entry's signature does not verify
	// against the membership, or names another proposer than its signer.
	ErrUnauthenticated = errors.New("replica: log entry not from a member")
	// ErrNoLeader means no leader is known: the cluster has no quorum.
	ErrNoLeader = errors.New("replica: no leader")
	// ErrTimeout means a proposal was not applied in time. It may still be
	// applied later: the caller must not assume either outcome.
	ErrTimeout = errors.New("replica: proposal not applied in time")
	// ErrBroken means this node's store failed while applying the log: it
	// stops proposing and serving until it is restarted.
	ErrBroken = errors.New("replica: the store failed while applying the log")
	// ErrClosed means the replica is shut down.
	ErrClosed = errors.New("replica: closed")
)
