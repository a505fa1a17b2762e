package workflow

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/cofferhq/coffer/ledger"
	"github.com/cofferhq/coffer/signer/gate"
)

// A drive that ends without a session (here: no active policy) leaves a
// retry time, and the look its wake-up causes waits for it instead of
// driving again at once; once the request is final the scheduler forgets
// it entirely (nothing it keeps grows with the history).
func TestDriveWithoutSessionWaitsItsRetry(t *testing.T) {
	st, err := ledger.Open(filepath.Join(t.TempDir(), "node.db"), ledger.Options{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now().UTC().Truncate(time.Second)
	d := sha256.Sum256([]byte("i"))
	tr := &ledger.Transfer{ID: "r1", Digest: d[:], Home: "n1", Initiator: "w", InitiatorRole: "withdrawal", Source: "hot",
		Chain: "btc", Asset: "BTC", Amount: "1000", To: "bcrt1qx", Intent: []byte("i"), PolicyHash: "p",
		SubmittedAt: now, ExpiresAt: now.Add(time.Hour), State: ledger.StateReady}
	if _, err := st.Apply(ledger.Command{Kind: ledger.CmdSubmit, At: now, Node: "n1", Submit: tr}); err != nil {
		t.Fatal(err)
	}
	w := &Workflow{self: "n1", store: st, now: func() time.Time { return now }, log: slog.New(slog.DiscardHandler),
		policy: func(time.Time) (*gate.PolicyView, error) { return nil, errors.New("no policy") },
		wake:   make(chan string, 8), wakeAll: make(chan struct{}, 1), due: newDueQueue()}
	w.drive("r1")
	if len(w.wake) != 1 {
		t.Fatalf("%d wakes after the drive", len(w.wake))
	}
	at, ok := w.retryAt.Load("r1")
	if !ok || !at.(time.Time).After(now) {
		t.Fatalf("no retry time after a drive without a session: %v", at)
	}
	got, _ := st.Transfer("r1")
	if next := w.act(context.Background(), got, now); !next.Equal(at.(time.Time)) {
		t.Fatalf("the look is due at %v, want the retry time %v", next, at)
	}
	if _, busy := w.driving.Load("r1"); busy || len(w.wake) != 1 {
		t.Fatal("the look drove the request again before its retry time")
	}
	if _, err := st.Apply(ledger.Command{Kind: ledger.CmdSetState, At: now, Node: "n1", ID: "r1", State: ledger.StateExpired}); err != nil {
		t.Fatal(err)
	}
	w.look(context.Background(), "r1", now)
	if _, ok := w.retryAt.Load("r1"); ok || w.due.has("r1") {
		t.Fatal("a final request is still kept by the scheduler")
	}
}
