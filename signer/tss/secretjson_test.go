package tss

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"math/big"
	"testing"

	"github.com/bnb-chain/tss-lib/v3/crypto"
	"github.com/bnb-chain/tss-lib/v3/ecdsa/keygen"
	tsslib "github.com/bnb-chain/tss-lib/v3/tss"
)

// TestAppendDecimal: the word-by-word decimal writer agrees with big.Int
// on edges around its 10^19 chunks and on random sizes up to 4096 bits.
func TestAppendDecimal(t *testing.T) {
	ten19 := new(big.Int).Exp(big.NewInt(10), big.NewInt(19), nil)
	xs := []*big.Int{big.NewInt(0), big.NewInt(1), big.NewInt(9), big.NewInt(10), new(big.Int).Sub(ten19, big.NewInt(1)), ten19,
		new(big.Int).Add(ten19, big.NewInt(1)), new(big.Int).Mul(ten19, ten19), new(big.Int).Lsh(big.NewInt(1), 64),
		new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))}
	for _, bitsN := range []int{1, 63, 64, 65, 255, 256, 1024, 2048, 4096} {
		x, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), uint(bitsN)))
		xs = append(xs, x)
	}
	for _, x := range xs {
		buf := make([]byte, 0, decimalSize(x))
		got := appendDecimal(buf, x)
		if string(got) != x.String() || cap(got) != cap(buf) {
			t.Fatalf("appendDecimal(%s) = %s (cap %d of %d)", x, got, cap(got), cap(buf))
		}
	}
}

// TestSealedEncodingsUnchanged: a share and pre-parameters encode to the
// very bytes encoding/json wrote before (sealed blobs stay readable), and
// decode back to the same values.
func TestSealedEncodingsUnchanged(t *testing.T) {
	pp := fixtures(t)[0]
	want, err := json.Marshal(&pp.LocalPreParams)
	if err != nil {
		t.Fatal(err)
	}
	got, err := MarshalPreParams(pp)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("pre-parameters encode differently:\n got %.200s\nwant %.200s", got, want)
	}
	if pp.P == nil || pp.PaillierSK == nil || pp.Alpha == nil {
		t.Fatal("encoding cleared the caller's pre-parameters")
	}

	d := keygen.NewLocalPartySaveData(2)
	d.LocalPreParams = pp.LocalPreParams
	d.Xi, _ = rand.Int(rand.Reader, tsslib.S256().Params().N)
	d.ShareID = big.NewInt(1)
	g := crypto.ScalarBaseMult(tsslib.S256(), big.NewInt(7))
	for i := range 2 {
		d.Ks[i], d.NTildej[i], d.H1j[i], d.H2j[i] = big.NewInt(int64(i+1)), pp.NTildei, pp.H1i, pp.H2i
		d.BigXj[i], d.PaillierPKs[i] = g, &pp.PaillierSK.PublicKey
	}
	d.ECDSAPub = g
	// encoding/json keeps what it encodes in a pooled buffer: no secret
	// may reach it
	var seen [][]byte
	encodePublic = func(v any) ([]byte, error) {
		b, err := json.Marshal(v)
		seen = append(seen, b)
		return b, err
	}
	defer func() { encodePublic = json.Marshal }()
	want, err = json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	got, err = MarshalShare(&Share{Data: d})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("a share encodes differently:\n got %.300s\nwant %.300s", got, want)
	}
	secrets := []*big.Int{d.Xi, pp.P, pp.Q, pp.Alpha, pp.Beta, pp.PaillierSK.LambdaN, pp.PaillierSK.PhiN, pp.PaillierSK.P, pp.PaillierSK.Q}
	if len(seen) == 0 {
		t.Fatal("the public part was not encoded through encodePublic")
	}
	for _, b := range seen {
		for i, x := range secrets {
			if bytes.Contains(b, []byte(x.String())) {
				t.Fatalf("secret %d went through encoding/json", i)
			}
		}
	}
	var back keygen.LocalPartySaveData
	if err := json.Unmarshal(got, &back); err != nil || back.Xi.Cmp(d.Xi) != 0 || back.PaillierSK.PhiN.Cmp(pp.PaillierSK.PhiN) != 0 {
		t.Fatalf("decode: %v", err)
	}
}
