package devcluster

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/cofferhq/coffer/api/operatorpb"
	"github.com/cofferhq/coffer/chain/btc"
	"github.com/cofferhq/coffer/chain/eth"
	"github.com/cofferhq/coffer/pki"
	"github.com/cofferhq/coffer/policy"
	"github.com/cofferhq/coffer/signer"
	ctss "github.com/cofferhq/coffer/signer/tss"
)

//go:embed policy.tmpl
var policyTemplate string

// Treasury is a dev cluster with keys, wallets, officers and a signed
// policy active on every node.
type Treasury struct {
	Layout     *Layout
	Officers   map[string]ClientCert // officer ID → certificate and key (the key also signs approvals)
	Withdrawal ClientCert
	Auditor    ClientCert
	PolicyFile string
	Wallets    map[string]Wallet
	Partner    string // an active whitelisted BTC address
	ChainID    uint64
}

// Wallet is a policy wallet with the key it spends with.
type Wallet struct {
	ID, Chain, Class, KeyID, Address string
	PubKey                           []byte // compressed
}

// TreasuryOptions shape the treasury policy.
type TreasuryOptions struct {
	RefillTimelock time.Duration
	SAFUTimelock   time.Duration
	ChainID        uint64

	// Policy, when set, writes the genesis policy from what SetupTreasury
	// made (the wallets, the officers' and admins' keys) instead of the
	// development template. Keys, Wallets, Officers, Admins and Network
	// then say what to make (each defaults to the template's).
	Policy func(PolicyParts) ([]byte, error)
	// PolicyEdit, when set, rewrites the development template's policy
	// before it is signed (a benchmark raising a limit).
	PolicyEdit func([]byte) ([]byte, error)
	Keys       []string     // threshold keys to generate
	Wallets    []WalletSpec // wallets derived from them
	Officers   [][2]string  // officer ID, group
	Admins     []string     // the first two sign the genesis policy
	Network    string       // bitcoin network of the wallets
}

// WalletSpec is one wallet to derive: its ID, chain, class and key
// reference ("key" or "key/index").
type WalletSpec struct{ ID, Chain, Class, Key string }

// PolicyParts is what SetupTreasury made for a policy: every wallet, and
// the policy key ("ed25519:…") of every officer and admin, by ID.
type PolicyParts struct {
	Wallets  map[string]Wallet
	Officers map[string]string
	Admins   map[string]string
}

func (o *TreasuryOptions) defaults() {
	if o.ChainID == 0 {
		o.ChainID = 1337
	}
	if o.Keys == nil {
		o.Keys = []string{"hot", "cold", "safu"}
	}
	if o.Wallets == nil {
		o.Wallets = []WalletSpec{{"btc-hot", "btc", "hot", "hot"}, {"btc-cold", "btc", "cold", "cold"}, {"btc-safu", "btc", "safu", "safu"},
			{"eth-hot", "eth", "hot", "hot/1"}, {"eth-cold", "eth", "cold", "cold/1"}}
	}
	if o.Officers == nil {
		o.Officers = officerGroups
	}
	if o.Admins == nil {
		o.Admins = []string{"admin-ana", "admin-ben"}
	}
	if o.Network == "" {
		o.Network = "regtest"
	}
}

var officerGroups = [][2]string{{"tom", "treasury"}, {"tina", "treasury"}, {"rita", "risk"}}

// SetupTreasury generates the hot, cold and SAFU keys, writes and signs the
// policy, and restarts every node with it.
func SetupTreasury(ctx context.Context, c *Cluster, o TreasuryOptions, w io.Writer) (*Treasury, error) {
	l := c.Layout
	o.defaults()
	tr := &Treasury{Layout: l, Officers: map[string]ClientCert{}, Wallets: map[string]Wallet{}, ChainID: o.ChainID}
	cl, err := l.Dial(l.Nodes[0].ID)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	var all []string
	for _, n := range l.Nodes {
		all = append(all, n.ID)
	}
	keys := map[string]*operatorpb.KeyInfo{}
	for _, k := range o.Keys {
		fmt.Fprintf(w, "  keygen %s (2-of-%d)…\n", k, len(all))
		st, err := cl.Operator.Keygen(ctx, &operatorpb.KeygenRequest{KeyId: k, Threshold: 1, Parties: all})
		if err != nil {
			return nil, err
		}
		for {
			p, err := st.Recv()
			if err != nil {
				return nil, fmt.Errorf("keygen %s: %w", k, err)
			}
			if p.Stage == "complete" {
				keys[k] = p.Key
				break
			}
		}
	}
	for _, spec := range o.Wallets {
		wl, err := deriveWallet(keys, spec.ID, spec.Chain, spec.Class, spec.Key, o.Network)
		if err != nil {
			return nil, err
		}
		tr.Wallets[spec.ID] = wl
	}
	ca, err := LoadCA(l)
	if err != nil {
		return nil, err
	}
	data := map[string]any{"Cluster": l.Cluster, "ChainID": o.ChainID, "RefillTimelock": o.RefillTimelock.String(),
		"SAFUTimelock": o.SAFUTimelock.String(), "PartnerAdded": time.Now().UTC().Add(-2 * time.Hour).Format(time.RFC3339)}
	type party struct{ ID, Key, Group string }
	var officers, admins []party
	parts := PolicyParts{Wallets: tr.Wallets, Officers: map[string]string{}, Admins: map[string]string{}}
	for _, og := range o.Officers {
		cc, pub, err := l.issueFile(ca, og[0], pki.RoleOfficer)
		if err != nil {
			return nil, err
		}
		tr.Officers[og[0]] = cc
		officers = append(officers, party{ID: og[0], Key: policyKey(pub), Group: og[1]})
		parts.Officers[og[0]] = policyKey(pub)
	}
	adminSigners := map[string]ed25519.PrivateKey{}
	for _, id := range o.Admins {
		pub, priv, _ := ed25519.GenerateKey(rand.Reader)
		adminSigners[id] = priv
		kp, _ := pki.KeyPEM(priv)
		if err := os.WriteFile(filepath.Join(l.Dir, id+".key"), kp, 0o600); err != nil {
			return nil, err
		}
		admins = append(admins, party{ID: id, Key: policyKey(pub)})
		parts.Admins[id] = policyKey(pub)
	}
	// a partner's deposit address (external: no policy wallet holds it)
	partner, err := deriveWallet(keys, "partner", "btc", "external", o.Keys[len(o.Keys)-1]+"/99", o.Network)
	if err != nil {
		return nil, err
	}
	tr.Partner = partner.Address
	data["Partner"], data["Officers"], data["Admins"] = tr.Partner, officers, admins
	var ws []Wallet
	for _, spec := range o.Wallets {
		ws = append(ws, tr.Wallets[spec.ID])
	}
	data["Wallets"] = ws
	var doc bytes.Buffer
	if o.Policy != nil {
		b, err := o.Policy(parts)
		if err != nil {
			return nil, err
		}
		doc.Write(b)
	} else if err := template.Must(template.New("policy").Parse(policyTemplate)).Execute(&doc, data); err != nil {
		return nil, err
	} else if o.PolicyEdit != nil {
		b, err := o.PolicyEdit(doc.Bytes())
		if err != nil {
			return nil, err
		}
		doc.Reset()
		doc.Write(b)
	}
	p, err := policy.Load(doc.Bytes())
	if err != nil {
		return nil, fmt.Errorf("dev policy: %w", err)
	}
	tr.PolicyFile = filepath.Join(l.Dir, "policy.yaml")
	if err := os.WriteFile(tr.PolicyFile, doc.Bytes(), 0o644); err != nil {
		return nil, err
	}
	var sigFiles []string
	for _, id := range o.Admins[:min(2, len(o.Admins))] {
		sig, err := policy.SignPolicy(rand.Reader, adminSigners[id], id, p.Hash())
		if err != nil {
			return nil, err
		}
		b, _ := json.Marshal(sig)
		f := filepath.Join(l.Dir, "policy-"+id+".sig.json")
		if err := os.WriteFile(f, b, 0o644); err != nil {
			return nil, err
		}
		sigFiles = append(sigFiles, f)
	}
	fmt.Fprintf(w, "  policy %s signed by %s\n", p.Hash().Short(), strings.Join(o.Admins[:min(2, len(o.Admins))], " and "))
	for _, n := range l.Nodes {
		if err := l.setPolicy(n, tr.PolicyFile, sigFiles); err != nil {
			return nil, err
		}
		c.StopNode(n.ID)
		if err := c.StartNode(ctx, n.ID); err != nil {
			return nil, err
		}
	}
	if tr.Withdrawal, _, err = l.issueFile(ca, "withdrawal-svc", pki.RoleWithdrawal); err != nil {
		return nil, err
	}
	if tr.Auditor, _, err = l.issueFile(ca, "auditor-1", pki.RoleAuditor); err != nil {
		return nil, err
	}
	return tr, nil
}

