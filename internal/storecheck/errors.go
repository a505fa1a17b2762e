package storecheck

import (
	"errors"
	"fmt"
)

// ErrLocked means another process (a running node) holds the file.
var ErrLocked = errors.New("storecheck: the store is in use by another process")

// ErrDamaged is what every *Damage matches with errors.Is.
var ErrDamaged = errors.New("storecheck: the store is damaged")

// RestoreHint is what an operator does with a damaged store.
const RestoreHint = `the store is damaged; restore it (README, "Restoring a node")`

// Damage is a damaged store: the file, where in it (a bucket, a page, an
// audit entry) and what is wrong. Its message is one line.
type Damage struct {
	File   string
	Where  string
	Detail string
	Err    error // the underlying error, if any
}

func (d *Damage) Error() string {
	if d.Where == "" {
		return fmt.Sprintf("%s: %s: %s", d.File, d.Detail, RestoreHint)
	}
	return fmt.Sprintf("%s: %s: %s: %s", d.File, d.Where, d.Detail, RestoreHint)
}

// Is makes errors.Is(err, ErrDamaged) hold.
func (d *Damage) Is(target error) bool { return target == ErrDamaged }

// Unwrap returns the underlying error.
func (d *Damage) Unwrap() error { return d.Err }
