package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/policy"
)

// newPolicyCmd groups the policy tools: lint, hash, sign, explain, keygen.
// Policy files are read here; package policy itself does no I/O.
func newPolicyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Check, hash, sign and explain transfer policies",
	}
	cmd.AddCommand(newPolicyLintCmd(), newPolicyHashCmd(), newPolicySignCmd(), newPolicyExplainCmd(), newPolicyKeygenCmd(), newPolicySubmitCmd())
	return cmd
}

func newPolicyLintCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "lint FILE",
		Short: "Validate a policy document and report every problem",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := polLoad(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok: version %d, %d rules, hash %s\n", args[0], p.Version(), len(p.RuleIDs()), p.Hash())
			return nil
		},
	}
}

func newPolicyHashCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "hash FILE",
		Short: "Print the policy's content hash (SHA-256 of its canonical JSON, hex)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := polLoad(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), p.Hash())
			return nil
		},
	}
}

func newPolicySignCmd() *cobra.Command {
	var keyFile, admin, out string
	cmd := &cobra.Command{
		Use:   "sign --key KEYFILE FILE",
		Short: "Make an admin's detached signature over a policy's hash",
		Long: "Signs \"" + policy.PolicyDomain + "\" ‖ hash with an Ed25519 or P-256 private key (PKCS#8 PEM).\n" +
			"The admin ID defaults to the admin of FILE whose public key matches KEYFILE.\n" +
			"The signature (JSON) goes to --out, or to standard output.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := polLoad(args[0])
			if err != nil {
				return err
			}
			signer, pub, err := polReadSigner(keyFile)
			if err != nil {
				return err
			}
			switch k, listed := p.AdminKey(admin); {
			case admin == "":
				if admin, err = polAdminOf(p, pub); err != nil {
					return err
				}
			case !listed || !k.Equal(pub):
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s does not list admin %s with this key; it counts only if the active version does\n", args[0], admin)
			}
			sig, err := policy.SignPolicy(rand.Reader, signer, admin, p.Hash())
			if err != nil {
				return err
			}
			if !pub.Verify(policy.PolicyMessage(p.Hash()), sig.Signature) {
				return errors.New("sign policy: the new signature does not verify")
			}
			b, err := json.MarshalIndent(sig, "", "  ")
			if err != nil {
				return fmt.Errorf("encode signature: %w", err)
			}
			b = append(b, '\n')
			if out == "" {
				_, err = cmd.OutOrStdout().Write(b)
				return err
			}
			if err := os.WriteFile(out, b, 0o644); err != nil {
				return fmt.Errorf("write signature: %w", err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "signed %s as %s: %s\n", p.Hash(), admin, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&keyFile, "key", "", "admin private key, PKCS#8 PEM (required)")
	cmd.Flags().StringVar(&admin, "admin", "", "admin ID to sign as (default: found by key in FILE)")
	cmd.Flags().StringVar(&out, "out", "", "write the signature to this file instead of standard output")
	_ = cmd.MarkFlagRequired("key")
	return cmd
}

func newPolicyExplainCmd() *cobra.Command {
	var reqFile, stateFile, nowText string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "explain FILE --request REQUEST.json [--state STATE.json] [--now RFC3339]",
		Short: "Evaluate a transfer request against a policy and print the decision and its trace",
		Long: "Evaluate a transfer request against a policy and print the decision and its trace.\n\n" +
			"The request is policy.Request as JSON. Its fee is in the chain's native base units; a btc\n" +
			"request gives the signed transaction's \"vsize\" (vB) when the policy has a max_fee_rate, an eth\n" +
			"request its call with \"max_priority_fee_per_gas\". The state's spends may carry a \"fee\": it\n" +
			"counts toward fee_budgets and source-scoped limits of the native asset. The trace shows each\n" +
			"fee bound and window total; a denial names the bound with both numbers.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := polLoad(args[0])
			if err != nil {
				return err
			}
			b, err := os.ReadFile(reqFile)
			if err != nil {
				return fmt.Errorf("read request: %w", err)
			}
			req, err := policy.DecodeRequestJSON(b)
			if err != nil {
				return fmt.Errorf("%s: %w", reqFile, err)
			}
			var snap policy.Snapshot
			if stateFile != "" {
				if b, err = os.ReadFile(stateFile); err != nil {
					return fmt.Errorf("read state: %w", err)
				}
				if snap, err = policy.DecodeSnapshotJSON(b); err != nil {
					return fmt.Errorf("%s: %w", stateFile, err)
				}
			}
			st, err := policy.NewState(snap)
			if err != nil {
				return fmt.Errorf("%s: %w", stateFile, err)
			}
			now := time.Now().UTC()
			if nowText != "" {
				if now, err = time.Parse(time.RFC3339Nano, nowText); err != nil {
					return fmt.Errorf("parse --now: %w", err)
				}
			}
			d := policy.Evaluate(p, st, req, now)
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(d)
			}
			polPrintDecision(cmd.OutOrStdout(), d)
			return nil
		},
	}
	cmd.Flags().StringVar(&reqFile, "request", "", "transfer request, JSON (required)")
	cmd.Flags().StringVar(&stateFile, "state", "", "ledger state snapshot, JSON (default: empty)")
	cmd.Flags().StringVar(&nowText, "now", "", "evaluation time, RFC 3339 (default: the current time)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the decision as JSON")
	_ = cmd.MarkFlagRequired("request")
	return cmd
}

