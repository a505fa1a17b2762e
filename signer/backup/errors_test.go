package backup

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/hsm"
	"github.com/cofferhq/coffer/hsm/vault"
	"github.com/cofferhq/coffer/hsm/vault/vaulttest"
)

func TestParseLocation(t *testing.T) {
	tests := []struct {
		in          string
		mount, path string // empty: an error
	}{
		{"vault://secret/coffer/node1", "secret", "coffer/node1"},
		{"vault://kv/n1", "kv", "n1"},
		{"vault://secret", "", ""},
		{"vault://secret/", "", ""},
		{"vault:///x", "", ""},
		{"vault://secret//x", "", ""},
		{"vault://secret/../x", "", ""},
		{"https://secret/x", "", ""},
		{"secret/x", "", ""},
	}
	for _, tc := range tests {
		l, err := ParseLocation(tc.in)
		if tc.mount == "" {
			if !errors.Is(err, ErrLocation) {
				t.Errorf("ParseLocation(%q) = %+v, %v; want ErrLocation", tc.in, l, err)
			}
			continue
		}
		if err != nil || l.Mount != tc.mount || l.Path != tc.path || l.String() != tc.in {
			t.Errorf("ParseLocation(%q) = %+v, %v", tc.in, l, err)
		}
	}
}

// TestBackupErrors: every failure names its cause and writes nothing.
func TestBackupErrors(t *testing.T) {
	ctx := context.Background()
	ks := nodeKeystore(t)
	st := tempStore(t)
	sealedNode(t, ks, st, "node1")
	n1 := Node{Cluster: "dev", ID: "node1"}
	if err := env.srv.PutPolicy(ctx, "backup-read-only", `path "secret/data/coffer/*" { capabilities = ["read"] }`); err != nil {
		t.Fatal(err)
	}
	tok, err := env.srv.Token(ctx, "backup-read-only")
	if err != nil {
		t.Fatal(err)
	}
	readOnly, _ := vaulttest.WriteSecret(t.TempDir(), "ro.token", tok)
	if _, err := env.srv.Root().Logical().Write("sys/mounts/kv1", map[string]any{"type": "kv", "options": map[string]any{"version": "1"}}); err != nil {
		t.Fatal(err)
	}

	t.Run("fail/permission denied names the policy path", func(t *testing.T) {
		_, err := Backup(ctx, st, n1, kvAt(t, "vault://secret/coffer/denied/node1", readOnly), time.Now())
		if !errors.Is(err, vault.ErrPermissionDenied) ||
			!strings.Contains(err.Error(), `path "secret/data/coffer/denied/node1"`) || !strings.Contains(err.Error(), `"create", "update"`) {
			t.Fatalf("Backup with a read-only token: %v", err)
		}
	})
	t.Run("fail/missing mount", func(t *testing.T) {
		_, err := Backup(ctx, st, n1, kvAt(t, "vault://nokv/coffer/node1", ""), time.Now())
		if !errors.Is(err, vault.ErrMountNotFound) || !strings.Contains(err.Error(), `"nokv"`) {
			t.Fatalf("Backup to a missing mount: %v", err)
		}
	})
	t.Run("fail/KV version 1 mount", func(t *testing.T) {
		_, err := Backup(ctx, st, n1, kvAt(t, "vault://kv1/coffer/node1", ""), time.Now())
		if !errors.Is(err, ErrNotKV2) {
			t.Fatalf("Backup to a KV v1 mount: %v", err)
		}
		if s, _ := env.srv.Root().Logical().Read("kv1/data/coffer/node1"); s != nil {
			t.Fatal("a backup was written to the KV v1 mount")
		}
	})
	t.Run("fail/no backup at the location", func(t *testing.T) {
		dst := tempStore(t)
		if _, err := Restore(ctx, dst, n1, kvAt(t, "vault://secret/coffer/none", ""), 0); !errors.Is(err, ErrNoBackup) {
			t.Fatalf("Restore from nothing: %v", err)
		}
	})
	t.Run("fail/no such version", func(t *testing.T) {
		kv := kvAt(t, "vault://secret/coffer/versions/node1", "")
		if _, err := Backup(ctx, st, n1, kv, time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := Restore(ctx, tempStore(t), n1, kv, 99); !errors.Is(err, ErrNoBackup) {
			t.Fatalf("Restore of version 99: %v", err)
		}
	})
	t.Run("fail/damaged backup changes nothing", func(t *testing.T) {
		kv := kvAt(t, "vault://secret/coffer/damaged/node1", "")
		if _, err := Backup(ctx, st, n1, kv, time.Now()); err != nil {
			t.Fatal(err)
		}
		doc, _, err := kv.Get(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		doc.PreParams = doc.PreParams[:1] // digest no longer matches
		if _, err := kv.Put(ctx, doc); err != nil {
			t.Fatal(err)
		}
		dst := tempStore(t)
		if _, err := Restore(ctx, dst, n1, kv, 0); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Restore of a damaged backup: %v", err)
		}
		if s, _ := dst.Sealed(); len(s.Keys)+len(s.PreParams) != 0 {
			t.Fatal("a refused restore wrote")
		}
	})
	t.Run("fail/unreachable", func(t *testing.T) {
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := "http://" + l.Addr().String()
		l.Close()
		c := conn("")
		c.Address, c.Timeout = addr, 2*time.Second
		if _, err := vault.Dial(ctx, c, discard()); !errors.Is(err, vault.ErrUnreachable) || !strings.Contains(err.Error(), addr) {
			t.Fatalf("Dial: %v", err)
		}
	})
	t.Run("fail/wrong token", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "bad.token")
		_ = os.WriteFile(p, []byte("hvs.not-a-token"), 0o600)
		if _, err := vault.Dial(ctx, conn(p), discard()); !errors.Is(err, hsm.ErrLogin) || strings.Contains(err.Error(), "hvs.not-a-token") {
			t.Fatalf("Dial: %v", err)
		}
	})
}
