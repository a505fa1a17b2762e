package policy_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/policy"
	pt "github.com/cofferhq/coffer/policy/policytest"
)

func TestParseAmount(t *testing.T) {
	const max = "115792089237316195423570985008687907853269984665640564039457584007913129639935" // 2^256-1
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"ok/zero", "0", true},
		{"ok/one", "1", true},
		{"ok/one-ether-in-wei", "1000000000000000000", true},
		{"ok/max", max, true},
		{"fail/empty", "", false},
		{"fail/leading-zero", "007", false},
		{"fail/plus-sign", "+1", false},
		{"fail/negative", "-1", false},
		{"fail/decimal-point", "1.5", false},
		{"fail/exponent", "1e9", false},
		{"fail/space", " 1", false},
		{"fail/underscore", "1_000", false},
		{"fail/hex", "0x10", false},
		{"fail/above-256-bits", "115792089237316195423570985008687907853269984665640564039457584007913129639936", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := policy.ParseAmount(tc.in)
			if !tc.ok {
				if !errors.Is(err, policy.ErrInvalidAmount) {
					t.Fatalf("ParseAmount(%q) = %v, %v; want ErrInvalidAmount", tc.in, a, err)
				}
				return
			}
			if err != nil || a.String() != tc.in {
				t.Fatalf("ParseAmount(%q) = %v, %v", tc.in, a, err)
			}
		})
	}
}

func TestAmountArithmetic(t *testing.T) {
	max := policy.MustAmount("115792089237316195423570985008687907853269984665640564039457584007913129639935")
	sum := max.Add(max) // beyond 256 bits: no wrap-around
	if sum.Cmp(max) <= 0 || sum.String() != "231584178474632390847141970017375815706539969331281128078915168015826259279870" {
		t.Fatalf("max+max = %s", sum)
	}
	if got := policy.AmountFromUint64(1 << 63).Mul64(1 << 63).String(); got != "85070591730234615865843651857942052864" {
		t.Fatalf("2^63 × 2^63 = %s", got)
	}
	var a policy.Amount
	if err := json.Unmarshal([]byte(`"42"`), &a); err != nil || a.String() != "42" {
		t.Fatalf("unmarshal: %v %v", a, err)
	}
	if err := json.Unmarshal([]byte(`42`), &a); err == nil {
		t.Fatal("a JSON number was accepted as an amount")
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		name, in string
		want     time.Duration
		ok       bool
	}{
		{"ok/hours", "48h", 48 * time.Hour, true},
		{"ok/days", "3d", 72 * time.Hour, true},
		{"ok/days-and-hours", "1d12h", 36 * time.Hour, true},
		{"ok/zero", "0", 0, true},
		{"fail/empty", "", 0, false},
		{"fail/negative", "-1h", 0, false},
		{"fail/negative-after-days", "1d-1h", 0, false},
		{"fail/words", "two days", 0, false},
		{"fail/days-last", "1h2d", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := policy.ParseDuration(tc.in)
			if tc.ok != (err == nil) || tc.ok && d.D() != tc.want {
				t.Fatalf("ParseDuration(%q) = %v, %v", tc.in, d, err)
			}
			if !tc.ok && !errors.Is(err, policy.ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
		})
	}
}

