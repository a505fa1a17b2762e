package policy

import (
	"crypto"
	"encoding/binary"
	"fmt"
	"io"
	"time"
)

// Signature domains: every signed message starts with one, so a signature
// made for one purpose never verifies for another.
const (
	ApprovalDomain = "coffer/approval/v1" // legacy: no signing time
	// ApprovalDomainV2 adds the signing time under the signature.
	ApprovalDomainV2 = "coffer/approval/v2"
	PolicyDomain     = "coffer/policy/v1"
	FreezeDomain     = "coffer/freeze/v1"
	UnfreezeDomain   = "coffer/unfreeze/v1"
)

// ApprovalMessage is what an officer signs: ApprovalDomainV2 ‖ request
// digest (32 bytes) ‖ verdict byte (1 approve, 2 reject) ‖ signing time
// (Unix milliseconds, 8 bytes big-endian). With a zero signedAt it is the
// legacy form, ApprovalDomain ‖ digest ‖ verdict, which the ledger still
// reads in logs written before the signing time was signed; nodes accept
// new approvals only in the v2 form.
func ApprovalMessage(digest Hash, v Verdict, signedAt time.Time) []byte {
	if signedAt.IsZero() {
		m := make([]byte, 0, len(ApprovalDomain)+len(digest)+1)
		m = append(m, ApprovalDomain...)
		m = append(m, digest[:]...)
		return append(m, byte(v))
	}
	m := make([]byte, 0, len(ApprovalDomainV2)+len(digest)+9)
	m = append(m, ApprovalDomainV2...)
	m = append(m, digest[:]...)
	m = append(m, byte(v))
	return binary.BigEndian.AppendUint64(m, uint64(signedAt.UnixMilli()))
}

// SignApproval signs an officer's verdict on a request digest at signedAt.
func SignApproval(rand io.Reader, s crypto.Signer, digest Hash, v Verdict, signedAt time.Time) ([]byte, error) {
	return Sign(rand, s, ApprovalMessage(digest, v, signedAt))
}

// VerifyApproval checks an officer's signature over its verdict on digest
// at signedAt with the officer's key in p. Only verified approvals go into
// a State.
func VerifyApproval(p *Policy, officer string, digest Hash, v Verdict, signedAt time.Time, sig []byte) error {
	if v != VerdictApprove && v != VerdictReject {
		return fmt.Errorf("verify approval by %q: verdict %d: %w", officer, v, ErrInvalid)
	}
	k, ok := p.OfficerKey(officer)
	if !ok {
		return fmt.Errorf("verify approval by %q: %w", officer, ErrUnknownOfficer)
	}
	if !k.Verify(ApprovalMessage(digest, v, signedAt), sig) {
		return fmt.Errorf("verify approval by %q: %w", officer, ErrBadSignature)
	}
	return nil
}

// PolicyMessage is what an admin signs to approve a version:
// PolicyDomain ‖ policy hash (32 bytes).
func PolicyMessage(h Hash) []byte {
	return append([]byte(PolicyDomain), h[:]...)
}

// PolicySignature is an admin's detached signature over a policy hash
// (JSON: signature in base64).
type PolicySignature struct {
	Admin      string `json:"admin"`
	PolicyHash Hash   `json:"policy_hash"`
	Signature  []byte `json:"signature"`
}

// SignPolicy makes admin's detached signature over h.
func SignPolicy(rand io.Reader, s crypto.Signer, admin string, h Hash) (PolicySignature, error) {
	sig, err := Sign(rand, s, PolicyMessage(h))
	if err != nil {
		return PolicySignature{}, fmt.Errorf("sign policy %s as %q: %w", h.Short(), admin, err)
	}
	return PolicySignature{Admin: admin, PolicyHash: h, Signature: sig}, nil
}

// VerifyPolicySignature checks that sig is a valid signature by one of p's
// admins over sig.PolicyHash. (History.Submit counts the signatures of the
// admins of the version active at submission, not of the new version.)
func (p *Policy) VerifyPolicySignature(sig PolicySignature) error {
	if err := p.verifyAdmin(sig.Admin, PolicyMessage(sig.PolicyHash), sig.Signature); err != nil {
		return fmt.Errorf("verify policy signature over %s: %w", sig.PolicyHash.Short(), err)
	}
	return nil
}

// DecodePolicySignatureJSON decodes a detached signature file strictly.
func DecodePolicySignatureJSON(b []byte) (PolicySignature, error) {
	var s PolicySignature
	if err := decodeStrictJSON(b, &s); err != nil {
		return PolicySignature{}, fmt.Errorf("decode policy signature: %w: %w", ErrInvalid, err)
	}
	return s, nil
}

// verifyAdmin checks that sig is by one of p's admins over msg.
func (p *Policy) verifyAdmin(admin string, msg, sig []byte) error {
	k, ok := p.admins[admin]
	if !ok {
		return fmt.Errorf("admin %q: %w", admin, ErrUnknownAdmin)
	}
	if !k.Verify(msg, sig) {
		return fmt.Errorf("admin %q: %w", admin, ErrBadSignature)
	}
	return nil
}

// FreezeMessage is what an admin signs to freeze all signing; epoch is the
// History's FreezeEpoch, which makes old messages useless.
func FreezeMessage(epoch uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte(FreezeDomain), epoch)
}

// UnfreezeMessage is what a quorum of admins signs to lift the freeze of
// epoch.
func UnfreezeMessage(epoch uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte(UnfreezeDomain), epoch)
}

// AdminSignature is an admin's signature over a freeze or unfreeze message.
type AdminSignature struct {
	Admin     string `json:"admin"`
	Signature []byte `json:"signature"`
}
