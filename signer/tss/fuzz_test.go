package tss

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// The hostile-peer harness. One node of a cluster is compromised and sends
// structurally valid tss-lib round messages with one field set to a
// hostile value; the honest nodes run their real sessions against it. A
// value that made tss-lib panic in a goroutine it started itself would
// kill the honest process, so the cases run in a child process (this test
// binary, re-executed) and a panic fails the case instead of the binary.
//
// Every case is first offered to the honest receive path up to tss-lib
// (size, wire decoding, checkContent) on a message the hostile node really
// sent in an honest run; a case refused there never reaches tss-lib, and
// the refusal names the sender (Session.process). The cases that pass run
// through the protocol, and each must end with the honest nodes either
// finished (and agreeing) or failed naming the hostile node and no other.
//
// `go test` runs every case at the boundary and a sample through the
// protocol: one per signing message (a run takes under a second), one of
// keygen and one of resharing (10–15 s each; the one that mutates the
// last message, through every round), and one refused case per protocol
// end to end. COFFER_FUZZ=long (make fuzz) runs every case that passes
// the boundary; COFFER_FUZZ_LIVE=all also runs the refused ones;
// COFFER_FUZZ_DRY=1 runs none, and counts; COFFER_FUZZ_ONLY=<regexp>
// selects cases by ID; COFFER_FUZZ_LOG=<file> appends every verdict to
// file as it comes, one JSON line each.

const (
	fuzzChildEnv = "COFFER_HOSTILE_CHILD"
	fuzzModeEnv  = "COFFER_FUZZ"
	fuzzLiveEnv  = "COFFER_FUZZ_LIVE"
	fuzzOnlyEnv  = "COFFER_FUZZ_ONLY"
	fuzzDryEnv   = "COFFER_FUZZ_DRY"
	fuzzLogEnv   = "COFFER_FUZZ_LOG"
	fuzzPrefix   = "HOSTILE-CASE "
)

// fuzzCase is one mutation: Value put in Field of every Msg the hostile
// node sends in a Proto session; Elem is "" for a bytes field, the
// element (first, last, mid) of a repeated field, or "list" for a change
// in its number of elements.
type fuzzCase struct {
	Proto string `json:"p"`
	Msg   string `json:"m"`
	Field string `json:"f"`
	Elem  string `json:"e,omitempty"`
	Value string `json:"v"`
}

func (c fuzzCase) ID() string {
	f := c.Field
	if c.Elem != "" {
		f += "[" + c.Elem + "]"
	}
	return fmt.Sprintf("%s/%s.%s=%s", c.Proto, c.Msg, f, c.Value)
}

type fuzzPlan struct {
	Cases   []fuzzCase `json:"cases"`
	Long    bool       `json:"long"`     // every case that passes the boundary runs live
	LiveAll bool       `json:"live_all"` // refused cases too
	Dry     bool       `json:"dry"`      // none: only the boundary
}

// fuzzReport is one line the child prints.
type fuzzReport struct {
	Case    string `json:"case"`
	Event   string `json:"event"` // start, end
	Verdict string `json:"verdict,omitempty"`
	Detail  string `json:"detail,omitempty"`
	Ms      int64  `json:"ms,omitempty"`
}

// Verdicts. The first three are passes.
const (
	vBoundary = "boundary" // refused before tss-lib, naming the sender
	vRejected = "rejected" // live: the honest nodes failed naming the hostile node only
	vHarmless = "harmless" // live: the honest nodes finished and agree
	// live: keygen failed in its confirmation round, no one named: a
	// mutated broadcast tss-lib accepted left the hostile node's transcript
	// unlike the honest ones
	vUnconfirmed = "unconfirmed"
	// live: bad, as fuzzKnown expects: a blame the boundary cannot fix
	vKnown = "known"
	// live: as rejected, but through a panic in tss-lib that our recover
	// caught; the boundary should refuse the value first
	vRecovered = "recovered"
	vSampled   = "sampled" // passed the boundary; not run live in the bounded mode
	vNA        = "n/a"     // the value means nothing for this field (trunc of nothing)
	vBad       = "bad"     // an honest node named, a hang, or a failure naming no one
	vUnseen    = "unseen"  // the hostile node never sent the message
	vCrash     = "crash"   // the child process died during the case
)

// fuzzKnown are the cases in which tss-lib names an honest node, with no
// value the stateless boundary could refuse: the session must judge them
// with what it knows (the key's public key, its own SSID). Until it does,
// the long mode reports them without failing.
var fuzzKnown = []struct {
	re  *regexp.Regexp
	why string
}{
	{regexp.MustCompile(`^reshare/DGRound1Message\.ssid=`),
		"resharing's new parties compare every old party's SSID with old party 0's and name the other party when they differ"},
	{regexp.MustCompile(`^reshare/DGRound1Message\.ecdsa_pub_x=G$`),
		"resharing's new parties take the public key from old party 0 alone and, when the reshared key is another, name themselves (V_0 != y)"},
}

