package eth

import (
	"fmt"

	"github.com/ethereum/go-ethereum/core/types"
)

// Verify checks a signed transaction: it must be one DecodeSummary accepts,
// carry a valid low-S signature for its chain ID, and its sender (recovered
// by types.Sender) must be wallet.
func Verify(signedRaw []byte, wallet string) error {
	want, err := parseAddress("wallet", wallet)
	if err != nil {
		return fmt.Errorf("verify transaction: %w", err)
	}
	tx, err := decodeTx(signedRaw)
	if err != nil {
		return fmt.Errorf("verify transaction: %w", err)
	}
	if !isSigned(tx) {
		return fmt.Errorf("verify transaction: %w", ErrNotSigned)
	}
	sender, err := types.Sender(types.NewLondonSigner(tx.ChainId()), tx)
	if err != nil {
		return fmt.Errorf("verify transaction: recover sender: %v: %w", err, ErrInvalidSignature)
	}
	if sender != want {
		return fmt.Errorf("verify transaction: recovered %s, wallet %s: %w", sender.Hex(), want.Hex(), ErrSenderMismatch)
	}
	if _, err := summarize(tx, sender); err != nil {
		return fmt.Errorf("verify transaction: %w", err)
	}
	return nil
}
