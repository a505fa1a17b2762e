package audit

import (
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/note"
)

// DefaultMaxBatch is the default bound on the records of one group commit.
const DefaultMaxBatch = 1024

// Config names the log and its cosigning peers.
type Config struct {
	// Cluster and Node make the origin, coffer/<cluster>/<node>.
	Cluster string
	Node    string
	// Peers are the note verifier keys ("name+hash+base64") of the nodes
	// whose checkpoints this node cosigns; each key name is that node's
	// origin.
	Peers []string
	// MaxBatch bounds the records committed in one transaction (default
	// DefaultMaxBatch). One AppendAll larger than it commits alone.
	MaxBatch int
}

// Deps are the log's dependencies.
type Deps struct {
	// DB is the node's bbolt file (ledger.Store.DB()). It must be writable
	// and fsync on commit (NoSync off).
	DB *bolt.DB
	// Identity is the node's Ed25519 identity key (hsm.Keystore.Identity()).
	Identity crypto.Signer
	// Logger gets a component=audit attribute.
	Logger *slog.Logger
	// Now is the clock for records without a time (default time.Now).
	Now func() time.Time
}

// Log is one node's append-only audit log. It is safe for concurrent use.
type Log struct {
	origin string
	db     *bolt.DB
	signer *NoteSigner
	self   note.Verifiers // this node's key only
	peers  map[string]note.Verifier
	// cosigner signs peers' checkpoints (cosignature/v1); peerCosig
	// verifies the peers' cosignatures of this log's checkpoints
	cosigner  *CosignatureSigner
	peerCosig []note.Verifier
	log       *slog.Logger
	now       func() time.Time
	maxBatch  int
	rf        *compact.RangeFactory

	reqs      chan *request // unbuffered: a send succeeds only into the committer
	quit      chan struct{}
	stopped   chan struct{}
	closeOnce sync.Once

	mu     sync.RWMutex
	st     treeState // committed state; written by the committer only
	broken error     // set when the file and the memory state may disagree

	cosignMu sync.Mutex // serializes Cosign and AddCosignatures

	// markPath is the checkpoint file beside the store (watermark.go);
	// markSize the size it records. markMu guards both and the file, and
	// is taken before mu.
	markPath string
	markMu   sync.Mutex
	mark     *markWriter
	markSize uint64

	// failCommit, when set (tests), runs inside each batch transaction
	// after the writes; an error aborts the transaction.
	failCommit func(*bolt.Tx) error
}

// hasher is the RFC 6962 hasher of every tree of this package.
var hasher = rfc6962.DefaultHasher

// New opens the audit log in deps.DB, creating its buckets and signing the
// empty checkpoint on first use. It refuses a file whose log belongs to
// another origin or key (ErrIdentity) or whose tail does not match its
// latest signed checkpoint (ErrCorrupt), or whose latest checkpoint is
// older than the checkpoint file beside it (ErrRollback: the store was
// rolled back, see watermark.go), and starts the committer; Close stops
// it.
func New(cfg Config, deps Deps) (*Log, error) {
	var missing []error
	if deps.DB == nil {
		missing = append(missing, errors.New("missing DB"))
	}
	if deps.Identity == nil {
		missing = append(missing, errors.New("missing identity key"))
	}
	if deps.Logger == nil {
		missing = append(missing, errors.New("missing logger"))
	}
	if err := errors.Join(missing...); err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	origin, _ := Origin(cfg.Cluster, cfg.Node)
	if deps.DB.IsReadOnly() || deps.DB.NoSync {
		return nil, fmt.Errorf("open audit log %s: the bbolt file must be writable and fsync on commit", origin)
	}
	signer, err := NewNoteSigner(origin, deps.Identity)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	peers, err := parsePeers(origin, cfg.Peers)
	if err != nil {
		return nil, fmt.Errorf("open audit log %s: %w", origin, err)
	}
	self, err := note.NewVerifier(signer.VerifierKey())
	if err != nil {
		return nil, fmt.Errorf("open audit log %s: %w", origin, err)
	}
	var peerCosig []note.Verifier
	for _, k := range cfg.Peers {
		c, err := cosignatureVerifierOf(k)
		if err != nil {
			return nil, fmt.Errorf("open audit log %s: %w", origin, err)
		}
		peerCosig = append(peerCosig, c)
	}
	l := &Log{
		origin: origin, db: deps.DB, signer: signer, self: note.VerifierList(self), peers: peers, peerCosig: peerCosig,
		log: deps.Logger.With("component", "audit", "origin", origin), now: deps.Now,
		maxBatch: cfg.MaxBatch, rf: &compact.RangeFactory{Hash: hasher.HashChildren},
		reqs: make(chan *request), quit: make(chan struct{}), stopped: make(chan struct{}),
		markPath: WatermarkPath(deps.DB.Path()),
	}
	if l.now == nil {
		l.now = time.Now
	}
	if l.cosigner, err = NewCosignatureSigner(origin, deps.Identity, l.now); err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	if l.maxBatch <= 0 {
		l.maxBatch = DefaultMaxBatch
	}
	created, err := l.init()
	if err != nil {
		return nil, fmt.Errorf("open audit log %s: %w", origin, err)
	}
	st, err := l.load()
	if err != nil {
		return nil, fmt.Errorf("open audit log %s: %w", origin, err)
	}
	if err := l.openWatermark(st, created); err != nil {
		if l.mark != nil {
			_ = l.mark.close()
		}
		return nil, fmt.Errorf("open audit log %s: %w", origin, err)
	}
	l.st = st
	go l.commitLoop()
	l.log.Info("audit log open", "size", st.size(), "key", fmt.Sprintf("%08x", signer.KeyHash()))
	return l, nil
}

// Validate reports every problem of cfg, joined.
func (c Config) Validate() error {
	var errs []error
	origin, err := Origin(c.Cluster, c.Node)
	if err != nil {
		errs = append(errs, err)
	}
	if _, err := parsePeers(origin, c.Peers); err != nil {
		errs = append(errs, err)
	}
	if c.MaxBatch < 0 {
		errs = append(errs, fmt.Errorf("max batch %d: want 0 (default) or more", c.MaxBatch))
	}
	return errors.Join(errs...)
}

func parsePeers(self string, vkeys []string) (map[string]note.Verifier, error) {
	peers := make(map[string]note.Verifier, len(vkeys))
	var errs []error
	for _, k := range vkeys {
		v, err := note.NewVerifier(k)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("peer key %.80q: %w", k, err))
		case v.Name() == self:
			errs = append(errs, fmt.Errorf("peer key %s: that is this node", v.Name()))
		case peers[v.Name()] != nil:
			errs = append(errs, fmt.Errorf("peer key %s: listed twice", v.Name()))
		default:
			peers[v.Name()] = v
		}
	}
	return peers, errors.Join(errs...)
}

// Origin is the log's origin, coffer/<cluster>/<node>.
func (l *Log) Origin() string { return l.origin }

// VerifierKey is the note verifier key of the log's checkpoints.
func (l *Log) VerifierKey() string { return l.signer.VerifierKey() }

// Size is the number of committed entries.
func (l *Log) Size() uint64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.st.size()
}

// Close stops the committer after its current batch; appends waiting for
// a batch fail with ErrClosed. It does not close the bbolt file. A second
// Close returns ErrClosed.
func (l *Log) Close() error {
	err := ErrClosed
	l.closeOnce.Do(func() {
		close(l.quit)
		<-l.stopped
		l.markMu.Lock()
		if l.mark != nil {
			_ = l.mark.close()
		}
		l.markMu.Unlock()
		err = nil
	})
	return err
}
