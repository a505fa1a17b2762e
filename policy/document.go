package policy

import "time"

// Chain names a blockchain family.
type Chain string

// Supported chains.
const (
	ChainBTC Chain = "btc"
	ChainETH Chain = "eth"
)

// Class is a wallet's custody class.
type Class string

// Wallet classes, from most to least exposed.
const (
	ClassHot  Class = "hot"
	ClassWarm Class = "warm"
	ClassCold Class = "cold"
	ClassSAFU Class = "safu"
)

// pinnedOnly reports whether wallets of class c may pay only to pinned wallets.
func (c Class) pinnedOnly() bool { return c == ClassCold || c == ClassSAFU }

// Action is what a matching rule does.
type Action string

// Rule actions.
const (
	ActionAllow           Action = "allow"
	ActionRequireApproval Action = "require_approval"
	ActionDeny            Action = "deny"
)

// strictness orders actions: allow < require_approval < deny.
func (a Action) strictness() int {
	switch a {
	case ActionAllow:
		return 0
	case ActionRequireApproval:
		return 1
	}
	return 2
}

// Scope selects the spends a limit sums over.
type Scope string

// Limit scopes: spends recorded under the same rule, from the same source
// wallet (any rule), or to the same destination (any rule; every address of
// an own destination wallet).
const (
	ScopeRule        Scope = "rule"
	ScopeSource      Scope = "source"
	ScopeDestination Scope = "destination"
)

// Document is the policy's YAML (and canonical JSON) schema. Load decodes it
// strictly; New validates and compiles it. Lists that are sets (IDs,
// members, addresses, …) are sorted when normalized; rules keep their order.
type Document struct {
	Version     uint64      `yaml:"version" json:"version"`
	Parent      string      `yaml:"parent" json:"parent"`
	LoosenDelay Duration    `yaml:"loosen_delay" json:"loosen_delay"`
	ApprovalTTL Duration    `yaml:"approval_ttl" json:"approval_ttl"`
	Admins      Admins      `yaml:"admins" json:"admins"`
	Roles       []string    `yaml:"roles" json:"roles"`
	Groups      []Group     `yaml:"groups" json:"groups"`
	Officers    []Officer   `yaml:"officers" json:"officers"`
	Assets      []Asset     `yaml:"assets" json:"assets"`
	Wallets     []Wallet    `yaml:"wallets" json:"wallets"`
	Whitelists  []Whitelist `yaml:"whitelists" json:"whitelists"`
	Invariants  Invariants  `yaml:"invariants" json:"invariants"`
	Rules       []Rule      `yaml:"rules" json:"rules"`
}

// Admins sign policy versions; Quorum of them activate one.
type Admins struct {
	Quorum  int     `yaml:"quorum" json:"quorum"`
	Members []Admin `yaml:"members" json:"members"`
}

// Admin is a policy administrator and its key (see ParsePublicKey).
type Admin struct {
	ID  string `yaml:"id" json:"id"`
	Key string `yaml:"key" json:"key"`
}

// Group is a named set of officers. An officer is a member when the group
// lists it in Members or the officer lists the group in its Groups (either
// or both; membership is the union).
type Group struct {
	ID          string   `yaml:"id" json:"id"`
	Description string   `yaml:"description" json:"description,omitempty"`
	Members     []string `yaml:"members" json:"members,omitempty"`
}

// Officer approves or rejects transfers with its key.
type Officer struct {
	ID     string   `yaml:"id" json:"id"`
	Key    string   `yaml:"key" json:"key"`
	Groups []string `yaml:"groups" json:"groups"`
}

// Asset is a transferable asset: a chain's native coin, or an ERC-20 token
// when Contract is set.
type Asset struct {
	ID       string `yaml:"id" json:"id"`
	Chain    Chain  `yaml:"chain" json:"chain"`
	Contract string `yaml:"contract" json:"contract,omitempty"`
}

// Wallet is an own wallet. BTC wallets name a Network, ETH wallets a ChainID.
type Wallet struct {
	ID        string   `yaml:"id" json:"id"`
	Chain     Chain    `yaml:"chain" json:"chain"`
	Network   string   `yaml:"network" json:"network,omitempty"`
	ChainID   uint64   `yaml:"chain_id" json:"chain_id,omitempty"`
	Class     Class    `yaml:"class" json:"class"`
	KeyID     string   `yaml:"key_id" json:"key_id"`
	Addresses []string `yaml:"addresses" json:"addresses"`
}

// Whitelist is a named list of external addresses on one chain. An entry
// becomes active ActiveAfter its AddedAt (or later, see State).
type Whitelist struct {
	ID          string           `yaml:"id" json:"id"`
	Chain       Chain            `yaml:"chain" json:"chain"`
	ActiveAfter Duration         `yaml:"active_after" json:"active_after"`
	Entries     []WhitelistEntry `yaml:"entries" json:"entries"`
}

// WhitelistEntry is one exact address.
type WhitelistEntry struct {
	Address string    `yaml:"address" json:"address"`
	Label   string    `yaml:"label" json:"label"`
	AddedAt time.Time `yaml:"added_at" json:"added_at"`
}

// Invariants are checked before any rule; a violation denies.
// Chain and network matching and the ETH call restrictions are always on.
// Fields added after the first release are omitted from the canonical JSON
// when empty, so that older documents keep their content hash.
type Invariants struct {
	PinnedDestinations []Pin       `yaml:"pinned_destinations" json:"pinned_destinations"`
	FeeCaps            []FeeCap    `yaml:"fee_caps" json:"fee_caps"`
	FeeBudgets         []FeeBudget `yaml:"fee_budgets" json:"fee_budgets,omitempty"`
}

