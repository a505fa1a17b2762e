package policytest

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/cofferhq/coffer/policy"
)

// Addresses of the fixture's wallets and whitelist entries.
const (
	BTCHot      = "bc1qhotwallet0000000000000000000000000000"
	BTCCold     = "bc1qcoldwallet000000000000000000000000000"
	BTCSAFU     = "bc1qsafuwallet000000000000000000000000000"
	BTCKraken   = "bc1qkrakendeposit00000000000000000000000"
	BTCLate     = "bc1qlateentry0000000000000000000000000000" // whitelisted at T0-1h
	BTCStranger = "bc1qstranger00000000000000000000000000000"
	ETHHot      = "0x1111111111111111111111111111111111111111"
	ETHCold     = "0x2222222222222222222222222222222222222222"
	ETHCoinbase = "0x4444444444444444444444444444444444444444"
	ETHStranger = "0x9999999999999999999999999999999999999999"
	USDCToken   = "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"
)

// T0 is the fixture's "now": every whitelist entry but BTCLate is active.
var T0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// Fixture is a valid baseline policy document and the keys behind it.
// Officers: tom, tina, theo (treasury), rita, raj (risk, raj on P-256) and
// ida (treasury and risk). Admins: ada, bob, cy (quorum 2).
type Fixture struct {
	Doc      policy.Document
	Admins   map[string]Key
	Officers map[string]Key
}

func amt(s string) *policy.Amount {
	a := policy.MustAmount(s)
	return &a
}

// New returns the baseline fixture. Its rules, in order:
//
//	sweep-btc       btc-hot → cold, BTC, allow, rule limit 24h ≤ 10 BTC, ≤ 5 transfers
//	refill          cold → hot, require 2 treasury, timelock 6h, veto risk
//	cold-other      cold → anything, deny
//	safu-out        safu → hot/cold, require 2 treasury + 1 risk, timelock 72h, veto risk
//	safu-other      safu → anything, deny
//	withdraw-btc    btc-hot → btc-exchanges, BTC ≤ 1 BTC, role withdrawal, allow,
//	                source 1h ≤ 2 BTC / ≤ 5 transfers, source 24h ≤ 5 BTC
//	withdraw-eth    eth-hot → eth-exchanges, ETH, allow, rule 1h ≤ 30 ETH
//	withdraw-usdc   eth-hot → eth-exchanges, USDC, allow, destination 24h ≤ 100000 USDC
//	big-withdraw    btc-hot → btc-exchanges, BTC > 1 BTC, any_of 1 treasury | 1 risk
func New() *Fixture {
	f := &Fixture{Admins: map[string]Key{}, Officers: map[string]Key{}}
	var admins []policy.Admin
	for _, id := range []string{"ada", "bob", "cy"} {
		k := Ed25519Key("admin/" + id)
		k.ID = id
		f.Admins[id] = k
		admins = append(admins, policy.Admin{ID: id, Key: k.Public.String()})
	}
	officerGroups := []struct {
		id     string
		groups []string
	}{
		{"tom", []string{"treasury"}}, {"tina", []string{"treasury"}}, {"theo", []string{"treasury"}},
		{"rita", []string{"risk"}}, {"raj", []string{"risk"}}, {"ida", []string{"treasury", "risk"}},
	}
	var officers []policy.Officer
	for _, o := range officerGroups {
		k := Ed25519Key("officer/" + o.id)
		if o.id == "raj" {
			k = P256Key("officer/" + o.id)
		}
		k.ID = o.id
		f.Officers[o.id] = k
		officers = append(officers, policy.Officer{ID: o.id, Key: k.Public.String(), Groups: o.groups})
	}
	added := T0.Add(-30 * 24 * time.Hour)
	f.Doc = policy.Document{
		Version:     1,
		LoosenDelay: policy.Duration(48 * time.Hour),
		ApprovalTTL: policy.Duration(24 * time.Hour),
		Admins:      policy.Admins{Quorum: 2, Members: admins},
		Roles:       []string{"withdrawal", "operator"},
		Groups:      []policy.Group{{ID: "treasury"}, {ID: "risk"}},
		Officers:    officers,
		Assets: []policy.Asset{
			{ID: "BTC", Chain: policy.ChainBTC},
			{ID: "ETH", Chain: policy.ChainETH},
			{ID: "USDC", Chain: policy.ChainETH, Contract: USDCToken},
		},
		Wallets: []policy.Wallet{
			{ID: "btc-hot", Chain: policy.ChainBTC, Network: "mainnet", Class: policy.ClassHot, KeyID: "k1", Addresses: []string{BTCHot}},
			{ID: "btc-cold", Chain: policy.ChainBTC, Network: "mainnet", Class: policy.ClassCold, KeyID: "k2", Addresses: []string{BTCCold}},
			{ID: "btc-safu", Chain: policy.ChainBTC, Network: "mainnet", Class: policy.ClassSAFU, KeyID: "k3", Addresses: []string{BTCSAFU}},
			{ID: "eth-hot", Chain: policy.ChainETH, ChainID: 1, Class: policy.ClassHot, KeyID: "k4", Addresses: []string{ETHHot}},
			{ID: "eth-cold", Chain: policy.ChainETH, ChainID: 1, Class: policy.ClassCold, KeyID: "k5", Addresses: []string{ETHCold}},
		},
		Whitelists: []policy.Whitelist{
			{ID: "btc-exchanges", Chain: policy.ChainBTC, ActiveAfter: policy.Duration(72 * time.Hour), Entries: []policy.WhitelistEntry{
				{Address: BTCKraken, Label: "Kraken", AddedAt: added},
				{Address: BTCLate, Label: "Late", AddedAt: T0.Add(-time.Hour)},
			}},
			{ID: "eth-exchanges", Chain: policy.ChainETH, ActiveAfter: policy.Duration(72 * time.Hour), Entries: []policy.WhitelistEntry{
				{Address: ETHCoinbase, Label: "Coinbase", AddedAt: added},
			}},
		},
		Invariants: policy.Invariants{
			PinnedDestinations: []policy.Pin{
				{Wallet: "btc-cold", To: []string{"btc-hot"}},
				{Wallet: "btc-safu", To: []string{"btc-hot", "btc-cold"}},
				{Wallet: "eth-cold", To: []string{"eth-hot"}},
			},
			FeeCaps: []policy.FeeCap{
				{Chain: policy.ChainBTC, MaxFee: policy.MustAmount("100000")},
				{Chain: policy.ChainETH, MaxFee: policy.MustAmount("10000000000000000")},
			},
		},
		Rules: BaseRules(),
	}
	return f
}

