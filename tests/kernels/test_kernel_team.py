"""The kernel thread team: foreground calls shared with the caller, background jobs between them."""

from __future__ import annotations

import threading
import time

import pytest

from chainrule.kernels import _dispatch
from chainrule.kernels._team import Team, in_slabs


@pytest.fixture
def team():
    t = Team(2)
    yield t
    t.help_until_idle()
    t.close()
    for thread in t.threads:
        thread.join(timeout=5)


def test_a_call_runs_every_job_once_on_the_caller_and_the_helpers(team):
    seen = []
    lock = threading.Lock()

    def job(i):
        time.sleep(0.001)  # release the GIL, as the kernels do
        with lock:
            seen.append((i, threading.get_ident(), in_slabs()))

    assert team.run(job, 40)
    assert sorted(i for i, _, _ in seen) == list(range(40))
    assert all(flag for _, _, flag in seen)  # nested kernel calls would run inline
    assert threading.get_ident() in {owner for _, owner, _ in seen}
    assert not in_slabs()  # the flag is restored on the caller


def test_a_busy_team_refuses_a_second_call_instead_of_blocking(team):
    inner = []

    def job(i):
        if threading.current_thread() is threading.main_thread():
            inner.append(team.run(lambda j: None, 2))

    assert team.run(job, 1)
    assert inner == [False]  # the caller then works alone


def test_an_error_skips_the_remaining_jobs_and_reaches_the_caller(team):
    ran = []

    def job(i):
        if i == 0:
            raise RuntimeError("job 0 failed")
        ran.append(i)

    with pytest.raises(RuntimeError, match="job 0 failed"):
        team.run(job, 50)
    assert len(ran) < 49
    assert team.run(lambda i: None, 4)  # still usable


def test_background_jobs_run_between_calls_and_the_count_returns_to_zero(team):
    done = []
    gate = threading.Event()

    def slow():
        gate.wait(5)
        done.append("slow")

    team.submit([slow] + [lambda k=k: done.append(k) for k in range(5)])
    assert _dispatch.BACKGROUND[0] >= 1  # parallel kernels now run on the caller alone
    assert team.run(lambda i: None, 8)  # a call is not held up by the waiting background job
    gate.set()
    team.help_until_idle()
    assert sorted(map(str, done)) == sorted(["slow", "0", "1", "2", "3", "4"])
    assert _dispatch.BACKGROUND[0] == 0


def test_a_closed_team_lets_its_threads_exit():
    t = Team(2)
    assert t.run(lambda i: None, 3)
    t.close()
    for thread in t.threads:
        thread.join(timeout=5)
        assert not thread.is_alive()
