package storecheck

import (
	"context"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/note"

	"github.com/cofferhq/coffer/audit"
)

// auditMeta is the audit log's metadata bucket: a file without it has no
// audit log yet (a node stopped before its first start completed).
var auditMeta = []byte("audit/meta")

// checkAudit rehashes the audit log against its latest signed checkpoint
// and compares that checkpoint with the checkpoint file beside the store.
func checkAudit(ctx context.Context, tx *bolt.Tx, path string, rep *Report, where *string) error {
	if tx.Bucket(auditMeta) == nil {
		return nil
	}
	got, err := audit.CheckStored(ctx, tx)
	var ee *audit.EntryError
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("check store %s: %w", path, err)
	case errors.As(err, &ee):
		w := fmt.Sprintf("audit entry %d", ee.Index)
		if ee.Last > ee.Index {
			w = fmt.Sprintf("audit entries %d..%d", ee.Index, ee.Last)
		}
		return &Damage{File: path, Where: w, Detail: ee.Detail, Err: err}
	case err != nil:
		return &Damage{File: path, Where: *where, Detail: oneLine(err.Error()), Err: err}
	}
	rep.AuditChecked, rep.AuditEntries = true, got.Size
	*where = "checkpoint file"
	v, err := note.NewVerifier(string(tx.Bucket(auditMeta).Get([]byte("key"))))
	if err != nil { // CheckStored opened the checkpoint with this key
		return &Damage{File: path, Where: "audit log", Detail: oneLine(err.Error()), Err: err}
	}
	mark, ok, err := audit.ReadWatermark(audit.WatermarkPath(path), note.VerifierList(v))
	if err != nil {
		return fmt.Errorf("check store %s: %w", path, err)
	}
	if !ok {
		return nil
	}
	rep.Watermark = true
	if err := audit.CompareWatermark(audit.WatermarkPath(path), mark, got.Size, got.Root); err != nil {
		return &Damage{File: path, Where: "audit log", Detail: fmt.Sprintf("its latest signed checkpoint is size %d, the checkpoint file records size %d signed earlier: it was rolled back to an older transaction", got.Size, mark.Size), Err: err}
	}
	return nil
}
