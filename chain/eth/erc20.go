package eth

import (
	"bytes"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
)

// transferSelector is the ERC-20 method ID of transfer(address,uint256):
// the first four bytes of keccak256("transfer(address,uint256)").
const transferSelector = "\xa9\x05\x9c\xbb"

// transferCalldataLen is the selector plus two 32-byte ABI words.
const transferCalldataLen = 4 + 32 + 32

// transferCalldata ABI-encodes transfer(to, amount). amount must be < 2^256.
func transferCalldata(to common.Address, amount *big.Int) []byte {
	data := make([]byte, transferCalldataLen)
	copy(data, transferSelector)
	copy(data[4+12:], to[:])
	amount.FillBytes(data[4+32:])
	return data
}

// decodeTransfer reads calldata that is exactly transfer(address,uint256)
// in its canonical ABI encoding (the address word zero-padded).
func decodeTransfer(data []byte) (common.Address, *big.Int, bool) {
	if len(data) != transferCalldataLen || string(data[:4]) != transferSelector {
		return common.Address{}, nil, false
	}
	if !bytes.Equal(data[4:4+12], make([]byte, 12)) {
		return common.Address{}, nil, false
	}
	return common.BytesToAddress(data[4+12 : 4+32]), new(big.Int).SetBytes(data[4+32:]), true
}
