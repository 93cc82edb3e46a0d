r"""One table of every method's results folders: datasets as rows, teacher, plain MLP and each
distillation method as columns."""

from __future__ import annotations

import os
from pathlib import Path

from .plot import METRICS
from .report import NUMERIC_ENVIRONMENT, read_distill_results

__all__ = ["OTHER_TEACHERS", "compare_table"]

#: what :func:`compare_table` does with a folder whose teachers differ from its row's
OTHER_TEACHERS = ("refuse", "mark")


def compare_table(folders: list[str | os.PathLike], metric: str = "auto", other_teachers: str = "refuse") -> str:
    r"""A Markdown table of the ``graphkd distill --out`` folders ``folders``: one row per
    dataset and setting, one column for the teacher, one for the plain MLP and one per method,
    each cell the mean ± std over the folder's seeds and, in brackets, the number of seeds.

    A row's teacher and MLP come from its first folder. Folders of one row that disagree on the
    teacher (another recipe of the same teacher model, or another accuracy on any seed both
    folders ran, read from their per-seed runs) are refused, since their methods would not be
    comparable; with ``other_teachers="mark"`` they are shown instead, their cell followed by
    ``; other teachers <model> <accuracy>`` (the teachers that method was distilled from). A
    method with a teacher model of its own (VQGraph's tokenizer, ``vq-sage``) is the exception:
    its cell names that teacher and its accuracy. Methods whose student reads the graph at
    inference (CPF) are marked in the header.

    Args:
        folders (list[str]): results folders (each with ``results.json``).
        metric (str, optional): ``"auto"`` (the accuracy each row's setting reports: test
            accuracy for transductive rows, ``"ind / prod"`` for inductive ones), ``"test"``
            (for inductive runs: on the observed graph's test nodes), or ``"ind"``/``"prod"``
            for inductive runs only.
        other_teachers (str, optional): ``"refuse"`` (raise) or ``"mark"`` (show and mark) a
            folder whose teachers differ from its row's (default: :obj:`"refuse"`).

    Raises:
        ValueError: an unknown metric or ``other_teachers``, a folder without results, two
            folders with the same dataset, setting and method, teachers that differ within a row
            (with ``other_teachers="refuse"``), or a missing metric.
    """
    if metric != "auto" and metric not in METRICS:
        raise ValueError(f"Unknown metric {metric!r}; valid choices: auto, {', '.join(METRICS)}")
    if other_teachers not in OTHER_TEACHERS:
        raise ValueError(f"Unknown other_teachers {other_teachers!r}; valid choices: {', '.join(OTHER_TEACHERS)}")
    if not folders:
        raise ValueError("compare_table needs at least one results folder")
    rows: dict[tuple[str, str], dict[str, str]] = {}
    teachers: dict[tuple[str, str], tuple[dict, dict, dict, list]] = {}
    methods: list[str] = []
    for folder in folders:
        path = Path(folder) / "results.json"
        payload = read_distill_results(folder)
        config = payload["config"]
        key = (str(config["dataset"]), str(config.get("setting", "transductive")))
        keys = _metric_keys(metric, key[1])
        agree_key = keys[0][0]
        method = str(config["method"])
        by_model = {s["model"]: s for s in payload["summary"]}
        spec = config["recipe"]["teacher"]
        teacher_name = spec["name"]
        row = rows.setdefault(key, {})
        if method in row:
            raise ValueError(f"two folders hold {method} on {key[0]} ({key[1]}); pass one")
        runs = payload.get("runs") or []
        own_teacher = other = None
        if key in teachers and teachers[key][0]["name"] != teacher_name:  # the method's own kind of teacher
            own_teacher = _cell(by_model[teacher_name], keys, path, f"teacher ({teacher_name})")
        elif key in teachers:
            first_spec, first, first_env, first_runs = teachers[key]
            same = first_spec == spec and _agree(first, by_model[teacher_name], agree_key)
            if not same or not _same_teachers(first_runs, runs, teacher_name):
                if other_teachers == "refuse":
                    raise ValueError(
                        f"{folder}: its {teacher_name} teacher on {key[0]} ({key[1]}) differs from the row's first "
                        "folder; compare methods distilled from the same teachers (or mark it: other_teachers='mark', "
                        "--other-teachers mark)" + _hint(first_env, payload)
                    )
                other = _cell(by_model[teacher_name], keys, path, f"teacher ({teacher_name})")
        else:
            teachers[key] = (spec, by_model[teacher_name], payload.get("environment") or {}, runs)
            row["teacher"] = _cell(by_model[teacher_name], keys, path, f"teacher ({teacher_name})")
            row["mlp"] = _cell(by_model["mlp"], keys, path, "mlp")
        row[method] = _cell(by_model[method], keys, path, method)
        if own_teacher is not None:
            row[method] += f"; own teacher {teacher_name} {own_teacher.split(' (')[0]}"
        if other is not None:
            row[method] += f"; other teachers {teacher_name} {other.split(' (')[0]}"
        if method not in methods:
            methods.append(method)
    columns = ["teacher", "mlp", *methods]
    header = [f"{c} (graph at inference)" if _needs_graph(c) else c for c in columns]
    lines = [
        f"| dataset | setting | {' | '.join(header)} |",
        "|---|---|" + "---|" * len(columns),
    ]
    for (dataset, setting), row in rows.items():
        lines.append(f"| {dataset} | {setting} | " + " | ".join(row.get(c, "") for c in columns) + " |")
    return "\n".join(lines) + "\n"


