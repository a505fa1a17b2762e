package e2e

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/cofferhq/coffer/audit"
	"github.com/cofferhq/coffer/internal/devcluster"
)

// auditRecords exports node's audit log with the CLI, as an auditor, and
// decodes every record of it.
func auditRecords(t *testing.T, tr *devcluster.Treasury, node string) []audit.Record {
	t.Helper()
	path := filepath.Join(t.TempDir(), node+".bundle")
	runCoffer(t, "--cluster", tr.Layout.Dir, "audit", "export", "--node", node, "--as", tr.Auditor.Name, "--out", path)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := audit.ReadBundle(node, f)
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Record
	for {
		leaf, err := b.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s bundle: %v", node, err)
		}
		rec, err := audit.DecodeRecord(leaf)
		if err != nil {
			t.Fatalf("%s bundle: %v", node, err)
		}
		out = append(out, rec)
	}
}
