"""A typed record of one training run."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

__all__ = ["EpochRecord", "History"]


@dataclass(frozen=True)
class EpochRecord:
    r"""Metrics after one epoch: training loss (and its named terms, when the loss reports them),
    accuracy on each split and the seconds its training steps took (``step_time_s``, without
    the evaluation after them)."""

    epoch: int
    loss: float
    train_acc: float
    val_acc: float
    test_acc: float | None
    terms: dict[str, float] = field(default_factory=dict)
    step_time_s: float | None = field(default=None, compare=False)  # timing, not a result


@dataclass
class History:
    r"""All epochs of a run and the epoch selected by validation accuracy.

    ``best_epoch`` is chosen on validation accuracy only (ties: the earlier epoch); test
    accuracy is read at that epoch and never used for selection.
    """

    epochs: list[EpochRecord] = field(default_factory=list)
    best_epoch: int = -1
    stopped_early: bool = False
    train_time_s: float = 0.0

    @property
    def best(self) -> EpochRecord:
        if self.best_epoch < 0:
            raise ValueError("the run recorded no epoch")
        return next(r for r in self.epochs if r.epoch == self.best_epoch)

    def to_dict(self) -> dict:
        return asdict(self)
