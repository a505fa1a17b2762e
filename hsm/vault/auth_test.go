package vault

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/hsm"
)

// TestAppRoleRelogin opens a keystore whose AppRole tokens live 3 seconds:
// operations after that still work (the client logged in again at two
// thirds of the lifetime, with the secret ID it took from the environment,
// which no longer holds it), and Close revokes the token.
func TestAppRoleRelogin(t *testing.T) {
	ctx := context.Background()
	roleID, secretID, err := env.srv.AppRole(ctx, "approle", "short", "3s", policyAllKeys)
	if err != nil {
		t.Fatal(err)
	}
	env.secrets = append(env.secrets, secretID)
	cfg := nodeConfig(Config{})
	const secretVar = "COFFER_TEST_RELOGIN_SECRET_ID"
	t.Setenv(secretVar, secretID)
	cfg.Auth = Auth{AppRole: &AppRole{RoleIDFile: writeFile(t, "role", roleID), SecretIDEnv: secretVar}}
	var logs lockedBuffer
	k, err := Open(ctx, cfg, testLoggerTo(t, &logs))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if _, set := os.LookupEnv(secretVar); set {
		t.Fatalf("%s is still in the environment after Open", secretVar)
	}
	b, err := k.Seal(ctx, nil, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(3500 * time.Millisecond) // the first token has expired
	if _, err := k.Open(ctx, nil, b); err != nil {
		t.Fatalf("Open after the first token expired: %v", err)
	}
	if n := bytes.Count(logs.Bytes(), []byte("vault AppRole login")); n < 2 {
		t.Fatalf("%d AppRole logins, want a second one", n)
	}
	token := k.c.API().Token()
	if err := k.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	_, err = env.srv.Root().Auth().Token().Lookup(token)
	if err == nil {
		t.Fatal("the AppRole token still exists after Close")
	}
	if _, err := k.Seal(ctx, nil, []byte("x")); !errors.Is(err, hsm.ErrClosed) {
		t.Fatalf("Seal after Close: %v", err)
	}
	if strings.Contains(string(logs.Bytes()), secretID) {
		t.Fatal("the secret ID is in the logs")
	}
}

// TestTokenVariableUnset: a token read from the environment leaves it at
// once (no child process inherits it); a second Open in the process still
// logs in with it.
func TestTokenVariableUnset(t *testing.T) {
	const name = "COFFER_TEST_TOKEN_UNSET"
	b, err := os.ReadFile(env.nodeTokenFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(name, strings.TrimSpace(string(b)))
	cfg := nodeConfig(Config{})
	cfg.Auth = Auth{TokenEnv: name}
	for i := range 2 {
		openTest(t, cfg)
		if _, set := os.LookupEnv(name); set {
			t.Fatalf("Open #%d: %s is still in the environment", i+1, name)
		}
	}
}
