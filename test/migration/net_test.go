package migration

import (
	"context"
	"fmt"
	"sync"

	ctss "github.com/cofferhq/coffer/signer/tss"
)

// memNet routes envelopes between the sessions of one process, by node.
type memNet struct {
	mu       sync.Mutex
	sessions map[string]*ctss.Session
}

func newMemNet() *memNet { return &memNet{sessions: map[string]*ctss.Session{}} }

func (m *memNet) add(node string, s *ctss.Session) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sessions[node] = s
}

type memTransport struct {
	net  *memNet
	from string
}

func (t memTransport) Send(_ context.Context, node string, env ctss.Envelope) error {
	t.net.mu.Lock()
	s, ok := t.net.sessions[node]
	t.net.mu.Unlock()
	if !ok {
		return fmt.Errorf("no session on %s", node)
	}
	return s.Deliver(t.from, env)
}

// runAll runs every session concurrently; it returns each node's result or
// the first error.
func runAll(ctx context.Context, net *memNet) (map[string]*ctss.Result, error) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	out := map[string]*ctss.Result{}
	var first error
	net.mu.Lock()
	sessions := make(map[string]*ctss.Session, len(net.sessions))
	for n, s := range net.sessions {
		sessions[n] = s
	}
	net.mu.Unlock()
	for n, s := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := s.Run(ctx, memTransport{net: net, from: n}, nil)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && first == nil {
				first = fmt.Errorf("%s: %w", n, err)
			}
			out[n] = res
		}()
	}
	wg.Wait()
	return out, first
}
