package netem

import "syscall"

const syscallENOBUFS = syscall.ENOBUFS
