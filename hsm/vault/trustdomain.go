package vault

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// A node's Vault token is its HSM and PIN in one bearer credential, and
// whoever runs that Vault (its admins, the holders of its unseal or
// recovery keys together with its storage) can mint such a token. So one
// Vault is one trust domain: if it holds the keys of t+1 members of a key's
// committee, it alone can unseal t+1 shares and rebuild the key. A cluster
// must spread its Vault members so that no Vault holds more than t of any
// committee (signer config validation and keygen check this; SECURITY.md,
// "Vault backend").
//
// Vault Enterprise namespaces do not split a trust domain: every namespace
// of a cluster shares its unseal keys, its storage and its root operators.
// This backend sends no namespace, and TrustDomain ignores none.

// TrustDomain names the Vault an address reaches, to compare members'
// Vaults: scheme, lower-case host and port (the scheme's default when the
// address gives none), as in "https://vault-a.example:8200". Two names or
// addresses of one server (a DNS alias, its IP) are not recognized as one:
// the comparison catches layouts written by mistake, not disguised ones.
func TrustDomain(address string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(address))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", fmt.Errorf("%q is not a Vault address (https://host:port)", address)
	}
	port := u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	return u.Scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port), nil
}