// knownBad turns the bad verdict of a known case into vKnown.
func knownBad(r fuzzReport) fuzzReport {
	if r.Verdict != vBad {
		return r
	}
	for _, k := range fuzzKnown {
		if k.re.MatchString(r.Case) {
			r.Verdict, r.Detail = vKnown, k.why+": "+r.Detail
		}
	}
	return r
}

func fuzzPass(verdict string) bool {
	switch verdict {
	case vBoundary, vRejected, vHarmless, vUnconfirmed, vKnown, vSampled, vNA:
		return true
	}
	return false
}

// fuzzAllCases enumerates every case: each bytes field of each round
// message of each protocol with each value, repeated fields at each
// position and with each list change.
func fuzzAllCases(long bool) []fuzzCase {
	positions := fuzzPositions
	if long {
		positions = fuzzLongPositions()
	}
	var out []fuzzCase
	for _, p := range fuzzProtocols {
		for _, m := range p.msgs {
			for _, fd := range fuzzFields(m) {
				c := fuzzCase{Proto: p.name, Msg: msgName(m), Field: string(fd.Name())}
				if !fd.IsList() {
					for _, v := range fuzzValues {
						c.Value = v
						out = append(out, c)
					}
					continue
				}
				for _, e := range positions {
					for _, v := range fuzzValues {
						c.Elem, c.Value = e, v
						out = append(out, c)
					}
				}
				for _, v := range fuzzListValues {
					c.Elem, c.Value = "list", v
					out = append(out, c)
				}
			}
		}
	}
	return out
}

// TestHostilePeers runs the hostile-peer cases in child processes and
// judges what they report.
func TestHostilePeers(t *testing.T) {
	if os.Getenv(fuzzChildEnv) != "" {
		t.Skip("in the child process")
	}
	if testing.Short() {
		t.Skip("runs keygen and resharing (about a minute)")
	}
	long := os.Getenv(fuzzModeEnv) == "long"
	plan := fuzzPlan{Cases: fuzzAllCases(long), Long: long, LiveAll: os.Getenv(fuzzLiveEnv) == "all", Dry: os.Getenv(fuzzDryEnv) != ""}
	if only := os.Getenv(fuzzOnlyEnv); only != "" {
		re := regexp.MustCompile(only)
		plan.Cases = slicesFilter(plan.Cases, func(c fuzzCase) bool { return re.MatchString(c.ID()) })
	}
	if len(plan.Cases) == 0 {
		t.Fatal("no cases selected")
	}
	start := time.Now()
	results := runFuzzChildren(t, plan)
	summarizeFuzz(t, plan, results, time.Since(start))
}

func slicesFilter[T any](in []T, keep func(T) bool) []T {
	var out []T
	for _, x := range in {
		if keep(x) {
			out = append(out, x)
		}
	}
	return out
}

// runFuzzChildren runs the plan in a child process, and again from the
// case after the one that crashed it until every case has a verdict.
func runFuzzChildren(t *testing.T, plan fuzzPlan) map[string]fuzzReport {
	dir := t.TempDir() // also holds the child's key and message cache across restarts
	results := map[string]fuzzReport{}
	remaining := plan.Cases
	for attempt := 0; len(remaining) > 0; attempt++ {
		if attempt > 100 {
			t.Fatalf("gave up after %d child crashes", attempt)
		}
		p := plan
		p.Cases = remaining
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "plan.json"), b, 0o600); err != nil {
			t.Fatal(err)
		}
		started, stderr, err := runFuzzChild(t, dir, results)
		if err == nil {
			break
		}
		if started == "" {
			t.Fatalf("child failed before any case: %v\n%s", err, tail(stderr, 4000))
		}
		results[started] = fuzzReport{Case: started, Event: "end", Verdict: vCrash, Detail: panicExcerpt(stderr)}
		appendFuzzLog(t, results[started])
		var rest []fuzzCase
		for _, c := range remaining {
			if _, done := results[c.ID()]; !done {
				rest = append(rest, c)
			}
		}
		remaining = rest
	}
	return results
}

