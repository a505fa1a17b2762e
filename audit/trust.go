package audit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"gopkg.in/yaml.v3"
)

// maxTrustFile bounds a trust file.
const maxTrustFile = 1 << 20

// Trust is what an auditor trusts: the nodes' checkpoint keys, the
// threshold t (a signature needs allow decisions in at least t+1 nodes'
// logs; a record or key event demanding more wins), and how many
// cosignatures each node's latest checkpoint needs. The YAML form:
//
//	threshold: 1
//	min_cosignatures: 1
//	nodes:
//	  - coffer/dev/node1+1a2b3c4d+AYv…   # note verifier keys
//	  - coffer/dev/node2+…
type Trust struct {
	Threshold       int      `yaml:"threshold"`
	MinCosignatures int      `yaml:"min_cosignatures"`
	Nodes           []string `yaml:"nodes"`

	verifiers map[string]note.Verifier // by origin
}

// ParseTrust reads a trust file strictly (unknown fields are errors) and
// validates it.
func ParseTrust(r io.Reader) (*Trust, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxTrustFile+1))
	if err != nil {
		return nil, fmt.Errorf("read trust file: %w", err)
	}
	if len(data) > maxTrustFile {
		return nil, fmt.Errorf("read trust file: %w: larger than %d bytes", ErrMalformed, maxTrustFile)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var t Trust
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("read trust file: %w: %w", ErrMalformed, err)
	}
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("read trust file: %w: %w", ErrMalformed, err)
	}
	return &t, nil
}

// NewTrust builds a Trust from verifier keys.
func NewTrust(threshold, minCosignatures int, keys ...string) (*Trust, error) {
	t := &Trust{Threshold: threshold, MinCosignatures: minCosignatures, Nodes: keys}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return t, nil
}

// Validate checks every field, joining the problems, and prepares the
// verifiers.
func (t *Trust) Validate() error {
	var errs []error
	if t.Threshold < 0 || t.Threshold >= maxParty {
		errs = append(errs, fmt.Errorf("threshold %d: want 0 to %d", t.Threshold, maxParty-1))
	}
	if len(t.Nodes) == 0 {
		errs = append(errs, errors.New("nodes: at least one key needed"))
	}
	if t.MinCosignatures < 0 || t.MinCosignatures >= max(len(t.Nodes), 1) {
		errs = append(errs, fmt.Errorf("min_cosignatures %d: want 0 to %d (other nodes)", t.MinCosignatures, max(len(t.Nodes)-1, 0)))
	}
	vs := make(map[string]note.Verifier, len(t.Nodes))
	for i, k := range t.Nodes {
		k = strings.TrimSpace(k)
		t.Nodes[i] = k
		v, err := note.NewVerifier(k)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("nodes[%d] %.80q: %w", i, k, err))
		case !validOrigin(v.Name()):
			errs = append(errs, fmt.Errorf("nodes[%d]: key name %.80q is not a log origin coffer/<cluster>/<node>", i, v.Name()))
		case vs[v.Name()] != nil:
			errs = append(errs, fmt.Errorf("nodes[%d]: %s listed twice", i, v.Name()))
		default:
			vs[v.Name()] = v
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	t.verifiers = vs
	return nil
}

// Origins lists the trusted nodes' origins, sorted.
func (t *Trust) Origins() []string {
	out := make([]string, 0, len(t.verifiers))
	for o := range t.verifiers {
		out = append(out, o)
	}
	sort.Strings(out)
	return out
}

// validOrigin reports whether s is coffer/<cluster>/<node>.
func validOrigin(s string) bool {
	parts := strings.Split(s, "/")
	if len(parts) != 3 || parts[0] != "coffer" {
		return false
	}
	o, err := Origin(parts[1], parts[2])
	return err == nil && o == s
}

// nodeName is the <node> part of an origin (the origin itself if it has
// another form).
func nodeName(origin string) string {
	if i := strings.LastIndexByte(origin, '/'); i >= 0 && validOrigin(origin) {
		return origin[i+1:]
	}
	return origin
}
