package migration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/cofferhq/coffer/hsm/pkcs11"
	"github.com/cofferhq/coffer/hsm/softhsm"
	"github.com/cofferhq/coffer/signer"
	ctss "github.com/cofferhq/coffer/signer/tss"
)

// generate makes a fixture with the current release: four SoftHSM tokens
// (node1..node4, keys provisioned as a node does), a 2-of-3 keygen of one
// key by node1..node3 in process, each share sealed in its node's token,
// and one pre-parameter set sealed per node (node4 holds only those: it
// joins a new committee in the reshare test).
func generate(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	module, err := softhsm.ModulePath()
	if err != nil {
		return err
	}
	conf, err := softhsm.WriteConf(dir)
	if err != nil {
		return err
	}
	defer os.Remove(conf) // it holds this machine's absolute paths
	if err := os.Setenv("SOFTHSM2_CONF", conf); err != nil {
		return err
	}
	f := &fixture{
		Made: madeBy(), Cluster: "migration", KeyID: "hot-1", Threshold: 1,
		Committee: []string{"node1", "node2", "node3"}, UserPIN: "coffer-test-fixture-1234",
		TokenPrefix: "mig-", Shares: map[string][]byte{}, PreParams: map[string][]byte{},
	}
	pinFile := filepath.Join(dir, "..", ".pin-"+filepath.Base(dir))
	if err := os.WriteFile(pinFile, []byte(f.UserPIN+"\n"), 0o600); err != nil {
		return err
	}
	defer os.Remove(pinFile)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	nodes := []string{"node1", "node2", "node3", "node4"}
	for _, n := range nodes {
		if err := softhsm.InitToken(ctx, conf, f.TokenPrefix+n, "so-"+f.UserPIN, f.UserPIN); err != nil {
			return err
		}
		if _, err := pkcs11.Provision(pkcs11.Config{Module: module, TokenLabel: f.TokenPrefix + n, PINFile: pinFile}, quiet()); err != nil {
			return err
		}
	}
	pps, err := fixturePreParams()
	if err != nil {
		return err
	}
	net := newMemNet()
	for i, n := range f.Committee {
		s, err := ctss.NewKeygen(ctss.KeygenConfig{SessionID: []byte("migration-keygen"), Cluster: f.Cluster, Self: n, KeyID: f.KeyID,
			Threshold: f.Threshold, Nodes: f.Committee, PreParams: pps[i], Log: quiet()})
		if err != nil {
			return err
		}
		net.add(n, s)
	}
	res, err := runAll(ctx, net)
	if err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	for _, n := range nodes {
		ks, err := pkcs11.Open(pkcs11.Config{Module: module, TokenLabel: f.TokenPrefix + n, PINFile: pinFile}, quiet())
		if err != nil {
			return err
		}
		if r, ok := res[n]; ok {
			if f.PublicKey == nil {
				if f.PublicKey, err = ctss.CompressedPubKey(r.PublicKey); err != nil {
					return err
				}
			}
			plain, err := ctss.MarshalShare(r.Share)
			if err != nil {
				return err
			}
			if f.Shares[n], err = ks.Seal(ctx, signer.ShareAAD(f.Cluster, n, f.KeyID, f.Generation), plain); err != nil {
				return err
			}
		}
		plain, err := ctss.MarshalPreParams(pps[3+len(f.PreParams)])
		if err != nil {
			return err
		}
		if f.PreParams[n], err = ks.Seal(ctx, signer.PreParamsAAD(f.Cluster, n), plain); err != nil {
			return err
		}
		if err := ks.Close(); err != nil {
			return err
		}
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "fixture.json"), append(b, '\n'), 0o644)
}

// fixturePreParams are the tss package's test pre-parameters.
func fixturePreParams() ([]*ctss.PreParams, error) {
	b, err := os.ReadFile("../../signer/tss/testdata/preparams.json")
	if err != nil {
		return nil, err
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, err
	}
	if len(raw) < 7 {
		return nil, fmt.Errorf("need 7 pre-parameter sets, have %d", len(raw))
	}
	out := make([]*ctss.PreParams, len(raw))
	for i, r := range raw {
		if out[i], err = ctss.UnmarshalPreParams(r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func madeBy() string {
	lib := "unknown tss-lib"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if len(d.Path) > 25 && d.Path[:25] == "github.com/bnb-chain/tss-" {
				lib = d.Path + " " + d.Version
			}
		}
	}
	return "coffer " + time.Now().UTC().Format("2006-01-02") + " with " + lib
}
