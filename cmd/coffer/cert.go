package main

import (
	"encoding/hex"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/pki"
)

// newCertCmd groups certificate tools for operators.
func newCertCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "cert", Short: "Certificates: what to put in a node's tls.revoked"}
	cmd.AddCommand(newCertShowCmd())
	return cmd
}

func newCertShowCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show CERT.pem...",
		Short: "Print a certificate's holder, role, serial and key hash, as tls.revoked takes them",
		Long: `Print each certificate's holder, role, validity, serial number and the
SHA-256 of its SubjectPublicKeyInfo. To revoke it, add the serial (this
certificate only) or the key hash (every certificate of that key) under
tls.revoked in every node's config, then send each cofferd SIGHUP (or
restart it): the node refuses the certificate from its next call on.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			w := cmd.OutOrStdout()
			for _, f := range args {
				b, err := os.ReadFile(f)
				if err != nil {
					return fmt.Errorf("read %s: %w", f, err)
				}
				c, err := pki.ParseCertPEM(b)
				if err != nil {
					return fmt.Errorf("%s: %w", f, err)
				}
				role := "(none)"
				if id, err := pki.IdentityOf(c); err == nil {
					role = id.Role
				}
				h := pki.SPKIHash(c)
				fmt.Fprintf(w, "%s\n  holder       %s\n  role         %s\n  valid        %s .. %s\n", f, c.Subject.CommonName, role,
					c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339))
				fmt.Fprintf(w, "  serial       %s\n  spki_sha256  %s\n", pki.SerialHex(c), hex.EncodeToString(h[:]))
				fmt.Fprintf(w, "  tls:\n    revoked:\n      serials: [%q]        # this certificate\n      # spki_sha256: [%q]  # every certificate of its key\n",
					pki.SerialHex(c), hex.EncodeToString(h[:]))
			}
			return nil
		},
	}
}
