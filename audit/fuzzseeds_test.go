package audit

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// TestWriteFuzzSeeds regenerates testdata/fuzz/* when
// COFFER_WRITE_FUZZ_SEEDS=1; otherwise it checks every target has seeds.
func TestWriteFuzzSeeds(t *testing.T) {
	targets := []string{"FuzzDecodeRecord", "FuzzDecodeFastPath", "FuzzParseCheckpoint", "FuzzOpenCheckpoint", "FuzzReadBundle", "FuzzParseTrust"}
	if os.Getenv("COFFER_WRITE_FUZZ_SEEDS") != "1" {
		for _, name := range targets {
			if files, _ := filepath.Glob(filepath.Join("testdata", "fuzz", name, "*")); len(files) == 0 {
				t.Errorf("no seeds in testdata/fuzz/%s", name)
			}
		}
		return
	}
	seeds := map[string][][]byte{}
	for i, rec := range oneOfEach(1) {
		rec.V, rec.Index = 1, uint64(i)
		leaf, err := EncodeRecord(rec)
		if err != nil {
			t.Fatal(err)
		}
		seeds["FuzzDecodeRecord"] = append(seeds["FuzzDecodeRecord"], leaf)
	}
	seeds["FuzzDecodeRecord"] = append(seeds["FuzzDecodeRecord"], []byte(`{"v":2}`), []byte(`{}`))
	seeds["FuzzDecodeFastPath"] = seeds["FuzzDecodeRecord"]

	s, _ := fuzzKey()
	root := digestOf("root")
	cp := Checkpoint{Origin: s.Name(), Size: 3, Hash: root[:]}
	seeds["FuzzParseCheckpoint"] = [][]byte{cp.Text(), []byte("o\n0\n" + b64(make([]byte, 32)) + "\next\n")}
	signed, err := note.Sign(&note.Note{Text: string(cp.Text())}, s)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewNoteSigner("coffer/fuzz/node2", memKS(8).Identity())
	cosigned, _ := note.Sign(&note.Note{Text: string(cp.Text())}, s, other)
	seeds["FuzzOpenCheckpoint"] = [][]byte{signed, cosigned}

	// Small bundles (one batch each) keep fuzzing executions fast.
	nodes := newCluster(t, memKS(1), memKS(2))
	recs := []Record{transferRec(1), decisionRec(1, EffectAllow), sessionRec(1, "node1"), signatureRec(1, 0, "node1")}
	if _, err := nodes[0].log.AppendAll(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	if _, err := nodes[1].log.AppendAll(context.Background(), oneOfEach(2)[:2]); err != nil {
		t.Fatal(err)
	}
	witnessAll(t, nodes)
	seeds["FuzzReadBundle"] = bundlesOf(t, nodes...)

	seeds["FuzzParseTrust"] = [][]byte{
		[]byte(fmt.Sprintf("threshold: 1\nmin_cosignatures: 1\nnodes:\n  - %s\n  - %s\n", nodes[0].vkey(t), nodes[1].vkey(t))),
		[]byte("threshold: 0\nnodes: [" + nodes[0].vkey(t) + "]\n"),
	}
	for name, list := range seeds {
		dir := filepath.Join("testdata", "fuzz", name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, b := range list {
			body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(b)) + ")\n"
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%d", i)), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
