package main

import (
	"encoding/hex"
	"fmt"
	"io"
	"math/big"
	"strings"
	"time"

	"github.com/cofferhq/coffer/api/transferpb"
)

// printTransfer shows a transfer as an officer reviews it: every figure
// comes from the node's Summary, which the node decoded from the
// transaction bytes it built (not from the submitted intent).
func printTransfer(w io.Writer, t *transferpb.Transfer, now time.Time) {
	fmt.Fprintf(w, "transfer %s  %s\n", t.RequestId, stateText(t))
	row := func(label, format string, args ...any) {
		fmt.Fprintf(w, "  %-11s %s\n", label, fmt.Sprintf(format, args...))
	}
	if s := t.Summary; s != nil {
		row("source", "%s", endpoint(s.SourceWallet, s.SourceClass, s.SourceAddress))
		row("destination", "%s", endpoint(s.DestinationWallet, s.DestinationClass, s.Destination))
		row("amount", "%s", amountText(s, s.Amount))
		feeLabel := "fee"
		if s.Chain == "eth" {
			feeLabel = "max fee"
		}
		row(feeLabel, "%s", amountText(s, s.Fee))
		row("chain", "%s", chainText(s))
	} else {
		row("summary", "unavailable: the node could not rebuild the transaction under its active policy")
	}
	policyRows(row, t, now)
	row("digest", "%s", hex.EncodeToString(t.Digest))
	row("policy", "%s", orDash(t.PolicyHash))
	row("submitted", "%s by %s, expires %s", time.Unix(t.SubmittedAtUnix, 0).UTC().Format(time.RFC3339), orDash(t.Initiator),
		time.Unix(t.ExpiresAtUnix, 0).UTC().Format(time.RFC3339))
	if t.Reason != "" {
		row("reason", "%s", t.Reason)
	}
	if t.TxHash != "" {
		row("tx hash", "%s", t.TxHash)
	}
	if len(t.SignedTx) > 0 {
		row("signed tx", "%s", hex.EncodeToString(t.SignedTx))
	}
}

// policyRows shows where the policy stands on t, as the node evaluates
// it: the rule, what is missing, the timelock, the decisions so far.
func policyRows(row func(label, format string, args ...any), t *transferpb.Transfer, now time.Time) {
	row("rule", "%s", orDash(t.Rule))
	if len(t.Missing) == 0 {
		row("missing", "nothing")
	}
	for i, m := range t.Missing {
		label := ""
		if i == 0 {
			label = "missing"
		}
		row(label, "%s", m)
	}
	row("timelock", "%s", timelockText(t.NotBeforeUnix, now))
	for i, a := range t.Approvals {
		label := ""
		if i == 0 {
			label = "decisions"
		}
		row(label, "%s %s at %s", a.Officer, a.Verdict, time.Unix(a.AtUnix, 0).UTC().Format(time.RFC3339))
	}
}

// endpoint is "wallet (class) address", or "external address".
func endpoint(wallet, class, addr string) string {
	if wallet == "" {
		return fmt.Sprintf("%s %s", orDash(class), addr)
	}
	return fmt.Sprintf("%s (%s) %s", wallet, class, addr)
}

// shortEndpoint is endpoint for a table: the wallet and class, or the
// class and a shortened address.
func shortEndpoint(wallet, class, addr string) string {
	if wallet != "" {
		return fmt.Sprintf("%s (%s)", wallet, class)
	}
	if len(addr) > 18 {
		addr = addr[:10] + "…" + addr[len(addr)-6:]
	}
	return fmt.Sprintf("%s %s", orDash(class), addr)
}

// amountText shows base units and, for a chain's native coin, the coin
// amount: "3000000 sat (0.03 BTC)".
func amountText(s *transferpb.Summary, base string) string {
	if base == "" {
		return "-"
	}
	switch {
	case s.Chain == "btc" && s.Token == "":
		return fmt.Sprintf("%s sat (%s BTC)", base, decimalUnits(base, 8))
	case s.Chain == "eth" && s.Token == "" && (s.Asset == "ETH" || s.Asset == ""):
		return fmt.Sprintf("%s wei (%s ETH)", base, decimalUnits(base, 18))
	case s.Token != "":
		return fmt.Sprintf("%s base units of %s (token %s)", base, s.Asset, s.Token)
	}
	return fmt.Sprintf("%s base units of %s", base, s.Asset)
}

// decimalUnits writes an integer amount of base units with decimals
// places, trailing zeros trimmed; "?" when base is not an integer.
func decimalUnits(base string, decimals int) string {
	v, ok := new(big.Int).SetString(base, 10)
	if !ok || v.Sign() < 0 {
		return "?"
	}
	unit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals)), nil)
	q, r := new(big.Int).QuoRem(v, unit, new(big.Int))
	if r.Sign() == 0 {
		return q.String()
	}
	frac := r.String()
	frac = strings.Repeat("0", decimals-len(frac)) + frac
	return q.String() + "." + strings.TrimRight(frac, "0")
}

func chainText(s *transferpb.Summary) string {
	parts := []string{s.Chain}
	if s.Network != "" {
		parts = append(parts, s.Network)
	}
	if s.Chain == "eth" {
		parts = append(parts, fmt.Sprintf("nonce %d", s.Nonce))
	}
	if len(s.Inputs) > 0 {
		parts = append(parts, "inputs "+strings.Join(s.Inputs, ", "))
	}
	return strings.Join(parts, "  ")
}

// timelockText says when the timelock ends (not_before), if there is one.
func timelockText(notBefore int64, now time.Time) string {
	if notBefore == 0 {
		return "none"
	}
	at := time.Unix(notBefore, 0).UTC()
	if now.Before(at) {
		return fmt.Sprintf("not before %s (in %s)", at.Format(time.RFC3339), at.Sub(now).Round(time.Second))
	}
	return fmt.Sprintf("ended %s", at.Format(time.RFC3339))
}

// age is how long ago unix was, rounded for a table.
func age(unix int64, now time.Time) string {
	d := now.Sub(time.Unix(unix, 0))
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// stateText is a transfer's state as people read it: a signing request
// that may hold a withheld signature says so, and a retried one which try
// it is on.
func stateText(t *transferpb.Transfer) string {
	switch {
	case t.PossiblySigned:
		return t.State + " (possibly signed: a signer's last-round share went out; inputs and spend stay held)"
	case t.State == "failed":
		return fmt.Sprintf("failed (try %d; retried after a backoff until it expires)", t.Attempts)
	case t.State == "signing" && t.Attempts > 1:
		return fmt.Sprintf("signing (try %d)", t.Attempts)
	}
	return t.State
}
