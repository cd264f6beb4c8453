"""Floor 4: learning-rate schedules that rewrite ``group["lr"]`` of an optimizer once per epoch.

Call ``scheduler.step()`` after the epoch's ``optimizer.step()`` calls
(``ReduceLROnPlateau.step(metric)`` after validation). The schedules follow PyTorch: StepLR,
MultiStepLR and ExponentialLR scale the current lr (so they compose with changes made elsewhere);
CosineAnnealingLR is written in closed form from the starting lr. Every scheduler's ``state_dict``
holds only numbers and lists (JSON-friendly).
"""

from __future__ import annotations

import bisect
import math
import numbers
from typing import Any

from .optimizer import Optimizer

__all__ = [
    "LRScheduler",
    "StepLR",
    "MultiStepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "ReduceLROnPlateau",
]


def _check_optimizer(caller: str, optimizer: Any) -> Optimizer:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{caller}: expected an Optimizer, got {type(optimizer).__name__}.")
    return optimizer


def _check_positive_int(caller: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{caller}: {name} must be a positive integer, got {value!r}.")
    return int(value)


def _check_gamma(caller: str, gamma: Any) -> float:
    if isinstance(gamma, bool) or not isinstance(gamma, numbers.Real) or gamma < 0:
        raise ValueError(f"{caller}: gamma must be a number >= 0, got {gamma!r}.")
    return float(gamma)


class LRScheduler:
    """Base class: sets each group's lr from the epoch counter ``last_epoch``.

    Args:
        optimizer: the optimizer whose groups' ``lr`` are set.
        last_epoch: the index of the last finished epoch; -1 (default) starts a new schedule and
            records each group's current lr as ``initial_lr``. To resume, pass the epoch reached
            (the groups must then hold ``initial_lr``), or better, restore ``state_dict()`` with
            ``load_state_dict``.

    Attributes:
        base_lrs: each group's ``initial_lr``.
        last_epoch: number of ``step()`` calls so far (0 right after construction).

    Subclasses implement ``get_lr()`` (the lrs for the epoch ``last_epoch``, usually from the
    current ones) and, when a closed form exists, ``_closed_form_lr()`` (used by ``step(epoch)``).
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        name = type(self).__name__
        self.optimizer = _check_optimizer(name, optimizer)
        if isinstance(last_epoch, bool) or not isinstance(last_epoch, numbers.Integral):
            raise TypeError(f"{name}: last_epoch must be an integer, got {last_epoch!r}.")
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise ValueError(
                        f"{name}: resuming at last_epoch={last_epoch} needs 'initial_lr' in every "
                        f"parameter group, but group {i} has none. Start with last_epoch=-1, or "
                        "restore the scheduler with load_state_dict()."
                    )
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = int(last_epoch)
        self._last_lr: list[float] = []
        self.step()

    def get_lr(self) -> list[float]:
        """The learning rate of each group for epoch ``last_epoch``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement get_lr().")

    def _closed_form_lr(self) -> list[float] | None:
        """The lrs for ``last_epoch`` from ``base_lrs`` alone (None: no closed form)."""
        return None

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch (or jump to ``epoch``, using the closed form when there is one)."""
        if epoch is None:
            self.last_epoch += 1
            lrs = self.get_lr()
        else:
            self.last_epoch = int(epoch)
            closed = self._closed_form_lr()
            lrs = closed if closed is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, lrs, strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The learning rates set by the last ``step`` (one per parameter group)."""
        return list(self._last_lr)

    def _current_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer: numbers and lists, ready for JSON."""
        return {k: _plain(v) for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state saved by ``state_dict``."""
        self.__dict__.update({k: _plain(v) for k, v in state_dict.items()})

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, last_lr={self._last_lr})"


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


