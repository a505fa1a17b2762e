package vault

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/vault/api"

	"github.com/cofferhq/coffer/hsm/vault/vaulttest"
)

// TestAuditDevices runs on a server of its own (an audit device applies to
// every request): a node starts when no device logs raw bodies, warns when
// its token may not list the devices, and refuses once one sets log_raw.
func TestAuditDevices(t *testing.T) {
	ctx := context.Background()
	srv, err := vaulttest.Start(ctx, vaulttest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	env.secrets = append(env.secrets, srv.RootToken)
	if err := srv.EnableTransit(ctx, DefaultMount); err != nil {
		t.Fatal(err)
	}
	root, err := vaulttest.WriteSecret(t.TempDir(), "root.token", srv.RootToken)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Connection: Connection{Address: srv.Addr, Auth: Auth{TokenFile: root}}}.WithDefaults()
	if _, err := Provision(ctx, cfg, testLogger(t)); err != nil {
		t.Fatal(err)
	}
	withPolicy := func(name, hcl string) Config {
		t.Helper()
		if err := srv.PutPolicy(ctx, name, hcl); err != nil {
			t.Fatal(err)
		}
		tok, err := srv.Token(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		env.secrets = append(env.secrets, tok)
		c := cfg
		c.Auth = Auth{TokenFile: writeFile(t, name+".token", tok)}
		return c
	}
	nodeCfg := withPolicy("node", NodePolicy(cfg))
	blindCfg := withPolicy("blind", strings.Replace(NodePolicy(cfg), `path "sys/audit"`, `path "sys/other"`, 1))
	enable := func(name string, raw bool) {
		t.Helper()
		opts := map[string]string{"file_path": filepath.Join(srv.Dir, name+".log")}
		if raw {
			opts["log_raw"] = "true"
		}
		if err := srv.Root().Sys().EnableAuditWithOptionsWithContext(ctx, name, &api.EnableAuditOptions{Type: "file", Options: opts}); err != nil {
			t.Fatalf("enable audit device %s: %v", name, err)
		}
	}
	open := func(t *testing.T, c Config) (string, error) {
		var logs lockedBuffer
		k, err := Open(ctx, c, testLoggerTo(t, &logs))
		if err == nil {
			k.Close()
		}
		return string(logs.Bytes()), err
	}

	enable("hashed", false)
	t.Run("ok/no device logs raw bodies (node policy may list them)", func(t *testing.T) {
		logs, err := open(t, nodeCfg)
		if err != nil || !strings.Contains(logs, "none logs raw bodies") {
			t.Fatalf("Open = %v\n%s", err, logs)
		}
	})
	t.Run("ok/a token that may not list them starts with a warning", func(t *testing.T) {
		logs, err := open(t, blindCfg)
		if err != nil || !strings.Contains(logs, "level=WARN") || !strings.Contains(logs, `path \"sys/audit\"`) {
			t.Fatalf("Open = %v\n%s", err, logs)
		}
	})
	enable("raw", true)
	for _, c := range []struct {
		name string
		cfg  Config
	}{{"fail/a device logs raw bodies (root token)", cfg}, {"fail/a device logs raw bodies (node policy)", nodeCfg}} {
		t.Run(c.name, func(t *testing.T) {
			_, err := open(t, c.cfg)
			if !errors.Is(err, ErrAuditLogRaw) || !strings.Contains(err.Error(), "raw/") || strings.Contains(err.Error(), "hashed/") {
				t.Fatalf("Open = %v, want ErrAuditLogRaw naming raw/ only", err)
			}
		})
	}
}
