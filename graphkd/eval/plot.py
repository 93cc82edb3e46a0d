"""The accuracy-vs-latency picture of the field, from results folders written by
``graphkd distill --out`` (:func:`graphkd.eval.write_results`)."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

from ..utils.io import atomic_write_bytes
from .report import read_distill_results

__all__ = ["LATENCIES", "METRICS", "TradeoffPoint", "plot_tradeoff", "tradeoff_points"]

METRICS = {"test": ("test_mean", "test_std"), "ind": ("ind_mean", "ind_std"), "prod": ("prod_mean", "prod_std")}
LATENCIES = {"request": "latency_ms", "full-graph": "infer_time_s"}


@dataclass(frozen=True)
class TradeoffPoint:
    r"""One model of one results folder: accuracy (mean, std over seeds, in %) and latency (ms)."""

    label: str
    kind: str  # "teacher", "mlp" (plain MLP on labels) or "student" (distilled)
    accuracy: float
    accuracy_std: float
    latency_ms: float
    folder: str


def tradeoff_points(
    folders: list[str | os.PathLike], metric: str = "test", latency: str = "request"
) -> list[TradeoffPoint]:
    r"""The points of :func:`plot_tradeoff`: every model of every folder, labelled by its
    architecture from the folder's recipe (teacher depth and width; MLP depth x width; a
    student's also names its teacher); a model that appears in several folders with the same
    label (the plain MLP beside several teachers) is kept once.

    Raises:
        ValueError: an unknown metric or latency, a folder without ``results.json``, results
            without that metric (``ind``/``prod`` need the inductive setting) or without
            measured latency.
    """
    if metric not in METRICS:
        raise ValueError(f"Unknown metric {metric!r}; valid choices: {', '.join(METRICS)}")
    if latency not in LATENCIES:
        raise ValueError(f"Unknown latency {latency!r}; valid choices: {', '.join(LATENCIES)}")
    mean_key, std_key = METRICS[metric]
    points: dict[str, TradeoffPoint] = {}
    for folder in folders:
        path = Path(folder) / "results.json"
        payload = read_distill_results(folder)
        recipe, method = payload["config"]["recipe"], payload["config"]["method"]
        for s in payload["summary"]:
            kind, label = _describe(s["model"], recipe, method)
            if s.get(mean_key) is None:
                raise ValueError(f"{path} has no {metric!r} accuracy (ind and prod need --setting inductive)")
            value = s.get(LATENCIES[latency])
            if value is None:
                raise ValueError(f"{path} has no measured {latency} latency for {s['model']}")
            ms = value if latency == "request" else 1e3 * value
            points.setdefault(label, TradeoffPoint(label, kind, 100 * s[mean_key], 100 * s[std_key], ms, str(folder)))
    return list(points.values())


def _describe(model: str, recipe: dict, method: str) -> tuple[str, str]:
    def arch(spec: dict) -> str:
        return f"{spec['num_layers']}x{spec['hidden_channels']}"

    teacher, student = recipe["teacher"], recipe["student"]
    baseline = recipe.get("baseline") or student
    if model == teacher["name"]:
        return "teacher", f"{teacher['name'].upper()} {teacher['num_layers']}-layer ({teacher['hidden_channels']})"
    if model == "mlp":
        return "mlp", f"MLP {arch(baseline)}"
    return "student", f"{method.upper()} {arch(student)} ({teacher['name'].upper()}-{teacher['num_layers']} teacher)"


def _short(label: str) -> str:
    # "GLNN 2x128 (SAGE-2 teacher)" -> "2x128 (SAGE-2)"; "MLP 2x128" -> "2x128"; teachers as they are
    words = label.split(" ")
    if words[0] == "MLP":
        return words[1]
    if label.endswith(" teacher)"):
        return f"{words[1]} {words[2]})"
    return label.split(" (")[0] if " (" in label and label.endswith(")") and "layer" in label else label


def plot_tradeoff(
    folders: list[str | os.PathLike],
    out: str | os.PathLike,
    metric: str = "test",
    latency: str = "request",
    title: str | None = None,
    dpi: int = 110,
) -> Path:
    r"""Draws accuracy against inference latency (log scale) for every model of the results
    folders: teacher GNNs, plain MLPs and distilled students, each a point with its standard
    deviation over seeds, and writes a PNG.

    Args:
        folders (list[str]): results folders of ``graphkd distill --out`` (with measured
            latency, i.e. not ``timing_repeats=0``).
        out (str): the PNG to write.
        metric (str, optional): ``"test"``, or ``"ind"``/``"prod"`` for inductive runs.
        latency (str, optional): ``"request"`` (a request for 10 nodes, the GNN fetching its
            neighbourhood) or ``"full-graph"`` (one inference over all nodes).
        title (str, optional): the figure's title.
        dpi (int, optional): resolution (default: :obj:`110`).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = tradeoff_points(folders, metric, latency)
    style = {
        "teacher": ("tab:blue", "s", "teacher GNN"),
        "mlp": ("tab:gray", "o", "MLP on labels"),
        "student": ("tab:red", "D", "distilled MLP"),
    }
    fig, ax = plt.subplots(figsize=(7.2, 4.6))
    for kind, (color, marker, name) in style.items():
        group = [p for p in points if p.kind == kind]
        if not group:
            continue
        ax.errorbar(
            [p.latency_ms for p in group],
            [p.accuracy for p in group],
            yerr=[p.accuracy_std for p in group],
            fmt=marker,
            color=color,
            label=name,
            capsize=3,
            markersize=6,
        )
        for i, p in enumerate(sorted(group, key=lambda p: p.latency_ms)):  # alternate sides: fewer overlaps
            ax.annotate(
                _short(p.label),
                (p.latency_ms, p.accuracy),
                textcoords="offset points",
                xytext=(4, (5, -12, 16)[i % 3]),
                fontsize=7,
                color=color,
            )
    ax.set_xscale("log")
    what = "a request for 10 nodes" if latency == "request" else "inference over all nodes"
    ax.set_xlabel(f"latency of {what} (ms, log scale)")
    ax.set_ylabel({"test": "test", "ind": "inductive", "prod": "production"}[metric] + " accuracy (%)")
    ax.set_title(title or "accuracy vs inference latency")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, dpi=dpi, format="png")
    plt.close(fig)
    return atomic_write_bytes(out, buf.getvalue())
