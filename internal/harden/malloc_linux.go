//go:build linux && cgo

package harden

/*
#include <malloc.h>
#ifndef M_PERTURB
#define M_PERTURB -6
#endif
static int coffer_perturb(int b) { return mallopt(M_PERTURB, b); }
*/
import "C"

import "errors"

// perturbByte is what glibc writes over every block the C heap frees (and
// its complement over every block it hands out).
const perturbByte = 0x5a

// clearCHeap makes glibc overwrite every block freed on the C heap. The
// PKCS#11 binding decrypts a sealed share into a buffer it mallocs, copies
// it into Go memory and frees it: without this the plaintext stays in the
// freed block until malloc happens to reuse it.
func clearCHeap() error {
	if C.coffer_perturb(C.int(perturbByte)) != 1 {
		return errors.New("harden: mallopt(M_PERTURB) refused: freed C memory would keep plaintext")
	}
	return nil
}
