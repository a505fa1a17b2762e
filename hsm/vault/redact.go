package vault

import (
	"fmt"
	"io"
	"log/slog"
)

// The Client holds the Vault token (inside its vault/api client), and the
// Keystore holds the Client. fmt prints unexported fields by reflection,
// and a wrong verb even prints a field's pointer target (%q of a Client
// would print the api client and its token), so both format and log as
// what they name, never their fields.
var (
	_ slog.LogValuer = secret{}
	_ slog.LogValuer = (*Client)(nil)
	_ fmt.Formatter  = (*Client)(nil)
	_ slog.LogValuer = (*Keystore)(nil)
	_ fmt.Formatter  = (*Keystore)(nil)
)

// LogValue names the server and how the token was obtained.
func (c *Client) LogValue() slog.Value { return slog.StringValue(c.String()) }

// String names the server and how the token was obtained.
func (c *Client) String() string {
	if c == nil {
		return "<nil>"
	}
	return fmt.Sprintf("vault client of %s (%s)", c.conn.Address, c.auth)
}

// Format names the client, whatever the verb.
func (c *Client) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

// LogValue names the server, the mount and the keys.
func (k *Keystore) LogValue() slog.Value { return slog.StringValue(k.String()) }

// String names the server, the mount and the keys.
func (k *Keystore) String() string {
	if k == nil {
		return "<nil>"
	}
	return fmt.Sprintf("vault keystore on %s, mount %q (seal key %q, identity key %q)",
		k.cfg.Address, k.cfg.Mount, k.cfg.SealKey, k.cfg.IdentityKey)
}

// Format names the keystore, whatever the verb.
func (k *Keystore) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }
