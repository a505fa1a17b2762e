package devcluster

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"
)

// Layout is what Init wrote, saved as DIR/cluster.yaml for the CLI.
type Layout struct {
	Dir          string     `yaml:"-"`
	Cluster      string     `yaml:"cluster"`
	CA           string     `yaml:"ca"`
	SoftHSM2Conf string     `yaml:"softhsm2_conf"`
	Operator     ClientCert `yaml:"operator"`
	Nodes        []NodeInfo `yaml:"nodes"`
}

// ClientCert is a client certificate and its key file.
type ClientCert struct {
	Name string `yaml:"name"`
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// NodeInfo locates one node's files and addresses.
type NodeInfo struct {
	ID     string `yaml:"id"`
	Config string `yaml:"config"`
	API    string `yaml:"api"`
	Peer   string `yaml:"peer"`
	Raft   string `yaml:"raft"`
	Store  string `yaml:"store"`
	Log    string `yaml:"log"`
}

// Node returns the node named id.
func (l *Layout) Node(id string) (NodeInfo, error) {
	for _, n := range l.Nodes {
		if n.ID == id {
			return n, nil
		}
	}
	return NodeInfo{}, fmt.Errorf("no node %q in cluster %s", id, l.Dir)
}

// Path resolves a path of the layout against its folder.
func (l *Layout) Path(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(l.Dir, p)
}

// Load reads DIR/cluster.yaml (or a path to that file).
func Load(path string) (*Layout, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, "cluster.yaml")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read cluster layout: %w", err)
	}
	var l Layout
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&l); err != nil {
		return nil, fmt.Errorf("parse cluster layout %s: %w", path, err)
	}
	seen := map[string]bool{}
	for _, n := range l.Nodes {
		if n.ID == "" || seen[n.ID] || n.API == "" || n.Config == "" {
			return nil, fmt.Errorf("cluster layout %s: node %q is empty, repeated or incomplete", path, n.ID)
		}
		seen[n.ID] = true
	}
	if len(l.Nodes) == 0 {
		return nil, fmt.Errorf("cluster layout %s: no nodes", path)
	}
	l.Dir = filepath.Dir(path)
	return &l, nil
}

func (l *Layout) save() error {
	b, err := yaml.Marshal(l)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(l.Dir, "cluster.yaml"), b, 0o644)
}
