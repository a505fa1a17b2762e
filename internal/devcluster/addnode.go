package devcluster

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/cofferhq/coffer/hsm/pkcs11"
	"github.com/cofferhq/coffer/hsm/softhsm"
	"github.com/cofferhq/coffer/pki"
	"github.com/cofferhq/coffer/signer"
)

var nodeIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// configHeader starts every node config the development tools write.
const configHeader = "# Development node config written by `coffer cluster init`; see configs/node.example.yaml.\n"

// AddNode creates one more node in a development cluster: a SoftHSM token
// with its identity key, a certificate from the cluster CA and a config
// modelled on the first node's, and adds it to the members of every
// node's config. Running nodes pin their members when they start: restart
// them, one at a time, before the new node joins (`coffer cluster
// add-node`). The new node holds no key shares until a key is reshared.
func AddNode(ctx context.Context, l *Layout, id string) (NodeInfo, error) {
	if _, err := l.Node(id); err == nil {
		return NodeInfo{}, fmt.Errorf("add node: %s is already in the cluster", id)
	}
	if !nodeIDPattern.MatchString(id) {
		return NodeInfo{}, fmt.Errorf("add node: %q is not a valid node ID", id)
	}
	ca, err := LoadCA(l)
	if err != nil {
		return NodeInfo{}, fmt.Errorf("add node: %w", err)
	}
	base, err := readNodeConfig(l, l.Nodes[0])
	if err != nil {
		return NodeInfo{}, fmt.Errorf("add node: %w", err)
	}
	if base.HSM.Backend != "pkcs11" {
		return NodeInfo{}, fmt.Errorf("add node: %s is on %s; new nodes are made on SoftHSM only", l.Nodes[0].ID, base.HSM.Backend)
	}
	if err := os.Setenv("SOFTHSM2_CONF", l.SoftHSM2Conf); err != nil {
		return NodeInfo{}, err
	}
	module, err := softhsm.ModulePath()
	if err != nil {
		return NodeInfo{}, fmt.Errorf("add node: %w", err)
	}
	ndir := l.Path(id)
	if err := os.MkdirAll(ndir, 0o700); err != nil {
		return NodeInfo{}, err
	}
	pin, so := randomPIN(), randomPIN()
	if err := os.WriteFile(filepath.Join(ndir, "pin"), []byte(pin+"\n"), 0o600); err != nil {
		return NodeInfo{}, err
	}
	label := "coffer-" + id
	if err := softhsm.InitToken(ctx, l.SoftHSM2Conf, label, so, pin); err != nil {
		return NodeInfo{}, fmt.Errorf("add node %s: %w", id, err)
	}
	hc := pkcs11.Config{Module: module, TokenLabel: label, PINFile: filepath.Join(ndir, "pin")}.WithDefaults()
	pub, err := pkcs11.Provision(hc, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return NodeInfo{}, fmt.Errorf("add node %s: %w", id, err)
	}
	cert, err := ca.Issue(id, pki.RoleNode, pub, []string{"127.0.0.1", "localhost"}, 365*24*time.Hour)
	if err != nil {
		return NodeInfo{}, err
	}
	if err := os.WriteFile(filepath.Join(ndir, "cert.pem"), pki.CertPEM(cert), 0o644); err != nil {
		return NodeInfo{}, err
	}
	ports, err := freePorts(3)
	if err != nil {
		return NodeInfo{}, fmt.Errorf("add node: %w", err)
	}
	n := NodeInfo{ID: id, Config: filepath.Join(id, "cofferd.yaml"), Peer: ports[0], API: ports[1], Raft: ports[2],
		Store: filepath.Join(id, "node.db"), Log: filepath.Join(id, "cofferd.log")}
	member := signer.MemberConfig{ID: id, Peer: n.Peer, API: n.API, Raft: n.Raft, IdentityKey: hex.EncodeToString(pub)}

	cfg := base
	cfg.Node = id
	cfg.Listen.Peer, cfg.Listen.API, cfg.Listen.Raft = n.Peer, n.API, n.Raft
	cfg.HSM.PKCS11 = hc
	cfg.HSM.PKCS11.PINFile = "pin"
	cfg.Members = append(cfg.Members, member)
	if err := writeNodeConfig(l, n, cfg); err != nil {
		return NodeInfo{}, err
	}
	for _, o := range l.Nodes {
		oc, err := readNodeConfig(l, o)
		if err != nil {
			return NodeInfo{}, fmt.Errorf("add node: %w", err)
		}
		oc.Members = append(oc.Members, member)
		if err := writeNodeConfig(l, o, oc); err != nil {
			return NodeInfo{}, err
		}
	}
	l.Nodes = append(l.Nodes, n)
	return n, l.save()
}

// readNodeConfig reads a node's config file as written (paths relative).
func readNodeConfig(l *Layout, n NodeInfo) (signer.Config, error) {
	var c signer.Config
	b, err := os.ReadFile(l.Path(n.Config))
	if err != nil {
		return c, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("read %s: %w", n.Config, err)
	}
	return c, nil
}

func writeNodeConfig(l *Layout, n NodeInfo, c signer.Config) error {
	b, err := yaml.Marshal(c)
	if err != nil {
		return err
	}
	return os.WriteFile(l.Path(n.Config), append([]byte(configHeader), b...), 0o600)
}
