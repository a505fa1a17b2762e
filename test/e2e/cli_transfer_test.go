package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"gopkg.in/yaml.v3"

	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/chain/btc"
	"github.com/cofferhq/coffer/hsm/softhsm"
	"github.com/cofferhq/coffer/internal/devcluster"
	"github.com/cofferhq/coffer/policy"
)

// cliRun runs the coffer binary against the cluster with extra
// environment and standard input; it returns the combined output and the
// error, so that tests of refusals can look at both.
func cliRun(t *testing.T, dir string, env []string, stdin string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "coffer"), append([]string{"--cluster", dir}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	t.Logf("$ coffer %s\n%s", strings.Join(args, " "), out)
	return string(out), err
}

// cliMustContain fails unless out holds every want.
func cliMustContain(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Fatalf("%s lacks %q:\n%s", what, w, out)
		}
	}
}

// cliWriteIntent writes an intent as protobuf JSON, as a withdrawal service would.
func cliWriteIntent(t *testing.T, in *transferpb.Intent) string {
	t.Helper()
	b, err := protojson.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), in.RequestId+".json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// cliOfficerToken puts an officer's approval key on a SoftHSM token of its own
// (its own softhsm2.conf, so the nodes' tokens are untouched) and returns
// the environment and flags for `coffer approve` to sign with it.
func cliOfficerToken(t *testing.T, keyFile, label string) (env, flags []string) {
	t.Helper()
	module, err := softhsm.ModulePath()
	if err != nil {
		t.Fatalf("SoftHSM2 is required (apt-get install softhsm2): %v", err)
	}
	conf, err := softhsm.WriteConf(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	raw := make([]byte, 12)
	_, _ = rand.Read(raw)
	pin := hex.EncodeToString(raw)
	ctx := context.Background()
	if err := softhsm.InitToken(ctx, conf, "officer", "so-"+pin, pin); err != nil {
		t.Fatal(err)
	}
	imp := exec.CommandContext(ctx, "softhsm2-util", "--import", keyFile, "--token", "officer", "--label", label, "--id", "01", "--pin", pin)
	imp.Env = append(os.Environ(), "SOFTHSM2_CONF="+conf)
	if out, err := imp.CombinedOutput(); err != nil {
		t.Fatalf("import %s: %v: %s", keyFile, err, bytes.ReplaceAll(out, []byte(pin), []byte("REDACTED")))
	}
	return []string{"SOFTHSM2_CONF=" + conf, "OFFICER_PIN=" + pin},
		[]string{"--pkcs11-module", module, "--token", "officer", "--key-label", label, "--pin-env", "OFFICER_PIN"}
}

// TestCLITransfer drives the officer, withdrawal and wallet commands of
// the coffer binary against three real nodes with the dev treasury.
func TestCLITransfer(t *testing.T) {
	c := startCluster(t, 45*time.Second)
	ctx := context.Background()
	tr, err := devcluster.SetupTreasury(ctx, c, devcluster.TreasuryOptions{RefillTimelock: 2 * time.Second, SAFUTimelock: 3 * time.Second}, os.Stderr)
	if err != nil {
		t.Fatalf("treasury: %v", err)
	}
	dir, w := tr.Layout.Dir, tr.Wallets
	cli := func(t *testing.T, args ...string) string {
		t.Helper()
		out, err := cliRun(t, dir, nil, "", args...)
		if err != nil {
			t.Fatalf("coffer %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	cliFails := func(t *testing.T, args ...string) string {
		t.Helper()
		out, err := cliRun(t, dir, nil, "", args...)
		if err == nil {
			t.Fatalf("coffer %s succeeded:\n%s", strings.Join(args, " "), out)
		}
		return out
	}
	withdrawal, err := tr.Layout.DialAs("node2", tr.Withdrawal)
	if err != nil {
		t.Fatal(err)
	}
	defer withdrawal.Close()
	get := func(t *testing.T, id string) *transferpb.Transfer {
		t.Helper()
		got, err := withdrawal.Transfers.Get(ctx, &transferpb.GetRequest{RequestId: id})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}

	t.Run("ok/wallet new derives the treasury's addresses", func(t *testing.T) {
		for _, tc := range []struct {
			wallet string
			args   []string
		}{
			{"btc-hot", []string{"--key", "hot", "--class", "hot", "--chain", "btc"}},
			{"btc-cold", []string{"--key", "cold", "--class", "cold", "--chain", "btc", "--network", "regtest", "--node", "node3"}},
			{"eth-hot", []string{"--key", "hot", "--index", "1", "--class", "hot", "--chain", "eth", "--chain-id", "1337"}},
		} {
			out := cli(t, append([]string{"wallet", "new"}, tc.args...)...)
			var got []policy.Wallet
			dec := yaml.NewDecoder(strings.NewReader(out))
			dec.KnownFields(true)
			if err := dec.Decode(&got); err != nil || len(got) != 1 {
				t.Fatalf("%s: output is not one wallets: entry (%v):\n%s", tc.wallet, err, out)
			}
			want := w[tc.wallet]
			if got[0].ID != tc.wallet || string(got[0].Class) != want.Class || got[0].KeyID != want.KeyID ||
				len(got[0].Addresses) != 1 || got[0].Addresses[0] != want.Address {
				t.Fatalf("%s: entry %+v, want class %s key_id %s address %s", tc.wallet, got[0], want.Class, want.KeyID, want.Address)
			}
		}
		cliMustContain(t, "unknown key", cliFails(t, "wallet", "new", "--key", "warm", "--class", "warm", "--chain", "btc"), `no key "warm"`)
	})

	refill := devcluster.BTCIntent("cli-refill-1", w["btc-cold"], "btc-hot", 3_000_000, devcluster.FakeUTXO(w["btc-cold"], 5_000_000))
	t.Run("ok/transfer submit of a refill, listed pending", func(t *testing.T) {
		out := cli(t, "transfer", "submit", "--intent", cliWriteIntent(t, refill))
		cliMustContain(t, "submit", out, "transfer cli-refill-1  pending_approval", "btc-cold (cold) "+w["btc-cold"].Address,
			"btc-hot (hot) "+w["btc-hot"].Address, "3000000 sat (0.03 BTC)", "refill-btc")
		again := cli(t, "transfer", "submit", "--intent", cliWriteIntent(t, refill), "--as", "withdrawal-svc")
		cliMustContain(t, "resubmission", again, "transfer cli-refill-1  pending_approval", hex.EncodeToString(get(t, "cli-refill-1").Digest))
		list := cli(t, "transfers", "--as", "tom", "--state", "pending_approval", "--node", "node3")
		cliMustContain(t, "transfers", list, "cli-refill-1", "pending_approval", "btc-cold (cold) → btc-hot (hot)", "3000000", "BTC",
			"refill-btc", "approvals from treasury: 0 of 2")
		cliMustContain(t, "transfers --state signed", cli(t, "transfers", "--as", "auditor-1", "--state", "signed"), "no transfers")
	})
	t.Run("fail/intent with an unknown field", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "bad.json")
		_ = os.WriteFile(p, []byte(`{"requestId": "x", "sourceWallet": "btc-cold", "approvedBy": "tom"}`), 0o600)
		cliMustContain(t, "strict intent", cliFails(t, "transfer", "submit", "--intent", p), "approvedBy")
	})
	t.Run("fail/a withdrawal certificate running approve gets PermissionDenied", func(t *testing.T) {
		out := cliFails(t, "approve", "cli-refill-1", "--officer", "tom", "--key", tr.Layout.Path("tom.key"), "--as", "withdrawal-svc", "--yes")
		cliMustContain(t, "approve as withdrawal-svc", out, "PermissionDenied")
		if got := get(t, "cli-refill-1"); len(got.Approvals) != 0 || got.State != "pending_approval" {
			t.Fatalf("a refused approval changed the request: %v", got)
		}
	})
	t.Run("fail/an approval that is not confirmed is not signed", func(t *testing.T) {
		out, err := cliRun(t, dir, nil, "no\n", "approve", "cli-refill-1", "--officer", "tom")
		if err == nil {
			t.Fatalf("approve without confirmation succeeded:\n%s", out)
		}
		cliMustContain(t, "unconfirmed approve", out, "[y/N]", "not confirmed")
		if got := get(t, "cli-refill-1"); len(got.Approvals) != 0 {
			t.Fatalf("an unconfirmed approval was recorded: %v", got.Approvals)
		}
	})
	t.Run("ok/tom then tina approve and the refill is signed", func(t *testing.T) {
		out := cli(t, "approve", "cli-refill-1", "--officer", "tom", "--yes", "--cross-check")
		cliMustContain(t, "tom's approve", out, "node2 built the same request and digest", "node3 built the same request and digest",
			"rebuilt here from the intent and decoded from the transaction bytes",
			"pays        3000000 sat to "+w["btc-hot"].Address+` (the intent names "btc-hot")`, "from        "+w["btc-cold"].Address,
			"sat back to "+w["btc-cold"].Address, "input 0     "+refill.Btc.Utxos[0].Txid+":0: 5000000 sat",
			"wallets     the node names btc-cold (cold) → btc-hot (hot)", "rule        refill-btc",
			"missing     approvals from treasury: 0 of 2", "timelock    ", "digest      "+hex.EncodeToString(get(t, "cli-refill-1").Digest)+" (recomputed here)",
			"approve recorded for cli-refill-1 by tom: state pending_approval", "still missing: approvals from treasury: 1 of 2")
		// tina signs with her key on a PKCS#11 token, and confirms on standard input
		env, flags := cliOfficerToken(t, tr.Layout.Path("tina.key"), "tina-approval")
		out, err := cliRun(t, dir, env, "yes\n", append([]string{"approve", "cli-refill-1", "--officer", "tina", "--node", "node2"}, flags...)...)
		if err != nil {
			t.Fatalf("tina's approve: %v\n%s", err, out)
		}
		cliMustContain(t, "tina's approve", out, "node1 built the same request and digest", "btc-hot (hot)", "refill-btc", "approvals from treasury: 1 of 2", "tom approve at",
			`PKCS#11 token "officer", key "tina-approval"`, "[y/N]", "approve recorded for cli-refill-1 by tina")
		if strings.Contains(out, strings.TrimPrefix(env[1], "OFFICER_PIN=")) {
			t.Fatal("the output contains the PIN")
		}
		done := cliWaitState(t, withdrawal.Transfers, "cli-refill-1", "signed")
		if err := btc.Verify(done.SignedTx, "regtest", []btc.UTXO{{TxID: refill.Btc.Utxos[0].Txid, Vout: refill.Btc.Utxos[0].Vout,
			Amount: refill.Btc.Utxos[0].Amount, PkScript: refill.Btc.Utxos[0].PkScript}}); err != nil {
			t.Fatalf("signed refill does not verify: %v", err)
		}
		cliMustContain(t, "transfer get", cli(t, "transfer", "get", "cli-refill-1"), "transfer cli-refill-1  signed", "tx hash     "+done.TxHash,
			"signed tx   "+hex.EncodeToString(done.SignedTx), "tina approve at")
		cliMustContain(t, "approve a signed transfer", cliFails(t, "approve", "cli-refill-1", "--officer", "tom", "--yes"), "nothing left to decide")
	})
	t.Run("ok/rita's reject vetoes another refill", func(t *testing.T) {
		in := devcluster.BTCIntent("cli-refill-2", w["btc-cold"], "btc-hot", 1_000_000, devcluster.FakeUTXO(w["btc-cold"], 2_000_000))
		cli(t, "transfer", "submit", "--intent", cliWriteIntent(t, in))
		out := cli(t, "reject", "cli-refill-2", "--officer", "rita", "--yes", "--node", "node3")
		cliMustContain(t, "rita's reject", out, "btc-hot (hot)", "refill-btc", "reject recorded for cli-refill-2 by rita: state denied",
			"vetoed by officer rita of veto group risk")
		// the node read may apply the home's denial a moment later
		if got := cliWaitState(t, withdrawal.Transfers, "cli-refill-2", "denied"); got.State != "denied" {
			t.Fatalf("after the veto: %s", got.State)
		}
	})
	t.Run("fail/a node showing another request: approve refuses before anything is signed", func(t *testing.T) {
		cli(t, "transfer", "submit", "--intent", cliWriteIntent(t, devcluster.BTCIntent("cli-refill-4", w["btc-cold"], "btc-hot", 1_500_000,
			devcluster.FakeUTXO(w["btc-cold"], 2_000_000))))
		cli(t, "transfer", "submit", "--intent", cliWriteIntent(t, devcluster.BTCIntent("cli-refill-5", w["btc-cold"], "btc-hot", 1_700_000,
			devcluster.FakeUTXO(w["btc-cold"], 2_000_000))))
		other := get(t, "cli-refill-5")
		withLyingAPINode3(t, c, withdrawal.Transfers, func(s *lyingTransfers) {
			for _, tc := range []struct {
				name string
				lie  func(*transferpb.Transfer) *transferpb.Transfer
				want string
			}{
				{"another request's digest", func(t *transferpb.Transfer) *transferpb.Transfer {
					x := proto.Clone(t).(*transferpb.Transfer)
					x.Digest = other.Digest
					return x
				}, "shows digest"},
				{"another request, all of it, under this one's ID", func(t *transferpb.Transfer) *transferpb.Transfer {
					x := proto.Clone(other).(*transferpb.Transfer)
					x.RequestId = t.RequestId
					return x
				}, `is request "cli-refill-5"`},
			} {
				s.lie.Store(&tc.lie)
				cliMustContain(t, tc.name+", asked first", cliFails(t, "approve", "cli-refill-4", "--officer", "tom", "--yes", "--node", "node3"),
					"node3 shows a request this client cannot rebuild", tc.want, "not signing")
				cliMustContain(t, tc.name+", asked last", cliFails(t, "approve", "cli-refill-4", "--officer", "tom", "--yes", "--node", "node1", "--cross-check"),
					"node2 built the same request and digest", "node1 and node3 show different requests", "not signing")
			}
			if n := s.decides.Load(); n != 0 {
				t.Fatalf("the client sent %d decisions to the lying node", n)
			}
		})
		if got := get(t, "cli-refill-4"); len(got.Approvals) != 0 || got.State != "pending_approval" {
			t.Fatalf("a refused approval changed the request: %s, %v", got.State, got.Approvals)
		}
	})
	t.Run("fail/cross-check refuses to sign what a node cannot confirm", func(t *testing.T) {
		in := devcluster.BTCIntent("cli-refill-3", w["btc-cold"], "btc-hot", 1_000_000, devcluster.FakeUTXO(w["btc-cold"], 2_000_000))
		cli(t, "transfer", "submit", "--intent", cliWriteIntent(t, in))
		c.StopNode("node3") // last subtest: the cluster is not needed whole again
		out := cliFails(t, "approve", "cli-refill-3", "--officer", "tom", "--yes", "--cross-check")
		cliMustContain(t, "cross-check without node3", out, "node2 built the same request and digest", "node3 did not answer",
			"only 2 of the 3 nodes needed showed the request; not signing")
		if got := get(t, "cli-refill-3"); len(got.Approvals) != 0 {
			t.Fatalf("an approval was recorded although the cross-check failed: %v", got.Approvals)
		}
	})
}

// cliWaitState polls a request until it is in state want.
func cliWaitState(t *testing.T, cl transferpb.TransfersClient, id, want string) *transferpb.Transfer {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	var last *transferpb.Transfer
	for time.Now().Before(deadline) {
		if got, err := cl.Get(context.Background(), &transferpb.GetRequest{RequestId: id}); err == nil {
			if last = got; got.State == want {
				return got
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s never reached %s: last %v", id, want, last)
	return nil
}
