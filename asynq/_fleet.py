"""Run one job in N forked worker processes under a supervisor (``asynq worker --processes N``).

A worker server is one asyncio loop in one interpreter, so a CPU-bound handler uses one core
at most. :func:`run_fleet` forks ``processes`` children, each running ``child()`` (a worker
server of its own, seen in Redis as one server per process), and supervises them:

- a child that dies while the fleet is running (a crash, a SIGKILL, an out-of-memory kill) is
  replaced after a backoff that doubles from :data:`FIRST_BACKOFF` up to :data:`MAX_BACKOFF`
  for each quick death in a row of the same slot, and starts over once a child has lived
  :data:`HEALTHY_AFTER` seconds;
- the first ``SIGTERM``/``SIGINT`` is passed on to every child as ``SIGTERM`` (each stops
  gracefully: stops fetching, waits for its running tasks, requeues what is unfinished) and
  no child is replaced any more; the second is passed on too, and the children stop at once
  (they requeue their running tasks); later ones are ignored. ``SIGTSTP`` is passed on (the
  children stop taking new tasks);
- the supervisor exits once every child has: 0 when all of them exited 0.

**fork, not spawn.** The children are forked from the supervisor after the handler was
imported and the configuration checked, so each starts at once, shares the imported code
copy-on-write and needs nothing picklable: a handler object built in the parent (a
``ServeMux`` with closures, a factory's result) works as it is. What fork does not carry well
is threads and event loops: only the forking thread survives in the child, and a lock another
thread held stays locked. The supervisor therefore is plain synchronous code that starts no
thread and no event loop (a self-pipe and ``select`` wait for signals and child exits), and
each child builds its own server, event loop and Redis connections after the fork. A program
that starts threads at import time (some monitoring SDKs do) should start them lazily, or
run one worker per process under an outside supervisor instead. Fork needs a POSIX system.

Each child is in a process group of its own, so a Ctrl-C in a terminal reaches the
supervisor only (which passes it on once) rather than every child at once, and on Linux it
asks the kernel for a ``SIGTERM`` should the supervisor die (``PR_SET_PDEATHSIG``), so a
``SIGKILL`` of the supervisor does not leave orphaned workers fetching tasks.

Nothing here knows what a worker server is: the runner passes the child's work in.
"""

from __future__ import annotations

import ctypes
import errno
import logging
import os
import select
import signal
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType

from asynq._base.lifecycle import default_logging
from asynq.errors import ValidationError

__all__ = ["FIRST_BACKOFF", "HEALTHY_AFTER", "MAX_BACKOFF", "run_fleet"]

#: Seconds before a dead child's first replacement; doubled for each quick death in a row.
FIRST_BACKOFF = 0.5
#: The longest wait before a replacement.
MAX_BACKOFF = 30.0
#: A child that lived this long (seconds) was healthy: its slot's backoff starts over.
HEALTHY_AFTER = 30.0

_log = logging.getLogger("asynq.fleet")

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@dataclass
class _Slot:
    """One of the N places a child runs in: its current process and its restart schedule."""

    index: int
    pid: int = 0
    started: float = 0.0
    backoff: float = 0.0
    restart_at: float = 0.0


def run_fleet(child: Callable[[], int], processes: int) -> int:
    """Run ``child()`` in ``processes`` forked children until SIGTERM/SIGINT; see the module
    docstring. ``child`` returns the child's exit status.

    Returns:
        0 once every child stopped with status 0, else 1.

    Raises:
        ValidationError: ``processes`` is below 1, or the system cannot fork.
    """
    if processes < 1:
        raise ValidationError(f"processes must be at least 1, got {processes}")
    if not hasattr(os, "fork"):
        raise ValidationError("running several worker processes needs os.fork (a POSIX system)")
    default_logging(_log)
    return _Supervisor(child, processes).run()


