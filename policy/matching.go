package policy

// assignment is a maximum matching of officers to approval slots, each slot
// wanting one officer of its group and each officer filling at most one
// slot. It is Kuhn's augmenting-path algorithm over officers in sorted order
// and slots in term order, so the result is deterministic.
type assignment struct {
	slotOfficer []int // slot index → officer index, or -1
	size        int
}

// assign matches officers (sorted IDs) to slots (one group ID per slot).
func assign(officers []string, slots []string, member func(officer, group string) bool) assignment {
	officerSlot := make([]int, len(officers))
	for i := range officerSlot {
		officerSlot[i] = -1
	}
	a := assignment{slotOfficer: make([]int, len(slots))}
	for i := range a.slotOfficer {
		a.slotOfficer[i] = -1
	}
	visited := make([]bool, len(officers))
	var try func(s int) bool
	try = func(s int) bool {
		for o := range officers {
			if visited[o] || !member(officers[o], slots[s]) {
				continue
			}
			visited[o] = true
			if officerSlot[o] < 0 || try(officerSlot[o]) {
				officerSlot[o] = s
				a.slotOfficer[s] = o
				return true
			}
		}
		return false
	}
	for s := range slots {
		clear(visited)
		if try(s) {
			a.size++
		}
	}
	return a
}

// slotsOf expands terms into one slot per required approval and returns,
// per slot, the index of its term.
func slotsOf(terms []Term) (groups []string, term []int) {
	for i, t := range terms {
		for range t.K {
			groups = append(groups, t.Group)
			term = append(term, i)
		}
	}
	return groups, term
}
