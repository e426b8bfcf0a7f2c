"""What `ipvsadm` prints when it stops early, and where, with which exit status.

ipvsadm.c has three ways out besides success:
* `fail(err, fmt, ...)`: the message and a newline on stderr, `exit(2)` (option/usage errors);
* `tryhelp_exit(argv[0], -1)`: "Try `%s -h' or '%s --help' for more information." on
  stderr, `exit(-1)`, i.e. status 255;
* a popt error after the command: "<word>: <popt error>" on stderr and `process_options`
  returns -1 (status 255) *without* exiting, so `-R` goes on with the next line.
Kernel errors print `ipvs_strerror(errno)` (libipvs/libipvs.c) and also return -1.
`fail` and `tryhelp_exit` end the process, which inside `-R` aborts the whole restore:
`Failure.aborts` says which kind a failure is.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Stream(enum.Enum):
    STDOUT = "stdout"
    STDERR = "stderr"


@dataclass(frozen=True, slots=True)
class Failure:
    """ipvsadm stopped: `text` (with its newline) goes to `stream`, status `exit_code`."""

    text: str
    exit_code: int
    stream: Stream = Stream.STDERR
    aborts: bool = True  # exit() in C: also ends an `-R` restore

    @property
    def message(self) -> str:
        return self.text.rstrip("\n")


EXIT_FAIL = 2
EXIT_MINUS_ONE = 255  # exit(-1) / return -1 from main


def fail(msg: str) -> Failure:
    """ipvsadm.c `fail(2, ...)`."""
    return Failure(msg + "\n", EXIT_FAIL)


def tryhelp(prog: str) -> Failure:
    """ipvsadm.c `tryhelp_exit(argv[0], -1)`."""
    return Failure(f"Try `{prog} -h' or '{prog} --help' for more information.\n", EXIT_MINUS_ONE)


def popt_error(bad_option: str, error: str) -> Failure:
    """The `c < -1` branch of `parse_options`: printed, returns -1, no exit()."""
    return Failure(f"{bad_option}: {error}\n", EXIT_MINUS_ONE, aborts=False)


# libipvs/libipvs.c ipvs_strerror(), by (operation, errno).
SERVICE_EXISTS = "Service already exists"
SCHED_OR_PE_NOT_FOUND = "Scheduler or persistence engine not found"
NO_SUCH_SERVICE = "No such service"
SERVICE_NOT_DEFINED = "Service not defined"
DEST_EXISTS = "Destination already exists"
NO_SUCH_DEST = "No such destination"
DAEMON_RUNNING = "Daemon has already run"
NO_DAEMON = "No daemon is running"
EINVAL = "Invalid operation.  Possibly wrong module version, address not unicast, ..."
# ERANGE is not in ipvs_strerror's table: strerror(ERANGE).
ERANGE = "Numerical result out of range"


def kernel_error(msg: str) -> Failure:
    """A failed IPVS call: `fprintf(stderr, "%s\\n", ipvs_strerror(errno))`, result -1."""
    return Failure(msg + "\n", EXIT_MINUS_ONE, aborts=False)


def list_error(msg: str) -> Failure:
    """`list_service` / `print_service_entry` on a failed get: message, `exit(1)`."""
    return Failure(msg + "\n", 1)
