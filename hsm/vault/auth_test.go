package vault

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/hsm"
)

// TestAppRoleRelogin opens a keystore whose AppRole tokens live 3 seconds:
// operations after that still work (the client logged in again at two
// thirds of the lifetime), and Close revokes the token.
func TestAppRoleRelogin(t *testing.T) {
	ctx := context.Background()
	roleID, secretID, err := env.srv.AppRole(ctx, "approle", "short", "3s", policyAllKeys)
	if err != nil {
		t.Fatal(err)
	}
	env.secrets = append(env.secrets, secretID)
	cfg := nodeConfig(Config{})
	cfg.Auth = Auth{AppRole: &AppRole{RoleIDFile: writeFile(t, "role", roleID), SecretIDFile: writeFile(t, "secret", secretID)}}
	var logs lockedBuffer
	k, err := Open(ctx, cfg, testLoggerTo(t, &logs))
	if err != nil {
		t.Fatalf("Open: %v", err)
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
