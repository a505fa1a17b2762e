package connlimit

import (
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

const (
	// sweepEvery is how often idle sources are forgotten, and
	// sweepCrowded how often while the table is larger than crowded.
	sweepEvery   = time.Minute
	sweepCrowded = time.Second
	crowded      = 4096
)

// Listener is a net.Listener that admits a connection only while its
// source is under the Config's bounds. Refused connections are closed at
// once and never returned by Accept.
type Listener struct {
	net.Listener
	cfg  Config
	name string
	log  *slog.Logger
	now  func() time.Time

	mu        sync.Mutex
	sources   map[string]*source
	lastSweep time.Time

	logLim     *rate.Limiter // refusal log lines
	suppressed int           // refusals not logged since the last line (under mu)
	refused    atomic.Uint64
}

type source struct {
	open int
	lim  *rate.Limiter
}

// Wrap bounds ln per source; name names the listener in logs.
func Wrap(ln net.Listener, name string, cfg Config, log *slog.Logger) (*Listener, error) {
	switch {
	case ln == nil:
		return nil, fmt.Errorf("limit %s listener: missing listener", name)
	case log == nil:
		return nil, fmt.Errorf("limit %s listener: missing logger", name)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("limit %s listener: %w", name, err)
	}
	return &Listener{Listener: ln, cfg: cfg, name: name, now: time.Now,
		log:     log.With("component", "connlimit", "listener", name),
		sources: map[string]*source{}, lastSweep: time.Now(), logLim: rate.NewLimiter(1, 1)}, nil
}

// Accept returns the next admitted connection.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if ac, ok := l.admit(c); ok {
			return ac, nil
		}
	}
}

// Refused counts the connections refused so far.
func (l *Listener) Refused() uint64 { return l.refused.Load() }

func (l *Listener) admit(c net.Conn) (net.Conn, bool) {
	src := SourceOf(c.RemoteAddr())
	now := l.now()
	l.mu.Lock()
	l.sweep(now)
	s := l.sources[src]
	if s == nil {
		s = &source{lim: rate.NewLimiter(rate.Limit(l.cfg.HandshakesPerSecond), l.cfg.HandshakeBurst)}
		l.sources[src] = s
	}
	reason := ""
	switch {
	case s.open >= l.cfg.MaxConnsPerSource:
		reason = "too many open connections from this source"
	case !s.lim.AllowN(now, 1):
		reason = "too many new connections from this source"
	default:
		s.open++
	}
	var logNow bool
	var suppressed int
	if reason != "" {
		l.refused.Add(1)
		if logNow = l.logLim.AllowN(now, 1); logNow {
			suppressed, l.suppressed = l.suppressed, 0
		} else {
			l.suppressed++
		}
	}
	l.mu.Unlock()
	if reason == "" {
		return &conn{Conn: c, release: func() { l.release(src) }}, true
	}
	_ = c.Close()
	if logNow {
		l.log.Warn("connection refused", "source", src, "reason", reason,
			"max_conns_per_source", l.cfg.MaxConnsPerSource, "handshakes_per_second", l.cfg.HandshakesPerSecond,
			"refusals_not_logged", suppressed)
	}
	return nil, false
}

func (l *Listener) release(src string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s := l.sources[src]; s != nil && s.open > 0 {
		s.open--
	}
}

// sweep forgets sources with nothing open and a full bucket (mu held).
func (l *Listener) sweep(now time.Time) {
	since := now.Sub(l.lastSweep)
	if since < sweepEvery && (len(l.sources) < crowded || since < sweepCrowded) {
		return
	}
	l.lastSweep = now
	for k, s := range l.sources {
		if s.open == 0 && s.lim.TokensAt(now) >= float64(l.cfg.HandshakeBurst) {
			delete(l.sources, k)
		}
	}
}

// SourceOf is the source a connection counts against: its IP address, or
// for IPv6 its /64 (one host usually holds a whole /64).
func SourceOf(a net.Addr) string {
	var ip net.IP
	switch t := a.(type) {
	case *net.TCPAddr:
		ip = t.IP
	default:
		host, _, err := net.SplitHostPort(a.String())
		if err != nil {
			return a.String()
		}
		ip = net.ParseIP(host)
		if ip == nil {
			return host
		}
	}
	if v4 := ip.To4(); v4 != nil {
		return v4.String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// conn releases its source's slot once, on its first Close.
type conn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
