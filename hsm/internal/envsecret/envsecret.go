// Package envsecret reads secrets (HSM PINs, Vault tokens, AppRole IDs)
// from environment variables and removes them from the environment at
// once, so no child process inherits them and no later reader in this
// process (a library reading VAULT_TOKEN, a crash handler dumping the
// environment) finds them there.
//
// A variable is read once: Take unsets it and keeps the value in this
// process's memory, so a second Take of the same name (an AppRole login
// renewed, a keystore opened again) gets the same value. If the variable
// is set again meanwhile, the new value wins.
//
// Limit: unsetting changes the process's environment as libc and Go see
// it, not the copy the kernel made at exec: /proc/PID/environ still shows
// the variable to the same user and to root. Secret files (mode 0600) do
// not have that exposure.
package envsecret

import (
	"os"
	"sync"
)

// taken holds the values Take removed from the environment. It mirrors
// the process environment, which is process-global too.
var taken struct {
	mu sync.Mutex
	v  map[string]string
}

// Take returns the value of the environment variable name and unsets it.
// ok is false when the variable is not set and was never taken.
func Take(name string) (value string, ok bool) {
	taken.mu.Lock()
	defer taken.mu.Unlock()
	if v, set := os.LookupEnv(name); set {
		// Unsetenv fails only for a name the environment cannot hold,
		// which LookupEnv would not have found.
		_ = os.Unsetenv(name)
		if taken.v == nil {
			taken.v = map[string]string{}
		}
		taken.v[name] = v
		return v, true
	}
	v, ok := taken.v[name]
	return v, ok
}
