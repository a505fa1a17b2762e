package audit

import "time"

// RecordVersion is the schema version this package writes and reads.
const RecordVersion = 1

// MaxRecordSize bounds the canonical encoding of one record (and so one
// bundle line). Append refuses larger records; decoders reject them.
const MaxRecordSize = 64 << 10

// Kind names what a record logs. Exactly the body field named by the kind
// is set in a Record.
type Kind string

// Kinds of records (schema version 1).
const (
	KindPolicyActivated   Kind = "policy_activated"   // body: Policy
	KindKeyGenerated      Kind = "key_generated"      // body: Key
	KindKeyReshared       Kind = "key_reshared"       // body: Key
	KindTransferSubmitted Kind = "transfer_submitted" // body: Transfer
	KindApprovalRecorded  Kind = "approval_recorded"  // body: Approval
	KindDecision          Kind = "decision"           // body: Decision
	KindSessionStarted    Kind = "session_started"    // body: Session
	KindSignatureProduced Kind = "signature_produced" // body: Signature
	KindSessionFailed     Kind = "session_failed"     // body: Failure
)

// allKinds lists every kind, in schema order.
var allKinds = []Kind{
	KindPolicyActivated, KindKeyGenerated, KindKeyReshared, KindTransferSubmitted,
	KindApprovalRecorded, KindDecision, KindSessionStarted, KindSignatureProduced,
	KindSessionFailed,
}

// Record is one entry of a node's audit log. Its canonical encoding
// (EncodeRecord) is the Merkle leaf. The log sets V and Index when it
// appends; Time defaults to the log's clock. Field order is the encoding
// order: do not reorder fields, add new ones only with a new version.
type Record struct {
	V     int       `json:"v"`
	Index uint64    `json:"index"`
	Time  time.Time `json:"time"`
	Kind  Kind      `json:"kind"`

	Policy    *PolicyActivated   `json:"policy,omitempty"`
	Key       *KeyEvent          `json:"key,omitempty"`
	Transfer  *TransferSubmitted `json:"transfer,omitempty"`
	Approval  *ApprovalRecorded  `json:"approval,omitempty"`
	Decision  *Decision          `json:"decision,omitempty"`
	Session   *SessionStarted    `json:"session,omitempty"`
	Signature *SignatureProduced `json:"signature,omitempty"`
	Failure   *SessionFailed     `json:"failure,omitempty"`
}

// PolicyActivated logs a policy version taking effect.
type PolicyActivated struct {
	Version     uint64    `json:"version"`
	Hash        Digest    `json:"hash"`
	Parent      Digest    `json:"parent,omitzero"` // zero for the first version
	Approvers   []string  `json:"approvers"`       // admins whose signatures activated it
	EffectiveAt time.Time `json:"effective_at"`
}

// KeyEvent logs a threshold key generated, or reshared to a new committee
// (KindKeyReshared, with the old committee). Any Threshold+1 of Parties
// sign.
type KeyEvent struct {
	KeyID      string   `json:"key_id"`
	Generation uint64   `json:"generation"`
	Threshold  int      `json:"threshold"`
	Parties    []string `json:"parties"`
	PublicKey  HexBytes `json:"public_key"`
	OldParties []string `json:"old_parties,omitempty"` // reshare only
	// Keygen only: the session, the hash of every broadcast the parties
	// exchanged, and each party's Ed25519 signature by its identity key
	// over signer/tss.ConfirmMessage(cluster, key ID, session ID,
	// transcript, public key). A key is stored only when every party
	// confirmed the same transcript and key.
	SessionID     HexBytes          `json:"session_id,omitempty"`
	Transcript    Digest            `json:"transcript,omitzero"`
	Confirmations []KeyConfirmation `json:"confirmations,omitempty"`
}

// KeyConfirmation is one party's signature on a keygen's outcome.
type KeyConfirmation struct {
	Node      string   `json:"node"`
	Signature HexBytes `json:"signature"`
}

// TransferSubmitted logs a transfer request accepted by the node.
type TransferSubmitted struct {
	RequestID     string    `json:"request_id"`
	RequestDigest Digest    `json:"request_digest"`
	Wallet        string    `json:"wallet"`      // source wallet ID
	Destination   string    `json:"destination"` // wallet ID or address
	Asset         string    `json:"asset"`
	Amount        string    `json:"amount"` // base units, decimal
	Chain         string    `json:"chain"`
	PolicyHash    Digest    `json:"policy_hash"`
	Expiry        time.Time `json:"expiry"`
	Initiator     string    `json:"initiator"`
}

// Verdicts of an approval.
const (
	VerdictApprove = "approve"
	VerdictReject  = "reject"
)

// ApprovalRecorded logs an officer's verdict, with the officer's signature
// over "coffer/approval/v1" ‖ request digest ‖ verdict.
type ApprovalRecorded struct {
	RequestDigest Digest   `json:"request_digest"`
	Officer       string   `json:"officer"`
	Verdict       string   `json:"verdict"`
	Signature     HexBytes `json:"signature"`
	// SignedAt is the signing time under the signature
	// (policy.ApprovalMessage); zero in records of legacy approvals.
	SignedAt time.Time `json:"signed_at,omitzero"`
}

// Effects of a decision (policy.Effect's text form).
const (
	EffectAllow   = "allow"
	EffectPending = "pending"
	EffectDeny    = "deny"
)

// Decision logs a policy decision with its rule trace. SessionID is set
// when the node decided as a participant of a signing session (DESIGN.md
// §5 step 5); only such allow decisions back a signature.
type Decision struct {
	RequestDigest Digest   `json:"request_digest"`
	SessionID     Digest   `json:"session_id,omitzero"`
	PolicyHash    Digest   `json:"policy_hash"`
	PolicyVersion uint64   `json:"policy_version"`
	Effect        string   `json:"effect"`
	Rule          string   `json:"rule,omitempty"`
	Reason        string   `json:"reason"`
	Missing       []string `json:"missing,omitempty"`
	Approvers     []string `json:"approvers,omitempty"`
	Trace         []string `json:"trace"`
}

// SessionStarted logs the node joining (or coordinating) a signing session.
type SessionStarted struct {
	SessionID     Digest   `json:"session_id"`
	RequestDigest Digest   `json:"request_digest"`
	KeyID         string   `json:"key_id"`
	Parties       []string `json:"parties"`
	Attempt       uint32   `json:"attempt"`
	Coordinator   string   `json:"coordinator"`
}

// SignatureProduced logs a completed threshold signature and the
// resulting transaction. Threshold is the key's t: Verify requires allow
// decisions for this request and session in at least t+1 nodes' logs.
type SignatureProduced struct {
	SessionID     Digest   `json:"session_id"`
	RequestDigest Digest   `json:"request_digest"`
	KeyID         string   `json:"key_id"`
	Threshold     int      `json:"threshold"`
	Parties       []string `json:"parties"`
	Chain         string   `json:"chain"`
	TxHash        string   `json:"tx_hash"`
}

// SessionFailed logs an aborted session and the parties blamed.
type SessionFailed struct {
	SessionID     Digest   `json:"session_id"`
	RequestDigest Digest   `json:"request_digest"`
	Reason        string   `json:"reason"`
	Culprits      []string `json:"culprits,omitempty"`
	// PossiblySigned: this node had sent its share of the last signing
	// round, so a signature may exist; the request keeps its reservation.
	PossiblySigned bool `json:"possibly_signed,omitempty"`
}
