package audit

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// Fuzz targets for every decoder of untrusted bytes. Seeds live in
// testdata/fuzz/<target>/ (valid inputs of each kind, written by
// TestWriteFuzzSeeds with COFFER_WRITE_FUZZ_SEEDS=1).

func FuzzDecodeRecord(f *testing.F) {
	f.Fuzz(func(t *testing.T, leaf []byte) {
		rec, err := DecodeRecord(leaf)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrVersion) {
				t.Fatalf("DecodeRecord error %v wraps neither ErrMalformed nor ErrVersion", err)
			}
			return
		}
		again, err := EncodeRecord(rec)
		if err != nil || !bytes.Equal(again, leaf) {
			t.Fatalf("decoded record does not re-encode to its leaf (%v):\n%q\n%q", err, leaf, again)
		}
	})
}

func FuzzParseCheckpoint(f *testing.F) {
	f.Fuzz(func(t *testing.T, text []byte) {
		cp, err := ParseCheckpoint(text)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseCheckpoint error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if !bytes.Equal(cp.Text(), text) {
			t.Fatalf("Text() = %q, parsed from %q", cp.Text(), text)
		}
	})
}

// fuzzKey signs the checkpoint seeds of FuzzOpenCheckpoint.
func fuzzKey() (*NoteSigner, note.Verifiers) {
	s, _ := NewNoteSigner("coffer/fuzz/node1", memKS(7).Identity())
	v, _ := note.NewVerifier(s.VerifierKey())
	return s, note.VerifierList(v)
}

func FuzzOpenCheckpoint(f *testing.F) {
	_, known := fuzzKey()
	f.Fuzz(func(t *testing.T, msg []byte) {
		cp, n, err := OpenCheckpoint(msg, known)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrSignature) {
				t.Fatalf("OpenCheckpoint error %v wraps neither ErrMalformed nor ErrSignature", err)
			}
			return
		}
		if cp.Origin != "coffer/fuzz/node1" || n == nil {
			t.Fatalf("OpenCheckpoint accepted %+v without the origin's signature", cp)
		}
	})
}

// FuzzReadBundle parses a bundle and verifies it without a trust file (the
// bundle's own key): no input may panic or hang the verifier.
func FuzzReadBundle(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ReadBundle("fuzz", bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrVersion) {
				t.Fatalf("ReadBundle error %v wraps neither ErrMalformed nor ErrVersion", err)
			}
			return
		}
		rep, err := Verify(context.Background(), []*Bundle{b}, nil, nil)
		if rep == nil {
			t.Fatal("nil report")
		}
		if err == nil && len(rep.Problems) != 0 {
			t.Fatal("problems without an error")
		}
		rep.WriteText(io.Discard)
	})
}

func FuzzParseTrust(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := ParseTrust(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseTrust error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if len(tr.Origins()) != len(tr.Nodes) {
			t.Fatalf("%d origins for %d keys", len(tr.Origins()), len(tr.Nodes))
		}
	})
}

// FuzzDecodeFastPath checks the reflection-free decoder against
// encoding/json: whatever it accepts, the slow path accepts as the same
// record, and it re-encodes to the input.
func FuzzDecodeFastPath(f *testing.F) {
	f.Fuzz(func(t *testing.T, leaf []byte) {
		fast, ok := decodeCanonical(leaf)
		if !ok {
			return
		}
		slow, err := decodeReflect(leaf)
		if err != nil {
			t.Fatalf("fast path accepted what encoding/json refuses (%v): %q", err, leaf)
		}
		a, errA := EncodeRecord(fast)
		b, errB := EncodeRecord(slow)
		if errA != nil || errB != nil || !bytes.Equal(a, leaf) || !bytes.Equal(b, leaf) {
			t.Fatalf("fast and slow decodings differ:\n%q\n%q\n%q", leaf, a, b)
		}
	})
}