// Pin lists the own wallets a cold or SAFU wallet may pay to.
type Pin struct {
	Wallet string   `yaml:"wallet" json:"wallet"`
	To     []string `yaml:"to" json:"to"`
}

// FeeCap bounds a transaction's fee on one chain. MaxFee is absolute, in
// the chain's native base units. The optional bounds (nil: none):
//   - MaxFeeBps: fee × 10000 ≤ amount × MaxFeeBps, for requests of the
//     chain's native asset only (a token amount is not comparable with a
//     fee paid in the native coin);
//   - MaxFeeRate (btc): ⌈fee / vsize⌉ ≤ MaxFeeRate sat/vB;
//   - MaxPriorityFeePerGas (eth): the transaction's priority fee (tip) per
//     gas, in wei.
type FeeCap struct {
	Chain                Chain   `yaml:"chain" json:"chain"`
	MaxFee               Amount  `yaml:"max_fee" json:"max_fee"`
	MaxFeeBps            *Uint   `yaml:"max_fee_bps" json:"max_fee_bps,omitempty"`
	MaxFeeRate           *Uint   `yaml:"max_fee_rate" json:"max_fee_rate,omitempty"`
	MaxPriorityFeePerGas *Amount `yaml:"max_priority_fee_per_gas" json:"max_priority_fee_per_gas,omitempty"`
}

// FeeBudget bounds the fees a wallet pays in a sliding window: the fees of
// every spend from Wallet at or after now-Window, plus the request's fee,
// must stay within MaxFee (native base units of the wallet's chain).
type FeeBudget struct {
	Wallet string   `yaml:"wallet" json:"wallet"`
	Window Duration `yaml:"window" json:"window"`
	MaxFee Amount   `yaml:"max_fee" json:"max_fee"`
}

// Rule is one ordered policy rule.
type Rule struct {
	ID          string    `yaml:"id" json:"id"`
	Description string    `yaml:"description" json:"description,omitempty"`
	Match       Match     `yaml:"match" json:"match"`
	Action      Action    `yaml:"action" json:"action"`
	Approvals   Approvals `yaml:"approvals" json:"approvals"`
	Limits      []Limit   `yaml:"limits" json:"limits"`
	Timelock    Duration  `yaml:"timelock" json:"timelock"`
	VetoGroups  []string  `yaml:"veto_groups" json:"veto_groups"`
	// MaxFeeBps (nil: none) bounds the fee relative to the amount, like
	// FeeCap.MaxFeeBps, for the requests this rule decides; the rule must
	// match only native assets. Omitted from canonical JSON when nil.
	MaxFeeBps *Uint `yaml:"max_fee_bps" json:"max_fee_bps,omitempty"`
}

// Match selects requests; an empty field matches anything.
type Match struct {
	Source         SourceSelector `yaml:"source" json:"source"`
	Destination    DestSelector   `yaml:"destination" json:"destination"`
	Assets         []string       `yaml:"assets" json:"assets"`
	Amount         AmountRange    `yaml:"amount" json:"amount"`
	InitiatorRoles []string       `yaml:"initiator_roles" json:"initiator_roles"`
}

// SourceSelector matches a source wallet listed by ID or by class.
type SourceSelector struct {
	Wallets []string `yaml:"wallets" json:"wallets"`
	Classes []Class  `yaml:"classes" json:"classes"`
}

// DestSelector matches an own wallet (by ID or class), an address active in
// one of the whitelists, or, with External, any address that is not an own
// wallet's.
type DestSelector struct {
	Wallets    []string `yaml:"wallets" json:"wallets"`
	Classes    []Class  `yaml:"classes" json:"classes"`
	Whitelists []string `yaml:"whitelists" json:"whitelists"`
	External   bool     `yaml:"external" json:"external"`
}

// AmountRange is inclusive; a nil bound is open. It needs a single asset.
type AmountRange struct {
	Min *Amount `yaml:"min" json:"min,omitempty"`
	Max *Amount `yaml:"max" json:"max,omitempty"`
}

// Approvals are satisfied when every AllOf term is, and (when AnyOf is not
// empty) one AnyOf term is too, each officer counting toward one term only.
type Approvals struct {
	AllOf []Term `yaml:"all_of" json:"all_of"`
	AnyOf []Term `yaml:"any_of" json:"any_of"`
}

// Term needs K distinct approvals from members of Group.
type Term struct {
	Group string `yaml:"group" json:"group"`
	K     int    `yaml:"k" json:"k"`
}

// Limit is a sliding window: spends in the Scope at or after now-Window,
// plus the request, must stay within MaxAmount (in the rule's single asset)
// and MaxCount (transfers of any asset). Zero/nil means no bound. A
// source-scoped MaxAmount of the chain's native asset also counts the fees
// of every spend from the source (of any asset) and the request's fee:
// what leaves the wallet, not only what reaches the destination.
type Limit struct {
	Scope     Scope    `yaml:"scope" json:"scope"`
	Window    Duration `yaml:"window" json:"window"`
	MaxAmount *Amount  `yaml:"max_amount" json:"max_amount,omitempty"`
	MaxCount  int      `yaml:"max_count" json:"max_count,omitempty"`
}
