package backup

import (
	"fmt"
	"regexp"
	"strings"
)

// Location is where a backup lives: vault://MOUNT/PATH, MOUNT being the
// KV v2 engine's path (one segment) and PATH the secret's path in it.
type Location struct {
	Mount string
	Path  string
}

var segment = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)

// ParseLocation parses vault://MOUNT/PATH.
func ParseLocation(s string) (Location, error) {
	rest, ok := strings.CutPrefix(s, "vault://")
	if !ok {
		return Location{}, fmt.Errorf("%w: %q must be vault://MOUNT/PATH", ErrLocation, s)
	}
	parts := strings.Split(rest, "/")
	if len(parts) < 2 {
		return Location{}, fmt.Errorf("%w: %q must name a mount and a path: vault://MOUNT/PATH", ErrLocation, s)
	}
	for _, p := range parts {
		if !segment.MatchString(p) {
			return Location{}, fmt.Errorf("%w: %q: path segment %q is empty or holds characters other than letters, digits, _ . -", ErrLocation, s, p)
		}
	}
	return Location{Mount: parts[0], Path: strings.Join(parts[1:], "/")}, nil
}

func (l Location) String() string { return "vault://" + l.Mount + "/" + l.Path }

// dataPath is the KV v2 API path of the secret's data.
func (l Location) dataPath() string { return l.Mount + "/data/" + l.Path }
