package ledger

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TransferFilter selects transfers; zero fields match everything.
type TransferFilter struct {
	State     TransferState
	Initiator string
	Home      string
	Limit     int // at most this many; 0 or less: all
}

func (f TransferFilter) match(t Transfer) bool {
	return (f.State == "" || t.State == f.State) &&
		(f.Initiator == "" || t.Initiator == f.Initiator) &&
		(f.Home == "" || t.Home == f.Home)
}

// Transfer returns one transfer or ErrTransferNotFound.
func (s *Store) Transfer(id string) (Transfer, error) {
	var t Transfer
	err := s.db.View(func(tx *bolt.Tx) error {
		l, err := openLedgerTx(tx)
		if err != nil {
			return err
		}
		t, err = l.mustTransfer(id)
		return err
	})
	if err != nil {
		return Transfer{}, fmt.Errorf("get transfer %q: %w", id, err)
	}
	return t, nil
}

// Transfers lists the transfers f selects, newest first (SubmittedAt
// descending, then ID ascending).
func (s *Store) Transfers(f TransferFilter) ([]Transfer, error) {
	if f.State != "" && !f.State.Known() {
		return nil, fmt.Errorf("list transfers: %w", invalid("unknown state %q", f.State))
	}
	var out []Transfer
	err := s.db.View(func(tx *bolt.Tx) error {
		l, err := openLedgerTx(tx)
		if err != nil || l.byTime == nil {
			return err
		}
		c := l.byTime.Cursor()
		for k, _ := c.First(); k != nil && (f.Limit <= 0 || len(out) < f.Limit); k, _ = c.Next() {
			if len(k) <= 8 {
				return fmt.Errorf("%w: short index key %x", ErrCorrupt, k)
			}
			t, err := l.mustTransfer(string(k[8:]))
			if err != nil {
				return fmt.Errorf("read indexed transfer %q: %w", k[8:], err)
			}
			if f.match(t) {
				out = append(out, t)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list transfers: %w", err)
	}
	return out, nil
}

// Paging bounds: a page holds at most MaxPage transfers and reads at most
// pageScan of them (a filter that matches few does not make a page scan
// the history; the page then ends early, with a cursor).
const (
	DefaultPage = 100
	MaxPage     = 1000
	pageScan    = 10_000
)

// PageFilter selects one page of transfers, newest first.
type PageFilter struct {
	TransferFilter
	Since, Until time.Time // SubmittedAt in [Since, Until); zero: unbounded
	After        []byte    // the cursor of the page before
}

// Page is one page of transfers and the cursor of the next (nil: none).
type Page struct {
	Transfers []Transfer
	Next      []byte
}

// TransferPage returns one page. Its cost grows with the page (and the
// transfers a filter skips, at most pageScan), not with the history.
func (s *Store) TransferPage(f PageFilter) (Page, error) {
	if f.State != "" && !f.State.Known() {
		return Page{}, fmt.Errorf("list transfers: %w", invalid("unknown state %q", f.State))
	}
	if f.After != nil && len(f.After) <= 8 {
		return Page{}, fmt.Errorf("list transfers: %w", invalid("malformed cursor"))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultPage
	}
	limit = min(limit, MaxPage)
	var p Page
	err := s.db.View(func(tx *bolt.Tx) error {
		l, err := openLedgerTx(tx)
		if err != nil || l.byTime == nil {
			return err
		}
		c := l.byTime.Cursor()
		var k []byte
		switch {
		case f.After != nil:
			if k, _ = c.Seek(f.After); k != nil && bytes.Equal(k, f.After) {
				k, _ = c.Next()
			}
		case !f.Until.IsZero():
			k, _ = c.Seek(byTimeKey(f.Until, ""))
		default:
			k, _ = c.First()
		}
		// keys order by time: the range is checked on the key, and only
		// the transfers in it are read, decoded a batch at a time on every
		// core (decoding is most of a page's cost)
		var sinceKey, untilKey, last []byte
		if !f.Since.IsZero() {
			sinceKey = byTimeKey(f.Since, "")
		}
		if !f.Until.IsZero() {
			untilKey = byTimeKey(f.Until, "")
		}
		var ids []string
		var raws [][]byte
		var keys [][]byte
		for scanned := 0; k != nil; {
			want := min(limit-len(p.Transfers), pageScan-scanned)
			if want == 0 {
				p.Next = slices.Clone(last)
				return nil
			}
			ids, raws, keys = ids[:0], raws[:0], keys[:0]
			for ; k != nil && len(raws) < want; k, _ = c.Next() {
				if len(k) <= 8 {
					return fmt.Errorf("%w: short index key %x", ErrCorrupt, k)
				}
				if sinceKey != nil && bytes.Compare(k[:8], sinceKey) > 0 {
					k = nil // older than the range, and so is all that follows
					break
				}
				if untilKey != nil && bytes.Compare(k[:8], untilKey) <= 0 {
					continue // at or after Until (only next to a Seek to it)
				}
				v := l.transfers.Get(k[8:])
				if v == nil {
					return fmt.Errorf("read indexed transfer %q: %w", k[8:], ErrTransferNotFound)
				}
				ids, raws, keys = append(ids, string(k[8:])), append(raws, v), append(keys, k)
			}
			scanned += len(raws)
			ts, err := decodeTransfers(ids, raws)
			if err != nil {
				return err
			}
			for i, t := range ts {
				last = keys[i]
				if f.match(t) {
					p.Transfers = append(p.Transfers, t)
				}
			}
		}
		return nil
	})
	if err != nil {
		return Page{}, fmt.Errorf("list transfers: %w", err)
	}
	return p, nil
}

// decodeTransfers decodes stored transfers, in parallel on every core when
// there are enough to share.
func decodeTransfers(ids []string, raws [][]byte) ([]Transfer, error) {
	out := make([]Transfer, len(raws))
	errs := make([]error, len(raws))
	decode := func(i int) {
		if err := json.Unmarshal(raws[i], &out[i]); err != nil {
			errs[i] = fmt.Errorf("decode transfer %s: %w: %v", ids[i], ErrCorrupt, err)
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(raws)/16)
	if workers <= 1 {
		for i := range raws {
			decode(i)
		}
		return out, errors.Join(errs...)
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(raws); i += workers {
				decode(i)
			}
		})
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// OpenTransfers returns home's transfers that are not in a final state,
// by ID. Its cost grows with the open transfers, not with the history.
func (s *Store) OpenTransfers(home string) ([]Transfer, error) {
	var out []Transfer
	err := s.db.View(func(tx *bolt.Tx) error {
		l, err := openLedgerTx(tx)
		if err != nil {
			return err
		}
		for _, id := range l.openIDs(home) {
			t, err := l.mustTransfer(id)
			if err != nil {
				return fmt.Errorf("read open transfer %q: %w", id, err)
			}
			out = append(out, t)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list open transfers: %w", err)
	}
	return out, nil
}

// OpenTransferIDs returns the IDs of home's transfers that are not in a
// final state, reading the open index's keys only.
func (s *Store) OpenTransferIDs(home string) ([]string, error) {
	var out []string
	err := s.db.View(func(tx *bolt.Tx) error {
		l, err := openLedgerTx(tx)
		if err == nil {
			out = l.openIDs(home)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list open transfers: %w", err)
	}
	return out, nil
}

// openIDs reads home's keys of the open index.
func (l *ledgerTx) openIDs(home string) []string {
	if l.open == nil {
		return nil
	}
	var out []string
	prefix := openKey(home, "")
	c := l.open.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		out = append(out, string(k[len(prefix):]))
	}
	return out
}

// Spends returns the spends of every transfer holding a reservation
// (signing or signed, or denied or expired while signing) with At at or
// after since, oldest first (then by transfer ID), for policy limit
// windows. A released reservation's spend is gone.
func (s *Store) Spends(since time.Time) ([]Spend, error) { return s.SpendsExcept(since, "") }

// SpendsExcept is Spends without the spend of transfer except (a decision
// about a transfer counts the others' spends, not its own). Its cost grows
// with the spends at or after since, not with the history before it.
func (s *Store) SpendsExcept(since time.Time, except string) ([]Spend, error) {
	var out []Spend
	err := s.db.View(func(tx *bolt.Tx) error {
		l, err := openLedgerTx(tx)
		if err != nil || l.spends == nil {
			return err
		}
		c := l.spends.Cursor()
		for k, v := c.Seek(binary.BigEndian.AppendUint64(nil, timeBits(since))); k != nil; k, v = c.Next() {
			if except != "" && len(k) > 8 && string(k[8:]) == except {
				continue
			}
			var sp Spend
			if err := json.Unmarshal(v, &sp); err != nil {
				return fmt.Errorf("decode spend %x: %w: %v", k, ErrCorrupt, err)
			}
			out = append(out, sp)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list spends: %w", err)
	}
	return out, nil
}

// Commands returns up to limit commands of the log from sequence number
// from (the first is 1; 0 means 1), and the sequence number to ask for
// next. limit 0 or less means all.
func (s *Store) Commands(from uint64, limit int) ([]Command, uint64, error) {
	from = max(from, 1)
	next := from
	var out []Command
	err := s.db.View(func(tx *bolt.Tx) error {
		l, err := openLedgerTx(tx)
		if err != nil || l.commands == nil {
			return err
		}
		c := l.commands.Cursor()
		for k, v := c.Seek(seqKey(from)); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Next() {
			var cmd Command
			if len(k) != 8 {
				return fmt.Errorf("%w: command key %x", ErrCorrupt, k)
			}
			if err := json.Unmarshal(v, &cmd); err != nil {
				return fmt.Errorf("decode command %d: %w: %v", binary.BigEndian.Uint64(k), ErrCorrupt, err)
			}
			out = append(out, cmd)
			next = binary.BigEndian.Uint64(k) + 1
		}
		return nil
	})
	if err != nil {
		return nil, from, fmt.Errorf("read command log: %w", err)
	}
	return out, next, nil
}
