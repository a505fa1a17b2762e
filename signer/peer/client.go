package peer

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/cofferhq/coffer/api/peerpb"
)

// reconnectWait bounds how long a message waits for an unreachable peer.
const reconnectWait = 3 * time.Second

// Client reaches the other members, one lazily dialed connection each.
type Client struct {
	creds   Credentials
	members Membership
	mu      sync.Mutex
	conns   map[string]*grpc.ClientConn
}

// NewClient builds a client for the membership.
func NewClient(c Credentials, m Membership) (*Client, error) {
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("new peer client: %w", err)
	}
	return &Client{creds: c, members: m, conns: map[string]*grpc.ClientConn{}}, nil
}

// Peer returns the stub for node.
func (c *Client) Peer(node string) (peerpb.PeerClient, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cc, ok := c.conns[node]; ok {
		return peerpb.NewPeerClient(cc), nil
	}
	m, ok := c.members[node]
	if !ok {
		return nil, fmt.Errorf("reach %s: %w", node, ErrNotMember)
	}
	cc, err := grpc.NewClient(m.Address,
		grpc.WithTransportCredentials(credentials.NewTLS(ClientTLS(c.creds, c.members, node))),
		// a restarted peer is reached again within a second
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: backoff.Config{BaseDelay: 50 * time.Millisecond,
			Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second}, MinConnectTimeout: 2 * time.Second}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessage), grpc.MaxCallSendMsgSize(MaxMessage)),
	)
	if err != nil {
		return nil, fmt.Errorf("reach %s at %s: %w", node, m.Address, err)
	}
	c.conns[node] = cc
	return peerpb.NewPeerClient(cc), nil
}

// Close closes every connection.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for n, cc := range c.conns {
		errs = append(errs, cc.Close())
		delete(c.conns, n)
	}
	return errors.Join(errs...)
}

// Send implements signer/tss.Transport's shape for the node.
func (c *Client) Send(ctx context.Context, node string, env *peerpb.Envelope) error {
	p, err := c.Peer(node)
	if err != nil {
		return err
	}
	// The session's deadline bounds a slow peer. An unreachable one (a
	// restart in progress) is retried for up to reconnectWait, then the
	// send fails and the session names it.
	giveUp := time.Now().Add(reconnectWait)
	for {
		_, err = p.Deliver(ctx, env)
		if status.Code(err) != codes.Unavailable || time.Now().After(giveUp) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
}
