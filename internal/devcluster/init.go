package devcluster

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/cofferhq/coffer/hsm/pkcs11"
	"github.com/cofferhq/coffer/hsm/softhsm"
	"github.com/cofferhq/coffer/hsm/vault"
	"github.com/cofferhq/coffer/pki"
	"github.com/cofferhq/coffer/signer"
)

// Options shape a development cluster.
type Options struct {
	Nodes           int
	Cluster         string
	SelfTestSigning bool
	PoolSize        int  // pre-parameter pool target per node
	Generate        bool // fill the pool in the background
	SessionTimeout  time.Duration
	LogLevel        string
	Log             *slog.Logger
	// Vault, when set, puts the nodes it names on Vault transit, at most
	// t per Vault server, each with its own AppRole.
	Vault *VaultOptions
}

// Init creates a cluster in dir (which must be empty or missing).
func Init(ctx context.Context, dir string, o Options) (*Layout, error) {
	if o.Nodes < 2 || o.Nodes > 16 {
		return nil, fmt.Errorf("cluster init: %d nodes (2..16)", o.Nodes)
	}
	if err := o.checkVaultLayout(); err != nil {
		return nil, err
	}
	if o.Cluster == "" {
		o.Cluster = "dev"
	}
	if o.LogLevel == "" {
		o.LogLevel = "info"
	}
	if o.SessionTimeout == 0 {
		o.SessionTimeout = time.Minute
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		return nil, fmt.Errorf("cluster init: %s is not empty", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	conf, err := softhsm.WriteConf(filepath.Join(dir, "softhsm"))
	if err != nil {
		return nil, fmt.Errorf("cluster init: %w", err)
	}
	// SoftHSM reads its conf when the module loads in this process.
	if err := os.Setenv("SOFTHSM2_CONF", conf); err != nil {
		return nil, err
	}
	module, err := softhsm.ModulePath()
	if err != nil {
		return nil, fmt.Errorf("cluster init: %w", err)
	}
	ca, caKey, err := pki.NewCA(o.Cluster, 5*365*24*time.Hour)
	if err != nil {
		return nil, err
	}
	l := &Layout{Dir: dir, Cluster: o.Cluster, CA: "ca.pem", SoftHSM2Conf: conf}
	if err := writePEMs(dir, "ca", pki.CertPEM(ca.Cert), caKey); err != nil {
		return nil, err
	}
	ports, err := freePorts(3 * o.Nodes)
	if err != nil {
		return nil, fmt.Errorf("cluster init: %w", err)
	}
	var members []signer.MemberConfig
	hsmCfgs := make([]pkcs11.Config, o.Nodes)
	vaultCfgs := map[string]vault.Config{}
	for i := 0; i < o.Nodes; i++ {
		id := fmt.Sprintf("node%d", i+1)
		ndir := filepath.Join(dir, id)
		if err := os.MkdirAll(ndir, 0o700); err != nil {
			return nil, err
		}
		var pub ed25519.PublicKey
		var onVault string
		if s, ok := o.vaultServer(id); ok {
			var vc vault.Config
			if pub, vc, err = o.provisionVault(ctx, id, ndir, s, o.Log); err != nil {
				return nil, err
			}
			vaultCfgs[id], onVault = vc, vc.Address
		} else {
			pin, so := randomPIN(), randomPIN()
			if err := os.WriteFile(filepath.Join(ndir, "pin"), []byte(pin+"\n"), 0o600); err != nil {
				return nil, err
			}
			label := "coffer-" + id
			if err := softhsm.InitToken(ctx, conf, label, so, pin); err != nil {
				return nil, fmt.Errorf("cluster init %s: %w", id, err)
			}
			hc := pkcs11.Config{Module: module, TokenLabel: label, PINFile: filepath.Join(ndir, "pin")}.WithDefaults()
			if pub, err = pkcs11.Provision(hc, o.Log); err != nil {
				return nil, fmt.Errorf("cluster init %s: %w", id, err)
			}
			hsmCfgs[i] = hc
		}
		cert, err := ca.Issue(id, pki.RoleNode, pub, []string{"127.0.0.1", "localhost"}, 365*24*time.Hour)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(ndir, "cert.pem"), pki.CertPEM(cert), 0o644); err != nil {
			return nil, err
		}
		peerAddr, apiAddr, raftAddr := ports[3*i], ports[3*i+1], ports[3*i+2]
		members = append(members, signer.MemberConfig{ID: id, Peer: peerAddr, API: apiAddr, Raft: raftAddr, IdentityKey: hex.EncodeToString(pub), Vault: onVault})
		l.Nodes = append(l.Nodes, NodeInfo{ID: id, Config: filepath.Join(id, "cofferd.yaml"), API: apiAddr, Peer: peerAddr, Raft: raftAddr,
			Store: filepath.Join(id, "node.db"), Log: filepath.Join(id, "cofferd.log")})
	}
	for i, n := range l.Nodes {
		cfg := nodeConfig(o, n, members, hsmCfgs[i], conf)
		if vc, ok := vaultCfgs[n.ID]; ok {
			useVault(&cfg, vc)
		}
		b, err := yaml.Marshal(cfg)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(l.Path(n.Config), append([]byte(configHeader), b...), 0o600); err != nil {
			return nil, err
		}
	}
	if err := l.issueClient(ca, "operator", pki.RoleOperator); err != nil {
		return nil, err
	}
	return l, l.save()
}

func nodeConfig(o Options, n NodeInfo, members []signer.MemberConfig, hc pkcs11.Config, conf string) signer.Config {
	var c signer.Config
	c.Node, c.Cluster = n.ID, o.Cluster
	c.Listen.Peer, c.Listen.API, c.Listen.Raft = n.Peer, n.API, n.Raft
	c.TLS.CA, c.TLS.Cert = "../ca.pem", "cert.pem"
	c.HSM.Backend, c.HSM.SoftHSM2Conf, c.HSM.PKCS11 = "pkcs11", conf, hc
	c.HSM.PKCS11.PINFile = "pin"
	c.Store.Path = "node.db"
	c.PreParams.PoolSize, c.PreParams.Generate, c.PreParams.Concurrency = o.PoolSize, o.Generate, 1
	c.Sessions.Timeout, c.Sessions.MaxTimeout = signer.Duration(o.SessionTimeout), signer.Duration(10*time.Minute)
	c.SelfTestSigning = o.SelfTestSigning
	if o.Vault != nil {
		c.MinThreshold = o.Vault.threshold()
	}
	c.Members = members
	c.Log.Level = o.LogLevel
	return c
}

func (l *Layout) issueClient(ca *pki.CA, name, role string) error {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	cert, err := ca.Issue(name, role, pub, nil, 365*24*time.Hour)
	if err != nil {
		return err
	}
	if err := writePEMs(l.Dir, name, pki.CertPEM(cert), priv); err != nil {
		return err
	}
	l.Operator = ClientCert{Name: name, Cert: name + ".pem", Key: name + ".key"}
	return nil
}

func writePEMs(dir, name string, certPEM []byte, key any) error {
	kp, err := pki.KeyPEM(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, name+".pem"), certPEM, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name+".key"), kp, 0o600)
}

func randomPIN() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// freePorts asks the kernel for n distinct free loopback ports.
func freePorts(n int) ([]string, error) {
	var out []string
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free loopback port: %w", err)
		}
		defer l.Close()
		out = append(out, l.Addr().String())
	}
	return out, nil
}
