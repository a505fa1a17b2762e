package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/api/transferpb"
)

func TestOfficerID(t *testing.T) {
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"tom", true}, {"admin-ana", true}, {"o.k_1", true},
		{"", false}, {"../ca", false}, {"tom/../../x", false}, {"-tom", false}, {".", false}, {strings.Repeat("a", 65), false},
	} {
		if got := officerID.MatchString(tc.id); got != tc.ok {
			t.Errorf("officerID(%q) = %v, want %v", tc.id, got, tc.ok)
		}
	}
}

func TestReviewable(t *testing.T) {
	good := func() *transferpb.Transfer {
		return &transferpb.Transfer{State: "pending_approval", Digest: make([]byte, 32), Summary: &transferpb.Summary{}, Review: &transferpb.Review{}}
	}
	for _, tc := range []struct {
		name string
		edit func(*transferpb.Transfer)
		want string
	}{
		{"ok/pending", func(*transferpb.Transfer) {}, ""},
		{"ok/timelocked (a veto is still possible)", func(t *transferpb.Transfer) { t.State = "timelocked" }, ""},
		{"fail/signed", func(t *transferpb.Transfer) { t.State = "signed" }, "nothing left to decide"},
		{"fail/denied", func(t *transferpb.Transfer) { t.State = "denied" }, "nothing left to decide"},
		{"fail/no decoded summary", func(t *transferpb.Transfer) { t.Summary = nil }, "could not rebuild"},
		{"fail/nothing to rebuild", func(t *transferpb.Transfer) { t.Review = nil }, "could not rebuild"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := good()
			tc.edit(tr)
			err := reviewable(tr)
			if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("reviewable = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestAskCount(t *testing.T) {
	for _, tc := range []struct {
		cluster, nodes int
		all            bool
		want           int
	}{
		{3, 0, false, 2}, {5, 0, false, 3}, {4, 0, false, 3}, {1, 0, false, 1},
		{3, 0, true, 3}, {5, 4, false, 4}, {5, 5, false, 5},
		{3, 1, false, 0}, {5, 2, false, 0}, {3, 4, false, 0},
	} {
		got, err := askCount(tc.cluster, tc.nodes, tc.all)
		if got != tc.want || (err == nil) != (tc.want != 0) {
			t.Errorf("askCount(%d, %d, %v) = %d, %v; want %d", tc.cluster, tc.nodes, tc.all, got, err, tc.want)
		}
	}
}

func TestConfirm(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		ok       bool
	}{
		{"ok/yes", "yes\n", true}, {"ok/y without newline", "y", true}, {"ok/YES", " YES \n", true},
		{"fail/no", "no\n", false}, {"fail/empty line", "\n", false}, {"fail/no input", "", false}, {"fail/yesterday", "yesterday\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := confirm(strings.NewReader(tc.in), &out, "approve?")
			if (err == nil) != tc.ok {
				t.Fatalf("confirm(%q) = %v", tc.in, err)
			}
			if !strings.Contains(out.String(), "approve? [y/N]") {
				t.Fatalf("question not asked: %q", out.String())
			}
		})
	}
}
