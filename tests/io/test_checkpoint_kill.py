"""A process saving checkpoints in a loop is SIGKILLed at random moments, 20 times; after each kill
the checkpoint loads intact, and it is the last completed save or the one in flight."""

from __future__ import annotations

import os
import signal
import sys
import time

import numpy as np
import pytest

from chainrule import optim
from chainrule.io import load, save
from chainrule.models import MLP

pytestmark = pytest.mark.skipif(
    not hasattr(os, "fork") or sys.platform == "darwin", reason="needs os.fork (Linux)"
)

KILLS = 20


def _model_and_optimizer():
    model = MLP(64, (256,), 10)  # about 20k parameters: each save takes a few milliseconds
    return model, optim.SGD(model.parameters(), lr=0.1, momentum=0.9)


def _set_state(model, opt, step):
    """Every number of checkpoint ``step`` derives from ``step``, so any mix-up shows."""
    for p in model.parameters():
        p.data[...] = step
        opt.state[p] = {"momentum_buffer": np.full_like(p.data, -step)}


def _writer(path, start, report_fd):
    """Child process: save step start, start + 1, ... forever, reporting each completed save."""
    model, opt = _model_and_optimizer()
    step = start
    while True:
        _set_state(model, opt, step)
        save(path, model, opt, epoch=step, step=step, tag=f"step-{step}", arr=np.full(3, step))
        os.write(report_fd, f"{step}\n".encode())
        step += 1


def _check(ckpt, model, opt):
    step = ckpt.step
    assert ckpt.epoch == step and ckpt.extra["tag"] == f"step-{step}"
    assert np.all(ckpt.extra["arr"] == step)
    for p in model.parameters():
        assert np.all(p.data == step)
        assert np.all(opt.state[p]["momentum_buffer"] == -step)


def _read_all(fd):
    chunks = []
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            return b"".join(chunks).decode()
        chunks.append(chunk)


def test_sigkill_while_saving_never_breaks_the_checkpoint(tmp_path):
    path = tmp_path / "ckpt"
    model, opt = _model_and_optimizer()
    _set_state(model, opt, 0)
    save(path, model, opt, epoch=0, step=0, tag="step-0", arr=np.zeros(3))
    rng = np.random.default_rng(2024)
    last = 0
    in_flight = 0
    for _ in range(KILLS):
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child never returns into pytest
            code = 0
            try:
                os.close(read_fd)
                _writer(path, last + 1, write_fd)
            except BaseException:  # noqa: BLE001
                code = 1
            finally:
                os._exit(code)
        os.close(write_fd)
        # wait for one completed save (however loaded the machine), then kill at a random moment
        first = os.read(read_fd, 65536)
        time.sleep(rng.uniform(0.0, 0.05))
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, "writer died"
        done = [int(line) for line in (first.decode() + _read_all(read_fd)).split()]
        os.close(read_fd)
        completed = done[-1] if done else last

        fresh, fresh_opt = _model_and_optimizer()
        ckpt = load(path, fresh, fresh_opt)
        _check(ckpt, fresh, fresh_opt)
        assert ckpt.step in (completed, completed + 1), (ckpt.step, completed)
        in_flight += ckpt.step == completed + 1 or ckpt.recovered
        last = ckpt.step
    assert last >= KILLS  # every writer completed at least one save before it was killed
    leftovers = {p.name for p in tmp_path.iterdir()} - {"ckpt"}
    assert all(name.startswith(".ckpt.") for name in leftovers)  # at most one interrupted save
