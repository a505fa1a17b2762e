package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"io"
	"math/big"
	"testing"
	"time"

	"github.com/cofferhq/coffer/api/operatorpb"
	"github.com/cofferhq/coffer/internal/devcluster"
	ctss "github.com/cofferhq/coffer/signer/tss"
)

func dial(t *testing.T, c *devcluster.Cluster, node string) *devcluster.Client {
	t.Helper()
	cl, err := c.Layout.Dial(node)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Close() })
	return cl
}

// keygen runs a keygen through node's API, returning the key and the
// progress stages seen; onRound is called at each local round.
func keygen(c *devcluster.Cluster, node, key string, threshold int, parties []string, onRound func(int)) (*operatorpb.KeyInfo, error) {
	cl, err := c.Layout.Dial(node)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	st, err := cl.Operator.Keygen(ctx, &operatorpb.KeygenRequest{KeyId: key, Threshold: int32(threshold), Parties: parties})
	if err != nil {
		return nil, err
	}
	return follow(st.Recv, onRound)
}

func reshare(c *devcluster.Cluster, node, key string, olds, news []string, threshold int) (*operatorpb.KeyInfo, error) {
	cl, err := c.Layout.Dial(node)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	st, err := cl.Operator.Reshare(ctx, &operatorpb.ReshareRequest{KeyId: key, OldParties: olds, NewParties: news, NewThreshold: int32(threshold)})
	if err != nil {
		return nil, err
	}
	return follow(st.Recv, nil)
}

func follow(recv func() (*operatorpb.Progress, error), onRound func(int)) (*operatorpb.KeyInfo, error) {
	for {
		p, err := recv()
		if err == io.EOF {
			return nil, io.ErrUnexpectedEOF
		}
		if err != nil {
			return nil, err
		}
		if p.Stage == "round" && onRound != nil {
			onRound(int(p.Round))
		}
		if p.Stage == "complete" {
			return p.Key, nil
		}
	}
}

// selfTestSign asks parties to sign through parties[0]'s API and checks
// the signature here with crypto/ecdsa.
func selfTestSign(c *devcluster.Cluster, key string, parties []string, path []uint32) (*operatorpb.SelfTestSignResponse, bool, error) {
	cl, err := c.Layout.Dial(parties[0])
	if err != nil {
		return nil, false, err
	}
	defer cl.Close()
	nonce := make([]byte, 32)
	_, _ = rand.Read(nonce)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := cl.Operator.SelfTestSign(ctx, &operatorpb.SelfTestSignRequest{KeyId: key, Parties: parties, Nonce: nonce, DerivationPath: path})
	if err != nil {
		return nil, false, err
	}
	pub, err := ctss.ParsePubKey(r.PublicKey)
	if err != nil {
		return nil, false, err
	}
	return r, ecdsa.Verify(pub, r.Digest, new(big.Int).SetBytes(r.SignatureR), new(big.Int).SetBytes(r.SignatureS)), nil
}

func mustPub(t *testing.T, b []byte) *ecdsa.PublicKey {
	t.Helper()
	p, err := ctss.ParsePubKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
