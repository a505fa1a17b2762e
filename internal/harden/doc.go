// Package harden closes the ways a share leaves a running cofferd besides
// the protocol: a core dump written on a crash (RLIMIT_CORE 0), and other
// processes of the same user reading its memory through ptrace or
// /proc/PID/mem (PR_SET_DUMPABLE 0, which also keeps core dumps off).
// Process applies both at start and reads them back.
package harden
