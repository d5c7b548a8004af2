package main

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal kills the real host if this shim dies first.
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
