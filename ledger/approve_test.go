package ledger

import (
	"fmt"
	"testing"
)

func TestApplyApprove(t *testing.T) {
	approvals := func(want ...string) func(*testing.T, Transfer, *Store) {
		return func(t *testing.T, got Transfer, _ *Store) {
			var have []string
			for _, a := range got.Approvals {
				have = append(have, a.Officer+":"+a.Verdict)
			}
			if fmt.Sprint(have) != fmt.Sprint(want) {
				t.Fatalf("approvals = %v, want %v", have, want)
			}
		}
	}
	pending := submit("t1", StatePendingApproval)
	var many []Command
	for i := range maxApprovals {
		many = append(many, approveCmd("t1", fmt.Sprintf("o%02d", i), "approve"))
	}
	cases := []applyCase{
		{name: "ok/first approval", setup: []Command{pending}, cmd: approveCmd("t1", "alice", "approve"),
			check: approvals("alice:approve")},
		{name: "ok/rejection is kept too", setup: []Command{pending}, cmd: approveCmd("t1", "bob", "reject"),
			check: approvals("bob:reject")},
		{name: "ok/two officers in arrival order", setup: []Command{pending, approveCmd("t1", "bob", "approve")},
			cmd: approveCmd("t1", "alice", "approve"), check: approvals("bob:approve", "alice:approve")},
		{name: "ok/one officer, two verdicts, both kept", setup: []Command{pending, approveCmd("t1", "alice", "approve")},
			cmd: approveCmd("t1", "alice", "reject"), check: approvals("alice:approve", "alice:reject")},
		{name: "ok/repeated verdict is a no-op", noop: true, setup: []Command{pending, approveCmd("t1", "alice", "approve")},
			cmd:   with(approveCmd("t1", "alice", "approve"), func(c *Command) { c.Approval.Signature = []byte("other"); c.At = at(99) }),
			check: approvals("alice:approve")},
		{name: "ok/while signing", setup: []Command{submit("t1", StateReady), reserveCmd("t1", "s1", "aa:0")},
			cmd: approveCmd("t1", "risk", "reject"), check: approvals("risk:reject")},
		{name: "ok/64th approval", setup: append([]Command{pending}, many[:maxApprovals-1]...),
			cmd: approveCmd("t1", "last", "approve")},
		{name: "fail/65th approval", setup: append([]Command{pending}, many...),
			cmd: approveCmd("t1", "late", "approve"), want: ErrInvalid},
		{name: "fail/unknown transfer", cmd: approveCmd("t1", "alice", "approve"), want: ErrTransferNotFound},
		{name: "fail/denied", setup: []Command{submit("t1", StateDenied)}, cmd: approveCmd("t1", "alice", "approve"), want: ErrFinal},
		{name: "fail/expired", setup: []Command{pending, setStateCmd("t1", StateExpired)},
			cmd: approveCmd("t1", "alice", "approve"), want: ErrFinal},
		{name: "fail/signed", setup: []Command{submit("t1", StateReady), reserveCmd("t1", "s1", "aa:0"), completeCmd("t1", "s1", "tx")},
			cmd: approveCmd("t1", "alice", "approve"), want: ErrFinal},
		{name: "fail/unknown verdict", setup: []Command{pending},
			cmd: with(approveCmd("t1", "alice", "approve"), func(c *Command) { c.Approval.Verdict = "abstain" }), want: ErrInvalid},
		{name: "fail/no signature", setup: []Command{pending},
			cmd: with(approveCmd("t1", "alice", "approve"), func(c *Command) { c.Approval.Signature = nil }), want: ErrInvalid},
		{name: "fail/no officer", setup: []Command{pending},
			cmd: with(approveCmd("t1", "alice", "approve"), func(c *Command) { c.Approval.Officer = "" }), want: ErrInvalid},
		{name: "fail/no approval", setup: []Command{pending},
			cmd: with(approveCmd("t1", "alice", "approve"), func(c *Command) { c.Approval = nil }), want: ErrInvalid},
	}
	runApply(t, cases)
}