class _Supervisor:
    def __init__(self, child: Callable[[], int], processes: int) -> None:
        self._child = child
        self._slots = [_Slot(i) for i in range(processes)]
        self._stops = 0  # SIGTERM/SIGINT received
        self._pending: list[int] = []  # signals received and not handled yet
        self._failed = False
        self._supervisor_pid = os.getpid()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)

    def run(self) -> int:
        previous = self._install_handlers()
        try:
            _log.info(
                "Starting %d worker processes (supervisor pid=%d); send TERM or INT to stop "
                "them gracefully, a second one stops them at once",
                len(self._slots),
                os.getpid(),
            )
            for slot in self._slots:
                self._start(slot)
            while any(slot.pid for slot in self._slots) or not self._stops:
                self._wait(self._timeout())
                self._handle_signals()
                self._reap()
                self._restart_due()
        finally:
            self._restore_handlers(previous)
            os.close(self._wake_r)
            os.close(self._wake_w)
        _log.info("All worker processes stopped")
        return 1 if self._failed else 0

    # -- signals ---------------------------------------------------------------------------------

    def _install_handlers(self) -> dict[int, object]:
        handled = [*_STOP_SIGNALS, signal.SIGCHLD]
        if hasattr(signal, "SIGTSTP"):
            handled.append(signal.SIGTSTP)
        previous: dict[int, object] = {sig: signal.getsignal(sig) for sig in handled}
        previous[-1] = signal.set_wakeup_fd(self._wake_w)
        for sig in handled:
            signal.signal(sig, self._on_signal)
        return previous

    def _restore_handlers(self, previous: dict[int, object]) -> None:
        signal.set_wakeup_fd(previous.pop(-1))  # type: ignore[arg-type]
        for sig, handler in previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        # Only record it: the main loop, woken through the wakeup fd, does the work.
        self._pending.append(signum)

    def _handle_signals(self) -> None:
        pending, self._pending = self._pending, []
        for signum in pending:
            if signum in _STOP_SIGNALS:
                self._stops += 1
                if self._stops == 1:
                    _log.info("Stopping the worker processes gracefully")
                    self._signal_children(signal.SIGTERM)
                elif self._stops == 2:
                    _log.warning("Second signal: stopping the worker processes at once")
                    self._signal_children(signal.SIGTERM)
            elif signum == getattr(signal, "SIGTSTP", None):
                _log.info("Telling the worker processes to stop taking new tasks")
                self._signal_children(signum)

    def _signal_children(self, signum: int) -> None:
        for slot in self._slots:
            if slot.pid:
                try:
                    os.kill(slot.pid, signum)
                except ProcessLookupError:
                    pass  # exited; reaped on the next pass

    # -- children --------------------------------------------------------------------------------

    def _start(self, slot: _Slot) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            self._become_child()
        slot.pid, slot.started = pid, time.monotonic()
        _log.info("Worker process %d started (pid=%d)", slot.index, pid)

    def _become_child(self) -> None:
        """In the forked child: drop the supervisor's signal set-up, run, exit. Never returns."""
        status = 1
        try:
            signal.set_wakeup_fd(-1)
            for sig in (*_STOP_SIGNALS, signal.SIGCHLD, getattr(signal, "SIGTSTP", None)):
                if sig is not None:
                    signal.signal(sig, signal.SIG_DFL)
            os.close(self._wake_r)
            os.close(self._wake_w)
            os.setpgid(0, 0)
            _die_with_parent(self._supervisor_pid)
            status = self._child()
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)

    def _reap(self) -> None:
        while True:
            try:
                pid, wait_status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            slot = next((s for s in self._slots if s.pid == pid), None)
            if slot is None:
                continue  # not one of ours (the program forked something else)
            code = os.waitstatus_to_exitcode(wait_status)
            slot.pid = 0
            if self._stops:
                if code != 0:
                    self._failed = True
                    _log.warning("Worker process %d (pid=%d) exited with %d", slot.index, pid, code)
                continue
            self._schedule_restart(slot, pid, code)

    def _schedule_restart(self, slot: _Slot, pid: int, code: int) -> None:
        now = time.monotonic()
        if now - slot.started >= HEALTHY_AFTER:
            slot.backoff = 0.0
        slot.backoff = min(MAX_BACKOFF, slot.backoff * 2 if slot.backoff else FIRST_BACKOFF)
        slot.restart_at = now + slot.backoff
        how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with {code}"
        _log.error(
            "Worker process %d (pid=%d) %s; replacing it in %.1f s",
            slot.index,
            pid,
            how,
            slot.backoff,
        )

    def _restart_due(self) -> None:
        if self._stops:
            return
        now = time.monotonic()
        for slot in self._slots:
            if not slot.pid and slot.restart_at and now >= slot.restart_at:
                slot.restart_at = 0.0
                self._start(slot)

    # -- waiting ---------------------------------------------------------------------------------

    def _timeout(self) -> float:
        """Until the next restart is due (at most a second: a missed wake-up costs no more)."""
        due = [s.restart_at for s in self._slots if not s.pid and s.restart_at]
        if not due or self._stops:
            return 1.0
        return max(0.0, min(1.0, min(due) - time.monotonic()))

    def _wait(self, timeout: float) -> None:
        if self._pending:
            return
        try:
            ready, _, _ = select.select([self._wake_r], [], [], timeout)
        except InterruptedError:
            return
        if ready:
            try:
                while os.read(self._wake_r, 512):
                    pass
            except BlockingIOError:
                pass
            except OSError as exc:
                if exc.errno != errno.EAGAIN:
                    raise


def _die_with_parent(supervisor_pid: int) -> None:
    """Ask Linux to send this process SIGTERM when the supervisor dies (elsewhere: nothing)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)  # the running program's symbols: libc's too
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != supervisor_pid:  # it died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)
