package replica

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"

	"github.com/cofferhq/coffer/signer/connlimit"
	"github.com/cofferhq/coffer/signer/peer"
)

// handshakeTimeout bounds a raft connection's TLS handshake.
const handshakeTimeout = 10 * time.Second

// streamLayer carries raft over mutual TLS 1.3 with the nodes' raft TLS
// keys (endorsed by their identity keys): the listener accepts only
// members, at most connlimit's bounds per source, and a dial reaches only
// the member whose raft address it dials.
type streamLayer struct {
	ln      net.Listener
	creds   peer.Credentials
	members peer.Membership
	mu      sync.Mutex
	byAddr  map[raft.ServerAddress]string
}

var _ raft.StreamLayer = (*streamLayer)(nil)

func newStreamLayer(bind string, creds peer.Credentials, members peer.Membership, addrs map[string]string, limits connlimit.Config, log *slog.Logger) (*streamLayer, error) {
	if creds.Key == nil || creds.CA == nil {
		return nil, fmt.Errorf("listen raft %s: missing TLS credentials", bind)
	}
	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return nil, fmt.Errorf("listen raft %s: %w", bind, err)
	}
	limited, err := connlimit.Wrap(ln, "raft", limits, log)
	if err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("listen raft %s: %w", bind, err)
	}
	s := &streamLayer{ln: tls.NewListener(limited, peer.ServerTLS(creds, members)), creds: creds, members: members,
		byAddr: map[raft.ServerAddress]string{}}
	for node, a := range addrs {
		s.byAddr[raft.ServerAddress(a)] = node
	}
	return s, nil
}

// setAddress records node's raft address (membership changes).
func (s *streamLayer) setAddress(node, addr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byAddr[raft.ServerAddress(addr)] = node
}

// Accept returns the next connection; its TLS handshake runs, bounded, on
// its first read, in the transport's goroutine for that connection.
func (s *streamLayer) Accept() (net.Conn, error) {
	c, err := s.ln.Accept()
	if err != nil {
		return nil, err
	}
	return &handshakeConn{Conn: c.(*tls.Conn)}, nil
}

func (s *streamLayer) Close() error   { return s.ln.Close() }
func (s *streamLayer) Addr() net.Addr { return s.ln.Addr() }

// Dial reaches the member whose raft address is addr, and only it.
func (s *streamLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	s.mu.Lock()
	node, ok := s.byAddr[addr]
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("dial raft %s: no member has this address", addr)
	}
	d := &net.Dialer{Timeout: timeout}
	c, err := tls.DialWithDialer(d, "tcp", string(addr), peer.ClientTLS(s.creds, s.members, node))
	if err != nil {
		return nil, fmt.Errorf("dial raft %s (%s): %w", node, addr, err)
	}
	return c, nil
}

// handshakeConn completes the server handshake within handshakeTimeout
// before the first read or write.
type handshakeConn struct {
	*tls.Conn
	once sync.Once
	err  error
}

func (c *handshakeConn) handshake() error {
	c.once.Do(func() {
		_ = c.SetDeadline(time.Now().Add(handshakeTimeout))
		c.err = c.Handshake()
		_ = c.SetDeadline(time.Time{})
	})
	return c.err
}

func (c *handshakeConn) Read(p []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *handshakeConn) Write(p []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}
