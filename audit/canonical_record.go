package audit

import "math"

// decodeCanonical is DecodeRecord's fast path: it reads the fields in the
// order and form EncodeRecord writes them (see the struct tags in
// record.go: omitempty/omitzero fields are present only when non-empty)
// and validates the result. ok is false on any deviation.
func decodeCanonical(leaf []byte) (rec Record, ok bool) {
	r := &canonReader{b: leaf}
	r.lit(`{"v":`)
	rec.V = int(r.uint(math.MaxInt32))
	r.lit(`,"index":`)
	rec.Index = r.uint(math.MaxUint64)
	r.lit(`,"time":`)
	rec.Time = r.time()
	r.lit(`,"kind":`)
	rec.Kind = Kind(r.str())
	if r.opt(`,"policy":`) {
		rec.Policy = r.policy()
	}
	if r.opt(`,"key":`) {
		rec.Key = r.key()
	}
	if r.opt(`,"transfer":`) {
		rec.Transfer = r.transfer()
	}
	if r.opt(`,"approval":`) {
		rec.Approval = r.approval()
	}
	if r.opt(`,"decision":`) {
		rec.Decision = r.decision()
	}
	if r.opt(`,"session":`) {
		rec.Session = r.session()
	}
	if r.opt(`,"signature":`) {
		rec.Signature = r.signature()
	}
	if r.opt(`,"failure":`) {
		rec.Failure = r.failure()
	}
	r.lit("}")
	if r.bad || r.i != len(leaf) || rec.Validate() != nil {
		return Record{}, false
	}
	return rec, true
}

// optDigest reads an omitzero Digest field: absent, or non-zero.
func (r *canonReader) optDigest(field string) Digest {
	if !r.opt(field) {
		return Digest{}
	}
	d := r.digest()
	if d.IsZero() {
		r.fail()
	}
	return d
}

func (r *canonReader) policy() *PolicyActivated {
	p := &PolicyActivated{}
	r.lit(`{"version":`)
	p.Version = r.uint(math.MaxUint64)
	r.lit(`,"hash":`)
	p.Hash = r.digest()
	p.Parent = r.optDigest(`,"parent":`)
	r.lit(`,"approvers":`)
	p.Approvers = r.strs()
	r.lit(`,"effective_at":`)
	p.EffectiveAt = r.time()
	r.lit("}")
	return p
}

func (r *canonReader) key() *KeyEvent {
	k := &KeyEvent{}
	r.lit(`{"key_id":`)
	k.KeyID = r.str()
	r.lit(`,"generation":`)
	k.Generation = r.uint(math.MaxUint64)
	r.lit(`,"threshold":`)
	k.Threshold = int(r.uint(math.MaxInt32))
	r.lit(`,"parties":`)
	k.Parties = r.strs()
	r.lit(`,"public_key":`)
	k.PublicKey = r.hex()
	k.OldParties = r.optStrs(`,"old_parties":`)
	if r.opt(`,"session_id":`) {
		k.SessionID = r.hex()
	}
	k.Transcript = r.optDigest(`,"transcript":`)
	if r.opt(`,"confirmations":`) {
		r.lit("[")
		for !r.bad {
			var c KeyConfirmation
			r.lit(`{"node":`)
			c.Node = r.str()
			r.lit(`,"signature":`)
			c.Signature = r.hex()
			r.lit("}")
			k.Confirmations = append(k.Confirmations, c)
			if r.opt("]") {
				break
			}
			r.lit(",")
		}
	}
	r.lit("}")
	return k
}