func newPolicyKeygenCmd() *cobra.Command {
	var out, alg string
	cmd := &cobra.Command{
		Use:   "keygen --out FILE [--type ed25519|p256]",
		Short: "Make an officer or admin key: private key to FILE (PKCS#8 PEM, 0600), public key printed",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var priv crypto.Signer
			var err error
			switch alg {
			case "ed25519":
				_, priv, err = ed25519.GenerateKey(rand.Reader)
			case "p256":
				priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			default:
				return fmt.Errorf("key type %q: want ed25519 or p256", alg)
			}
			if err != nil {
				return fmt.Errorf("generate key: %w", err)
			}
			der, err := x509.MarshalPKCS8PrivateKey(priv)
			if err != nil {
				return fmt.Errorf("encode key: %w", err)
			}
			pub, err := policy.PublicKeyFrom(priv.Public())
			if err != nil {
				return err
			}
			f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return fmt.Errorf("create key file: %w", err)
			}
			if err := errors.Join(pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}), f.Close()); err != nil {
				return fmt.Errorf("write key file: %w", err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), pub)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "private key file to create (required; never overwritten)")
	cmd.Flags().StringVar(&alg, "type", "ed25519", "key type: ed25519 or p256")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

// polLoad reads, decodes and validates a policy file.
func polLoad(path string) (*policy.Policy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read policy: %w", err)
	}
	p, err := policy.Load(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// polReadSigner reads an Ed25519 or P-256 private key in PKCS#8 PEM.
func polReadSigner(path string) (crypto.Signer, policy.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, policy.PublicKey{}, fmt.Errorf("read key: %w", err)
	}
	block, rest := pem.Decode(b)
	if block == nil || block.Type != "PRIVATE KEY" || len(strings.TrimSpace(string(rest))) > 0 {
		return nil, policy.PublicKey{}, fmt.Errorf("read key %s: want one PKCS#8 \"PRIVATE KEY\" PEM block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, policy.PublicKey{}, fmt.Errorf("read key %s: %w", path, err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, policy.PublicKey{}, fmt.Errorf("read key %s: %T: %w", path, k, policy.ErrUnsupportedKey)
	}
	pub, err := policy.PublicKeyFrom(signer.Public())
	if err != nil {
		return nil, policy.PublicKey{}, fmt.Errorf("read key %s: %w", path, err)
	}
	return signer, pub, nil
}

// polAdminOf finds the admin of p whose key is pub.
func polAdminOf(p *policy.Policy, pub policy.PublicKey) (string, error) {
	for _, a := range p.Document().Admins.Members {
		if k, ok := p.AdminKey(a.ID); ok && k.Equal(pub) {
			return a.ID, nil
		}
	}
	return "", fmt.Errorf("no admin of this policy has key %s; name one with --admin", pub)
}

func polPrintDecision(w io.Writer, d policy.Decision) {
	fmt.Fprintf(w, "decision:   %s\n", d.Effect)
	if d.Rule != "" {
		fmt.Fprintf(w, "rule:       %s\n", d.Rule)
	}
	fmt.Fprintf(w, "reason:     %s\n", d.Reason)
	for i, m := range d.Missing {
		label := "missing:"
		if i > 0 {
			label = ""
		}
		fmt.Fprintf(w, "%-11s %s\n", label, m.Text)
	}
	if !d.NotBefore.IsZero() {
		fmt.Fprintf(w, "not before: %s\n", d.NotBefore.Format(time.RFC3339))
	}
	if len(d.Approvers) > 0 {
		fmt.Fprintf(w, "approvers:  %s\n", strings.Join(d.Approvers, ", "))
	}
	fmt.Fprintf(w, "policy:     %s\ntrace:\n", d.PolicyHash)
	for i, line := range d.Trace {
		fmt.Fprintf(w, "  %3d  %s\n", i+1, line)
	}
}
