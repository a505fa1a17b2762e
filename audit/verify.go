package audit

import (
	"context"
	"fmt"
	"sort"

	"golang.org/x/mod/sumdb/note"
)

// Verify checks bundles offline, trusting only trust (nil: the keys the
// bundles state, which the report flags as unpinned) and the auditor's
// previous checkpoints since (signed notes, any nodes):
//
//   - every checkpoint (each node's own, the copies other nodes cosigned,
//     since) carries a valid signature by its node's trusted key, and every
//     cosignature by a trusted key is valid;
//   - no two checkpoints of a node have the same size and different roots;
//   - every node's entries decode, sit at their index, and hash to the
//     root of every checkpoint of that node, the largest included: every
//     entry is included, nothing is missing, changed or reordered, and the
//     log is consistent with since;
//   - across nodes, every signature_produced entry is backed by allow
//     decisions for its request digest and session in at least t+1 nodes'
//     logs, its own node's decision logged before it;
//   - with a trust file: every trusted node has exactly one bundle, and its
//     latest checkpoint the required cosignatures.
//
// It reads each bundle's entries once, streaming. The report lists every
// finding; the error is the first (an *EntryError, *CheckpointError or
// *NodeError wrapping a sentinel). The report is never nil.
func Verify(ctx context.Context, bundles []*Bundle, trust *Trust, since [][]byte) (*Report, error) {
	v := &verification{rep: &Report{Pinned: trust != nil}, trust: trust, nodes: map[string]*nodeCheck{}}
	if trust != nil {
		if trust.verifiers == nil {
			if err := trust.Validate(); err != nil {
				v.rep.add(fmt.Errorf("verify: trust: %w: %w", ErrMalformed, err))
				return v.rep, v.rep.Err()
			}
		}
		v.rep.Threshold, v.rep.MinCosignatures = trust.Threshold, trust.MinCosignatures
	}
	if len(bundles) == 0 {
		v.rep.add(&NodeError{Node: "-", Err: ErrMissingNode, Detail: "no bundle to verify"})
	}
	v.collectNodes(bundles)
	v.collectCheckpoints(since)
	for _, o := range v.order {
		if err := ctx.Err(); err != nil {
			v.rep.add(fmt.Errorf("verify: %w", err))
			return v.rep, v.rep.Err()
		}
		v.streamEntries(v.nodes[o])
	}
	v.checkBacking()
	v.checkCosignatures()
	for _, o := range v.order {
		v.rep.Nodes = append(v.rep.Nodes, v.nodes[o].report)
	}
	v.rep.markNodes()
	return v.rep, v.rep.Err()
}

// verification is the state of one Verify run.
type verification struct {
	rep       *Report
	trust     *Trust
	nodes     map[string]*nodeCheck // by origin, nodes with a bundle
	order     []string              // origins with a bundle, sorted
	verifiers note.Verifiers        // every node's trusted key
	keys      map[string]note.Verifier
}

// collectNodes matches bundles to trusted keys.
func (v *verification) collectNodes(bundles []*Bundle) {
	v.keys = map[string]note.Verifier{}
	if v.trust != nil {
		for o, ver := range v.trust.verifiers {
			v.keys[o] = ver
		}
	}
	for _, b := range bundles {
		o := b.Header.Origin
		if v.nodes[o] != nil {
			v.rep.add(&NodeError{Node: o, Err: ErrDuplicateNode, Detail: fmt.Sprintf("bundles %s and %s", v.nodes[o].bundle.Name, b.Name)})
			continue
		}
		if v.trust == nil {
			ver, err := note.NewVerifier(b.Header.Key)
			if err != nil || ver.Name() != o {
				v.rep.add(&NodeError{Node: o, Err: ErrSignature, Detail: fmt.Sprintf("bundle %s states no usable key for its origin", b.Name)})
				continue
			}
			v.keys[o] = ver
			v.rep.Warnings = append(v.rep.Warnings, fmt.Sprintf("%s: key %s taken from the bundle itself (no trust file): it proves integrity, not authorship", o, b.Header.Key))
		} else if v.keys[o] == nil {
			v.rep.add(&NodeError{Node: o, Err: ErrUnknownNode, Detail: fmt.Sprintf("bundle %s is for a node the trust file does not list", b.Name)})
			continue
		} else if b.Header.Key != v.trust.keyOf(o) {
			v.rep.Warnings = append(v.rep.Warnings, fmt.Sprintf("%s: bundle %s states key %s; verifying with the trusted key", o, b.Name, b.Header.Key))
		}
		v.nodes[o] = newNodeCheck(o, b)
		v.order = append(v.order, o)
	}
	sort.Strings(v.order)
	if v.trust != nil {
		for _, o := range v.trust.Origins() {
			if v.nodes[o] == nil {
				v.rep.add(&NodeError{Node: o, Err: ErrMissingNode, Detail: "the trust file lists this node but no bundle holds its log"})
			}
		}
	}
	list := make([]note.Verifier, 0, 2*len(v.keys))
	for o, ver := range v.keys {
		list = append(list, ver)
		// the same node's cosignatures of other logs (cosignature/v1)
		var k string
		if v.trust != nil {
			k = v.trust.keyOf(o)
		} else if nc := v.nodes[o]; nc != nil {
			k = nc.bundle.Header.Key
		}
		if c, err := cosignatureVerifierOf(k); err == nil {
			list = append(list, c)
		}
	}
	v.verifiers = note.VerifierList(list...)
}

// keyOf is the verifier key string of a trusted origin.
func (t *Trust) keyOf(origin string) string {
	for _, k := range t.Nodes {
		if ver, err := note.NewVerifier(k); err == nil && ver.Name() == origin {
			return k
		}
	}
	return ""
}
