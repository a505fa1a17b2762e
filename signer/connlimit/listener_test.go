package connlimit

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// echoServer serves lines back on a limited listener until the test ends.
func echoServer(t *testing.T, cfg Config, log *slog.Logger) (*Listener, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l, err := Wrap(ln, "test", cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	return l, ln.Addr().String()
}

func dialFrom(t *testing.T, src, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 2 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// served reports whether c echoes a message (admitted) or is closed by the
// server (refused).
func served(t *testing.T, c net.Conn) bool {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	defer func() { _ = c.SetDeadline(time.Time{}) }()
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return false
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(c, buf); err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatal("neither served nor closed within 2s")
		}
		return false
	}
	return string(buf) == "ping\n"
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// Over the per-source connection limit new connections are closed at once;
// the open ones keep working, another source is not affected, and a slot
// freed by a close is given again.
func TestConcurrentConnectionsPerSource(t *testing.T) {
	l, addr := echoServer(t, Config{MaxConnsPerSource: 2, HandshakesPerSecond: 1000, HandshakeBurst: 1000}, quiet())
	a, b := dialFrom(t, "127.0.0.1", addr), dialFrom(t, "127.0.0.1", addr)
	if !served(t, a) || !served(t, b) {
		t.Fatal("ok/connections under the limit are not served")
	}
	if served(t, dialFrom(t, "127.0.0.1", addr)) {
		t.Fatal("fail/a third connection from one source was served")
	}
	if !served(t, a) || !served(t, b) {
		t.Fatal("ok/an open connection stopped working when another was refused")
	}
	if !served(t, dialFrom(t, "127.0.0.2", addr)) {
		t.Fatal("ok/another source was refused for the first one's connections")
	}
	_ = a.Close()
	deadline := time.Now().Add(2 * time.Second)
	for !served(t, dialFrom(t, "127.0.0.1", addr)) {
		if time.Now().After(deadline) {
			t.Fatal("ok/a closed connection's slot was not given again")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if l.Refused() == 0 {
		t.Fatal("refusals not counted")
	}
}

// Over the per-source handshake rate new connections are refused; open
// ones and other sources are not.
func TestNewConnectionRatePerSource(t *testing.T) {
	_, addr := echoServer(t, Config{MaxConnsPerSource: 100, HandshakesPerSecond: 0.01, HandshakeBurst: 3}, quiet())
	var open []net.Conn
	for i := range 3 {
		c := dialFrom(t, "127.0.0.1", addr)
		if !served(t, c) {
			t.Fatalf("ok/connection %d within the burst refused", i)
		}
		open = append(open, c)
	}
	if served(t, dialFrom(t, "127.0.0.1", addr)) {
		t.Fatal("fail/a connection over the burst was served")
	}
	for _, c := range open {
		if !served(t, c) {
			t.Fatal("ok/an open connection stopped working")
		}
	}
	if !served(t, dialFrom(t, "127.0.0.3", addr)) {
		t.Fatal("ok/another source was refused")
	}
}

type countingHandler struct {
	mu    sync.Mutex
	lines []string
}

func (h *countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	var b bytes.Buffer
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool { b.WriteString(" " + a.String()); return true })
	h.lines = append(h.lines, b.String())
	return nil
}
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countingHandler) WithGroup(string) slog.Handler      { return h }

// A flood of refused connections is logged at most about once a second,
// with the number of refusals not logged.
func TestRefusalsAreLoggedAtABoundedRate(t *testing.T) {
	h := &countingHandler{}
	l, addr := echoServer(t, Config{MaxConnsPerSource: 1, HandshakesPerSecond: 1000, HandshakeBurst: 1000}, slog.New(h))
	hold := dialFrom(t, "127.0.0.1", addr)
	if !served(t, hold) {
		t.Fatal("first connection refused")
	}
	start := time.Now()
	for range 200 {
		c := dialFrom(t, "127.0.0.1", addr)
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, _ = c.Read(make([]byte, 1))
		_ = c.Close()
	}
	took := time.Since(start)
	if l.Refused() != 200 {
		t.Fatalf("refused %d of 200", l.Refused())
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if max := int(took/time.Second) + 2; len(h.lines) > max {
		t.Fatalf("%d log lines for 200 refusals in %s (want at most %d)", len(h.lines), took, max)
	}
	if len(h.lines) == 0 || !strings.Contains(h.lines[0], "too many open connections") {
		t.Fatalf("refusal not logged with its reason: %q", h.lines)
	}
}

func TestSourceOf(t *testing.T) {
	for _, tc := range []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.ParseIP("10.1.2.3"), Port: 5}, "10.1.2.3"},
		{&net.TCPAddr{IP: net.ParseIP("::ffff:10.1.2.3"), Port: 5}, "10.1.2.3"},
		{&net.TCPAddr{IP: net.ParseIP("2001:db8:1:2:aaaa::1"), Port: 5}, "2001:db8:1:2::/64"},
		{&net.TCPAddr{IP: net.ParseIP("2001:db8:1:2:bbbb::9"), Port: 6}, "2001:db8:1:2::/64"},
	} {
		if got := SourceOf(tc.addr); got != tc.want {
			t.Errorf("SourceOf(%s) = %q, want %q", tc.addr, got, tc.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (Config{}).WithDefaults().Validate(); err != nil {
		t.Fatalf("ok/defaults: %v", err)
	}
	err := Config{MaxConnsPerSource: -1, HandshakesPerSecond: -2, HandshakeBurst: 0}.Validate()
	for _, f := range []string{"max_conns_per_source", "handshakes_per_second", "handshake_burst"} {
		if err == nil || !strings.Contains(err.Error(), f) {
			t.Errorf("fail/bad %s not reported: %v", f, err)
		}
	}
}
