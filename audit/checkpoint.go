package audit

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"
)

// MaxCheckpointSize bounds a checkpoint's text and a signed checkpoint
// note (with up to 100 signature lines).
const MaxCheckpointSize = 16 << 10

var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// Origin returns the log origin of a node, "coffer/<cluster>/<node>". It
// is also the name of the node's note key. Names are 1-63 characters of
// letters, digits, '.', '_' and '-', starting with a letter or digit.
func Origin(cluster, node string) (string, error) {
	if !namePattern.MatchString(cluster) {
		return "", fmt.Errorf("make log origin: cluster name %.70q: want 1-63 letters, digits, '.', '_', '-'", cluster)
	}
	if !namePattern.MatchString(node) {
		return "", fmt.Errorf("make log origin: node name %.70q: want 1-63 letters, digits, '.', '_', '-'", node)
	}
	return "coffer/" + cluster + "/" + node, nil
}

// Checkpoint is a C2SP tlog-checkpoint body: the origin line, the tree
// size in decimal, the base64 RFC 6962 root hash, then optional extension
// lines (this package writes none).
type Checkpoint struct {
	Origin     string
	Size       uint64
	Hash       []byte
	Extensions []string
}

// Text is the checkpoint's note text, each line ending in '\n'.
func (c Checkpoint) Text() []byte {
	var b bytes.Buffer
	b.WriteString(c.Origin)
	b.WriteByte('\n')
	b.WriteString(strconv.FormatUint(c.Size, 10))
	b.WriteByte('\n')
	b.WriteString(base64.StdEncoding.EncodeToString(c.Hash))
	b.WriteByte('\n')
	for _, e := range c.Extensions {
		b.WriteString(e)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// ParseCheckpoint parses a checkpoint body (a note's text) strictly: a
// non-empty origin, a size without sign or leading zeros, a canonical
// base64 32-byte hash, non-empty extension lines, and a final newline.
func ParseCheckpoint(text []byte) (Checkpoint, error) {
	fail := func(format string, args ...any) (Checkpoint, error) {
		return Checkpoint{}, fmt.Errorf("parse checkpoint: %w: %s", ErrMalformed, fmt.Sprintf(format, args...))
	}
	if len(text) > MaxCheckpointSize {
		return fail("%d bytes, at most %d", len(text), MaxCheckpointSize)
	}
	if !utf8.Valid(text) {
		return fail("not valid UTF-8")
	}
	if len(text) == 0 || text[len(text)-1] != '\n' {
		return fail("does not end with a newline")
	}
	lines := strings.Split(string(text[:len(text)-1]), "\n")
	if len(lines) < 3 {
		return fail("%d lines, want at least 3 (origin, size, hash)", len(lines))
	}
	for i, l := range lines {
		if l == "" {
			return fail("line %d is empty", i+1)
		}
		if containsControl(l) {
			return fail("line %d contains a control character", i+1)
		}
	}
	size, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil || strconv.FormatUint(size, 10) != lines[1] {
		return fail("tree size %.30q is not a decimal integer", lines[1])
	}
	hash, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(hash) != 32 || base64.StdEncoding.EncodeToString(hash) != lines[2] {
		return fail("root hash %.60q is not 32 bytes in canonical base64", lines[2])
	}
	c := Checkpoint{Origin: lines[0], Size: size, Hash: hash}
	if len(lines) > 3 {
		c.Extensions = lines[3:]
	}
	return c, nil
}

// OpenCheckpoint opens a signed checkpoint note with the known verifiers
// and parses its text. The note must carry a valid signature by the key
// named like the checkpoint's origin (the log's own key); other valid
// signatures are cosignatures. A signature by a known key that does not
// verify, or no signature by the origin's key, is ErrSignature.
func OpenCheckpoint(msg []byte, known note.Verifiers) (Checkpoint, *note.Note, error) {
	if len(msg) > MaxCheckpointSize {
		return Checkpoint{}, nil, fmt.Errorf("open checkpoint: %w: %d bytes, at most %d", ErrMalformed, len(msg), MaxCheckpointSize)
	}
	n, err := note.Open(msg, known)
	var unverified *note.UnverifiedNoteError
	var invalid *note.InvalidSignatureError
	switch {
	case errors.As(err, &unverified):
		n = unverified.Note
	case errors.As(err, &invalid):
		return Checkpoint{}, nil, fmt.Errorf("open checkpoint: %w: invalid signature by %s+%08x", ErrSignature, invalid.Name, invalid.Hash)
	case err != nil:
		return Checkpoint{}, nil, fmt.Errorf("open checkpoint: %w: %w", ErrMalformed, err)
	}
	if err := verifyRepeatedSigs(msg, n.Text, known); err != nil {
		return Checkpoint{}, nil, err
	}
	c, err := ParseCheckpoint([]byte(n.Text))
	if err != nil {
		return Checkpoint{}, nil, fmt.Errorf("open checkpoint: %w", err)
	}
	for _, s := range n.Sigs {
		if s.Name == c.Origin {
			return c, n, nil
		}
	}
	var by []string
	for _, s := range n.UnverifiedSigs {
		by = append(by, fmt.Sprintf("%s+%08x", s.Name, s.Hash))
	}
	if len(by) == 0 {
		by = []string{"no unknown key either"}
	}
	return c, n, fmt.Errorf("open checkpoint of %s size %d: %w: not signed by the log's trusted key (signed by %s)",
		c.Origin, c.Size, ErrSignature, strings.Join(by, ", "))
}

// verifyRepeatedSigs verifies every signature line by a known key. note.Open
// verifies the first line of each key and skips any later line by the same
// key unverified; the signed-note spec wants every signature by a trusted
// key verified, so a second, bad line by a trusted key is ErrSignature
// rather than ignored. msg has already been opened (its format is sound).
func verifyRepeatedSigs(msg []byte, text string, known note.Verifiers) error {
	sigs := string(msg[len(text)+1:]) // after the text and the blank line
	for _, line := range strings.Split(strings.TrimSuffix(sigs, "\n"), "\n") {
		name, b64sig, ok := strings.Cut(strings.TrimPrefix(line, "— "), " ")
		if !ok {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(b64sig)
		if err != nil || len(raw) < 5 {
			continue
		}
		hash := binary.BigEndian.Uint32(raw)
		v, err := known.Verifier(name, hash)
		if err != nil {
			continue // an unknown key: not ours to check
		}
		if !v.Verify([]byte(text), raw[4:]) {
			return fmt.Errorf("open checkpoint: %w: invalid signature by %s+%08x (a repeated line by a trusted key)", ErrSignature, name, hash)
		}
	}
	return nil
}

// Cosigners returns the names of the valid signatures of n other than
// origin's, in note order, each once (a peer may have cosigned in both
// the old and the cosignature/v1 form).
func Cosigners(n *note.Note, origin string) []string {
	var out []string
	for _, s := range n.Sigs {
		if s.Name != origin && !slices.Contains(out, s.Name) {
			out = append(out, s.Name)
		}
	}
	return out
}
