package audit

import (
	"context"
	"fmt"
	"math"
)

// Append logs rec and returns its index once the transaction holding it
// (and the checkpoint signed over it) is committed and fsynced. Concurrent
// appends share transactions (group commit); each returns only after its
// own is committed. The log sets rec.V and rec.Index, and rec.Time when
// zero.
//
// An error means the caller must treat the record as not logged and fail
// closed (not sign): an invalid record (ErrInvalid, nothing queued), an
// HSM or store failure of its batch (ErrSign, ErrStore; no record of the
// batch was written), a closed log (ErrClosed), or ctx ending (the record
// may then still be committed).
func (l *Log) Append(ctx context.Context, rec Record) (uint64, error) {
	return l.AppendAll(ctx, []Record{rec})
}

// AppendAll logs recs as consecutive entries in one transaction, all or
// none, and returns the index of the first. See Append.
func (l *Log) AppendAll(ctx context.Context, recs []Record) (uint64, error) {
	if len(recs) == 0 {
		return 0, fmt.Errorf("append audit records: %w: no records", ErrInvalid)
	}
	prepared := make([]Record, len(recs))
	now := l.now()
	for i, rec := range recs {
		if rec.V == 0 {
			rec.V = RecordVersion
		}
		if rec.Time.IsZero() {
			rec.Time = now
		}
		rec.Index = math.MaxUint64 // the longest index: checks the size limit for any position
		rec = normalized(rec)
		if _, err := EncodeRecord(rec); err != nil {
			return 0, fmt.Errorf("append audit record %d of %d (%s): %w", i+1, len(recs), rec.Kind, err)
		}
		prepared[i] = rec
	}
	r := &request{ctx: ctx, recs: prepared, done: make(chan error, 1)}
	select {
	case l.reqs <- r:
	case <-l.quit:
		return 0, fmt.Errorf("append audit record: %w", ErrClosed)
	case <-ctx.Done():
		return 0, fmt.Errorf("append audit record: %w", ctx.Err())
	}
	select {
	case err := <-r.done:
		if err != nil {
			return 0, err
		}
		return r.first, nil
	case <-ctx.Done():
		return 0, fmt.Errorf("append audit record: %w (the record may still be committed)", ctx.Err())
	}
}
