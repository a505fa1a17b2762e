// Command genfixtures generates tss-lib pre-parameters with Coffer's own
// code and writes them as a JSON array, for use as test fixtures only
// (they are secret material and must never serve a real key).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	ctss "github.com/cofferhq/coffer/signer/tss"
)

func main() {
	n := flag.Int("n", 9, "how many sets")
	out := flag.String("out", "preparams.json", "output file")
	keep := flag.Bool("keep", false, "keep the sets already in the output file and add sets up to -n")
	flag.Parse()
	var all []json.RawMessage
	if *keep {
		if b, err := os.ReadFile(*out); err == nil {
			if err := json.Unmarshal(b, &all); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
	}
	for i := len(all); i < *n; i++ {
		start := time.Now()
		pp, err := ctss.GeneratePreParams(context.Background(), 2)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		b, err := ctss.MarshalPreParams(pp)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		all = append(all, b)
		fmt.Fprintf(os.Stderr, "set %d in %s\n", i+1, time.Since(start).Round(time.Second))
	}
	b, _ := json.Marshal(all)
	if err := os.WriteFile(*out, b, 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
