package tss

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/big"
	"sort"

	tsslib "github.com/bnb-chain/tss-lib/v3/tss"
)

// Party is one node's seat in a committee: the node ID and its tss-lib
// party key for that key generation.
type Party struct {
	Node string
	Key  *big.Int
}

// PartyKey derives the party key of node for a key's generation. Old and
// new committees of a reshare differ in generation, so their keys differ.
func PartyKey(keyID string, generation uint32, node string) *big.Int {
	h := sha256.New()
	h.Write([]byte("coffer/party/v1\x00"))
	writeLP(h, []byte(keyID))
	var g [4]byte
	binary.BigEndian.PutUint32(g[:], generation)
	h.Write(g[:])
	writeLP(h, []byte(node))
	return new(big.Int).SetBytes(h.Sum(nil))
}

// Committee returns the parties of nodes for a key generation.
func Committee(keyID string, generation uint32, nodes []string) ([]Party, error) {
	seen := map[string]bool{}
	out := make([]Party, 0, len(nodes))
	for _, n := range nodes {
		if n == "" || seen[n] {
			return nil, fmt.Errorf("committee of %s: %w: empty or repeated node %q", keyID, ErrBadSpec, n)
		}
		seen[n] = true
		out = append(out, Party{Node: n, Key: PartyKey(keyID, generation, n)})
	}
	return out, nil
}

// partySet is a sorted tss-lib committee with lookups by key.
type partySet struct {
	sorted tsslib.SortedPartyIDs
	byKey  map[string]*tsslib.PartyID
	node   map[string]string // key hex → node
}

func newPartySet(parties []Party) partySet {
	ids := make(tsslib.UnSortedPartyIDs, 0, len(parties))
	ps := partySet{byKey: map[string]*tsslib.PartyID{}, node: map[string]string{}}
	for _, p := range parties {
		id := tsslib.NewPartyID(p.Node+"/"+hex.EncodeToString(p.Key.Bytes()[:4]), p.Node, p.Key)
		ids = append(ids, id)
	}
	ps.sorted = tsslib.SortPartyIDs(ids)
	for i, p := range ps.sorted {
		k := keyHex(p.Key)
		ps.byKey[k] = ps.sorted[i]
		ps.node[k] = p.Moniker
	}
	return ps
}

func (ps partySet) find(node string) (*tsslib.PartyID, bool) {
	for _, p := range ps.sorted {
		if p.Moniker == node {
			return p, true
		}
	}
	return nil, false
}

func keyHex(k []byte) string { return hex.EncodeToString(k) }

func writeLP(h interface{ Write([]byte) (int, error) }, b []byte) {
	var l [4]byte
	binary.BigEndian.PutUint32(l[:], uint32(len(b)))
	h.Write(l[:])
	h.Write(b)
}

func sortedNodes(nodes []string) []string {
	out := append([]string(nil), nodes...)
	sort.Strings(out)
	return out
}

// SortedPartyIDs returns tss-lib's sorted party IDs for parties (the same
// IDs sessions use), for callers that drive tss-lib directly.
func SortedPartyIDs(parties []Party) tsslib.SortedPartyIDs { return newPartySet(parties).sorted }
