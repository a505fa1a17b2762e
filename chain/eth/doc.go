// Package eth builds, signs and verifies Ethereum transfers of a threshold
// wallet: EIP-1559 (type 2) transactions that move ether, or ERC-20 tokens
// with transfer(address,uint256), and nothing else.
//
// The flow is intent → unsigned transaction → signing hash → signature →
// signed transaction:
//
//	in, err := eth.DecodeIntent(jsonBytes)      // or fill an Intent in Go
//	u, err := eth.Build(in)                     // *Unsigned
//	u.Raw(), u.SigningHash(), u.Summary()       // what is approved and signed
//	s, err := u.Attach([]eth.Signature{{R: r, S: s, V: recID}})
//	s.Raw()                                     // for eth_sendRawTransaction
//	err = eth.Verify(s.Raw(), in.From)
//	sum, err := eth.DecodeSummary(raw, wallet)  // wallet is used for unsigned bytes only
//	err = eth.MatchIntent(in, sum)              // rebuild and compare
//
// Exported API: AddressFromPubKey, AddressFromPubKeyBytes; Intent,
// DecodeIntent, Build; Unsigned (Raw, SigningHash, Sighashes, Summary, From,
// Attach); Signature, SignatureFromBytes; Signed (Raw, Hash, Summary);
// Summary, DecodeSummary, MatchIntent, Verify.
//
// JSON intent (DecodeIntent). Every number is a decimal string: amounts in
// wei, or in token base units for ERC-20; token is given for ERC-20 only.
//
//	{"network": "sepolia", "chain_id": "11155111",
//	 "from": "0x…wallet", "to": "0x…recipient",
//	 "asset": "ETH" | "ERC20", "token": "0x…contract",
//	 "amount": "250000000000000000", "nonce": "7", "gas_limit": "21000",
//	 "max_fee_per_gas": "30000000000", "max_priority_fee_per_gas": "2000000000",
//	 "max_fee": "1000000000000000"}
//
// Invariants:
//   - Pure: no I/O, no clock, no global state; the same intent always gives
//     the same bytes and signing hash.
//   - Decoding is strict: unknown, duplicate or non-lower-case keys,
//     trailing data, non-canonical numbers and every rule below are errors
//     that wrap a sentinel of errors.go. There is no field for calldata or
//     an access list.
//   - Networks: mainnet (1), sepolia (11155111), holesky (17000), hoodi
//     (560048) must carry their chain ID; "dev" takes any other chain ID.
//     Nonce and chain ID are required.
//   - Addresses are 0x and 40 hex digits, all lower case or exactly EIP-55;
//     the zero address, paying oneself and paying a token contract its own
//     tokens are refused.
//   - Build produces only a type-2 transaction with an empty access list:
//     to the recipient with value and no data (ether), or to the token with
//     value 0 and exactly the 68-byte transfer(recipient, amount) calldata.
//     Amount > 0 and < 2^256; gas limit ≥ 21000; tip ≤ fee cap; the worst
//     fee GasLimit × MaxFeePerGas never exceeds MaxFee.
//   - The signing hash is computed by types.NewLondonSigner for the chain
//     ID. Nothing here signs; callers sign exactly this hash.
//   - Attach normalizes the threshold signature to low S (flipping the
//     recovery ID), attaches it with the library, and requires
//     types.Sender to recover the wallet address.
//   - A Summary is decoded from transaction bytes, never from the intent.
//     DecodeSummary and Verify accept only the canonical encoding of a
//     transaction Build could produce: other types, contract creation,
//     access lists, other calldata, ether sent with a token transfer are
//     errors. A signed transaction changed after its summary was made
//     yields a different summary and fails Verify.
//   - There is no balance in an intent: insufficient funds is for the
//     caller's ledger (or the chain) to detect.
package eth
