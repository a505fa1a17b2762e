package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
)

// BundleFormat is the first field of a bundle's header line.
const BundleFormat = "coffer-audit-bundle/v1"

// maxBundleLine bounds one bundle line: a record, or a JSON-escaped
// signed checkpoint.
const maxBundleLine = 4 * MaxCheckpointSize

// BundleHeader is a bundle's first line. Key is the node's note verifier
// key as the node states it; Verify trusts only the trust file's keys
// unless run without one.
type BundleHeader struct {
	Format string `json:"format"`
	Origin string `json:"origin"`
	Key    string `json:"key"`
}

// bundleNote is a checkpoint line: exactly one field is set.
type bundleNote struct {
	Checkpoint string `json:"checkpoint,omitempty"` // one of the node's own
	Witnessed  string `json:"witnessed,omitempty"`  // another node's, cosigned by this node
}

var (
	checkpointPrefix = []byte(`{"checkpoint":`)
	witnessedPrefix  = []byte(`{"witnessed":`)
)

// Bundle is one node's exported log, read from a stream: the header and
// checkpoints are read by ReadBundle, the entries one by one by Next.
type Bundle struct {
	Name        string // where it was read from, for messages
	Header      BundleHeader
	Checkpoints [][]byte // the node's signed checkpoints, in stored order
	Witnessed   [][]byte // other nodes' checkpoints it cosigned

	r       *bufio.Reader
	pending []byte // the first entry line, read while looking for checkpoints
	entries uint64
	err     error
}

// ReadBundle reads a bundle's header and checkpoint lines from r. The
// entries follow with Next. Malformed input is ErrMalformed (ErrVersion
// for another format), naming the line.
func ReadBundle(name string, r io.Reader) (*Bundle, error) {
	b := &Bundle{Name: name, r: bufio.NewReaderSize(r, maxBundleLine+1)}
	line, err := b.line(1)
	if err != nil {
		return nil, err
	}
	if err := strictJSON(line, &b.Header); err != nil {
		return nil, fmt.Errorf("read bundle %s: %w: header: %w", name, ErrMalformed, err)
	}
	if b.Header.Format != BundleFormat {
		return nil, fmt.Errorf("read bundle %s: %w: format %.60q, want %q", name, ErrVersion, b.Header.Format, BundleFormat)
	}
	if b.Header.Origin == "" {
		return nil, fmt.Errorf("read bundle %s: %w: header has no origin", name, ErrMalformed)
	}
	for n := 2; ; n++ {
		line, err := b.line(n)
		if errors.Is(err, io.EOF) {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
		isCP, isW := bytes.HasPrefix(line, checkpointPrefix), bytes.HasPrefix(line, witnessedPrefix)
		if !isCP && !isW {
			b.pending = slices.Clone(line)
			return b, nil
		}
		if isCP && len(b.Witnessed) > 0 {
			return nil, fmt.Errorf("read bundle %s: %w: line %d: checkpoint after witnessed checkpoints", name, ErrMalformed, n)
		}
		var bn bundleNote
		if err := strictJSON(line, &bn); err != nil || (bn.Checkpoint == "") == (bn.Witnessed == "") {
			return nil, fmt.Errorf("read bundle %s: %w: line %d: want one checkpoint or witnessed note (%v)", name, ErrMalformed, n, err)
		}
		if isCP {
			b.Checkpoints = append(b.Checkpoints, []byte(bn.Checkpoint))
		} else {
			b.Witnessed = append(b.Witnessed, []byte(bn.Witnessed))
		}
	}
}

// Next returns the next entry's leaf bytes (valid until the next call),
// or io.EOF after the last. A line too long or not newline-terminated is
// ErrMalformed.
func (b *Bundle) Next() ([]byte, error) {
	if b.err != nil {
		return nil, b.err
	}
	if b.pending != nil {
		leaf := b.pending
		b.pending = nil
		b.entries++
		return leaf, nil
	}
	leaf, err := b.line(0)
	if err != nil {
		b.err = err
		return nil, err
	}
	b.entries++
	return leaf, nil
}

// line reads one line without its '\n'. n numbers it in messages (0:
// entry lines, numbered by position).
func (b *Bundle) line(n int) ([]byte, error) {
	where := fmt.Sprintf("line %d", n)
	if n == 0 {
		where = fmt.Sprintf("entry %d", b.entries)
	}
	line, err := b.r.ReadSlice('\n')
	switch {
	case err == nil:
		return line[:len(line)-1], nil
	case errors.Is(err, io.EOF) && len(line) == 0:
		if n == 1 {
			return nil, fmt.Errorf("read bundle %s: %w: empty", b.Name, ErrMalformed)
		}
		return nil, io.EOF
	case errors.Is(err, io.EOF):
		return nil, fmt.Errorf("read bundle %s: %w: %s: cut short (no final newline)", b.Name, ErrMalformed, where)
	case errors.Is(err, bufio.ErrBufferFull):
		return nil, fmt.Errorf("read bundle %s: %w: %s: longer than %d bytes", b.Name, ErrMalformed, where, maxBundleLine)
	default:
		return nil, fmt.Errorf("read bundle %s: %s: %w", b.Name, where, err)
	}
}

// strictJSON decodes one JSON object with no unknown fields and nothing
// after it.
func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

// bundleWriter writes the lines of a bundle.
type bundleWriter struct {
	w *bufio.Writer
}

func (bw *bundleWriter) json(v any) error {
	enc := json.NewEncoder(bw.w) // Encode ends each value with '\n'
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func (bw *bundleWriter) leaf(leaf []byte) error {
	if bytes.IndexByte(leaf, '\n') >= 0 {
		return errors.New("leaf contains a line break; it is not a canonical record")
	}
	bw.w.Write(leaf)
	return bw.w.WriteByte('\n')
}
