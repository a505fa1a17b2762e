#!/usr/bin/env bash
# build-vault.sh: build the Vault server binary that the hsm/vault tests start
# in dev mode, once, and cache it by version under $(go env GOPATH)/bin.
#
# Debian and npm ship no Vault server, so it is built from the Go module proxy
# with a throw-away module that requires github.com/hashicorp/vault at exactly
# VAULT_VERSION (later 1.21 patch releases do not compile against any published
# sdk) and carries the two non-local replace lines of Vault's own go.mod.
# A cold build takes about 11 minutes on 2 cores and ~7.5 GB of disk (module
# cache and build cache); the work directory is removed afterwards.
#
# Usage: scripts/build-vault.sh           build when missing, print the path
#        VAULT_VERSION=1.21.0 scripts/build-vault.sh
set -euo pipefail

VAULT_VERSION="${VAULT_VERSION:-1.21.0}"
GO="${GO:-go}"
BIN_DIR="$("$GO" env GOPATH)/bin"
OUT="$BIN_DIR/vault-$VAULT_VERSION"

if [ -x "$OUT" ]; then
	echo "$OUT"
	exit 0
fi

mkdir -p "$BIN_DIR"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/build-vault.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

cat >"$WORK/go.mod" <<MOD
module coffer.local/buildvault

go 1.25

require github.com/hashicorp/vault v$VAULT_VERSION

replace github.com/99designs/keyring => github.com/Jeffail/keyring v1.2.3

replace github.com/ma314smith/signedxml v1.1.1 => github.com/moov-io/signedxml v1.1.1
MOD
# A blank import keeps the requirement when "go mod" tidies nothing: the
# package built is Vault's main package, named on the command line.
cat >"$WORK/tools.go" <<'SRC'
//go:build tools

package buildvault

import _ "github.com/hashicorp/vault"
SRC

build() {
	(cd "$WORK" && GOWORK=off CGO_ENABLED=0 GOFLAGS= "$GO" build -mod=mod -trimpath \
		-ldflags='-s -w' -o "$WORK/vault" github.com/hashicorp/vault)
}

echo "building vault v$VAULT_VERSION (cold: ~11 min on 2 cores, ~7.5 GB disk)" >&2
start=$(date +%s)
if ! build; then
	echo "vault build failed; retrying once (a module download may have failed)" >&2
	build
fi
echo "vault v$VAULT_VERSION built in $(( $(date +%s) - start ))s" >&2

# Install atomically: a half-copied binary must never look cached.
cp "$WORK/vault" "$OUT.tmp.$$"
chmod 0755 "$OUT.tmp.$$"
mv -f "$OUT.tmp.$$" "$OUT"
"$OUT" version >&2
echo "$OUT"
