package vaulttest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/vault/api"
)

// Options shape a dev server.
type Options struct {
	// TLS serves https with a CA and certificate Vault makes in Dir
	// (-dev-tls); CAFile is then that CA.
	TLS bool
}

// Server is a running Vault dev server.
type Server struct {
	Addr      string // http(s)://127.0.0.1:PORT
	RootToken string
	CAFile    string // TLS only
	Dir       string // temp dir: log, TLS files, HOME

	cmd    *exec.Cmd
	exited chan struct{}
	root   *api.Client

	stopOnce sync.Once
}

// startTimeout bounds the wait for a dev server to serve.
const startTimeout = 60 * time.Second

// Start launches a dev server and waits until it is unsealed and active.
// The caller must Stop it.
func Start(ctx context.Context, o Options) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	var lastErr error
	for range 3 { // a free port may be taken between the probe and the bind
		s, err := start(ctx, bin, o)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	return nil, lastErr
}

func start(ctx context.Context, bin string, o Options) (*Server, error) {
	dir, err := os.MkdirTemp("", "coffer-vault-dev-")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	tok := make([]byte, 16)
	rand.Read(tok)
	s := &Server{Dir: dir, RootToken: "root-" + hex.EncodeToString(tok), exited: make(chan struct{})}
	listen := fmt.Sprintf("127.0.0.1:%d", port)
	args := []string{"server", "-dev", "-dev-listen-address=" + listen,
		"-dev-root-token-id=" + s.RootToken, "-dev-no-store-token", "-log-level=info"}
	s.Addr = "http://" + listen
	if o.TLS {
		args = append(args, "-dev-tls", "-dev-tls-cert-dir="+dir)
		s.Addr = "https://" + listen
		s.CAFile = filepath.Join(dir, "vault-ca.pem")
	}
	logf, err := os.Create(filepath.Join(dir, "vault.log"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = []string{"HOME=" + dir, "PATH=" + os.Getenv("PATH"), "TMPDIR=" + dir}
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start vault server %s: %w", bin, err)
	}
	s.cmd = cmd
	go func() { _ = cmd.Wait(); logf.Close(); close(s.exited) }()
	if err := s.waitReady(ctx); err != nil {
		tail := s.LogTail(15)
		s.Stop()
		return nil, fmt.Errorf("vault dev server on %s: %w\n%s", listen, err, tail)
	}
	return s, nil
}

// waitReady polls sys/health until the server is initialized, unsealed
// and active.
func (s *Server) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-s.exited:
			return errors.New("server exited at start")
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if s.CAFile == "" || fileExists(s.CAFile) {
			if c, err := s.client(); err == nil {
				hctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				h, err := c.Sys().HealthWithContext(hctx)
				cancel()
				if err == nil && h.Initialized && !h.Sealed && !h.Standby {
					s.root = c
					return nil
				}
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready within %v", startTimeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// client is a root client that ignores the VAULT_* environment.
func (s *Server) client() (*api.Client, error) {
	cfg := api.DefaultConfig()
	cfg.Error = nil
	cfg.Address, cfg.AgentAddress = s.Addr, ""
	cfg.MaxRetries = 0
	cfg.Timeout = 30 * time.Second
	if err := cfg.ConfigureTLS(&api.TLSConfig{CACert: s.CAFile}); err != nil {
		return nil, err
	}
	c, err := api.NewClient(cfg)
	if err != nil {
		return nil, err
	}
	c.ClearNamespace()
	c.SetToken(s.RootToken)
	return c, nil
}

// Root returns a client logged in with the root token.
func (s *Server) Root() *api.Client { return s.root }

// PID is the server's process ID.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Stop sends SIGTERM to the server's PID, waits (SIGKILL after 10s), and
// removes its temp dir. It is idempotent.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		_ = syscall.Kill(s.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(s.cmd.Process.Pid, syscall.SIGKILL)
			<-s.exited
		}
		_ = os.RemoveAll(s.Dir)
	})
}

// LogTail returns the last lines of the server's log.
func (s *Server) LogTail(lines int) string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "vault.log"))
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free loopback port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
