package tss

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"sync"
)

// Confirmer signs this node's confirmation of a keygen result with its
// identity key and checks another node's against that node's pinned key.
type Confirmer interface {
	Sign(msg []byte) ([]byte, error)
	Verify(node string, msg, sig []byte) error
}

// Confirmation is one node's signed word on a keygen's outcome: the key,
// and the hash of every broadcast it saw (its own included).
type Confirmation struct {
	Node       string
	Transcript [32]byte
	PublicKey  []byte // compressed
	Signature  []byte // by the node's identity key over ConfirmMessage
}

// confirmMagic starts a confirmation envelope's payload; no tss-lib wire
// message starts with it.
var confirmMagic = []byte("coffer-keygen-confirm/v1\x00")

// ConfirmMessage is what a node signs to confirm a keygen.
func ConfirmMessage(cluster, keyID string, sessionID []byte, transcript [32]byte, pub []byte) []byte {
	var b bytes.Buffer
	b.Write(confirmMagic)
	for _, f := range [][]byte{[]byte(cluster), []byte(keyID), sessionID, transcript[:], pub} {
		_ = binary.Write(&b, binary.BigEndian, uint32(len(f)))
		b.Write(f)
	}
	return b.Bytes()
}

// transcript records the hash of every broadcast of a session, sent or
// received. tss-lib trusts that a broadcast reached every party alike; a
// party that sends one thing to some and another to others (equivocates)
// leaves the parties with different transcripts, and the confirmations
// then disagree.
type transcript struct {
	mu     sync.Mutex
	hashes map[string][32]byte // sender party + message type → payload hash
}

func (t *transcript) add(fromParty []byte, typ string, payload []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.hashes == nil {
		t.hashes = map[string][32]byte{}
	}
	t.hashes[keyHex(fromParty)+" "+typ] = sha256.Sum256(payload)
}

func (t *transcript) sum() [32]byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	keys := make([]string, 0, len(t.hashes))
	for k := range t.hashes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		v := t.hashes[k]
		_ = binary.Write(h, binary.BigEndian, uint32(len(k)))
		h.Write([]byte(k))
		h.Write(v[:])
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// confirmer is a keygen session's final round: once tss-lib produced the
// key, every node signs (key ID, public key, transcript) and sends it to
// the others; the session succeeds only when every party's confirmation
// arrived, verifies, and matches this node's own.
type confirmer struct {
	cluster, keyID string
	c              Confirmer
	nodes          []string // every party's node, sorted
	got            map[string]Confirmation
}

func (s *Session) handleConfirm(fromNode string, payload []byte) error {
	body := payload[len(confirmMagic):]
	if s.confirm == nil || len(body) < 32+33 {
		return &SessionError{Reason: fmt.Sprintf("%s sent a confirmation this session does not take", fromNode), Culprits: []string{fromNode}, Err: ErrBadMessage}
	}
	if _, dup := s.confirm.got[fromNode]; dup {
		return &SessionError{Reason: fmt.Sprintf("%s confirmed twice", fromNode), Culprits: []string{fromNode}, Err: ErrBadMessage}
	}
	c := Confirmation{Node: fromNode, PublicKey: slices.Clone(body[32 : 32+33]), Signature: slices.Clone(body[32+33:])}
	copy(c.Transcript[:], body[:32])
	msg := ConfirmMessage(s.confirm.cluster, s.confirm.keyID, s.id, c.Transcript, c.PublicKey)
	if err := s.confirm.c.Verify(fromNode, msg, c.Signature); err != nil {
		return &SessionError{Reason: fmt.Sprintf("confirmation from %s does not verify: %v", fromNode, err), Culprits: []string{fromNode}, Err: ErrBadMessage}
	}
	s.confirm.got[fromNode] = c
	return nil
}

// confirmResult runs the confirmation round for res: it sends this node's
// confirmation and waits, reading the inbox, for every other party's.
// Confirmations that differ fail the session without naming anyone: an
// equivocating party makes honest parties' transcripts differ, and which
// one lied is not known to any single party.
func (s *Session) confirmResult(ctx context.Context, tr Transport, res *Result) error {
	pub, err := CompressedPubKey(res.PublicKey)
	if err != nil {
		return err
	}
	own := Confirmation{Node: s.self, Transcript: s.transcript.sum(), PublicKey: pub}
	if own.Signature, err = s.confirm.c.Sign(ConfirmMessage(s.confirm.cluster, s.confirm.keyID, s.id, own.Transcript, pub)); err != nil {
		return &SessionError{Reason: fmt.Sprintf("sign own confirmation: %v", err), Err: ErrAborted}
	}
	payload := slices.Concat(confirmMagic, own.Transcript[:], own.PublicKey, own.Signature)
	var sends sync.WaitGroup
	var me []byte
	for k, n := range s.owner {
		if n == s.self && s.isLocal[k] {
			me = s.all[k].Key
			break
		}
	}
	for _, n := range s.confirm.nodes {
		if n == s.self {
			continue
		}
		var to [][]byte
		for k, owner := range s.owner {
			if owner == n {
				to = append(to, s.all[k].Key)
			}
		}
		env := Envelope{Session: s.id, From: me, To: to, Broadcast: true, Payload: payload}
		sends.Add(1)
		go func(n string) {
			defer sends.Done()
			if err := tr.Send(ctx, n, env); err != nil {
				s.log.Debug("send confirmation", "to", n, "err", err)
			}
		}(n)
	}
	// the others need this node's confirmation as much as it needs theirs:
	// it is delivered before the session ends here
	defer sends.Wait()
	for len(s.confirm.got) < len(s.confirm.nodes)-1 {
		select {
		case in := <-s.inbox:
			s.dequeued(in.fromNode, in.queued)
			if !bytes.HasPrefix(in.env.Payload, confirmMagic) {
				continue // a late tss-lib message; the key is made
			}
			if err := s.handleConfirm(in.fromNode, in.env.Payload); err != nil {
				return err
			}
		case <-s.abortCh:
			return s.abortErr
		case <-ctx.Done():
			var missing []string
			for _, n := range s.confirm.nodes {
				if _, ok := s.confirm.got[n]; !ok && n != s.self {
					missing = append(missing, n)
				}
			}
			return &SessionError{Reason: "deadline passed while waiting for keygen confirmations", Culprits: missing, Err: ctx.Err()}
		}
	}
	var differ []string
	for _, n := range s.confirm.nodes {
		c, ok := s.confirm.got[n]
		if ok && (c.Transcript != own.Transcript || !bytes.Equal(c.PublicKey, own.PublicKey)) {
			differ = append(differ, n)
		}
	}
	if len(differ) > 0 {
		return &SessionError{Reason: fmt.Sprintf("keygen outcome differs between %s and %v: a party sent different broadcasts to different parties; no key is stored", s.self, differ), Err: ErrAborted}
	}
	res.Confirmations = []Confirmation{own}
	for _, n := range s.confirm.nodes {
		if c, ok := s.confirm.got[n]; ok {
			res.Confirmations = append(res.Confirmations, c)
		}
	}
	sort.Slice(res.Confirmations, func(i, j int) bool { return res.Confirmations[i].Node < res.Confirmations[j].Node })
	return nil
}
