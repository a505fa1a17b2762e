// Package softhsm drives SoftHSM2 for development, the dev cluster and
// tests: it finds the module, writes a softhsm2.conf and initializes tokens
// with softhsm2-util. It is not used with a real HSM.
//
// One configuration per process. SoftHSM reads SOFTHSM2_CONF (and scans its
// token directory) in C_Initialize, and hsm/pkcs11 calls C_Initialize once
// per process while any Keystore of the module is open. So:
//
//   - a process (a test binary, `coffer cluster init`) uses one
//     softhsm2.conf, whose one token directory holds all its tokens; it
//     sets SOFTHSM2_CONF before the first hsm/pkcs11 Open or Provision;
//   - a token initialized with InitToken while the module is loaded in
//     this process (some Keystore of it is open) is not seen until every
//     Keystore of the module has been closed: the module is then
//     finalized, and rescans the token directory on the next Open or
//     Provision. Provision releases the module when it returns, so
//     InitToken, Provision, InitToken, Provision… works; opening a
//     Keystore in between does not;
//   - InitToken sets SOFTHSM2_CONF for its softhsm2-util child only; it
//     never changes this process's environment.
//
// Invariants: PINs never appear in errors or logs (softhsm2-util output is
// scrubbed of them). softhsm2-util reads PINs only from its command line
// (it insists on a terminal otherwise), so while it runs they are visible
// to local users through the process list: dev and test tokens only.
// A token label is unique in the token directory: InitToken refuses a label
// that already exists (softhsm2-util itself would create a duplicate).
package softhsm
