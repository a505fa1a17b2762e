package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/cofferhq/coffer/api/operatorpb"
	"github.com/cofferhq/coffer/internal/devcluster"
)

// upOptions bring up a local 3-node cluster for the demo and benchmarks.
type upOptions struct {
	dir       string // empty: a temporary folder
	keep      bool   // keep the folder afterwards
	preparams string // JSON pre-parameter sets to import instead of waiting for safe primes
	logLevel  string
	pool      int // pre-parameter sets each node needs before the story starts (default 1)
}

func bringUp(ctx context.Context, w io.Writer, o upOptions) (*devcluster.Cluster, func(), error) {
	dir := o.dir
	if dir != "" {
		o.keep = true // a folder the caller named is kept
	}
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "coffer-cluster-"); err != nil {
			return nil, nil, err
		}
	}
	fail := func(err error) (*devcluster.Cluster, func(), error) {
		if !o.keep {
			_ = os.RemoveAll(dir)
		}
		return nil, nil, err
	}
	bin, err := devcluster.FindCofferd()
	if err != nil {
		return fail(err)
	}
	fmt.Fprintf(w, "• cluster init: CA, 3 SoftHSM tokens (keys made inside each token), node certificates, configs in %s\n", dir)
	if o.pool < 1 {
		o.pool = 1
	}
	l, err := devcluster.Init(ctx, dir, devcluster.Options{Nodes: 3, SelfTestSigning: true, PoolSize: o.pool,
		Generate: o.preparams == "", SessionTimeout: time.Minute, LogLevel: o.logLevel})
	if err != nil {
		return fail(err)
	}
	if o.preparams != "" {
		fmt.Fprintf(w, "• sealing pre-generated pre-parameters from %s into each node's pool\n", o.preparams)
		sets := map[string][]int{}
		for k := 0; k < o.pool; k++ {
			for i, n := range []string{"node1", "node2", "node3"} {
				sets[n] = append(sets[n], 3*k+i)
			}
		}
		if err := l.ImportPreParams(ctx, o.preparams, sets); err != nil {
			return fail(err)
		}
	}
	c, err := devcluster.Start(ctx, l, bin)
	if err != nil {
		return fail(err)
	}
	for _, n := range l.Nodes {
		fmt.Fprintf(w, "  %s running, pid %d, api %s, peer %s\n", n.ID, c.PID(n.ID), n.API, n.Peer)
	}
	cleanup := func() {
		c.Stop()
		fmt.Fprintln(w, "• nodes stopped by PID")
		if !o.keep {
			_ = os.RemoveAll(dir)
		} else {
			fmt.Fprintf(w, "  cluster kept in %s\n", dir)
		}
	}
	if err := waitPools(ctx, w, l, o.pool); err != nil {
		cleanup()
		return nil, nil, err
	}
	return c, cleanup, nil
}

// waitPools waits until every node has want sealed pre-parameter sets.
func waitPools(ctx context.Context, w io.Writer, l *devcluster.Layout, want int) error {
	start := time.Now()
	last := -1
	for time.Since(start) < 15*time.Minute {
		ready := 0
		for _, n := range l.Nodes {
			c, err := l.Dial(n.ID)
			if err != nil {
				return err
			}
			st, err := c.Operator.Status(ctx, &operatorpb.StatusRequest{})
			c.Close()
			if err != nil {
				return err
			}
			if int(st.PreparamsPooled) >= want {
				ready++
			}
		}
		if ready != last {
			fmt.Fprintf(w, "  pre-parameter pools (safe primes, made in the background, %d per node): %d/%d nodes ready (%s)\n", want, ready, len(l.Nodes), time.Since(start).Round(time.Second))
			last = ready
		}
		if ready == len(l.Nodes) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	return fmt.Errorf("pre-parameter pools not ready after 15 minutes")
}