func (r *canonReader) transfer() *TransferSubmitted {
	t := &TransferSubmitted{}
	r.lit(`{"request_id":`)
	t.RequestID = r.str()
	r.lit(`,"request_digest":`)
	t.RequestDigest = r.digest()
	r.lit(`,"wallet":`)
	t.Wallet = r.str()
	r.lit(`,"destination":`)
	t.Destination = r.str()
	r.lit(`,"asset":`)
	t.Asset = r.str()
	r.lit(`,"amount":`)
	t.Amount = r.str()
	r.lit(`,"chain":`)
	t.Chain = r.str()
	r.lit(`,"policy_hash":`)
	t.PolicyHash = r.digest()
	r.lit(`,"expiry":`)
	t.Expiry = r.time()
	r.lit(`,"initiator":`)
	t.Initiator = r.str()
	r.lit("}")
	return t
}

func (r *canonReader) approval() *ApprovalRecorded {
	a := &ApprovalRecorded{}
	r.lit(`{"request_digest":`)
	a.RequestDigest = r.digest()
	r.lit(`,"officer":`)
	a.Officer = r.str()
	r.lit(`,"verdict":`)
	a.Verdict = r.str()
	r.lit(`,"signature":`)
	a.Signature = r.hex()
	if r.opt(`,"signed_at":`) {
		a.SignedAt = r.time()
		if a.SignedAt.IsZero() {
			r.fail() // omitzero: a zero time is absent
		}
	}
	r.lit("}")
	return a
}

func (r *canonReader) decision() *Decision {
	d := &Decision{}
	r.lit(`{"request_digest":`)
	d.RequestDigest = r.digest()
	d.SessionID = r.optDigest(`,"session_id":`)
	r.lit(`,"policy_hash":`)
	d.PolicyHash = r.digest()
	r.lit(`,"policy_version":`)
	d.PolicyVersion = r.uint(math.MaxUint64)
	r.lit(`,"effect":`)
	d.Effect = r.str()
	if r.opt(`,"rule":`) {
		if d.Rule = r.str(); d.Rule == "" {
			r.fail()
		}
	}
	r.lit(`,"reason":`)
	d.Reason = r.str()
	d.Missing = r.optStrs(`,"missing":`)
	d.Approvers = r.optStrs(`,"approvers":`)
	r.lit(`,"trace":`)
	d.Trace = r.strs()
	r.lit("}")
	return d
}

func (r *canonReader) session() *SessionStarted {
	s := &SessionStarted{}
	r.lit(`{"session_id":`)
	s.SessionID = r.digest()
	r.lit(`,"request_digest":`)
	s.RequestDigest = r.digest()
	r.lit(`,"key_id":`)
	s.KeyID = r.str()
	r.lit(`,"parties":`)
	s.Parties = r.strs()
	r.lit(`,"attempt":`)
	s.Attempt = uint32(r.uint(math.MaxUint32))
	r.lit(`,"coordinator":`)
	s.Coordinator = r.str()
	r.lit("}")
	return s
}

func (r *canonReader) signature() *SignatureProduced {
	s := &SignatureProduced{}
	r.lit(`{"session_id":`)
	s.SessionID = r.digest()
	r.lit(`,"request_digest":`)
	s.RequestDigest = r.digest()
	r.lit(`,"key_id":`)
	s.KeyID = r.str()
	r.lit(`,"threshold":`)
	s.Threshold = int(r.uint(math.MaxInt32))
	r.lit(`,"parties":`)
	s.Parties = r.strs()
	r.lit(`,"chain":`)
	s.Chain = r.str()
	r.lit(`,"tx_hash":`)
	s.TxHash = r.str()
	r.lit("}")
	return s
}

func (r *canonReader) failure() *SessionFailed {
	f := &SessionFailed{}
	r.lit(`{"session_id":`)
	f.SessionID = r.digest()
	r.lit(`,"request_digest":`)
	f.RequestDigest = r.digest()
	r.lit(`,"reason":`)
	f.Reason = r.str()
	f.Culprits = r.optStrs(`,"culprits":`)
	if r.opt(`,"possibly_signed":`) {
		r.lit("true") // omitempty: false is absent
		f.PossiblySigned = true
	}
	r.lit("}")
	return f
}
