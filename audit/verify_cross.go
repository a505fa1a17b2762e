package audit

import (
	"fmt"
	"slices"
	"strings"
)

// sessionKey identifies the decision a signature needs.
type sessionKey struct {
	digest, session Digest
}

// sigRef is a signature_produced entry.
type sigRef struct {
	index uint64
	sig   SignatureProduced
}

// keyEvent is the latest generation of a key seen in a log.
type keyEvent struct {
	generation uint64
	threshold  int
}

// collect files what the cross-node check needs from one entry.
func (n *nodeCheck) collect(index uint64, rec Record) {
	n.report.Kinds[rec.Kind]++
	switch {
	case rec.Decision != nil:
		d := rec.Decision
		if d.Effect != EffectAllow || d.SessionID.IsZero() {
			return
		}
		k := sessionKey{d.RequestDigest, d.SessionID}
		if _, ok := n.decisions[k]; !ok {
			n.decisions[k] = index
		}
	case rec.Signature != nil:
		n.sigs = append(n.sigs, sigRef{index: index, sig: *rec.Signature})
	case rec.Key != nil:
		k := rec.Key
		if e, ok := n.keyEvents[k.KeyID]; !ok || k.Generation > e.generation || (k.Generation == e.generation && k.Threshold > e.threshold) {
			n.keyEvents[k.KeyID] = keyEvent{generation: k.Generation, threshold: k.Threshold}
		}
	}
}

// checkBacking checks that every signature_produced entry is backed by
// allow decisions for its request and session in the logs of at least t+1
// of its parties (a node that did not sign backs nothing), the logging
// node being one of them with its own decision logged before the
// signature. t is the
// largest of the trust file's threshold, the record's, and the latest key
// event's for the key in any log.
func (v *verification) checkBacking() {
	keyT := map[string]keyEvent{}
	for _, o := range v.order {
		for id, e := range v.nodes[o].keyEvents {
			if have, ok := keyT[id]; !ok || e.generation > have.generation || (e.generation == have.generation && e.threshold > have.threshold) {
				keyT[id] = e
			}
		}
	}
	var unread []string
	for _, o := range v.order {
		if v.nodes[o].incomplete {
			unread = append(unread, nodeName(o))
		}
	}
	for _, o := range v.order {
		n := v.nodes[o]
		for _, s := range n.sigs {
			v.rep.Signatures++
			t := max(s.sig.Threshold, keyT[s.sig.KeyID].threshold)
			if v.trust != nil {
				t = max(t, v.trust.Threshold)
			}
			k := sessionKey{s.sig.RequestDigest, s.sig.SessionID}
			var backers, outsiders []string
			own := "its own log has no allow decision for it"
			if !slices.Contains(s.sig.Parties, nodeName(o)) {
				own = "the node that logged it is not among its parties"
			}
			for _, m := range v.order {
				idx, ok := v.nodes[m].decisions[k]
				switch {
				case !ok:
				case !slices.Contains(s.sig.Parties, nodeName(m)):
					outsiders = append(outsiders, nodeName(m)) // a node that did not sign backs nothing
				case m == o && idx > s.index:
					own = fmt.Sprintf("its own allow decision (entry %d) was logged after the signature", idx)
				default:
					backers = append(backers, nodeName(m))
					if m == o {
						own = ""
					}
				}
			}
			if len(backers) >= t+1 && own == "" {
				v.rep.Backed++
				continue
			}
			detail := fmt.Sprintf("signature for request %s session %s (key %s, t=%d, parties %s): allow decisions in %d of the %d parties needed",
				s.sig.RequestDigest, s.sig.SessionID, s.sig.KeyID, t, strings.Join(s.sig.Parties, ","), len(backers), t+1)
			if len(backers) > 0 {
				detail += " (" + strings.Join(backers, ", ") + ")"
			}
			if len(outsiders) > 0 {
				detail += "; not counted, not among the parties: " + strings.Join(outsiders, ", ")
			}
			if own != "" {
				detail += "; " + own
			}
			if len(unread) > 0 {
				detail += "; not fully read (failed verification): " + strings.Join(unread, ", ")
			}
			v.rep.add(&EntryError{Node: o, Index: s.index, Last: s.index, Err: ErrUnbacked, Detail: detail})
		}
	}
}
