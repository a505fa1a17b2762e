package policy

import (
	"math/rand/v2"
	"testing"
)

// bruteForce finds the largest number of slots fillable by distinct
// officers by trying every choice.
func bruteForce(officers, slots []string, member func(o, g string) bool) int {
	used := make([]bool, len(officers))
	var best func(s int) int
	best = func(s int) int {
		if s == len(slots) {
			return 0
		}
		b := best(s + 1) // leave slot s empty
		for o := range officers {
			if !used[o] && member(officers[o], slots[s]) {
				used[o] = true
				b = max(b, 1+best(s+1))
				used[o] = false
			}
		}
		return b
	}
	return best(0)
}

func TestAssignIsMaximumAndDeterministic(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	groups := []string{"a", "b", "c"}
	for i := range 2000 {
		officers := []string{"o1", "o2", "o3", "o4", "o5"}[:1+r.IntN(5)]
		in := map[[2]string]bool{}
		for _, o := range officers {
			for _, g := range groups {
				in[[2]string{o, g}] = r.IntN(2) == 0
			}
		}
		member := func(o, g string) bool { return in[[2]string{o, g}] }
		var slots []string
		for range 1 + r.IntN(5) {
			slots = append(slots, groups[r.IntN(len(groups))])
		}
		a := assign(officers, slots, member)
		if want := bruteForce(officers, slots, member); a.size != want {
			t.Fatalf("case %d: assign size %d, maximum %d", i, a.size, want)
		}
		seen := map[int]bool{}
		filled := 0
		for s, o := range a.slotOfficer {
			if o < 0 {
				continue
			}
			filled++
			if seen[o] || !member(officers[o], slots[s]) {
				t.Fatalf("case %d: officer %d reused or not in group %s", i, o, slots[s])
			}
			seen[o] = true
		}
		if filled != a.size {
			t.Fatalf("case %d: size %d, filled %d", i, a.size, filled)
		}
		if b := assign(officers, slots, member); !equalInts(a.slotOfficer, b.slotOfficer) {
			t.Fatalf("case %d: assignment not deterministic", i)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