class StepLR(LRScheduler):
    """Multiply each group's lr by ``gamma`` every ``step_size`` epochs.

    ``lr_e = initial_lr * gamma ** (e // step_size)`` when nothing else changes the lr.

    Args:
        optimizer: the optimizer to schedule.
        step_size: period of the decay, in epochs (> 0).
        gamma: multiplicative factor. Default: 0.1.
        last_epoch: see ``LRScheduler``. Default: -1.

    Example:
        >>> import chainrule as cr
        >>> from chainrule import optim
        >>> opt = optim.SGD([cr.zeros(1, requires_grad=True)], lr=1.0)
        >>> sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        >>> lrs = []
        >>> for epoch in range(5):
        ...     lrs.append(sched.get_last_lr()[0])
        ...     sched.step()
        >>> lrs
        [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        self.step_size = _check_positive_int("StepLR", "step_size", step_size)
        self.gamma = _check_gamma("StepLR", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _closed_form_lr(self) -> list[float]:
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply each group's lr by ``gamma`` at each milestone epoch.

    ``lr_e = initial_lr * gamma ** (number of milestones <= e)``; a milestone listed twice
    decays twice.

    Args:
        optimizer: the optimizer to schedule.
        milestones: epoch indices, in increasing order.
        gamma: multiplicative factor. Default: 0.1.
        last_epoch: see ``LRScheduler``. Default: -1.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        milestones: list[int],
        gamma: float = 0.1,
        last_epoch: int = -1,
    ) -> None:
        marks = list(milestones)
        for m in marks:
            if isinstance(m, bool) or not isinstance(m, numbers.Integral):
                raise ValueError(f"MultiStepLR: milestones must be integers, got {m!r}.")
        if marks != sorted(marks):
            raise ValueError(f"MultiStepLR: milestones must be increasing, got {marks}.")
        self.milestones = [int(m) for m in marks]
        self.gamma = _check_gamma("MultiStepLR", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        hits = self.milestones.count(self.last_epoch)
        if hits == 0:
            return self._current_lrs()
        return [lr * self.gamma**hits for lr in self._current_lrs()]

    def _closed_form_lr(self) -> list[float]:
        passed = bisect.bisect_right(self.milestones, self.last_epoch)
        return [base * self.gamma**passed for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply each group's lr by ``gamma`` every epoch: ``lr_e = initial_lr * gamma ** e``.

    Args:
        optimizer: the optimizer to schedule.
        gamma: multiplicative factor per epoch.
        last_epoch: see ``LRScheduler``. Default: -1.
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = _check_gamma("ExponentialLR", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _closed_form_lr(self) -> list[float]:
        return [base * self.gamma**self.last_epoch for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Anneal each group's lr along a half cosine from ``initial_lr`` down to ``eta_min``.

    ``lr_e = eta_min + (initial_lr - eta_min) * (1 + cos(pi * e / T_max)) / 2`` (Loshchilov &
    Hutter's SGDR without restarts), reaching ``eta_min`` at epoch ``T_max``. Past ``T_max`` the
    cosine continues, so the lr rises again, as in PyTorch.

    Args:
        optimizer: the optimizer to schedule.
        T_max: number of epochs of the half period (> 0).
        eta_min: the smallest learning rate. Default: 0.
        last_epoch: see ``LRScheduler``. Default: -1.
    """

    def __init__(
        self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1
    ) -> None:
        self.T_max = _check_positive_int("CosineAnnealingLR", "T_max", T_max)
        if isinstance(eta_min, bool) or not isinstance(eta_min, numbers.Real) or eta_min < 0:
            raise ValueError(f"CosineAnnealingLR: eta_min must be a number >= 0, got {eta_min!r}.")
        self.eta_min = float(eta_min)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return self._closed_form_lr()

    def _closed_form_lr(self) -> list[float]:
        cos = math.cos(math.pi * self.last_epoch / self.T_max)
        return [self.eta_min + (base - self.eta_min) * (1 + cos) / 2 for base in self.base_lrs]