func TestKeysAndSignatures(t *testing.T) {
	for _, k := range []pt.Key{pt.Ed25519Key("a"), pt.P256Key("b")} {
		t.Run("ok/"+k.Public.Algorithm(), func(t *testing.T) {
			parsed, err := policy.ParsePublicKey(k.Public.String())
			if err != nil || !parsed.Equal(k.Public) {
				t.Fatalf("round trip: %v", err)
			}
			msg := policy.ApprovalMessage(pt.Digest("x"), policy.VerdictApprove, signedAt)
			sig := k.Sign(msg)
			if !parsed.Verify(msg, sig) {
				t.Fatal("signature does not verify")
			}
			if parsed.Verify(policy.ApprovalMessage(pt.Digest("x"), policy.VerdictReject, signedAt), sig) {
				t.Fatal("signature verifies for the other verdict")
			}
			if parsed.Verify(policy.PolicyMessage(pt.Digest("x")), sig) {
				t.Fatal("signature verifies in another domain")
			}
		})
	}
	for name, s := range map[string]string{
		"fail/no-prefix": "AAAA", "fail/short-ed25519": "ed25519:AAAA", "fail/not-base64": "ed25519:!!!!",
		"fail/p256-not-on-curve": "p256:BAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := policy.ParsePublicKey(s); !errors.Is(err, policy.ErrInvalidKey) {
				t.Fatalf("ParsePublicKey(%q) = %v", s, err)
			}
		})
	}
	// A P-256 officer (raj) approves; the engine-independent check verifies.
	f := pt.New()
	p := f.Policy(t)
	d := pt.Digest("r")
	sig := f.Officers["raj"].Sign(policy.ApprovalMessage(d, policy.VerdictReject, signedAt))
	if err := policy.VerifyApproval(p, "raj", d, policy.VerdictReject, signedAt, sig); err != nil {
		t.Fatalf("VerifyApproval(raj) = %v", err)
	}
	if err := policy.VerifyApproval(p, "nobody", d, policy.VerdictReject, signedAt, sig); !errors.Is(err, policy.ErrUnknownOfficer) {
		t.Fatalf("VerifyApproval(unknown) = %v", err)
	}
	if err := policy.VerifyApproval(p, "raj", d, policy.Verdict(7), signedAt, sig); !errors.Is(err, policy.ErrInvalid) {
		t.Fatalf("VerifyApproval(bad verdict) = %v", err)
	}
}

