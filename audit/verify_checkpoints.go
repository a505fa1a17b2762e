package audit

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"golang.org/x/mod/sumdb/note"
)

// seenCheckpoint is one verified checkpoint size of a node, merged over
// every source that holds it.
type seenCheckpoint struct {
	cp        Checkpoint
	source    string // the first source
	since     bool   // one of the auditor's checkpoints
	note      []byte // the first note (the node's own bundle comes first)
	cosigners map[string]bool
}

// nodeCheck is the verification state of one node with a bundle.
type nodeCheck struct {
	origin string
	bundle *Bundle
	cps    map[uint64]*seenCheckpoint
	report NodeReport

	incomplete bool // verification stopped before the end of its entries

	decisions map[sessionKey]uint64 // allow decisions in a session → first index
	sigs      []sigRef
	keyEvents map[string]keyEvent // by key ID
}

func newNodeCheck(origin string, b *Bundle) *nodeCheck {
	return &nodeCheck{
		origin: origin, bundle: b, cps: map[uint64]*seenCheckpoint{},
		report:    NodeReport{Origin: origin, Bundle: b.Name, Kinds: map[Kind]int{}},
		decisions: map[sessionKey]uint64{}, keyEvents: map[string]keyEvent{},
	}
}

// sizes are the node's verified checkpoint sizes, ascending.
func (n *nodeCheck) sizes() []uint64 {
	out := make([]uint64, 0, len(n.cps))
	for s := range n.cps {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// checkpointJob is one signed checkpoint to verify, from one source.
type checkpointJob struct {
	expect string // origin it must have ("" for copies and --since)
	msg    []byte
	source string
	since  bool

	cp  Checkpoint
	n   *note.Note
	err error
}

// collectCheckpoints verifies every checkpoint of every source (the
// signature checks in parallel) and files them under their nodes in a
// fixed order, detecting forks.
func (v *verification) collectCheckpoints(since [][]byte) {
	var jobs []*checkpointJob
	for _, o := range v.order {
		b := v.nodes[o].bundle
		for _, msg := range b.Checkpoints {
			jobs = append(jobs, &checkpointJob{expect: o, msg: msg, source: "bundle " + b.Name})
		}
	}
	for _, o := range v.order {
		b := v.nodes[o].bundle
		for _, msg := range b.Witnessed {
			jobs = append(jobs, &checkpointJob{msg: msg, source: fmt.Sprintf("cosigned copy in %s's bundle", nodeName(o))})
		}
	}
	for i, msg := range since {
		jobs = append(jobs, &checkpointJob{msg: msg, source: fmt.Sprintf("--since #%d", i+1), since: true})
	}
	v.openAll(jobs)
	for _, j := range jobs {
		v.addCheckpoint(j)
	}
	for _, o := range v.order {
		n := v.nodes[o]
		n.report.Checkpoints = len(n.cps)
		if len(n.cps) == 0 {
			v.rep.add(&NodeError{Node: o, Err: ErrSignature, Detail: "no checkpoint signed by its trusted key"})
		}
	}
}

// openAll runs OpenCheckpoint on every job, on GOMAXPROCS goroutines.
func (v *verification) openAll(jobs []*checkpointJob) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range max(1, runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(len(jobs)); i = next.Add(1) - 1 {
				j := jobs[i]
				j.cp, j.n, j.err = OpenCheckpoint(j.msg, v.verifiers)
			}
		})
	}
	wg.Wait()
}

