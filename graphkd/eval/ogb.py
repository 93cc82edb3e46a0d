"""OGB's official ``Evaluator`` as a graphkd metric."""

from __future__ import annotations

from torch import Tensor

__all__ = ["OGBMetric"]


class OGBMetric:
    r"""Scores predictions with OGB's own ``ogb.nodeproppred.Evaluator``, as the OGB leaderboards
    do: ``metric(logits, y, mask)`` is the evaluator's ``acc`` over the nodes in ``mask`` (the
    arg-max of each row of ``logits`` against ``y``). Usable wherever graphkd takes a metric
    (:class:`graphkd.train.Trainer`, :func:`graphkd.eval.run_distillation`).

    Args:
        name (str): the OGB dataset, e.g. ``"ogbn-arxiv"``.
        meta_dict (dict, optional): the ``meta_dict`` of a dataset written in OGB's format by
            ``ogb.io.DatasetSaver`` (:func:`graphkd.datasets.load_meta_dict`): OGB's evaluator
            then reads the task count and metric from it instead of OGB's catalogue.

    Raises:
        ValueError: for a name OGB does not know (without ``meta_dict``), or a task not scored
            by accuracy (e.g. ``ogbn-proteins``'s ROC-AUC).
    """

    def __init__(self, name: str, meta_dict: dict | None = None) -> None:
        from ogb.nodeproppred import Evaluator

        if meta_dict is None:
            try:
                self.evaluator = Evaluator(name)
            except ValueError as err:
                raise ValueError(f"OGB has no evaluator for {name!r}: {str(err).splitlines()[0]}") from None
        else:
            self.evaluator = Evaluator.__new__(Evaluator)  # OGB's class, told the task by the meta_dict
            self.evaluator.name = name
            self.evaluator.num_tasks = int(meta_dict["num tasks"])
            self.evaluator.eval_metric = str(meta_dict["eval metric"])
        if self.evaluator.eval_metric != "acc" or self.evaluator.num_tasks != 1:
            raise ValueError(
                f"{name} is scored by {self.evaluator.eval_metric!r} over {self.evaluator.num_tasks} task(s); "
                "graphkd's distillation reports single-task accuracy ('acc')"
            )
        self.name = name

    def __call__(self, logits: Tensor, y: Tensor, mask: Tensor | None = None) -> float:
        if mask is not None:
            logits, y = logits[mask], y[mask]
        if y.numel() == 0:
            raise ValueError("accuracy over an empty set of nodes")
        pred = logits.argmax(dim=-1, keepdim=True)
        return float(self.evaluator.eval({"y_true": y.view(-1, 1), "y_pred": pred})["acc"])

    def __repr__(self) -> str:
        return f"OGBMetric({self.name!r})"
