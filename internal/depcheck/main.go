package main

import (
	_ "github.com/bnb-chain/tss-lib/v2/ecdsa/keygen"
	_ "github.com/bnb-chain/tss-lib/v2/ecdsa/signing"
	_ "github.com/bnb-chain/tss-lib/v2/ecdsa/resharing"
	_ "github.com/btcsuite/btcd/btcutil/psbt"
	_ "github.com/btcsuite/btcd/txscript"
	_ "github.com/ethereum/go-ethereum/core/types"
	_ "github.com/ethereum/go-ethereum/crypto"
	_ "github.com/miekg/pkcs11"
	_ "go.etcd.io/bbolt"
	_ "google.golang.org/grpc"
	_ "github.com/transparency-dev/merkle/proof"
	_ "golang.org/x/mod/sumdb/note"
	_ "github.com/spf13/cobra"
	_ "gopkg.in/yaml.v3"
)

func main() {}
