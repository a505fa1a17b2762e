package audit

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

func TestParseCheckpoint(t *testing.T) {
	root := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	tests := []struct {
		name, text string
		size       uint64
		ext        int
	}{
		{"ok/plain", "coffer/c/n\n12\n" + root + "\n", 12, 0},
		{"ok/empty-tree", "coffer/c/n\n0\n" + root + "\n", 0, 0},
		{"ok/extension-lines", "coffer/c/n\n3\n" + root + "\nx\ny\n", 3, 2},
		{"ok/max-size", "o\n18446744073709551615\n" + root + "\n", 1<<64 - 1, 0},
		{"fail/no-final-newline", "coffer/c/n\n12\n" + root, 0, 0},
		{"fail/two-lines", "coffer/c/n\n12\n", 0, 0},
		{"fail/empty-origin", "\n12\n" + root + "\n", 0, 0},
		{"fail/leading-zero", "o\n012\n" + root + "\n", 0, 0},
		{"fail/sign", "o\n+12\n" + root + "\n", 0, 0},
		{"fail/overflow", "o\n18446744073709551616\n" + root + "\n", 0, 0},
		{"fail/short-hash", "o\n1\n" + base64.StdEncoding.EncodeToString([]byte{1}) + "\n", 0, 0},
		{"fail/unpadded-hash", "o\n1\n" + strings.TrimRight(root, "=") + "\n", 0, 0},
		{"fail/empty-extension", "o\n1\n" + root + "\n\n", 0, 0},
		{"fail/control", "o\t\n1\n" + root + "\n", 0, 0},
		{"fail/bad-utf8", "o\xff\n1\n" + root + "\n", 0, 0},
		{"fail/huge", strings.Repeat("o", MaxCheckpointSize) + "\n1\n" + root + "\n", 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cp, err := ParseCheckpoint([]byte(tc.text))
			if strings.HasPrefix(tc.name, "fail/") {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("ParseCheckpoint = %+v, %v; want ErrMalformed", cp, err)
				}
				return
			}
			if err != nil || cp.Size != tc.size || len(cp.Extensions) != tc.ext {
				t.Fatalf("ParseCheckpoint = %+v, %v", cp, err)
			}
			if got := string(cp.Text()); got != tc.text {
				t.Fatalf("Text() = %q, want %q", got, tc.text)
			}
		})
	}
}

func TestOpenCheckpoint(t *testing.T) {
	a, b := memKS(1), memKS(2)
	sa, _ := NewNoteSigner("coffer/c/a", a.Identity())
	sb, _ := NewNoteSigner("coffer/c/b", b.Identity())
	impostor, _ := NewNoteSigner("coffer/c/a", b.Identity()) // a's name, b's key
	va, _ := note.NewVerifier(sa.VerifierKey())
	vb, _ := note.NewVerifier(sb.VerifierKey())
	text := Checkpoint{Origin: "coffer/c/a", Size: 5, Hash: bytes.Repeat([]byte{9}, 32)}.Text()
	sign := func(s ...note.Signer) []byte {
		msg, err := note.Sign(&note.Note{Text: string(text)}, s...)
		if err != nil {
			t.Fatal(err)
		}
		return msg
	}
	tests := []struct {
		name      string
		msg       []byte
		known     []note.Verifier
		want      error
		cosigners int
	}{
		{"ok/own", sign(sa), []note.Verifier{va}, nil, 0},
		{"ok/cosigned", sign(sa, sb), []note.Verifier{va, vb}, nil, 1},
		{"ok/unknown-cosigner-ignored", sign(sa, sb), []note.Verifier{va}, nil, 0},
		{"fail/only-cosigned", sign(sb), []note.Verifier{va, vb}, ErrSignature, 0},
		{"fail/impostor-key", sign(impostor), []note.Verifier{va}, ErrSignature, 0},
		{"fail/no-known-key", sign(sa), []note.Verifier{vb}, ErrSignature, 0},
		{"fail/tampered", bytes.Replace(sign(sa), []byte("\n5\n"), []byte("\n6\n"), 1), []note.Verifier{va}, ErrSignature, 0},
		{"fail/not-a-note", text, []note.Verifier{va}, ErrMalformed, 0},
		// note.Open verifies one line per key and skips the rest unverified
		{"fail/repeated-bad-line-by-trusted-key", repeatLine(t, sign(sa, sb), "coffer/c/b"), []note.Verifier{va, vb}, ErrSignature, 0},
		{"ok/repeated-good-line", repeatLine(t, sign(sa, sb), ""), []note.Verifier{va, vb}, nil, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cp, n, err := OpenCheckpoint(tc.msg, note.VerifierList(tc.known...))
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("OpenCheckpoint = %v, want %v", err, tc.want)
				}
				return
			}
			if err != nil || cp.Size != 5 || len(Cosigners(n, cp.Origin)) != tc.cosigners {
				t.Fatalf("OpenCheckpoint = %+v, %v", cp, err)
			}
		})
	}
}

func TestOrigin(t *testing.T) {
	tests := []struct{ name, cluster, node, want string }{
		{"ok/simple", "prod", "node-1", "coffer/prod/node-1"},
		{"ok/dots", "eu.west", "n_1.a", "coffer/eu.west/n_1.a"},
		{"fail/empty-node", "prod", "", ""},
		{"fail/slash", "prod", "a/b", ""},
		{"fail/space", "prod cluster", "n", ""},
		{"fail/plus", "prod", "a+b", ""},
		{"fail/leading-dash", "prod", "-n", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Origin(tc.cluster, tc.node)
			if (err == nil) != (tc.want != "") || got != tc.want {
				t.Fatalf("Origin = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// repeatLine appends to a signed note a second signature line by the key
// of name, with its last signature byte flipped; name "" repeats the last
// line unchanged.
func repeatLine(t *testing.T, msg []byte, name string) []byte {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(string(msg), "\n"), "\n")
	last := lines[len(lines)-1]
	if name != "" {
		for _, l := range lines {
			if strings.HasPrefix(l, "— "+name+" ") {
				last = l
			}
		}
		i := strings.LastIndexByte(last, ' ')
		raw, err := base64.StdEncoding.DecodeString(last[i+1:])
		if err != nil {
			t.Fatal(err)
		}
		raw[len(raw)-1] ^= 1
		last = last[:i+1] + base64.StdEncoding.EncodeToString(raw)
	}
	return []byte(string(msg) + last + "\n")
}
