package audit

import (
	"errors"
	"io"
	"runtime"
	"sync"
)

// Decoding records (strict JSON, validation, the canonical re-encoding)
// dominates verification, so entries are decoded by GOMAXPROCS workers in
// chunks and handed back in log order.

const streamChunk = 512 // entries per chunk

// decodedEntry is one entry decoded by a worker.
type decodedEntry struct {
	hash []byte // RFC 6962 leaf hash
	rec  Record
	err  error
}

type entryChunk struct {
	leaves  [][]byte
	out     []decodedEntry
	readErr error // after the leaves: the error that ended reading (io.EOF at the end)
	done    chan struct{}
}

// entryStream decodes a bundle's entries in parallel.
type entryStream struct {
	ordered chan *entryChunk
	stop    chan struct{}
	wg      sync.WaitGroup
}

func newEntryStream(b *Bundle) *entryStream {
	workers := max(1, runtime.GOMAXPROCS(0))
	s := &entryStream{ordered: make(chan *entryChunk, 2*workers), stop: make(chan struct{})}
	work := make(chan *entryChunk, 2*workers)
	s.wg.Add(1 + workers)
	go func() {
		defer s.wg.Done()
		defer close(work)
		defer close(s.ordered)
		for {
			select {
			case <-s.stop:
				return
			default:
			}
			c := readChunk(b)
			select {
			case s.ordered <- c:
			case <-s.stop:
				return
			}
			work <- c // a worker always takes it: workers stop only when work closes
			if c.readErr != nil {
				return
			}
		}
	}()
	for range workers {
		go func() {
			defer s.wg.Done()
			for c := range work {
				for i, leaf := range c.leaves {
					rec, err := DecodeRecord(leaf)
					c.out[i] = decodedEntry{hash: hasher.HashLeaf(leaf), rec: rec, err: err}
				}
				close(c.done)
			}
		}()
	}
	return s
}

// readChunk copies up to streamChunk leaves into one buffer.
func readChunk(b *Bundle) *entryChunk {
	c := &entryChunk{done: make(chan struct{}), leaves: make([][]byte, 0, streamChunk)}
	var buf []byte
	var ends []int
	for len(ends) < streamChunk {
		leaf, err := b.Next()
		if err != nil {
			c.readErr = err
			break
		}
		buf = append(buf, leaf...)
		ends = append(ends, len(buf))
	}
	start := 0
	for _, end := range ends {
		c.leaves = append(c.leaves, buf[start:end:end])
		start = end
	}
	c.out = make([]decodedEntry, len(c.leaves))
	return c
}

// each calls fn for every entry in order until fn returns false; it then
// returns the error that ended reading (nil at the end of the bundle, or
// when fn stopped).
func (s *entryStream) each(fn func(decodedEntry) bool) error {
	defer s.close()
	for c := range s.ordered {
		<-c.done
		for _, e := range c.out {
			if !fn(e) {
				return nil
			}
		}
		if c.readErr != nil {
			if errors.Is(c.readErr, io.EOF) {
				return nil
			}
			return c.readErr
		}
	}
	return nil
}

// close stops the reader and waits for every goroutine.
func (s *entryStream) close() {
	close(s.stop)
	s.wg.Wait()
}
