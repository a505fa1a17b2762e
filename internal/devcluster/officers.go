package devcluster

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"time"

	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/pki"
	"github.com/cofferhq/coffer/policy"
)

// Decide has officer sign verdict over digest with the officer's key file
// and sends it to node with the officer's client certificate.
func (t *Treasury) Decide(ctx context.Context, node, officer, verdict, requestID string, digest []byte) (*transferpb.Transfer, error) {
	cc, ok := t.Officers[officer]
	if !ok {
		return nil, fmt.Errorf("no officer %q", officer)
	}
	keyPEM, err := os.ReadFile(t.Layout.Path(cc.Key))
	if err != nil {
		return nil, err
	}
	key, err := pki.ParseKeyPEM(keyPEM)
	if err != nil {
		return nil, err
	}
	var v policy.Verdict
	if err := v.UnmarshalText([]byte(verdict)); err != nil {
		return nil, err
	}
	signedAt := time.UnixMilli(time.Now().UnixMilli())
	sig, err := policy.SignApproval(rand.Reader, key, policy.Hash(digest), v, signedAt)
	if err != nil {
		return nil, err
	}
	cl, err := t.Layout.DialAs(node, cc)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	return cl.Transfers.Decide(ctx, &transferpb.DecideRequest{RequestId: requestID, Officer: officer, Verdict: verdict, Digest: digest, Signature: sig,
		SignedAtUnixMs: signedAt.UnixMilli()})
}

// Wait polls a request until it reaches one of the states.
func Wait(ctx context.Context, cl transferpb.TransfersClient, id string, timeout time.Duration, states ...string) (*transferpb.Transfer, error) {
	deadline := time.Now().Add(timeout)
	// Waiting for an end (signed, denied, expired, failed) is a long poll
	// the node answers as soon as the request gets there, so a benchmark
	// measures the cluster and not a polling period; other states are polled.
	ends := map[string]bool{"signed": true, "denied": true, "expired": true, "failed": true}
	longPoll := true
	for _, s := range states {
		longPoll = longPoll && ends[s]
	}
	var last *transferpb.Transfer
	for time.Now().Before(deadline) {
		req := &transferpb.GetRequest{RequestId: id}
		if longPoll {
			req.WaitMs = uint32(min(time.Until(deadline), 30*time.Second).Milliseconds())
		}
		t, err := cl.Get(ctx, req)
		if err == nil {
			last = t
			for _, s := range states {
				if t.State == s {
					return t, nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-time.After(150 * time.Millisecond):
		}
	}
	state := "unknown"
	if last != nil {
		state = last.State + " (" + last.Reason + ")"
	}
	return last, fmt.Errorf("request %s did not reach %v within %s: %s", id, states, timeout, state)
}
