package ledger

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzApply feeds commands decoded from arbitrary JSON (as a replica or a
// participant would receive them from a peer) to one store: Apply must
// never panic, and a refused command must change nothing.
func FuzzApply(f *testing.F) {
	for _, c := range []Command{
		submit("t1", StateReady), submit("e1", StateTimelocked), approveCmd("t1", "alice", "approve"),
		setStateCmd("t1", StateDenied), reserveCmd("t1", "s1", "aa:0"), reserveETHCmd("e1", "s1", "1/0xhot#1"),
		releaseCmd("t1", "s1"), completeCmd("t1", "s1", "tx"),
	} {
		raw, err := json.Marshal(c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	s := openTB(f)
	s.db.NoSync = true
	for _, c := range []Command{submit("t1", StateReady), submit("e1", StateReady), submit("t2", StatePendingApproval)} {
		if _, err := s.Apply(c); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var c Command
		if json.Unmarshal(raw, &c) != nil {
			return
		}
		before := dump(t, s)
		if _, err := s.Apply(c); err != nil && !bytes.Equal(before, dump(t, s)) {
			t.Fatalf("refused command %s changed the store: %v", raw, err)
		}
	})
}
