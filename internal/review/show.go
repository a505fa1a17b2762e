package review

import (
	"fmt"
	"strconv"
	"strings"
)

// Line is one labelled fact of a checked request.
type Line struct{ Label, Value string }

// Lines is what the transaction does, decoded by this client from the
// bytes the keys will sign (never the node's summary), then what the
// digest covers besides.
func (c *Checked) Lines() []Line {
	var out []Line
	add := func(label, format string, a ...any) { out = append(out, Line{label, fmt.Sprintf(format, a...)}) }
	dest := func(addr string) string {
		if d := c.Intent.Destination; d != addr && !strings.EqualFold(d, addr) {
			return fmt.Sprintf("%s (the intent names %q)", addr, d)
		}
		return addr
	}
	switch {
	case c.BTC != nil:
		s := c.BTC
		add("chain", "bitcoin %s", s.Network)
		add("from", "%s (wallet %s)", s.Source, c.Intent.SourceWallet)
		add("pays", "%s sat to %s", strconv.FormatInt(s.Amount, 10), dest(s.Destination))
		if s.Change > 0 {
			add("change", "%d sat back to %s", s.Change, s.Source)
		}
		add("fee", "%d sat (inputs − outputs)", s.Fee)
		for i, u := range c.Inputs {
			add("input "+strconv.Itoa(i), "%s: %d sat (under the signature)", u.OutPoint(), u.Amount)
		}
		add("txid", "%s", s.TxID)
	case c.ETH != nil:
		s := c.ETH
		add("chain", "ethereum %s (chain ID %d)", s.Network, s.ChainID)
		add("from", "%s (wallet %s)", s.Source, c.Intent.SourceWallet)
		if s.Token != "" {
			add("pays", "%s token units of %s to %s", s.Amount, s.Token, dest(s.Destination))
		} else {
			add("pays", "%s wei to %s", s.Amount, dest(s.Destination))
		}
		add("nonce", "%d", s.Nonce)
		add("fee", "at most %s wei (gas %d × %s wei; priority %s wei)", s.MaxFee, s.GasLimit, s.MaxFeePerGas, s.MaxPriorityFeePerGas)
	}
	add("asset", "%s", c.Intent.Asset)
	add("policy", "%.16s", c.PolicyHash)
	add("expires", "%s", c.Expires.Format("2006-01-02 15:04:05Z"))
	add("digest", "%x (recomputed here)", c.Digest)
	return out
}
