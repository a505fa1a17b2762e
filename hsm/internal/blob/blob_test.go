package blob

import (
	"bytes"
	"errors"
	"testing"

	"github.com/cofferhq/coffer/hsm"
)

func TestSplit(t *testing.T) {
	nonce := bytes.Repeat([]byte{7}, NonceSize)
	sealed := bytes.Repeat([]byte{9}, TagSize+3)
	good := Join(nonce, sealed)
	tests := []struct {
		name string
		blob []byte
		ok   bool
	}{
		{"ok/joined", good, true},
		{"ok/empty-plaintext", Join(nonce, sealed[:TagSize]), true},
		{"fail/empty", nil, false},
		{"fail/one-short", good[:Overhead-1], false},
		{"fail/version-0", append([]byte{0}, good[1:]...), false},
		{"fail/version-2", append([]byte{2}, good[1:]...), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, s, err := Split(tc.blob)
			if !tc.ok {
				if !errors.Is(err, hsm.ErrMalformedBlob) || !errors.Is(err, hsm.ErrUnseal) {
					t.Fatalf("Split: err = %v, want ErrMalformedBlob and ErrUnseal", err)
				}
				if n != nil || s != nil {
					t.Fatal("Split returned data with an error")
				}
				return
			}
			if err != nil {
				t.Fatalf("Split: %v", err)
			}
			if !bytes.Equal(n, nonce) || !bytes.Equal(Join(n, s), tc.blob) {
				t.Fatal("Split does not invert Join")
			}
		})
	}
}
