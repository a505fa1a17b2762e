package vaulttest

import "syscall"

// sysProcAttr kills the server if the test process dies before Stop.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
