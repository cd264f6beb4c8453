"""The kernel threads: helpers that share a call's slabs with the calling thread, and run
background jobs whenever no call needs them.

A foreground call (``Team.run``) lists its jobs; the caller and every helper claim the next
unclaimed one until none is left, and the call returns once all have finished. Background jobs
(``Team.submit``: the slabs of a weight gradient that nothing reads until the backward pass ends,
see ``chainrule/_deferred.py``) wait in a queue; a helper takes one only when no call has
unclaimed jobs, so they fill the time the calling thread spends between kernels, in Python. A
helper busy with a background job joins a new call as soon as that job is done.

While background jobs are queued or running, numba's parallel kernels run on the calling thread
alone (``_dispatch.BACKGROUND``): the other cores are busy with those jobs, and a second thread
team on the same cores would make each wait for the other.
"""

from __future__ import annotations

import collections
import os
import threading
from collections.abc import Callable

from chainrule.kernels import _dispatch

__all__ = ["Team", "in_slabs"]

_PREFIX = "chainrule-kernel"
_local = threading.local()


def in_slabs() -> bool:
    """Whether the calling thread is running a job of the team (its kernels then run inline)."""
    return getattr(_local, "in_slabs", False)


class _Call:
    """One foreground call: ``njobs`` jobs run as ``run_job(i)``, each claimed by one thread."""

    def __init__(self, run_job: Callable[[int], None], njobs: int) -> None:
        self.run_job = run_job
        self.njobs = njobs
        self.claimed = 0
        self.left = njobs
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.errors: list[BaseException] = []

    def open(self) -> bool:
        return self.claimed < self.njobs

    def drain(self) -> None:
        """Claim and run jobs until none is left (after an error, the rest are skipped)."""
        outer = in_slabs()
        _local.in_slabs = True
        try:
            while True:
                with self.lock:
                    i = self.claimed
                    if i >= self.njobs:
                        return
                    self.claimed = i + 1
                try:
                    if not self.errors:
                        self.run_job(i)
                except BaseException as error:  # re-raised on the calling thread
                    self.errors.append(error)
                finally:
                    with self.lock:
                        self.left -= 1
                        if self.left == 0:
                            self.done.set()
        finally:
            _local.in_slabs = outer


class Team:
    """``size`` helper threads; one foreground call at a time, and a queue of background jobs."""

    def __init__(self, size: int) -> None:
        self.pid = os.getpid()
        self.size = size
        self.cond = threading.Condition(threading.Lock())
        self.call: _Call | None = None
        self.queue: collections.deque[Callable[[], None]] = collections.deque()
        self.running = 0  # background jobs being run
        self.closed = False
        self.busy = threading.Lock()  # held by the thread whose call is in progress
        self.threads = [
            threading.Thread(target=self._loop, name=f"{_PREFIX}-{i}", daemon=True)
            for i in range(size)
        ]
        for thread in self.threads:
            thread.start()

    def _set_background(self) -> None:
        _dispatch.BACKGROUND[0] = len(self.queue) + self.running  # under self.cond

    def _loop(self) -> None:
        while True:
            with self.cond:
                while not (self.closed or (self.call and self.call.open()) or self.queue):
                    self.cond.wait()
                if self.closed:
                    return
                call = self.call if self.call and self.call.open() else None
                job = None
                if call is None:
                    job = self.queue.popleft()
                    self.running += 1
            if call is not None:
                call.drain()
                continue
            self._run_background(job)

    def _run_background(self, job: Callable[[], None]) -> None:
        _local.in_slabs = True
        try:
            job()  # a background job handles its own errors (see _parallel.map_slabs_later)
        finally:
            _local.in_slabs = False
            with self.cond:
                self.running -= 1
                self._set_background()
                self.cond.notify_all()

    def run(self, run_job: Callable[[int], None], njobs: int) -> bool:
        """Run ``run_job(i)`` for ``i < njobs`` on the helpers and the caller; False if busy.

        Returns once every job has finished, re-raising the first error of any of them.
        """
        if not self.busy.acquire(blocking=False):
            return False  # another thread's call is in progress: the caller works alone
        try:
            call = _Call(run_job, njobs)
            with self.cond:
                self.call = call
                self.cond.notify_all()
            try:
                call.drain()
            finally:
                call.done.wait()
                with self.cond:
                    self.call = None
            if call.errors:
                raise call.errors[0]
            return True
        finally:
            self.busy.release()

    def submit(self, jobs: list[Callable[[], None]]) -> None:
        """Queue background jobs for the helpers."""
        with self.cond:
            self.queue.extend(jobs)
            self._set_background()
            self.cond.notify_all()

    def help_until_idle(self) -> None:
        """Run queued background jobs on the calling thread too; return when none is left."""
        while True:
            with self.cond:
                if self.queue:
                    job = self.queue.popleft()
                    self.running += 1
                elif self.running:
                    self.cond.wait()
                    continue
                else:
                    return
            self._run_background(job)

    def close(self) -> None:
        """Let the helpers exit once their current job (if any) is over."""
        with self.cond:
            self.closed = True
            self.cond.notify_all()


_lock = threading.Lock()
_teams: list[Team] = []


def team(helpers: int) -> Team:
    """The process's team of ``helpers`` threads, rebuilt for a new count or after a fork."""
    with _lock:
        current = _teams[0] if _teams else None
        if current is None or current.size != helpers or current.pid != os.getpid():
            if current is not None and current.pid == os.getpid():
                current.help_until_idle()
                current.close()
            _teams[:] = [Team(helpers)]
        return _teams[0]


def current() -> Team | None:
    """The team if one was started in this process, else None."""
    return _teams[0] if _teams and _teams[0].pid == os.getpid() else None
