package workflow

import (
	"slices"
	"testing"
)

func TestPickSigners(t *testing.T) {
	five := []string{"node1", "node2", "node3", "node4", "node5"}
	for _, c := range []struct {
		self    string
		k       int
		exclude []string
		want    []string
	}{
		{"node1", 2, nil, []string{"node1", "node2"}},
		{"node3", 2, nil, []string{"node3", "node4"}}, // disjoint from node1's pair
		{"node5", 2, nil, []string{"node1", "node5"}}, // wraps round
		{"node3", 2, []string{"node4"}, []string{"node3", "node5"}},
		{"node3", 3, []string{"node4", "node5"}, []string{"node1", "node2", "node3"}},
		{"node2", 5, []string{"node1"}, nil}, // not enough left
		{"node9", 2, nil, nil},               // not in the committee
	} {
		got := pickSigners(five, c.k, c.self, c.exclude)
		if !slices.Equal(got, c.want) {
			t.Errorf("pickSigners(%s, k=%d, exclude %v) = %v, want %v", c.self, c.k, c.exclude, got, c.want)
		}
	}
}
