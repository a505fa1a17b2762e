package audit

import (
	"bytes"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
)

// streamEntries reads a node's entries once: it decodes each, checks its
// index, extends the tree, and at each checkpoint size compares the root.
// It stops at the node's first bad entry.
func (v *verification) streamEntries(n *nodeCheck) {
	sizes := n.sizes()
	rf := &compact.RangeFactory{Hash: hasher.HashChildren}
	rng := rf.NewEmptyRange(0)
	next := 0              // index in sizes of the next checkpoint to reach
	var good uint64        // entries [0, good) match a signed checkpoint
	var count uint64       // entries read
	check := func() bool { // compares the root at every checkpoint of size count
		for next < len(sizes) && sizes[next] == count {
			seen := n.cps[count]
			root, _ := rootOf(rng)
			if !bytes.Equal(root, seen.cp.Hash) {
				e := &EntryError{Node: n.origin, Index: good, Last: count - 1, Err: ErrEntryChanged,
					Detail: fmt.Sprintf("their root differs from the checkpoint of size %d (%s)", count, seen.source)}
				if count == 0 {
					e.Last = 0
					e.Detail = fmt.Sprintf("a checkpoint of size 0 (%s) has a root other than the empty tree's", seen.source)
				}
				if seen.since {
					e.Err, e.Detail = ErrInconsistent, e.Detail+": the log is not an extension of the auditor's previous checkpoint"
				}
				v.rep.add(e)
				return false
			}
			if seen.since {
				n.report.Since = append(n.report.Since, count)
			}
			good = count
			next++
		}
		return true
	}
	if !check() {
		n.incomplete = true
		return
	}
	stopped := false
	readErr := newEntryStream(n.bundle).each(func(e decodedEntry) bool {
		if e.err != nil { // wraps ErrMalformed or ErrVersion
			v.rep.add(&EntryError{Node: n.origin, Index: count, Last: count, Err: e.err})
			stopped = true
			return false
		}
		if e.rec.Index != count {
			what := "entries were removed or reordered"
			if e.rec.Index < count {
				what = "entries were inserted, duplicated or reordered"
			}
			v.rep.add(&EntryError{Node: n.origin, Index: count, Last: count, Err: ErrEntryOrder,
				Detail: fmt.Sprintf("the entry at position %d says index %d: %s", count, e.rec.Index, what)})
			stopped = true
			return false
		}
		_ = rng.Append(e.hash, nil)
		n.collect(count, e.rec)
		count++
		stopped = !check()
		return !stopped
	})
	if readErr != nil { // wraps ErrMalformed
		v.rep.add(&EntryError{Node: n.origin, Index: count, Last: count, Err: readErr})
		stopped = true
	}
	if stopped {
		n.report.Entries, n.incomplete = count, true
		return
	}
	n.report.Entries = count
	if next < len(sizes) {
		last := sizes[len(sizes)-1]
		v.rep.add(&EntryError{Node: n.origin, Index: count, Last: last - 1, Err: ErrTruncated,
			Detail: fmt.Sprintf("the log holds %d entries but the node signed a checkpoint of size %d (%s)", count, last, n.cps[last].source)})
		return
	}
	if count > good {
		v.rep.add(&EntryError{Node: n.origin, Index: good, Last: count - 1, Err: ErrUnsigned,
			Detail: fmt.Sprintf("the largest signed checkpoint covers %d entries, the log holds %d", good, count)})
	}
}
