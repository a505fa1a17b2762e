package audit

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// maxProblems bounds the findings a report keeps (the first is the error).
const maxProblems = 1000

// Report is the outcome of Verify.
type Report struct {
	Pinned          bool // keys came from a trust file
	Threshold       int  // the trust file's t (0 without one)
	MinCosignatures int
	Nodes           []NodeReport // sorted by origin
	Signatures      int          // signature_produced entries checked
	Backed          int          // of them, backed by t+1 decisions
	Problems        []error      // findings, in check order
	Dropped         int          // findings beyond maxProblems
	Warnings        []string
}

// NodeReport is what Verify found in one node's bundle.
type NodeReport struct {
	Origin      string
	Bundle      string
	Entries     uint64 // entries read (up to the first bad one)
	Checkpoints int    // distinct verified checkpoint sizes, all sources
	Latest      Checkpoint
	LatestNote  []byte   // save it as the next --since
	Cosigners   []string // valid cosigners of the latest checkpoint
	// Cosigned is the latest checkpoint with the trust file's minimum of
	// cosignatures, and Pending the entries after it: signed by the node,
	// not yet witnessed by its peers (a live log's newest batch). They are
	// reported, not failed; verify again later to see them cosigned.
	Cosigned Checkpoint
	Pending  uint64
	Since    []uint64 // sizes of the auditor's checkpoints it is consistent with
	Kinds    map[Kind]int
	OK       bool // no finding names this node
}

func (r *Report) add(err error) {
	if len(r.Problems) >= maxProblems {
		r.Dropped++
		return
	}
	r.Problems = append(r.Problems, err)
}

// Err is the first finding, or nil when everything verified.
func (r *Report) Err() error {
	if len(r.Problems) == 0 {
		return nil
	}
	return r.Problems[0]
}

// problemNode is the origin a finding names.
func problemNode(err error) string {
	var e *EntryError
	var c *CheckpointError
	var n *NodeError
	switch {
	case errors.As(err, &e):
		return e.Node
	case errors.As(err, &c):
		return c.Node
	case errors.As(err, &n):
		return n.Node
	}
	return ""
}

// markNodes sets each node's OK from the findings.
func (r *Report) markNodes() {
	bad := map[string]bool{}
	for _, p := range r.Problems {
		bad[problemNode(p)] = true
	}
	for i := range r.Nodes {
		r.Nodes[i].OK = !bad[r.Nodes[i].Origin] && r.Dropped == 0
	}
}

// WriteText writes the report for people.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	keys := "keys PINNED by the trust file"
	if !r.Pinned {
		keys = "keys NOT PINNED (no trust file): the bundles' own keys were used"
	}
	fmt.Fprintf(&b, "coffer audit verify: %d node log(s), %s (t=%d, min cosignatures %d)\n\n", len(r.Nodes), keys, r.Threshold, r.MinCosignatures)
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tENTRIES\tCHECKPOINTS\tLATEST\tCOSIGNED BY\tSINCE\tRESULT")
	for _, n := range r.Nodes {
		result := "ok"
		if !n.OK {
			result = "FAIL"
		} else if n.Pending > 0 {
			result = fmt.Sprintf("ok, %d pending", n.Pending)
		}
		latest := "-"
		if n.Latest.Hash != nil {
			latest = fmt.Sprintf("size %d root %s", n.Latest.Size, b64(n.Latest.Hash))
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\n", nodeName(n.Origin), n.Entries, n.Checkpoints, latest,
			orDash(strings.Join(n.Cosigners, ",")), orDash(joinSizes(n.Since)), result)
	}
	tw.Flush()
	var kinds []string
	for _, k := range allKinds {
		total := 0
		for _, n := range r.Nodes {
			total += n.Kinds[k]
		}
		if total > 0 {
			kinds = append(kinds, fmt.Sprintf("%s %d", k, total))
		}
	}
	fmt.Fprintf(&b, "\nrecords: %s\n", orDash(strings.Join(kinds, ", ")))
	fmt.Fprintf(&b, "signatures produced: %d checked, %d backed by allow decisions in t+1 nodes' logs\n", r.Signatures, r.Backed)
	for _, wn := range r.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", wn)
	}
	if len(r.Problems) == 0 {
		b.WriteString("\nRESULT: OK\n")
	} else {
		fmt.Fprintf(&b, "\nproblems (%d):\n", len(r.Problems)+r.Dropped)
		for i, p := range r.Problems {
			fmt.Fprintf(&b, "  %d. %v\n", i+1, p)
		}
		if r.Dropped > 0 {
			fmt.Fprintf(&b, "  … and %d more\n", r.Dropped)
		}
		fmt.Fprintf(&b, "\nRESULT: FAIL: first bad: %v\n", r.Problems[0])
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func joinSizes(s []uint64) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = fmt.Sprint(v)
	}
	return strings.Join(parts, ",")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