class ReduceLROnPlateau(LRScheduler):
    """Cut the learning rate when a monitored metric has stopped improving.

    Each ``step(metric)`` compares the metric with the best seen so far. An improvement means
    ``metric < best * (1 - threshold)`` (mode ``min``, threshold_mode ``rel``), ``metric < best -
    threshold`` (``min``/``abs``), ``metric > best * (1 + threshold)`` (``max``/``rel``) or ``metric
    > best + threshold`` (``max``/``abs``). After more than ``patience`` epochs in a row without
    one, each group's lr becomes ``max(lr * factor, min_lr)`` (skipped when that changes it by no
    more than ``eps``), and the count pauses for ``cooldown`` epochs.

    Args:
        optimizer: the optimizer to schedule.
        mode: ``"min"`` (a loss) or ``"max"`` (an accuracy). Default: ``"min"``.
        factor: multiplier of the lr at each reduction, in [0, 1). Default: 0.1.
        patience: epochs without improvement tolerated before a reduction. Default: 10.
        threshold: the margin an improvement must beat. Default: 1e-4.
        threshold_mode: ``"rel"`` (relative margin) or ``"abs"``. Default: ``"rel"``.
        cooldown: epochs to wait after a reduction before counting again. Default: 0.
        min_lr: lower bound on the lr, one number or one per group. Default: 0.
        eps: smallest change of lr worth making. Default: 1e-8.

    Example:
        >>> import chainrule as cr
        >>> from chainrule import optim
        >>> opt = optim.SGD([cr.zeros(1, requires_grad=True)], lr=1.0)
        >>> sched = optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1)
        >>> for loss in [1.0, 0.9, 0.95, 0.95, 0.95]:
        ...     sched.step(loss)
        >>> sched.get_last_lr()
        [0.5]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | list[float] = 0.0,
        eps: float = 1e-8,
    ) -> None:
        name = "ReduceLROnPlateau"
        self.optimizer = _check_optimizer(name, optimizer)
        if mode not in ("min", "max"):
            raise ValueError(f"{name}: unknown mode {mode!r}; available: min, max.")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(
                f"{name}: unknown threshold_mode {threshold_mode!r}; available: rel, abs."
            )
        if isinstance(factor, bool) or not isinstance(factor, numbers.Real) or not 0 <= factor < 1:
            raise ValueError(f"{name}: factor must be a number in [0, 1), got {factor!r}.")
        for key, value in (("patience", patience), ("cooldown", cooldown)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
                raise ValueError(f"{name}: {key} must be an integer >= 0, got {value!r}.")
        n = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n:
                raise ValueError(
                    f"{name}: expected one min_lr per parameter group ({n}), got {len(min_lr)}."
                )
            self.default_min_lr: float | None = None
            self.min_lrs = [float(v) for v in min_lr]
        else:
            self.default_min_lr = float(min_lr)
            self.min_lrs = [float(min_lr)] * n
        self.mode = mode
        self.factor = float(factor)
        self.patience = int(patience)
        self.threshold = float(threshold)
        self.threshold_mode = threshold_mode
        self.cooldown = int(cooldown)
        self.eps = float(eps)
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0
        self._last_lr = self._current_lrs()

    def is_better(self, current: float, best: float) -> bool:
        """Whether ``current`` improves on ``best`` by more than the threshold."""
        if self.mode == "min":
            if self.threshold_mode == "rel":
                return current < best * (1.0 - self.threshold)
            return current < best - self.threshold
        if self.threshold_mode == "rel":
            return current > best * (1.0 + self.threshold)
        return current > best + self.threshold

    def step(self, metrics: Any = None, epoch: int | None = None) -> None:  # type: ignore[override]
        """Record one epoch's metric (a number or a 1-element tensor); reduce the lr if needed."""
        if metrics is None:
            raise TypeError(
                "ReduceLROnPlateau.step: pass the monitored metric, e.g. step(val_loss)."
            )
        current = float(metrics)
        self.last_epoch = self.last_epoch + 1 if epoch is None else int(epoch)
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs during the cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._current_lrs()

    def _reduce_lr(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs) and self.default_min_lr is not None:
            self.min_lrs = [self.default_min_lr] * len(groups)  # groups added since: same bound
        if len(groups) != len(self.min_lrs):
            raise RuntimeError(
                f"ReduceLROnPlateau: the optimizer now has {len(groups)} parameter groups but "
                f"min_lr was given for {len(self.min_lrs)}; set scheduler.min_lrs to one value per "
                "group."
            )
        for group, min_lr in zip(groups, self.min_lrs, strict=True):
            old = float(group["lr"])
            new = max(old * self.factor, min_lr)
            if old - new > self.eps:
                group["lr"] = new

    @property
    def in_cooldown(self) -> bool:
        """True while reductions are paused after the last one."""
        return self.cooldown_counter > 0