func (v *verification) addCheckpoint(j *checkpointJob) {
	expect, msg, source, since := j.expect, j.msg, j.source, j.since
	cp, n, err := j.cp, j.n, j.err
	node := cp.Origin
	if node == "" {
		node = expect
	}
	if node == "" {
		node = "?"
	}
	if err != nil { // err wraps ErrSignature or ErrMalformed
		v.rep.add(&CheckpointError{Node: node, Size: cp.Size, Source: source, Err: err})
		return
	}
	if expect != "" && cp.Origin != expect {
		v.rep.add(&CheckpointError{Node: expect, Size: cp.Size, Source: source, Err: ErrMalformed,
			Detail: fmt.Sprintf("the bundle of %s holds a checkpoint of %s", expect, cp.Origin)})
		return
	}
	nc := v.nodes[cp.Origin]
	if nc == nil {
		v.rep.Warnings = append(v.rep.Warnings, fmt.Sprintf("%s: checkpoint of %s size %d ignored: no bundle for that node", source, cp.Origin, cp.Size))
		return
	}
	for _, s := range n.UnverifiedSigs {
		v.rep.Warnings = append(v.rep.Warnings, fmt.Sprintf("%s: checkpoint of %s size %d: signature by unknown key %s+%08x ignored",
			source, nodeName(cp.Origin), cp.Size, s.Name, s.Hash))
	}
	seen := nc.cps[cp.Size]
	if seen == nil {
		seen = &seenCheckpoint{cp: cp, source: source, note: msg, cosigners: map[string]bool{}}
		nc.cps[cp.Size] = seen
	} else if !bytes.Equal(seen.cp.Hash, cp.Hash) {
		v.rep.add(&CheckpointError{Node: cp.Origin, Size: cp.Size, Source: source, Err: ErrFork,
			Detail: fmt.Sprintf("root %s here, root %s in %s; both signed by the node's key",
				b64(cp.Hash), b64(seen.cp.Hash), seen.source)})
		return
	}
	seen.since = seen.since || since
	for _, c := range Cosigners(n, cp.Origin) {
		seen.cosigners[c] = true
	}
}

// checkCosignatures checks each node's checkpoints against the trust
// file's min_cosignatures and reports the latest one's cosigners. When the
// latest lacks them, the latest checkpoint that has them bounds the
// verified, cosigned prefix and the entries after it are reported pending;
// a log with no such checkpoint fails.
func (v *verification) checkCosignatures() {
	for _, o := range v.order {
		n := v.nodes[o]
		sizes := n.sizes()
		if len(sizes) == 0 {
			continue
		}
		latest := n.cps[sizes[len(sizes)-1]]
		for c := range latest.cosigners {
			n.report.Cosigners = append(n.report.Cosigners, nodeName(c))
		}
		sort.Strings(n.report.Cosigners)
		n.report.Latest, n.report.LatestNote = latest.cp, latest.note
		if v.trust == nil || len(latest.cosigners) >= v.trust.MinCosignatures {
			n.report.Cosigned = latest.cp
			continue
		}
		// a live log's newest checkpoints may not be cosigned yet: the
		// prefix up to the latest cosigned one verifies, the rest is pending
		var cosigned *seenCheckpoint
		for i := len(sizes) - 2; i >= 0 && cosigned == nil; i-- {
			if c := n.cps[sizes[i]]; len(c.cosigners) >= v.trust.MinCosignatures {
				cosigned = c
			}
		}
		if cosigned == nil {
			v.rep.add(&NodeError{Node: o, Err: ErrCosignatures, Detail: fmt.Sprintf("no checkpoint has the %d valid cosignatures the trust file requires (the latest, size %d, has %d)",
				v.trust.MinCosignatures, latest.cp.Size, len(latest.cosigners))})
			continue
		}
		n.report.Cosigned, n.report.Pending = cosigned.cp, latest.cp.Size-cosigned.cp.Size
		v.rep.Warnings = append(v.rep.Warnings, fmt.Sprintf("%s: entries %d to %d are signed by the node but not yet cosigned by %d peer(s) (pending; the prefix up to size %d is cosigned): verify again later",
			nodeName(o), cosigned.cp.Size, latest.cp.Size-1, v.trust.MinCosignatures, cosigned.cp.Size))
	}
}

func b64(h []byte) string { return base64.StdEncoding.EncodeToString(h) }
