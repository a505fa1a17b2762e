package audit

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// A cosignature is what C2SP tlog-cosignature/v1 says, checked here from
// the spec's text rather than through this package: the line's key ID is
// SHA-256(name ‖ "\n" ‖ 0x04 ‖ pub)[:4], the signature is an 8-byte
// big-endian timestamp then an Ed25519 signature over "cosignature/v1\n",
// "time <ts>\n" and the checkpoint body. It opens with x/mod's note
// package given the cosigner's vkey, fails with another timestamp, and a
// log's key never verifies its own checkpoints as a cosigner.
func TestCosignatureV1(t *testing.T) {
	ks := memKS(7)
	now := time.Unix(1_700_000_000, 0)
	cs, err := NewCosignatureSigner("coffer/c/w", ks.Identity(), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	pub := ks.Identity().Public().(ed25519.PublicKey)
	text := Checkpoint{Origin: "coffer/c/a", Size: 7, Hash: bytes.Repeat([]byte{3}, 32)}.Text()
	msg, err := note.Sign(&note.Note{Text: string(text)}, cs)
	if err != nil {
		t.Fatal(err)
	}
	// by the spec's own words
	line := strings.TrimSuffix(string(msg[len(text)+1:]), "\n")
	name, b64, _ := strings.Cut(strings.TrimPrefix(line, "— "), " ")
	raw, _ := base64.StdEncoding.DecodeString(b64)
	id := sha256.Sum256(append(append([]byte(name+"\n"), 0x04), pub...))
	if name != "coffer/c/w" || len(raw) != 4+8+64 || !bytes.Equal(raw[:4], id[:4]) {
		t.Fatalf("line %q: key ID %x, want %x", line, raw[:4], id[:4])
	}
	ts := binary.BigEndian.Uint64(raw[4:12])
	signed := fmt.Sprintf("cosignature/v1\ntime %d\n%s", ts, text)
	if ts != uint64(now.Unix()) || !ed25519.Verify(pub, []byte(signed), raw[12:]) {
		t.Fatalf("timestamp %d, or the signature is not over the spec's message", ts)
	}
	// through x/mod's note package, from the vkey
	v, err := NewCosignatureVerifier(CosignatureVerifierKey("coffer/c/w", pub))
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil || len(n.Sigs) != 1 {
		t.Fatalf("note.Open: %v", err)
	}
	// another timestamp under the same signature fails
	binary.BigEndian.PutUint64(raw[4:12], ts+1)
	forged := append(append([]byte{}, msg[:len(text)+1]...), "— "+name+" "+base64.StdEncoding.EncodeToString(raw)+"\n"...)
	if _, err := note.Open(forged, note.VerifierList(v)); err == nil {
		t.Fatal("a changed timestamp verified")
	}
	// the log key (0x01) and the cosigner key (0x04) of one node differ
	if KeyHash("coffer/c/w", pub) == CosignatureKeyHash("coffer/c/w", pub) {
		t.Fatal("one key ID for both algorithms")
	}
}
