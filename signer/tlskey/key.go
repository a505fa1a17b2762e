package tlskey

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/cofferhq/coffer/pki"
)

const (
	// DefaultLifetime is how long an endorsed TLS certificate is valid.
	DefaultLifetime = 24 * time.Hour
	// skew backdates a certificate's start for peers whose clocks are
	// behind.
	skew = 5 * time.Minute
	// retryEvery paces rotation attempts after a failure.
	retryEvery = 30 * time.Second
)

// Config chooses what a Key endorses.
type Config struct {
	// Purpose is the listener the key serves (pki.PurposePeer, ...).
	Purpose string
	// Identity is the node's certificate from the cluster CA; its key is
	// the HSM identity key Deps.Signer holds.
	Identity *x509.Certificate
	// Lifetime of each endorsed certificate (default DefaultLifetime, at
	// most pki.MaxEndorsement less the start-time skew).
	Lifetime time.Duration
}

// Deps are the Key's collaborators.
type Deps struct {
	// Signer is the HSM identity key: it signs each endorsement, nothing else.
	Signer crypto.Signer
	Log    *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Key is one listener's rotating TLS key. It is safe for concurrent use.
type Key struct {
	cfg Config
	d   Deps
	log *slog.Logger
	cur atomic.Pointer[current]
}

// current is the certificate served and when to replace it.
type current struct {
	cert     *tls.Certificate
	rotateAt time.Time
}

// New makes the first key and its endorsement (one HSM signature).
func New(cfg Config, d Deps) (*Key, error) {
	if cfg.Lifetime == 0 {
		cfg.Lifetime = DefaultLifetime
	}
	switch {
	case cfg.Identity == nil:
		return nil, errors.New("new TLS key: missing identity certificate")
	case d.Signer == nil:
		return nil, errors.New("new TLS key: missing identity signer")
	case d.Log == nil:
		return nil, errors.New("new TLS key: missing logger")
	case cfg.Lifetime < time.Second || cfg.Lifetime+skew > pki.MaxEndorsement:
		return nil, fmt.Errorf("new TLS key: lifetime %s is outside 1s..%s", cfg.Lifetime, pki.MaxEndorsement-skew)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	k := &Key{cfg: cfg, d: d, log: d.Log.With("component", "tlskey", "purpose", cfg.Purpose)}
	if err := k.Rotate(); err != nil {
		return nil, err
	}
	return k, nil
}

// Purpose is the listener the key serves.
func (k *Key) Purpose() string { return k.cfg.Purpose }

// Rotate makes a fresh key and has the HSM endorse it; the current
// certificate stays if it fails.
func (k *Key) Rotate() error {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("rotate %s TLS key: %w", k.cfg.Purpose, err)
	}
	now := k.d.Now()
	leaf, err := pki.Endorse(k.cfg.Identity, k.d.Signer, priv.Public(), k.cfg.Purpose, now.Add(-skew), now.Add(k.cfg.Lifetime))
	if err != nil {
		return fmt.Errorf("rotate %s TLS key: %w", k.cfg.Purpose, err)
	}
	// half-way from now (not from the backdated start) to the end, which
	// the identity's own end may have brought forward
	rotateAt := now.Add(leaf.NotAfter.Sub(now) / 2)
	k.cur.Store(&current{cert: &tls.Certificate{Certificate: [][]byte{leaf.Raw, k.cfg.Identity.Raw}, PrivateKey: priv, Leaf: leaf},
		rotateAt: rotateAt})
	k.log.Debug("TLS key endorsed", "serial", pki.SerialHex(leaf), "not_after", leaf.NotAfter)
	return nil
}

// Certificate is the current certificate, its key and chain.
func (k *Key) Certificate() *tls.Certificate { return k.cur.Load().cert }

// GetCertificate serves tls.Config.GetCertificate.
func (k *Key) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return k.cur.Load().cert, nil
}

// GetClientCertificate serves tls.Config.GetClientCertificate.
func (k *Key) GetClientCertificate(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	return k.cur.Load().cert, nil
}

// Run rotates the key at half its certificate's lifetime until ctx ends.
// A failed rotation is logged and retried every 30 s; the current
// certificate is served meanwhile.
func (k *Key) Run(ctx context.Context) {
	for {
		wait := k.cur.Load().rotateAt.Sub(k.d.Now())
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		if err := k.Rotate(); err != nil {
			left := k.Certificate().Leaf.NotAfter.Sub(k.d.Now()).Round(time.Second)
			k.log.Error("TLS key rotation failed; serving the current certificate until it expires", "err", err, "expires_in", left)
			select {
			case <-ctx.Done():
				return
			case <-time.After(retryEvery):
			}
		}
	}
}

var _ slog.LogValuer = (*Key)(nil)

// LogValue keeps the key out of logs.
func (k *Key) LogValue() slog.Value {
	return slog.GroupValue(slog.String("purpose", k.cfg.Purpose), slog.Time("not_after", k.Certificate().Leaf.NotAfter))
}
