package tss

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// pump routes the local parties' outgoing messages: to local parties
// through the inbox, to other nodes through the transport, one envelope
// per destination node.
func (s *Session) pump(ctx context.Context, tr Transport, progress func(Progress)) {
	var wg sync.WaitGroup
	defer wg.Wait()
	last := 0
	for msg := range s.out {
		if r := roundOf(msg.Type()); r > last && progress != nil {
			last = r
			progress(Progress{Node: s.self, Round: r, Rounds: s.rounds})
		}
		wire, routing, err := msg.WireBytes()
		if err != nil {
			s.Abort(&SessionError{Reason: fmt.Sprintf("encode own message: %v", err), Err: ErrAborted})
			continue
		}
		from := routing.From
		withhold := false
		if s.finalType != "" && msg.Type() == s.finalType {
			// marked before it leaves: once sent it cannot be taken back
			withhold = WithholdsLastRound()
			s.exposed.Store(!withhold)
		}
		if routing.IsBroadcast {
			s.transcript.add(from.Key, msg.Type(), wire)
		}
		var to []string
		if routing.To == nil {
			to = s.peersOf[keyHex(from.Key)]
		} else {
			for _, p := range routing.To {
				to = append(to, keyHex(p.Key))
			}
		}
		byNode := map[string][][]byte{}
		var nodes []string
		for _, k := range to {
			n := s.owner[k]
			if _, ok := byNode[n]; !ok {
				nodes = append(nodes, n)
			}
			byNode[n] = append(byNode[n], s.all[k].Key)
		}
		for _, n := range nodes {
			env := Envelope{Session: s.id, From: from.Key, To: byNode[n], Broadcast: routing.IsBroadcast, Payload: wire}
			if n == s.self {
				select {
				case s.inbox <- inbound{fromNode: s.self, env: env}:
				default:
					s.Abort(&SessionError{Reason: "local inbox full", Err: ErrAborted})
				}
				continue
			}
			if withhold {
				continue // a test build playing a compromised node
			}
			wg.Add(1)
			go func(n string, env Envelope) {
				defer wg.Done()
				if err := tr.Send(ctx, n, env); err != nil {
					select {
					case <-ctx.Done():
						return // the session already ended
					default:
					}
					if errors.Is(err, ErrPeerAborted) {
						s.Abort(&SessionError{Reason: fmt.Sprintf("%s had already aborted the session", n), Err: ErrAborted})
						return
					}
					s.Abort(&SessionError{Reason: fmt.Sprintf("send to %s: %v", n, err), Culprits: []string{n}, Err: ErrAborted})
				}
			}(n, env)
		}
	}
}

// roundOf reads the round number from a tss-lib message type name such as
// "binance.tsslib.ecdsa.signing.SignRound4Message".
func roundOf(typ string) int {
	i := strings.LastIndex(typ, "Round")
	if i < 0 {
		return 0
	}
	n := 0
	for _, c := range typ[i+5:] {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}
