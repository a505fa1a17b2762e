package signer

import (
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/bnb-chain/tss-lib/v3/common"

	"github.com/cofferhq/coffer/hsm/hsmtest"
	"github.com/cofferhq/coffer/ledger"
	ctss "github.com/cofferhq/coffer/signer/tss"
)

// TestNodeRefusesVariableTime: a node does not start while tss-lib's
// constant-time arithmetic is off.
func TestNodeRefusesVariableTime(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := ledger.Open(filepath.Join(t.TempDir(), "node.db"), ledger.Options{}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	common.DisableConstantTimeOps()
	defer common.EnableConstantTimeOps()
	_, err = New(&Config{Node: "node1", Cluster: "c"}, Deps{Keystore: hsmtest.NewMemory(), Store: st, Log: log})
	if !errors.Is(err, ctss.ErrVariableTime) {
		t.Fatalf("New with constant-time off: got %v, want ErrVariableTime", err)
	}
}
