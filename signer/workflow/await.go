package workflow

import (
	"context"
	"errors"
	"time"

	"github.com/cofferhq/coffer/ledger"
)

// catchUpWait bounds how long a node waits for a request another node
// just submitted to reach its own copy of the log.
const catchUpWait = 2 * time.Second

// transfer reads a request from this node's ledger, waiting briefly when
// it is not there yet: a client may submit at one node and go on at
// another before the log reached it.
func (w *Workflow) Await(ctx context.Context, id string) (ledger.Transfer, error) {
	ctx, cancel := context.WithTimeout(ctx, catchUpWait)
	defer cancel()
	for {
		changed := w.store.Changed()
		t, err := w.store.Transfer(id)
		if !errors.Is(err, ledger.ErrTransferNotFound) {
			return t, err
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return t, err
		}
	}
}