def _metric_keys(metric: str, setting: str) -> list[tuple[str, str]]:
    # the (mean, std) summary keys a cell shows
    if metric != "auto":
        return [METRICS[metric]]
    return [METRICS["ind"], METRICS["prod"]] if setting == "inductive" else [METRICS["test"]]


def _cell(summary: dict, keys: list[tuple[str, str]], path: Path, what: str) -> str:
    parts = []
    for mean_key, std_key in keys:
        if summary.get(mean_key) is None:
            raise ValueError(
                f"{path} has no {mean_key.split('_')[0]!r} accuracy for {what} (ind and prod need --setting inductive)"
            )
        parts.append(f"{100 * summary[mean_key]:.2f} ± {100 * summary[std_key]:.2f}")
    return f"{' / '.join(parts)} ({summary['runs']})"


def _needs_graph(method: str) -> bool:
    from .distillation import METHODS

    cls = METHODS.get(method)
    return bool(getattr(cls, "student_needs_graph", False))


def _hint(first_env: dict, payload: dict) -> str:
    # the same recipe and seeds train other teachers where floating-point sums run in another order
    env = payload.get("environment") or {}
    for field, what in NUMERIC_ENVIRONMENT.items():
        if first_env.get(field) != env.get(field):
            return (
                f" (the runs differ in {what}: {first_env.get(field)} vs {env.get(field)}, which changes the order of "
                "floating-point sums and so can change the teachers; rerun one of them like the other, e.g. with the "
                "same OMP_NUM_THREADS)"
            )
    if first_env.get("platform") and env.get("platform") and first_env["platform"] != env["platform"]:
        return (
            f" (the runs ran on different machines: {first_env['platform']} vs {env['platform']}; another CPU can "
            "sum in another order and so train other teachers from the same recipe and seeds; rerun one of them on "
            "the other's machine)"
        )
    return ""


def _same_teachers(first_runs: list[dict], runs: list[dict], model: str) -> bool:
    # the teacher's accuracies on every seed both folders ran (a CPU trains the same teachers from
    # the same recipe and seed exactly, or other ones where it sums in another order)
    fields = ("val_acc", "test_acc", "test_ind_acc")
    first = {r["seed"]: r for r in first_runs if r.get("model") == model}
    for r in runs:
        f = first.get(r["seed"]) if r.get("model") == model else None
        if f is not None and any(_differ(f.get(k), r.get(k)) for k in fields):
            return False
    return True


def _differ(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return (a is None) != (b is None)
    return abs(a - b) >= 1e-6


def _agree(a: dict, b: dict, mean_key: str) -> bool:
    # the same teacher recipe on the same seeds trains the same teachers (exactly, on a CPU)
    return a["seeds"] != b["seeds"] or abs(a[mean_key] - b[mean_key]) < 1e-6