func TestDecodeRequestAndStateJSON(t *testing.T) {
	req := pt.ETH("r", "eth-hot", pt.ETHCoinbase, "USDC", policy.MustAmount("5"), t0)
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	back, err := policy.DecodeRequestJSON(b)
	if err != nil {
		t.Fatalf("DecodeRequestJSON: %v", err)
	}
	p := pt.New().Policy(t)
	if a, b := policy.Evaluate(p, policy.State{}, req, t0), policy.Evaluate(p, policy.State{}, back, t0); a.Effect != policy.EffectAllow || a.Reason != b.Reason {
		t.Fatalf("round-tripped request decides differently: %s / %s", a.Reason, b.Reason)
	}
	for name, in := range map[string]string{
		"fail/unknown-field":  `{"id":"x","amout":"1"}`,
		"fail/trailing-data":  `{"id":"x"} {}`,
		"fail/amount-number":  `{"amount":5}`,
		"fail/digest-not-hex": `{"digest":"zz"}`,
		"fail/data-not-0x":    `{"eth":{"data":"abcd"}}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := policy.DecodeRequestJSON([]byte(in)); !errors.Is(err, policy.ErrInvalidRequest) {
				t.Fatalf("DecodeRequestJSON(%s) = %v", in, err)
			}
		})
	}
	if _, err := policy.DecodeSnapshotJSON([]byte(`{"frozen":true,"spends":[],"extra":1}`)); !errors.Is(err, policy.ErrInvalidState) {
		t.Fatalf("DecodeSnapshotJSON(unknown field) = %v", err)
	}
	s, err := policy.DecodeSnapshotJSON([]byte(`{"approvals":[{"officer":"tom","verdict":"approve","digest":"` + strings.Repeat("ab", 32) + `","at":"2025-03-01T00:00:00Z"}]}`))
	if err != nil || len(s.Approvals) != 1 || s.Approvals[0].Verdict != policy.VerdictApprove {
		t.Fatalf("DecodeSnapshotJSON = %+v, %v", s, err)
	}
}

func TestNewState(t *testing.T) {
	d := pt.Digest("x")
	tests := []struct {
		name string
		snap policy.Snapshot
		ok   bool
	}{
		{"ok/empty", policy.Snapshot{}, true},
		{"ok/everything", policy.Snapshot{Frozen: true, Approvals: []policy.Approval{pt.Approve("tom", d, t0)},
			Spends:               []policy.Spend{spend(t0, "btc-hot", pt.BTCKraken, "withdraw-btc", "BTC", "1")},
			WhitelistActivations: []policy.WhitelistActivation{{Whitelist: "w", Address: "a", ActiveFrom: t0}}}, true},
		{"fail/approval-without-verdict", policy.Snapshot{Approvals: []policy.Approval{{Officer: "tom", Digest: d, At: t0}}}, false},
		{"fail/approval-without-digest", policy.Snapshot{Approvals: []policy.Approval{{Officer: "tom", Verdict: policy.VerdictApprove, At: t0}}}, false},
		{"fail/spend-without-time", policy.Snapshot{Spends: []policy.Spend{{Source: "btc-hot", To: "a", Asset: "BTC"}}}, false},
		{"fail/activation-without-time", policy.Snapshot{WhitelistActivations: []policy.WhitelistActivation{{Whitelist: "w", Address: "a"}}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, err := policy.NewState(tc.snap)
			if tc.ok != (err == nil) {
				t.Fatalf("NewState = %v", err)
			}
			if !tc.ok && !errors.Is(err, policy.ErrInvalidState) {
				t.Fatalf("error %v is not ErrInvalidState", err)
			}
			if tc.ok && st.Frozen() != tc.snap.Frozen {
				t.Fatal("frozen flag lost")
			}
		})
	}
	// WithApprovals replaces approvals and keeps spends.
	f := pt.New()
	p := f.Policy(t)
	req := pt.BTC("s", "btc-hot", pt.BTCCold, 1, t0)
	st := pt.State(t, policy.Snapshot{Spends: repeatSpends(5, spend(t0.Add(-time.Hour), "btc-hot", pt.BTCCold, "sweep-btc", "BTC", "1"), time.Minute)})
	st2, err := st.WithApprovals([]policy.Approval{pt.Approve("tom", req.Digest, t0)})
	if err != nil || len(st2.Snapshot().Approvals) != 1 || len(st2.Snapshot().Spends) != 5 {
		t.Fatalf("WithApprovals: %v", err)
	}
	expect(t, policy.Evaluate(p, st2, req, t0), policy.EffectDeny, "sweep-btc") // count limit 5 still applies
	if _, err := st.WithApprovals([]policy.Approval{{Officer: "tom"}}); !errors.Is(err, policy.ErrInvalidState) {
		t.Fatalf("WithApprovals(bad) = %v", err)
	}
}

// signedAt is the signing time the approvals in these tests carry.
var signedAt = time.UnixMilli(1_767_225_600_000)

// An approval's signing time is under the officer's signature: the same
// signature does not verify for another time, nor as the legacy message.
func TestApprovalSigningTime(t *testing.T) {
	f := pt.New()
	p := f.Policy(t)
	d := pt.Digest("timed")
	sig := f.Officers["raj"].Sign(policy.ApprovalMessage(d, policy.VerdictApprove, signedAt))
	if err := policy.VerifyApproval(p, "raj", d, policy.VerdictApprove, signedAt, sig); err != nil {
		t.Fatalf("at its time: %v", err)
	}
	for name, at := range map[string]time.Time{"a millisecond later": signedAt.Add(time.Millisecond), "an hour earlier": signedAt.Add(-time.Hour),
		"no time (legacy message)": {}} {
		if err := policy.VerifyApproval(p, "raj", d, policy.VerdictApprove, at, sig); !errors.Is(err, policy.ErrBadSignature) {
			t.Fatalf("%s: %v, want ErrBadSignature", name, err)
		}
	}
}
