package audit

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestReadBundle(t *testing.T) {
	nodes := newCluster(t, memKS(1), memKS(2))
	nodes[0].append(t, transferRec(1), transferRec(2))
	witnessAll(t, nodes)
	good := string(nodes[1].bundle(t)) // checkpoints, witnessed, entries
	lines := strings.SplitAfter(good, "\n")
	header, rest := lines[0], strings.Join(lines[1:], "")
	tests := []struct {
		name    string
		in      string
		want    error
		entries int
	}{
		{"ok/export", good, nil, 0},
		{"ok/header-only", header, nil, 0},
		{"ok/entries", string(nodes[0].bundle(t)), nil, 2},
		{"fail/empty", "", ErrMalformed, 0},
		{"fail/other-format", strings.Replace(good, BundleFormat, "coffer-audit-bundle/v9", 1), ErrVersion, 0},
		{"fail/header-unknown-field", strings.Replace(header, `"key"`, `"key2"`, 1) + rest, ErrMalformed, 0},
		{"fail/header-trailing", strings.TrimSuffix(header, "\n") + "{}\n" + rest, ErrMalformed, 0},
		{"fail/no-origin", strings.Replace(good, `"origin":"coffer/t/node2"`, `"origin":""`, 1), ErrMalformed, 0},
		{"fail/checkpoint-after-witnessed", header + lastWitnessed(lines) + lines[1], ErrMalformed, 0},
		{"fail/both-fields", header + `{"checkpoint":"a","witnessed":"b"}` + "\n", ErrMalformed, 0},
		{"fail/header-cut", strings.TrimSuffix(header, "\n"), ErrMalformed, 0},
		{"fail/line-too-long", header + `{"checkpoint":"` + strings.Repeat("a", maxBundleLine) + "\"}\n", ErrMalformed, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := ReadBundle("x", strings.NewReader(tc.in))
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("ReadBundle = %v, want %v", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadBundle: %v", err)
			}
			n := 0
			for {
				_, err := b.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("Next: %v", err)
				}
				n++
			}
			if n != tc.entries {
				t.Fatalf("%d entries, want %d", n, tc.entries)
			}
		})
	}
	// An entry line cut short (no final newline) is malformed.
	cut := bytes.TrimSuffix(nodes[0].bundle(t), []byte("\n"))
	b, err := ReadBundle("cut", bytes.NewReader(cut))
	if err != nil {
		t.Fatal(err)
	}
	b.Next()
	if _, err := b.Next(); !errors.Is(err, ErrMalformed) {
		t.Fatalf("Next on a cut line = %v, want ErrMalformed", err)
	}
}

func lastWitnessed(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], `{"witnessed":`) {
			return lines[i]
		}
	}
	return ""
}

func TestParseTrust(t *testing.T) {
	a, b := newTestNode(t, "node1", memKS(1)), newTestNode(t, "node2", memKS(2))
	ka, kb := a.vkey(t), b.vkey(t)
	tests := []struct{ name, in string }{
		{"ok/two-nodes", "threshold: 1\nmin_cosignatures: 1\nnodes:\n  - " + ka + "\n  - " + kb + "\n"},
		{"ok/flow-list", "nodes: [" + ka + "]\n"},
		{"fail/unknown-field", "threshold: 1\npin: 1234\nnodes: [" + ka + "]\n"},
		{"fail/no-nodes", "threshold: 0\n"},
		{"fail/negative-threshold", "threshold: -1\nnodes: [" + ka + "]\n"},
		{"fail/cosignatures-beyond-peers", "min_cosignatures: 1\nnodes: [" + ka + "]\n"},
		{"fail/bad-key", "nodes: [coffer/t/node1+00000000+AAAA]\n"},
		{"fail/not-an-origin", "nodes: [" + mustVKey(t, "node1", 1) + "]\n"},
		{"fail/duplicate", "nodes: [" + ka + ", " + ka + "]\n"},
		{"fail/not-yaml", "{{{"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := ParseTrust(strings.NewReader(tc.in))
			if strings.HasPrefix(tc.name, "fail/") {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("ParseTrust = %+v, %v; want ErrMalformed", tr, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseTrust: %v", err)
			}
		})
	}
}

func mustVKey(t *testing.T, name string, seed byte) string {
	s, err := NewNoteSigner(name, memKS(seed).Identity())
	if err != nil {
		t.Fatal(err)
	}
	return s.VerifierKey()
}
