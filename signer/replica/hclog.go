package replica

import (
	"bytes"
	"io"
	"log/slog"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// hcLogger routes hashicorp/raft's logger into slog: raft's warnings and
// errors as such, the rest at debug.
func hcLogger(log *slog.Logger, name string) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name: name, Level: hclog.Info, Output: slogWriter{log: log.With("lib", name)},
		DisableTime: true,
	})
}

type slogWriter struct{ log *slog.Logger }

var _ io.Writer = slogWriter{}

func (w slogWriter) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(bytes.TrimSpace(p)))
	switch {
	case strings.Contains(line, "[ERROR]"):
		w.log.Error(line)
	case strings.Contains(line, "[WARN]"):
		w.log.Warn(line)
	default:
		w.log.Debug(line)
	}
	return len(p), nil
}
