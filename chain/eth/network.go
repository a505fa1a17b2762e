package eth

import "fmt"

// Network names with a fixed chain ID. Dev accepts any chain ID that is not
// one of these (local chains such as 1337 or 31337).
const (
	Mainnet = "mainnet"
	Sepolia = "sepolia"
	Holesky = "holesky"
	Hoodi   = "hoodi"
	Dev     = "dev"
)

// publicChainID returns the EIP-155 chain ID of a public network.
func publicChainID(network string) (uint64, bool) {
	switch network {
	case Mainnet:
		return 1, true
	case Sepolia:
		return 11155111, true
	case Holesky:
		return 17000, true
	case Hoodi:
		return 560048, true
	}
	return 0, false
}

// networkName names the network of a chain ID: a public network, or Dev.
func networkName(chainID uint64) string {
	for _, name := range []string{Mainnet, Sepolia, Holesky, Hoodi} {
		if id, _ := publicChainID(name); id == chainID {
			return name
		}
	}
	return Dev
}

// checkNetwork requires a known network name whose chain ID is chainID.
func checkNetwork(network string, chainID uint64) error {
	if chainID == 0 {
		return fmt.Errorf("check chain_id: %w", ErrMissingChainID)
	}
	want, known := publicChainID(network)
	switch {
	case network == Dev && networkName(chainID) != Dev:
		return fmt.Errorf("check chain_id %d for %s: it is %s: %w", chainID, network, networkName(chainID), ErrWrongNetwork)
	case network == Dev:
		return nil
	case !known:
		return fmt.Errorf("check network %q: %w", network, ErrUnknownNetwork)
	case want != chainID:
		return fmt.Errorf("check chain_id %d for %s (chain ID %d): %w", chainID, network, want, ErrWrongNetwork)
	}
	return nil
}

// NetworkName names the network of a chain ID: a public network, or Dev.
func NetworkName(chainID uint64) string { return networkName(chainID) }
