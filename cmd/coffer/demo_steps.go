package main

import (
	"fmt"
	"time"

	"github.com/cofferhq/coffer/internal/devcluster"
)

func (s *story) sweep() error {
	step(s.w, "hot → cold sweep: the policy allows it without approvals, within limits")
	w := s.tr.Wallets
	t, err := s.submit(devcluster.BTCIntent("sweep-1", w["btc-hot"], "btc-cold", 25_000_000, devcluster.FakeUTXO(w["btc-hot"], 40_000_000)))
	if err != nil {
		return err
	}
	return s.signed(t.RequestId)
}

func (s *story) refill() error {
	step(s.w, "cold → hot refill: two treasury approvals and a 3s timelock")
	w := s.tr.Wallets
	t, err := s.submit(devcluster.BTCIntent("refill-1", w["btc-cold"], "btc-hot", 10_000_000, devcluster.FakeUTXO(w["btc-cold"], 60_000_000)))
	if err != nil {
		return err
	}
	if _, err := s.decide("node2", "tom", "approve", t); err != nil {
		return err
	}
	after, err := s.decide("node3", "tina", "approve", t)
	if err != nil {
		return err
	}
	if after.NotBeforeUnix > 0 {
		fmt.Fprintf(s.w, "  waiting for the timelock (until %s)…\n", time.Unix(after.NotBeforeUnix, 0).Format("15:04:05"))
	}
	return s.signed(t.RequestId)
}

func (s *story) safu() error {
	step(s.w, "SAFU outflow: treasury AND risk approvals, and a 5s timelock")
	w := s.tr.Wallets
	t, err := s.submit(devcluster.BTCIntent("safu-1", w["btc-safu"], "btc-cold", 5_000_000, devcluster.FakeUTXO(w["btc-safu"], 9_000_000)))
	if err != nil {
		return err
	}
	if _, err := s.decide("node1", "tom", "approve", t); err != nil {
		return err
	}
	if _, err := s.decide("node2", "rita", "approve", t); err != nil {
		return err
	}
	return s.signed(t.RequestId)
}

func (s *story) ethSweep() error {
	step(s.w, "Ethereum: hot → cold sweep (EIP-1559, chain 1337)")
	w := s.tr.Wallets
	t, err := s.submit(devcluster.ETHIntent("eth-sweep-1", w["eth-hot"], "eth-cold", "3000000000000000000", 0))
	if err != nil {
		return err
	}
	return s.signed(t.RequestId)
}

func (s *story) refusals() error {
	step(s.w, "refusals")
	w := s.tr.Wallets
	t, err := s.submit(devcluster.BTCIntent("cold-out-1", w["btc-cold"], s.tr.Partner, 1_000_000, devcluster.FakeUTXO(w["btc-cold"], 3_000_000)))
	if err != nil {
		return err
	}
	if t.State != "denied" {
		return fmt.Errorf("cold → external was not denied: %s", t.State)
	}
	fmt.Fprintln(s.w, "  a replayed approval: tom's signature over refill-1's digest, presented for a new refill")
	next, err := s.submit(devcluster.BTCIntent("refill-2", w["btc-cold"], "btc-hot", 2_000_000, devcluster.FakeUTXO(w["btc-cold"], 3_000_000)))
	if err != nil {
		return err
	}
	old := s.done[1] // refill-1
	_, err = s.tr.Decide(s.ctx, "node1", "tom", "approve", next.RequestId, old.Digest)
	if err == nil {
		return fmt.Errorf("a replayed approval was accepted")
	}
	fmt.Fprintf(s.w, "  ✗ refused: %s\n", refused(err))
	return nil
}
