package policy_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/policy"
	pt "github.com/cofferhq/coffer/policy/policytest"
)

func TestValidate(t *testing.T) {
	cold := []policy.Class{policy.ClassCold}
	tests := []struct {
		name   string
		mutate func(t *testing.T, d *policy.Document)
		want   error // nil: valid
	}{
		{"ok/fixture", func(t *testing.T, d *policy.Document) {}, nil},
		{"ok/version-2-with-parent", func(t *testing.T, d *policy.Document) {
			d.Version, d.Parent = 2, strings.Repeat("ab", 32)
		}, nil},
		{"ok/deny-rule-for-cold-to-external", func(t *testing.T, d *policy.Document) {
			insertRule(d, 0, policy.Rule{ID: "no-cold-out", Action: policy.ActionDeny, Match: policy.Match{
				Source: policy.SourceSelector{Classes: cold}, Destination: policy.DestSelector{External: true}}})
		}, nil},
		{"ok/cold-to-pinned-wallet-by-id", func(t *testing.T, d *policy.Document) {
			r := rule(t, d, "refill")
			r.Match.Source = policy.SourceSelector{Wallets: []string{"btc-cold"}}
			r.Match.Destination = policy.DestSelector{Wallets: []string{"btc-hot"}}
		}, nil},

		{"fail/version-zero", func(t *testing.T, d *policy.Document) { d.Version = 0 }, policy.ErrMissing},
		{"fail/parent-on-version-1", func(t *testing.T, d *policy.Document) { d.Parent = strings.Repeat("ab", 32) }, policy.ErrInvalid},
		{"fail/version-2-without-parent", func(t *testing.T, d *policy.Document) { d.Version = 2 }, policy.ErrMissing},
		{"fail/malformed-parent", func(t *testing.T, d *policy.Document) { d.Version, d.Parent = 2, "abc" }, policy.ErrInvalid},
		{"fail/zero-loosen-delay", func(t *testing.T, d *policy.Document) { d.LoosenDelay = 0 }, policy.ErrMissing},
		{"fail/zero-approval-ttl", func(t *testing.T, d *policy.Document) { d.ApprovalTTL = 0 }, policy.ErrMissing},
		{"fail/admin-quorum-above-admins", func(t *testing.T, d *policy.Document) { d.Admins.Quorum = 4 }, policy.ErrThresholdTooLarge},
		{"fail/admin-quorum-zero", func(t *testing.T, d *policy.Document) { d.Admins.Quorum = 0 }, policy.ErrThresholdTooLarge},
		{"fail/duplicate-admin", func(t *testing.T, d *policy.Document) {
			d.Admins.Members = append(d.Admins.Members, policy.Admin{ID: "ada", Key: pt.Ed25519Key("x").Public.String()})
		}, policy.ErrDuplicateID},
		{"fail/two-admins-one-key", func(t *testing.T, d *policy.Document) {
			d.Admins.Members = append(d.Admins.Members, policy.Admin{ID: "dan", Key: d.Admins.Members[0].Key})
		}, policy.ErrDuplicateID},
		{"fail/malformed-admin-key", func(t *testing.T, d *policy.Document) { d.Admins.Members[0].Key = "ed25519:AAAA" }, policy.ErrInvalidKey},
		{"fail/unknown-key-type", func(t *testing.T, d *policy.Document) { d.Officers[0].Key = "rsa:AAAA" }, policy.ErrInvalidKey},
		{"fail/duplicate-officer", func(t *testing.T, d *policy.Document) {
			d.Officers = append(d.Officers, policy.Officer{ID: "tom", Key: pt.Ed25519Key("y").Public.String()})
		}, policy.ErrDuplicateID},
		{"fail/two-officers-one-key", func(t *testing.T, d *policy.Document) {
			d.Officers = append(d.Officers, policy.Officer{ID: "tom2", Key: d.Officers[0].Key, Groups: []string{"risk"}})
		}, policy.ErrDuplicateID},
		{"fail/officer-in-unknown-group", func(t *testing.T, d *policy.Document) {
			d.Officers[0].Groups = append(d.Officers[0].Groups, "audit")
		}, policy.ErrUnknownGroup},
		{"ok/members-listed-on-the-group", func(t *testing.T, d *policy.Document) {
			group(t, d, "treasury").Members = []string{"tom", "rita"} // tom also lists it himself
		}, nil},
		{"fail/group-member-unknown-officer", func(t *testing.T, d *policy.Document) {
			group(t, d, "risk").Members = []string{"mallory"}
		}, policy.ErrUnknownOfficer},
		{"fail/group-member-listed-twice", func(t *testing.T, d *policy.Document) {
			group(t, d, "risk").Members = []string{"tom", "tom"}
		}, policy.ErrDuplicateID},
		{"fail/duplicate-group", func(t *testing.T, d *policy.Document) {
			d.Groups = append(d.Groups, policy.Group{ID: "risk"})
		}, policy.ErrDuplicateID},
		{"fail/malformed-id", func(t *testing.T, d *policy.Document) { d.Groups[0].ID = "-bad id" }, policy.ErrInvalid},
		{"fail/duplicate-asset", func(t *testing.T, d *policy.Document) {
			d.Assets = append(d.Assets, policy.Asset{ID: "BTC", Chain: policy.ChainBTC})
		}, policy.ErrDuplicateID},
		{"fail/second-native-asset", func(t *testing.T, d *policy.Document) {
			d.Assets = append(d.Assets, policy.Asset{ID: "XBT", Chain: policy.ChainBTC})
		}, policy.ErrDuplicateID},
		{"fail/btc-asset-with-contract", func(t *testing.T, d *policy.Document) {
			d.Assets = append(d.Assets, policy.Asset{ID: "WBTC", Chain: policy.ChainBTC, Contract: pt.ETHStranger})
		}, policy.ErrInvalid},
		{"fail/malformed-contract", func(t *testing.T, d *policy.Document) { d.Assets[2].Contract = "0x12" }, policy.ErrInvalid},
		{"fail/duplicate-wallet", func(t *testing.T, d *policy.Document) {
			w := d.Wallets[0]
			w.Addresses = []string{"bc1qotheraddress000000000000000000000000"}
			d.Wallets = append(d.Wallets, w)
		}, policy.ErrDuplicateID},
		{"fail/wallet-class", func(t *testing.T, d *policy.Document) { d.Wallets[0].Class = "lukewarm" }, policy.ErrInvalid},
		{"fail/wallet-chain", func(t *testing.T, d *policy.Document) { d.Wallets[0].Chain = "doge" }, policy.ErrInvalid},
		{"fail/btc-wallet-network", func(t *testing.T, d *policy.Document) { d.Wallets[0].Network = "moonnet" }, policy.ErrInvalid},
		{"fail/eth-wallet-without-chain-id", func(t *testing.T, d *policy.Document) { d.Wallets[3].ChainID = 0 }, policy.ErrMissing},
		{"fail/wallet-without-addresses", func(t *testing.T, d *policy.Document) { d.Wallets[0].Addresses = nil }, policy.ErrMissing},
		{"fail/wallet-without-key-id", func(t *testing.T, d *policy.Document) { d.Wallets[0].KeyID = "" }, policy.ErrMissing},
		{"fail/malformed-wallet-address", func(t *testing.T, d *policy.Document) { d.Wallets[3].Addresses = []string{"0xnothex"} }, policy.ErrInvalid},
		{"fail/address-in-two-wallets", func(t *testing.T, d *policy.Document) {
			d.Wallets[1].Addresses = append(d.Wallets[1].Addresses, pt.BTCHot)
		}, policy.ErrDuplicateID},
		{"fail/whitelisted-own-address", func(t *testing.T, d *policy.Document) {
			d.Whitelists[0].Entries = append(d.Whitelists[0].Entries, policy.WhitelistEntry{Address: pt.BTCCold, Label: "oops", AddedAt: pt.T0})
		}, policy.ErrInvalid},
		{"fail/duplicate-whitelist-entry", func(t *testing.T, d *policy.Document) {
			d.Whitelists[0].Entries = append(d.Whitelists[0].Entries, d.Whitelists[0].Entries[0])
		}, policy.ErrDuplicateID},
		{"fail/whitelist-entry-without-label", func(t *testing.T, d *policy.Document) { d.Whitelists[0].Entries[0].Label = "" }, policy.ErrMissing},
		{"fail/whitelist-entry-without-added-at", func(t *testing.T, d *policy.Document) {
			d.Whitelists[0].Entries[0] = policy.WhitelistEntry{Address: pt.BTCKraken, Label: "Kraken"}
		}, policy.ErrMissing},
		{"fail/pin-of-unknown-wallet", func(t *testing.T, d *policy.Document) {
			d.Invariants.PinnedDestinations = append(d.Invariants.PinnedDestinations, policy.Pin{Wallet: "ghost", To: []string{"btc-hot"}})
		}, policy.ErrUnknownWallet},
		{"fail/pin-to-unknown-wallet", func(t *testing.T, d *policy.Document) {
			d.Invariants.PinnedDestinations[0].To = append(d.Invariants.PinnedDestinations[0].To, "ghost")
		}, policy.ErrUnknownWallet},
		{"fail/pin-on-hot-wallet", func(t *testing.T, d *policy.Document) {
			d.Invariants.PinnedDestinations = append(d.Invariants.PinnedDestinations, policy.Pin{Wallet: "btc-hot", To: []string{"btc-cold"}})
		}, policy.ErrInvalid},
		{"fail/pin-across-chains", func(t *testing.T, d *policy.Document) {
			d.Invariants.PinnedDestinations[0].To = append(d.Invariants.PinnedDestinations[0].To, "eth-hot")
		}, policy.ErrInvalid},
		{"fail/chain-without-fee-cap", func(t *testing.T, d *policy.Document) { d.Invariants.FeeCaps = d.Invariants.FeeCaps[:1] }, policy.ErrMissing},

		{"fail/duplicate-rule-id", func(t *testing.T, d *policy.Document) { d.Rules[1].ID = d.Rules[0].ID }, policy.ErrDuplicateID},
		{"fail/unknown-action", func(t *testing.T, d *policy.Document) { d.Rules[0].Action = "maybe" }, policy.ErrInvalid},
		{"fail/unknown-source-wallet", func(t *testing.T, d *policy.Document) {
			rule(t, d, "sweep-btc").Match.Source.Wallets = []string{"btc-hott"}
		}, policy.ErrUnknownWallet},
		{"fail/unknown-source-class", func(t *testing.T, d *policy.Document) {
			rule(t, d, "refill").Match.Source.Classes = []policy.Class{"frozen"}
		}, policy.ErrInvalid},
		{"fail/unknown-destination-wallet", func(t *testing.T, d *policy.Document) {
			rule(t, d, "refill").Match.Destination = policy.DestSelector{Wallets: []string{"ghost"}}
		}, policy.ErrUnknownWallet},
		{"fail/unknown-whitelist", func(t *testing.T, d *policy.Document) {
			rule(t, d, "withdraw-btc").Match.Destination.Whitelists = []string{"exchanges"}
		}, policy.ErrUnknownWhitelist},
		{"fail/unknown-asset", func(t *testing.T, d *policy.Document) { rule(t, d, "sweep-btc").Match.Assets = []string{"XBT"} }, policy.ErrUnknownAsset},
		{"fail/unknown-role", func(t *testing.T, d *policy.Document) {
			rule(t, d, "withdraw-btc").Match.InitiatorRoles = []string{"withdrawl-service"}
		}, policy.ErrUnknownRole},
		{"fail/unknown-approval-group", func(t *testing.T, d *policy.Document) {
			rule(t, d, "refill").Approvals.AllOf[0].Group = "board"
		}, policy.ErrUnknownGroup},
		{"fail/unknown-veto-group", func(t *testing.T, d *policy.Document) { rule(t, d, "refill").VetoGroups = []string{"board"} }, policy.ErrUnknownGroup},
		{"fail/k-larger-than-group", func(t *testing.T, d *policy.Document) {
			rule(t, d, "refill").Approvals.AllOf[0].K = 5 // treasury: tom, tina, theo, ida
		}, policy.ErrThresholdTooLarge},
		{"fail/terms-need-more-distinct-officers", func(t *testing.T, d *policy.Document) {
			// treasury 4 needs ida, so risk 3 (rita, raj, ida) cannot be met.
			rule(t, d, "safu-out").Approvals.AllOf = []policy.Term{{Group: "treasury", K: 4}, {Group: "risk", K: 3}}
		}, policy.ErrThresholdTooLarge},
		{"fail/any-of-alternative-infeasible", func(t *testing.T, d *policy.Document) {
			rule(t, d, "safu-out").Approvals.AnyOf = []policy.Term{{Group: "risk", K: 3}}
		}, policy.ErrThresholdTooLarge},
		{"fail/k-zero", func(t *testing.T, d *policy.Document) { rule(t, d, "refill").Approvals.AllOf[0].K = 0 }, policy.ErrInvalid},
		{"fail/require-approval-without-terms", func(t *testing.T, d *policy.Document) {
			rule(t, d, "refill").Approvals = policy.Approvals{}
		}, policy.ErrMissing},
		{"fail/allow-with-approvals", func(t *testing.T, d *policy.Document) {
			rule(t, d, "sweep-btc").Approvals.AllOf = []policy.Term{{Group: "risk", K: 1}}
		}, policy.ErrInvalid},
		{"fail/deny-with-limits", func(t *testing.T, d *policy.Document) {
			rule(t, d, "cold-other").Limits = []policy.Limit{{Scope: policy.ScopeRule, Window: hours(1), MaxCount: 1}}
		}, policy.ErrInvalid},
		{"fail/deny-with-timelock", func(t *testing.T, d *policy.Document) { rule(t, d, "cold-other").Timelock = hours(1) }, policy.ErrInvalid},
		{"fail/limit-without-bound", func(t *testing.T, d *policy.Document) {
			rule(t, d, "sweep-btc").Limits = []policy.Limit{{Scope: policy.ScopeRule, Window: hours(1)}}
		}, policy.ErrMissing},
		{"fail/limit-without-window", func(t *testing.T, d *policy.Document) {
			rule(t, d, "sweep-btc").Limits[0].Window = 0
		}, policy.ErrMissing},
		{"fail/limit-scope", func(t *testing.T, d *policy.Document) { rule(t, d, "sweep-btc").Limits[0].Scope = "wallet" }, policy.ErrInvalid},
		{"fail/zero-amount-limit", func(t *testing.T, d *policy.Document) { rule(t, d, "sweep-btc").Limits[0].MaxAmount = amt("0") }, policy.ErrInvalid},
		{"fail/amount-limit-over-several-assets", func(t *testing.T, d *policy.Document) {
			r := rule(t, d, "refill")
			r.Limits = []policy.Limit{{Scope: policy.ScopeRule, Window: hours(1), MaxAmount: amt("5")}}
		}, policy.ErrInvalid},
		{"fail/amount-range-over-several-assets", func(t *testing.T, d *policy.Document) {
			rule(t, d, "refill").Match.Amount = policy.AmountRange{Max: amt("5")}
		}, policy.ErrInvalid},
		{"fail/empty-amount-range", func(t *testing.T, d *policy.Document) {
			rule(t, d, "withdraw-btc").Match.Amount = policy.AmountRange{Min: amt("10"), Max: amt("9")}
		}, policy.ErrNeverMatches},
		{"fail/amount-range-max-zero", func(t *testing.T, d *policy.Document) {
			rule(t, d, "withdraw-btc").Match.Amount = policy.AmountRange{Max: amt("0")}
		}, policy.ErrNeverMatches},
		{"fail/never-matches-asset-of-another-chain", func(t *testing.T, d *policy.Document) {
			rule(t, d, "sweep-btc").Match.Assets = []string{"ETH"}
		}, policy.ErrNeverMatches},
		{"fail/never-matches-destination-of-another-chain", func(t *testing.T, d *policy.Document) {
			rule(t, d, "sweep-btc").Match.Destination = policy.DestSelector{Wallets: []string{"eth-cold"}}
		}, policy.ErrNeverMatches},
		{"fail/never-matches-no-source-wallet", func(t *testing.T, d *policy.Document) {
			insertRule(d, 0, policy.Rule{ID: "warm-out", Action: policy.ActionDeny,
				Match: policy.Match{Source: policy.SourceSelector{Classes: []policy.Class{policy.ClassWarm}}}})
		}, policy.ErrNeverMatches},
		{"fail/shadowed-by-earlier-unconditional-rule", func(t *testing.T, d *policy.Document) {
			insertRule(d, 0, policy.Rule{ID: "deny-all", Action: policy.ActionDeny})
		}, policy.ErrShadowed},
		{"fail/shadowed-by-earlier-wider-rule", func(t *testing.T, d *policy.Document) {
			r := *rule(t, d, "withdraw-btc")
			r.ID = "withdraw-btc-small"
			r.Match.Amount = policy.AmountRange{Max: amt("1000")}
			d.Rules = append(d.Rules, r)
		}, policy.ErrShadowed},
		{"fail/cold-allowed-to-external", func(t *testing.T, d *policy.Document) {
			insertRule(d, 0, policy.Rule{ID: "cold-out", Action: policy.ActionAllow, Match: policy.Match{
				Source: policy.SourceSelector{Classes: cold}, Destination: policy.DestSelector{External: true}}})
		}, policy.ErrColdEscape},
		{"fail/cold-allowed-to-whitelist", func(t *testing.T, d *policy.Document) {
			insertRule(d, 0, policy.Rule{ID: "cold-out", Action: policy.ActionRequireApproval,
				Approvals: policy.Approvals{AllOf: []policy.Term{{Group: "treasury", K: 3}}},
				Match: policy.Match{Source: policy.SourceSelector{Wallets: []string{"btc-cold"}},
					Destination: policy.DestSelector{Whitelists: []string{"btc-exchanges"}}}})
		}, policy.ErrColdEscape},
		{"fail/cold-allowed-to-unpinned-own-wallet", func(t *testing.T, d *policy.Document) {
			insertRule(d, 0, policy.Rule{ID: "cold-to-safu", Action: policy.ActionAllow, Match: policy.Match{
				Source: policy.SourceSelector{Wallets: []string{"btc-cold"}}, Destination: policy.DestSelector{Wallets: []string{"btc-safu"}}}})
		}, policy.ErrColdEscape},
		{"fail/safu-allowed-anywhere", func(t *testing.T, d *policy.Document) {
			rule(t, d, "safu-out").Match.Destination = policy.DestSelector{}
		}, policy.ErrColdEscape},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := pt.New()
			tc.mutate(t, &f.Doc)
			err := f.Doc.Validate()
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Validate = %v, want %v", err, tc.want)
			}
			t.Log(err)
			var fe *policy.FieldError
			if !errors.As(err, &fe) || fe.Path == "" {
				t.Fatalf("Validate = %v, want a *FieldError with a path", err)
			}
		})
	}
}

func TestValidateReportsEveryError(t *testing.T) {
	f := pt.New()
	f.Doc.ApprovalTTL = 0
	rule(t, &f.Doc, "refill").Approvals.AllOf[0].K = 9
	rule(t, &f.Doc, "sweep-btc").Match.Assets = []string{"XBT"}
	f.Doc.Officers[0].Groups = []string{"audit"}
	err := f.Doc.Validate()
	for _, want := range []error{policy.ErrMissing, policy.ErrThresholdTooLarge, policy.ErrUnknownAsset, policy.ErrUnknownGroup} {
		if !errors.Is(err, want) {
			t.Errorf("Validate = %v, want it to include %v", err, want)
		}
	}
}
