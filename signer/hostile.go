//go:build hostile

package signer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	ctss "github.com/cofferhq/coffer/signer/tss"
)

// hostileOutEnv names the folder a compromised test build writes the
// signatures it withheld to, one JSON file per session.
const hostileOutEnv = "COFFER_HOSTILE_OUT"

// withheld plays the rest of the attack when this build withholds the
// last round: it keeps the signatures it alone could finish (written for
// the test to check) and reports the session failed, recording nothing.
func withheld(sid []byte, res []*ctss.Result) error {
	if !ctss.WithholdsLastRound() {
		return nil
	}
	type sig struct{ R, S string }
	var out []sig
	for _, r := range res {
		if r.Signature != nil {
			out = append(out, sig{R: r.Signature.R.Text(16), S: r.Signature.S.Text(16)})
		}
	}
	if len(out) == 0 {
		return nil
	}
	b, _ := json.Marshal(out)
	if dir := os.Getenv(hostileOutEnv); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%x.json", sid)), b, 0o600); err != nil {
			return err
		}
	}
	return errors.New("hostile build: the signature is withheld")
}
