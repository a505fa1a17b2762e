// Package migration proves that key material made by an older release
// still loads and signs under the current one. Its fixture in testdata/
// holds the share and pre-parameter encodings an older release's nodes
// sealed in their HSMs (its fixture.json names the release; the encodings
// were unsealed from that release's own SoftHSM fixture). The tests seal
// them in SoftHSM tokens made at run time, as a node stores them, open them
// again, sign with every pair and a child key, and reshare to a changed
// committee. The sealed blob's format does not depend on tss-lib; the share
// encoding is what an upgrade of tss-lib can break. Test material only: it
// must never hold a real key.
package migration