// BaseRules returns the fixture's rules (see New).
func BaseRules() []policy.Rule {
	h := func(n int) policy.Duration { return policy.Duration(time.Duration(n) * time.Hour) }
	return []policy.Rule{
		{ID: "sweep-btc", Action: policy.ActionAllow,
			Match: policy.Match{Source: policy.SourceSelector{Wallets: []string{"btc-hot"}},
				Destination: policy.DestSelector{Classes: []policy.Class{policy.ClassCold}}, Assets: []string{"BTC"}},
			Limits: []policy.Limit{{Scope: policy.ScopeRule, Window: h(24), MaxAmount: amt("1000000000"), MaxCount: 5}}},
		{ID: "refill", Action: policy.ActionRequireApproval,
			Match: policy.Match{Source: policy.SourceSelector{Classes: []policy.Class{policy.ClassCold}},
				Destination: policy.DestSelector{Classes: []policy.Class{policy.ClassHot}}},
			Approvals: policy.Approvals{AllOf: []policy.Term{{Group: "treasury", K: 2}}},
			Timelock:  h(6), VetoGroups: []string{"risk"}},
		{ID: "cold-other", Action: policy.ActionDeny,
			Match: policy.Match{Source: policy.SourceSelector{Classes: []policy.Class{policy.ClassCold}}}},
		{ID: "safu-out", Action: policy.ActionRequireApproval,
			Match: policy.Match{Source: policy.SourceSelector{Classes: []policy.Class{policy.ClassSAFU}},
				Destination: policy.DestSelector{Classes: []policy.Class{policy.ClassHot, policy.ClassCold}}},
			Approvals: policy.Approvals{AllOf: []policy.Term{{Group: "treasury", K: 2}, {Group: "risk", K: 1}}},
			Timelock:  h(72), VetoGroups: []string{"risk"}},
		{ID: "safu-other", Action: policy.ActionDeny,
			Match: policy.Match{Source: policy.SourceSelector{Classes: []policy.Class{policy.ClassSAFU}}}},
		{ID: "withdraw-btc", Action: policy.ActionAllow,
			Match: policy.Match{Source: policy.SourceSelector{Wallets: []string{"btc-hot"}},
				Destination: policy.DestSelector{Whitelists: []string{"btc-exchanges"}}, Assets: []string{"BTC"},
				Amount: policy.AmountRange{Max: amt("100000000")}, InitiatorRoles: []string{"withdrawal"}},
			Limits: []policy.Limit{
				{Scope: policy.ScopeSource, Window: h(1), MaxAmount: amt("200000000"), MaxCount: 5},
				{Scope: policy.ScopeSource, Window: h(24), MaxAmount: amt("500000000")},
			}},
		{ID: "withdraw-eth", Action: policy.ActionAllow,
			Match: policy.Match{Source: policy.SourceSelector{Wallets: []string{"eth-hot"}},
				Destination: policy.DestSelector{Whitelists: []string{"eth-exchanges"}}, Assets: []string{"ETH"}},
			Limits: []policy.Limit{{Scope: policy.ScopeRule, Window: h(1), MaxAmount: amt("30000000000000000000")}}},
		{ID: "withdraw-usdc", Action: policy.ActionAllow,
			Match: policy.Match{Source: policy.SourceSelector{Wallets: []string{"eth-hot"}},
				Destination: policy.DestSelector{Whitelists: []string{"eth-exchanges"}}, Assets: []string{"USDC"}},
			Limits: []policy.Limit{{Scope: policy.ScopeDestination, Window: h(24), MaxAmount: amt("100000000000")}}},
		{ID: "big-withdraw", Action: policy.ActionRequireApproval,
			Match: policy.Match{Source: policy.SourceSelector{Wallets: []string{"btc-hot"}},
				Destination: policy.DestSelector{Whitelists: []string{"btc-exchanges"}}, Assets: []string{"BTC"},
				Amount: policy.AmountRange{Min: amt("100000001")}},
			Approvals: policy.Approvals{AnyOf: []policy.Term{{Group: "treasury", K: 1}, {Group: "risk", K: 1}}}},
	}
}