func deriveWallet(keys map[string]*operatorpb.KeyInfo, id, chain, class, keyRef, network string) (Wallet, error) {
	base, path := keyRef, []uint32(nil)
	if i := bytes.IndexByte([]byte(keyRef), '/'); i > 0 {
		base = keyRef[:i]
		var idx uint32
		fmt.Sscanf(keyRef[i+1:], "%d", &idx)
		path = []uint32{idx}
	}
	k := keys[base]
	if k == nil {
		return Wallet{}, fmt.Errorf("wallet %s: no key %s", id, base)
	}
	master, err := ctss.ParsePubKey(k.PublicKey)
	if err != nil {
		return Wallet{}, err
	}
	_, child, err := ctss.Derive(master, k.ChainCode, path)
	if err != nil {
		return Wallet{}, err
	}
	pub, err := ctss.CompressedPubKey(child)
	if err != nil {
		return Wallet{}, err
	}
	wl := Wallet{ID: id, Chain: chain, Class: class, KeyID: keyRef, PubKey: pub}
	if chain == "btc" {
		wl.Address, err = btc.P2WPKHAddress(pub, network)
	} else {
		wl.Address, err = eth.AddressFromPubKeyBytes(pub)
	}
	return wl, err
}

func policyKey(pub ed25519.PublicKey) string {
	k, _ := policy.PublicKeyFrom(pub)
	return k.String()
}

// LoadCA reads the development cluster CA (certificate and key file).
func LoadCA(l *Layout) (*pki.CA, error) {
	certPEM, err := os.ReadFile(l.Path(l.CA))
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(l.Path("ca.key"))
	if err != nil {
		return nil, err
	}
	cert, err := pki.ParseCertPEM(certPEM)
	if err != nil {
		return nil, err
	}
	key, err := pki.ParseKeyPEM(keyPEM)
	if err != nil {
		return nil, err
	}
	return &pki.CA{Cert: cert, Signer: key}, nil
}

// issueFile makes a client key and certificate in the cluster folder.
func (l *Layout) issueFile(ca *pki.CA, name, role string) (ClientCert, ed25519.PublicKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return ClientCert{}, nil, err
	}
	cert, err := ca.Issue(name, role, pub, nil, 365*24*time.Hour)
	if err != nil {
		return ClientCert{}, nil, err
	}
	if err := writePEMs(l.Dir, name, pki.CertPEM(cert), priv); err != nil {
		return ClientCert{}, nil, err
	}
	return ClientCert{Name: name, Cert: name + ".pem", Key: name + ".key"}, pub, nil
}

// setPolicy points a node's config at the signed policy.
func (l *Layout) setPolicy(n NodeInfo, file string, sigs []string) error {
	path := l.Path(n.Config)
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return err
	}
	doc["policy"] = map[string]any{"file": file, "signatures": sigs}
	b, err := yaml.Marshal(doc)
	if err != nil {
		return err
	}
	// validate what is written, not what was there
	cfg, err := signer.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("node config with policy: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("node config with policy: %w", err)
	}
	return os.WriteFile(path, b, 0o600)
}
