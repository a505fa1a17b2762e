package pkcs11

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	p11 "github.com/miekg/pkcs11"

	"github.com/cofferhq/coffer/hsm"
)

func TestProvision(t *testing.T) {
	log := testLogger(t)
	// Fresh labels each run, so that -count=N works on the one token.
	n := keySets.Add(1)
	cfg := testConfig(tokProv)
	cfg.SealKeyLabel, cfg.IdentityKeyLabel = fmt.Sprintf("prov-seal-%d", n), fmt.Sprintf("prov-node-%d", n)
	sealKey, idKey := fmt.Sprintf("seal key %q", cfg.SealKeyLabel), fmt.Sprintf("identity key %q", cfg.IdentityKeyLabel)
	pub, err := Provision(cfg, log)
	if err != nil {
		t.Fatalf("Provision: %v", err)
	}
	k := openTest(t, cfg)
	if !k.PublicKey().Equal(pub) {
		t.Fatal("Open found another identity key than Provision made")
	}
	got, err := PublicIdentity(cfg, log)
	if err != nil || !got.Equal(pub) {
		t.Fatalf("PublicIdentity = %x, %v; want %x", got, err, pub)
	}

	tests := []struct {
		name       string
		edit       func(t *testing.T, c *Config)
		want       error
		mention    []string
		mustAbsent string // a label that must not have been created
	}{
		{"fail/both-exist", func(*testing.T, *Config) {}, hsm.ErrKeyExists, []string{sealKey, `"provision"`}, ""},
		{"fail/identity-exists", func(t *testing.T, c *Config) { c.SealKeyLabel = fmt.Sprintf("fresh-seal-%d", n) },
			hsm.ErrKeyExists, []string{idKey}, fmt.Sprintf("fresh-seal-%d", n)},
		{"fail/seal-exists", func(t *testing.T, c *Config) { c.IdentityKeyLabel = fmt.Sprintf("fresh-node-%d", n) },
			hsm.ErrKeyExists, []string{sealKey}, fmt.Sprintf("fresh-node-%d", n)},
		{"fail/wrong-pin", func(t *testing.T, c *Config) {
			c.PINFile, c.SealKeyLabel, c.IdentityKeyLabel = writeFile(t, "pin", "wrong-pin"), "s2", "i2"
		}, hsm.ErrLogin, []string{`"provision"`}, "s2"},
		{"fail/missing-token", func(t *testing.T, c *Config) { c.TokenLabel = "absent" },
			hsm.ErrTokenNotFound, []string{`"absent"`}, ""},
		{"fail/nil-logger", nil, nil, []string{"missing logger"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, l := cfg, log
			if tc.edit != nil {
				tc.edit(t, &c)
			} else {
				l = nil
			}
			_, err := Provision(c, l)
			if err == nil {
				t.Fatal("Provision succeeded")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			for _, m := range tc.mention {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("err = %q, want it to mention %q", err, m)
				}
			}
			if tc.mustAbsent != "" {
				hs, err := k.mod.findObjects(k.cur.Load().tok.sh, []*p11.Attribute{p11.NewAttribute(p11.CKA_LABEL, tc.mustAbsent)})
				if err != nil || len(hs) != 0 {
					t.Errorf("a refused Provision left %d objects labelled %q (%v)", len(hs), tc.mustAbsent, err)
				}
			}
		})
	}
}