// runFuzzChild runs one child and records its verdicts; it returns the
// case that had started and not ended when the child failed.
func runFuzzChild(t *testing.T, dir string, results map[string]fuzzReport) (started string, stderr []byte, err error) {
	ctx := context.Background()
	timeout := "0"
	if dl, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-10*time.Second))
		defer cancel()
		timeout = time.Until(dl).Round(time.Second).String()
	}
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHostilePeersChild$", "-test.count=1", "-test.timeout="+timeout)
	cmd.Env = append(os.Environ(), fuzzChildEnv+"="+dir)
	var errBuf tailBuffer
	cmd.Stderr = &errBuf
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), fuzzPrefix)
		if !ok {
			// the child's own test output: its failures, a panic's
			// "--- FAIL" line
			fmt.Fprintln(&errBuf, sc.Text())
			continue
		}
		var r fuzzReport
		if jerr := json.Unmarshal([]byte(line), &r); jerr != nil {
			t.Errorf("child printed %q: %v", line, jerr)
			continue
		}
		switch r.Event {
		case "start":
			started = r.Case
		case "end":
			r = knownBad(r)
			results[r.Case] = r
			started = ""
			appendFuzzLog(t, r)
			if testing.Verbose() && (!fuzzPass(r.Verdict) || r.Verdict == vHarmless || r.Verdict == vUnconfirmed || r.Verdict == vKnown) {
				t.Logf("%s: %s: %s", r.Case, r.Verdict, r.Detail)
			}
			if n := len(results); testing.Verbose() && n%100 == 0 {
				t.Logf("%d cases judged", n)
			}
		}
	}
	err = cmd.Wait()
	return started, errBuf.b, err
}

func appendFuzzLog(t *testing.T, r fuzzReport) {
	path := os.Getenv(fuzzLogEnv)
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, _ := json.Marshal(r)
	if _, err := f.Write(append(b, '\n')); err != nil {
		t.Fatal(err)
	}
}

// tailBuffer keeps the last 256 KiB written to it.
type tailBuffer struct{ b []byte }

func (w *tailBuffer) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	if over := len(w.b) - 256<<10; over > 0 {
		w.b = append([]byte(nil), w.b[over:]...)
	}
	return len(p), nil
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// panicExcerpt finds the panic (or fatal error) in a child's stderr.
func panicExcerpt(stderr []byte) string {
	i := bytes.LastIndex(stderr, []byte("panic: "))
	if j := bytes.LastIndex(stderr, []byte("fatal error: ")); j > i {
		i = j
	}
	if i < 0 {
		return "child exited without a panic: " + tail(stderr, 2000)
	}
	s := stderr[i:]
	if len(s) > 3000 {
		s = s[:3000]
	}
	return string(s)
}

// summarizeFuzz fails the test for each bad case and logs the coverage.
func summarizeFuzz(t *testing.T, plan fuzzPlan, results map[string]fuzzReport, took time.Duration) {
	type tally struct {
		msgs, fields map[string]bool
		verdicts     map[string]int
		live         int
		liveTime     time.Duration
	}
	by := map[string]*tally{}
	for _, c := range plan.Cases {
		tl := by[c.Proto]
		if tl == nil {
			tl = &tally{msgs: map[string]bool{}, fields: map[string]bool{}, verdicts: map[string]int{}}
			by[c.Proto] = tl
		}
		r, ok := results[c.ID()]
		if !ok {
			t.Errorf("%s: no verdict", c.ID())
			continue
		}
		tl.msgs[c.Msg] = true
		tl.fields[c.Msg+"."+c.Field] = true
		tl.verdicts[r.Verdict]++
		if r.Ms > 0 && r.Verdict != vBoundary && r.Verdict != vSampled && r.Verdict != vNA {
			tl.live++
			tl.liveTime += time.Duration(r.Ms) * time.Millisecond
		}
		if !fuzzPass(r.Verdict) {
			t.Errorf("%s: %s: %s", c.ID(), r.Verdict, r.Detail)
		}
	}
	protos := make([]string, 0, len(by))
	for p := range by {
		protos = append(protos, p)
	}
	sort.Strings(protos)
	for _, p := range protos {
		tl := by[p]
		var vs []string
		for v, n := range tl.verdicts {
			vs = append(vs, fmt.Sprintf("%s %d", v, n))
		}
		sort.Strings(vs)
		t.Logf("%s: %d message types, %d fields, %d live runs (%v): %s", p, len(tl.msgs), len(tl.fields), tl.live,
			tl.liveTime.Round(time.Second), strings.Join(vs, ", "))
	}
	t.Logf("%d cases (%d values, %d list changes) in %v", len(plan.Cases), len(fuzzValues), len(fuzzListValues), took.Round(time.Second))
	var live []fuzzReport
	for _, r := range results {
		if r.Verdict != vBoundary && r.Verdict != vSampled && r.Verdict != vNA {
			live = append(live, r)
		}
	}
	sort.Slice(live, func(i, j int) bool { return live[i].Ms > live[j].Ms })
	for _, r := range live[:min(len(live), 5)] {
		t.Logf("slow: %s %v (%s)", r.Case, time.Duration(r.Ms)*time.Millisecond, r.Verdict)
	}
}