// Policy compiles the fixture's document or fails the test.
func (f *Fixture) Policy(t testing.TB) *policy.Policy {
	t.Helper()
	p, err := policy.New(f.Doc)
	if err != nil {
		t.Fatalf("fixture policy: %v", err)
	}
	return p
}

// Digest is a request digest derived from a request ID.
func Digest(id string) policy.Hash { return sha256.Sum256([]byte("policytest/request/" + id)) }

// BTCVSize is the virtual size of the fixture's BTC requests: one P2WPKH
// input and two outputs, signed.
const BTCVSize = 141

// BTC builds a well-formed BTC request from a wallet to an address,
// initiated by the withdrawal service at submitted, with a fee of 5000 sat
// over BTCVSize vB (36 sat/vB, rounded up).
func BTC(id, source, to string, amount uint64, submitted time.Time) policy.Request {
	return policy.Request{
		ID: id, Digest: Digest(id), Initiator: "withdrawal-svc", InitiatorRole: "withdrawal",
		Source: source, To: to, Asset: "BTC", Amount: policy.AmountFromUint64(amount),
		Fee: policy.AmountFromUint64(5000), Network: "mainnet", VSize: BTCVSize, SubmittedAt: submitted,
	}
}

// ETH builds a well-formed ETH or ERC-20 (USDC) request with a matching
// transaction call: max fee per gas 100 gwei, priority fee 2 gwei.
func ETH(id, source, to, asset string, amount policy.Amount, submitted time.Time) policy.Request {
	maxFee, tip := policy.AmountFromUint64(100_000_000_000), policy.AmountFromUint64(2_000_000_000)
	tx := &policy.ETHTx{To: to, Value: amount, GasLimit: 21000, MaxFeePerGas: maxFee, MaxPriorityFeePerGas: tip}
	if asset == "USDC" {
		tx = &policy.ETHTx{To: USDCToken, Data: ERC20Transfer(to, amount), GasLimit: 60000, MaxFeePerGas: maxFee, MaxPriorityFeePerGas: tip}
	}
	return policy.Request{
		ID: id, Digest: Digest(id), Initiator: "withdrawal-svc", InitiatorRole: "withdrawal",
		Source: source, To: to, Asset: asset, Amount: amount,
		Fee: tx.MaxFeePerGas.Mul64(tx.GasLimit), ChainID: 1, ETH: tx, SubmittedAt: submitted,
	}
}

// ERC20Transfer encodes transfer(to, amount) calldata; to is a 0x address.
func ERC20Transfer(to string, amount policy.Amount) []byte {
	addr, err := hex.DecodeString(to[2:])
	if err != nil || len(addr) != 20 {
		panic("policytest: bad address " + to)
	}
	data := []byte{0xa9, 0x05, 0x9c, 0xbb}
	data = append(data, make([]byte, 12)...)
	data = append(data, addr...)
	v := make([]byte, 32)
	amount.Big().FillBytes(v)
	return append(data, v...)
}

// Approve is a verified approval by officer over digest at at.
func Approve(officer string, digest policy.Hash, at time.Time) policy.Approval {
	return policy.Approval{Officer: officer, Verdict: policy.VerdictApprove, Digest: digest, At: at}
}

// Reject is a verified reject by officer over digest at at.
func Reject(officer string, digest policy.Hash, at time.Time) policy.Approval {
	return policy.Approval{Officer: officer, Verdict: policy.VerdictReject, Digest: digest, At: at}
}

// State indexes snap or fails the test.
func State(t testing.TB, snap policy.Snapshot) policy.State {
	t.Helper()
	st, err := policy.NewState(snap)
	if err != nil {
		t.Fatalf("state: %v", err)
	}
	return st
}
