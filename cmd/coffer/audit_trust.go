package main

import (
	"bytes"
	"fmt"
	"os"
	"slices"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/cofferhq/coffer/audit"
	"github.com/cofferhq/coffer/signer"
)

func newAuditTrustCmd(clusterPath *string) *cobra.Command {
	var out string
	var configs []string
	var threshold, minCosigs int
	cmd := &cobra.Command{
		Use:   "trust --out TRUST [--cluster DIR | --config NODE.yaml...] [--threshold T] [--min-cosignatures N]",
		Short: "Write an audit trust file from the cluster's node configs",
		Long: `Trust writes the file ` + "`coffer audit verify --trust`" + ` pins: every node's
note verifier key (made from the identity key the node configs list, the
public half of the node's HSM key), the threshold t (a signature must be
backed by allow decisions in t+1 nodes' logs; key records in the logs may
demand more), and the cosignatures each node's latest checkpoint needs.

The configs are the dev cluster's (--cluster) or the files named with
--config; they must all list the same members and keys. Write the trust
file once, from configs you trust, and keep it with your audits: a trust
file made from a tampered config proves nothing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(configs) == 0 {
				l, err := clusterLayout(*clusterPath)
				if err != nil {
					return err
				}
				for _, n := range l.Nodes {
					configs = append(configs, l.Path(n.Config))
				}
			}
			keys, cluster, err := trustedKeys(configs)
			if err != nil {
				return fmt.Errorf("audit trust: %w", err)
			}
			if minCosigs < 0 {
				minCosigs = min(threshold, len(keys)-1)
			}
			t, err := audit.NewTrust(threshold, minCosigs, keys...)
			if err != nil {
				return fmt.Errorf("audit trust: %w", err)
			}
			var b bytes.Buffer
			fmt.Fprintf(&b, "# coffer audit trust file for cluster %q, written by `coffer audit trust` from %d node config(s).\n", cluster, len(configs))
			body, err := yaml.Marshal(t)
			if err != nil {
				return fmt.Errorf("audit trust: %w", err)
			}
			b.Write(body)
			if _, err := audit.ParseTrust(bytes.NewReader(b.Bytes())); err != nil {
				return fmt.Errorf("audit trust: the file would not read back: %w", err)
			}
			if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
				return fmt.Errorf("audit trust: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "trust file %s: %d nodes of cluster %s, t=%d, min cosignatures %d\n",
				out, len(keys), cluster, t.Threshold, t.MinCosignatures)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "trust file to write (required)")
	f.StringArrayVar(&configs, "config", nil, "a node config (repeatable; default: every node of --cluster)")
	f.IntVar(&threshold, "threshold", 1, "t: a signature needs allow decisions in t+1 nodes' logs")
	f.IntVar(&minCosigs, "min-cosignatures", -1, "cosignatures each node's latest checkpoint needs (default: t, at most nodes-1)")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

// trustedKeys reads node configs and returns the members' audit verifier
// keys, refusing configs that disagree on the cluster, the members or a
// key.
func trustedKeys(paths []string) ([]string, string, error) {
	var keys []string
	var cluster, first string
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, "", err
		}
		cfg, err := signer.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			return nil, "", fmt.Errorf("config %s: %w", p, err)
		}
		ks, err := signer.AuditVerifierKeys(cfg)
		if err != nil {
			return nil, "", fmt.Errorf("config %s: %w", p, err)
		}
		if len(ks) == 0 {
			return nil, "", fmt.Errorf("config %s lists no members", p)
		}
		slices.Sort(ks)
		if keys == nil {
			keys, cluster, first = ks, cfg.Cluster, p
			continue
		}
		if cfg.Cluster != cluster || !slices.Equal(ks, keys) {
			return nil, "", fmt.Errorf("configs %s and %s disagree on the cluster's members or their keys", first, p)
		}
	}
	return keys, cluster, nil
}
