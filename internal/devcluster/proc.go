package devcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cofferhq/coffer/api/operatorpb"
)

// Cluster is a running development cluster: one cofferd process per node.
type Cluster struct {
	Layout *Layout
	Bin    string // cofferd binary

	mu    sync.Mutex
	procs map[string]*exec.Cmd
	exits map[string]chan struct{}
}

// FindCofferd locates the cofferd binary: next to this executable, then on
// PATH.
func FindCofferd() (string, error) {
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), "cofferd")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	p, err := exec.LookPath("cofferd")
	if err != nil {
		return "", errors.New("cofferd binary not found next to coffer or on PATH (run `make build`)")
	}
	return p, nil
}

// Start starts every node and waits until each serves its API.
func Start(ctx context.Context, l *Layout, bin string) (*Cluster, error) {
	c := &Cluster{Layout: l, Bin: bin, procs: map[string]*exec.Cmd{}, exits: map[string]chan struct{}{}}
	for _, n := range l.Nodes {
		if err := c.StartNode(ctx, n.ID); err != nil {
			c.Stop()
			return nil, err
		}
	}
	return c, nil
}

// StartNode starts one node's process and waits for its API.
func (c *Cluster) StartNode(ctx context.Context, id string) error {
	n, err := c.Layout.Node(id)
	if err != nil {
		return err
	}
	logf, err := os.OpenFile(c.Layout.Path(n.Log), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(c.Bin, "run", "--config", c.Layout.Path(n.Config))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), "SOFTHSM2_CONF="+c.Layout.SoftHSM2Conf)
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", id, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(exited) }()
	c.mu.Lock()
	c.procs[id], c.exits[id] = cmd, exited
	c.mu.Unlock()
	if err := c.waitReady(ctx, id, exited); err != nil {
		c.KillNode(id)
		return err
	}
	return nil
}

func (c *Cluster) waitReady(ctx context.Context, id string, exited <-chan struct{}) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("%s exited at start: %s", id, c.LogTail(id, 5))
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		cl, err := c.Layout.Dial(id)
		if err == nil {
			sctx, cancel := context.WithTimeout(ctx, time.Second)
			_, err = cl.Operator.Status(sctx, &operatorpb.StatusRequest{})
			cancel()
			cl.Close()
			if err == nil {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s did not serve its API within 30s: %s", id, c.LogTail(id, 5))
}

// PID is a node's process ID, or 0.
func (c *Cluster) PID(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.procs[id]; p != nil && p.Process != nil {
		return p.Process.Pid
	}
	return 0
}

// StopNode sends SIGTERM to a node's PID and waits (SIGKILL after 10s).
func (c *Cluster) StopNode(id string) { c.signal(id, syscall.SIGTERM, 10*time.Second) }

// KillNode sends SIGKILL to a node's PID and waits for it.
func (c *Cluster) KillNode(id string) { c.signal(id, syscall.SIGKILL, 10*time.Second) }

func (c *Cluster) signal(id string, sig syscall.Signal, wait time.Duration) {
	c.mu.Lock()
	p, exited := c.procs[id], c.exits[id]
	delete(c.procs, id)
	c.mu.Unlock()
	if p == nil {
		return
	}
	_ = syscall.Kill(p.Process.Pid, sig)
	select {
	case <-exited:
	case <-time.After(wait):
		_ = syscall.Kill(p.Process.Pid, syscall.SIGKILL)
		<-exited
	}
}

// Stop stops every node by PID.
func (c *Cluster) Stop() {
	var wg sync.WaitGroup
	for _, n := range c.Layout.Nodes {
		wg.Add(1)
		go func(id string) { defer wg.Done(); c.StopNode(id) }(n.ID)
	}
	wg.Wait()
}

// LogTail returns the last lines of a node's log.
func (c *Cluster) LogTail(id string, lines int) string {
	n, err := c.Layout.Node(id)
	if err != nil {
		return ""
	}
	b, _ := os.ReadFile(c.Layout.Path(n.Log))
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}
