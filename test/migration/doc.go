// Package migration proves that key material sealed by an older release
// still opens and signs under the current one. Its fixtures in testdata/
// were made by the release named in their fixture.json (real SoftHSM
// tokens, real tss-lib keygen): they are test material only and must never
// hold a real key.
//
// Regenerate (only when a new sealed format is introduced, and keep the old
// fixture beside the new one):
//
//	go test ./test/migration -write-fixture testdata/NAME
package migration
