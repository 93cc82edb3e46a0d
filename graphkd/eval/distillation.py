"""The distillation protocols: transductive and inductive (production), over seeds."""

from __future__ import annotations

import copy
import json
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from torch_geometric.data import Data

from ..datasets import inductive_split, load
from ..distill import CPF, GLNN, KRD, NOSMOG, Distiller, RefinedKD, TeacherOutputs, VQGraph
from ..nn import build_model
from ..nn.base import Model
from ..recipes import ModelSpec, Recipe, get_recipe
from ..resolver import resolve
from ..train import History, Trainer
from ..utils.fingerprint import callable_identity, graph_digest, weights_digest
from ..utils.io import atomic_write_text
from ..utils.seed import seed_everything
from .metrics import Metric, accuracy, predict
from .runs import RunResult

__all__ = ["METHODS", "SETTINGS", "run_distillation"]

SETTINGS = ("transductive", "inductive")
METHODS = {"glnn": GLNN, "nosmog": NOSMOG, "krd": KRD, "cpf": CPF, "vqgraph": VQGraph, "graphkd": RefinedKD}
TIMING_REPEATS = 5
PRODUCTION_WEIGHT = 0.8  # GLNN: production accuracy = 0.8 * transductive + 0.2 * inductive


def run_distillation(
    dataset: str | Data,
    seeds: list[int],
    method: str = "glnn",
    recipe: Recipe | None = None,
    setting: str = "transductive",
    root: str | os.PathLike | None = None,
    split: str | None = None,
    ind_fraction: float = 0.2,
    teacher_outputs_dir: str | os.PathLike | None = None,
    device: str | None = None,
    progress: bool | None = False,
    on_seed: Callable[[int, list[RunResult]], None] | None = None,
    on_student: Callable[[int, Distiller], None] | None = None,
    workdir: str | os.PathLike | None = None,
    metric: Metric = accuracy,
    num_workers: int = 0,
    timing_repeats: int = TIMING_REPEATS,
    export_dir: str | os.PathLike | None = None,
) -> list[RunResult]:
    r"""For each seed: train the teacher GNN, compute its outputs, train a plain MLP on labels
    and distil the teacher into an MLP of the same architecture; evaluate all three.

    * ``transductive``: teacher and students train on the whole graph (soft labels of all nodes).
    * ``inductive`` (GLNN's production setting): ``ind_fraction`` of the test nodes and all their
      edges are held out from everything seen in training; teacher outputs exist only for the
      observed nodes. At test time the GNN sees the full graph, the MLP only node features.
      Rows then carry transductive (``test_acc``), inductive and production
      (``0.8·trans + 0.2·ind``) accuracy.

    Checkpoints are chosen on validation only. Each row's ``infer_time_s`` is the median of
    ``timing_repeats`` full-graph inferences after a warm-up (the GNN with its graph, the MLP on
    features alone), on the training device, and ``latency_ms`` the median latency of a request
    for 10 random nodes over ``4 * timing_repeats`` requests (at least 10): the GNN fetches its
    whole L-hop neighbourhood and the features of its nodes, the MLP the features of the 10
    nodes (:mod:`graphkd.deploy.latency`).

    With ``workdir`` every seed is resumable: its models train with checkpoints
    (``seed-<s>/{teacher,mlp,student}.ckpt``), the teacher outputs are kept
    (``seed-<s>/teacher_outputs.pt``) and a finished seed's rows are written
    (``seed-<s>/rows.json``). Running the same call again skips finished seeds and continues an
    interrupted one from its last epoch; files of another run (other recipe, dataset, setting,
    ...) raise :class:`ValueError` instead of being reused.

    Args:
        dataset (str or Data): a :func:`graphkd.datasets.load` name (loaded per seed, which
            also draws the split where it is random), or a loaded graph with its split masks
            (e.g. an OGB dataset with its official split; the seeds then vary initialisation,
            sampling and the inductive hold-out only).
        seeds (list[int]): one run per seed.
        method (str, optional): the distillation method (default: ``"glnn"``).
        recipe (Recipe, optional): hyper-parameters (default: :func:`graphkd.recipes.get_recipe`).
        setting (str, optional): ``"transductive"`` or ``"inductive"``.
        root, split: passed to :func:`graphkd.datasets.load` (with a dataset name).
        ind_fraction (float, optional): held-out share of test nodes (default: :obj:`0.2`).
        teacher_outputs_dir (str, optional): also save each seed's teacher outputs there (atomic).
        device (str, optional): training device (default: CUDA if available).
        progress (bool, optional): progress bars (per epoch, and per batch in mini-batch mode).
        on_seed (callable, optional): called as ``on_seed(seed, rows)`` with each seed's rows
            (teacher, plain MLP, student) as soon as they exist, e.g. to log progress.
        on_student (callable, optional): called as ``on_student(seed, distiller)`` once the
            seed's student is trained, before it is evaluated, e.g. to read its per-epoch
            ``distiller.history_``; not called for seeds a ``workdir`` had already finished.
        workdir (str, optional): where to keep checkpoints and finished rows (see above).
        metric (callable, optional): the score of every split, used to choose checkpoints too,
            e.g. OGB's evaluator (:class:`graphkd.eval.OGBMetric`) (default: accuracy).
        num_workers (int, optional): loader workers for neighbour sampling (default: :obj:`0`).
        timing_repeats (int, optional): full-graph inferences timed per model (default: 5; 0
            skips the timing, e.g. on graphs where one inference takes minutes).
        export_dir (str, optional): export each seed's distilled MLP there for deployment
            (``seed-<s>/``: TorchScript, ONNX when installed, int8; parity-checked, with each
            file's test accuracy in ``export.json``; :func:`graphkd.deploy.export_bundle`).
            With ``workdir``, a seed finished there earlier must already have its export in
            ``export_dir`` (it is not trained again): else :class:`ValueError` before any training.

    Raises:
        ValueError: an unknown setting or method, no seeds or repeated ones, a bad
            ``timing_repeats``, ``export_dir`` for a student that reads the graph, a recipe the
            method cannot run, or a workdir holding another run's files or finished seeds without
            their export (all before any training).
    """
    if setting not in SETTINGS:
        raise ValueError(f"Unknown setting {setting!r}; valid choices: {', '.join(SETTINGS)}")
    if not seeds:
        raise ValueError("run_distillation needs at least one seed")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {list(seeds)}")
    if not isinstance(timing_repeats, int) or timing_repeats < 0:
        raise ValueError(f"timing_repeats must be a non-negative integer, got {timing_repeats!r}")
    method_cls = resolve(method, METHODS, "method")
    if export_dir is not None and method_cls.student_needs_graph:
        raise ValueError(
            f"{method}'s student reads the graph at inference; export_dir exports graph-free MLP students only"
        )
    name = dataset if isinstance(dataset, str) else str(getattr(dataset, "name", "graph"))
    recipe = recipe or get_recipe(method, name, setting)
    method_cls.check_recipe(recipe)  # a recipe the method cannot run fails before any training
    identity = {
        "dataset": name,
        "split": split or "default",
        "setting": setting,
        "ind_fraction": ind_fraction,
        "method": method,
        "recipe": recipe.to_dict(),
        "metric": callable_identity(metric),
        # a loaded graph is identified by its content (features, labels, edges, split), a named
        # one by its name, split and seed
        "graph": graph_digest(dataset) if isinstance(dataset, Data) else None,
    }

    def trainer(spec: ModelSpec) -> Trainer:
        kwargs = spec.trainer_kwargs()
        return Trainer(**kwargs, device=device, progress=progress, metric=metric, num_workers=num_workers)

    # every seed's folder read once, up front: files of another run are refused before any training
    folders = {s: Path(workdir) / f"seed-{s}" if workdir is not None else None for s in seeds}
    finished = {s: _finished_rows(folders[s], {**identity, "seed": s}) for s in seeds}
    if export_dir is not None:
        # a seed the workdir has finished is not trained again, so it cannot be exported now
        missing = [s for s in seeds if finished[s] is not None and not _exported(export_dir, s)]
        if missing:
            raise ValueError(
                f"seeds {missing} finished in {workdir} without an export in {export_dir}; they are not "
                "trained again, so they cannot be exported: use a new workdir (or the export folder of "
                "the run that trained them)"
            )
    rows: list[RunResult] = []
    for seed in seeds:
        folder, done = folders[seed], finished[seed]
        if done is not None:
            kept = folder / "teacher_outputs.pt"
            if teacher_outputs_dir is not None and kept.is_file():
                target = Path(teacher_outputs_dir) / f"{name}-{setting}-seed{seed}.pt"
                if not target.exists():
                    TeacherOutputs.load(kept).save(target)
            rows.extend(done)
            if on_seed is not None:
                on_seed(seed, done)
            continue
        data = load(dataset, root=root, split=split, seed=seed) if isinstance(dataset, str) else dataset
        if setting == "inductive":
            parts = inductive_split(data, ind_fraction, seed)
            observed, full, observed_nodes = parts.observed, parts.full, parts.observed_ids
        else:
            observed, full, observed_nodes = data, None, None

        seed_everything(seed)
        teacher = _build(recipe.teacher.name, observed, recipe.teacher.model_kwargs())
        history = trainer(recipe.teacher).fit(teacher, observed, seed=seed, checkpoint=_file(folder, "teacher.ckpt"))
        seed_rows = [_row(recipe.teacher.name, seed, teacher, history, observed, full, metric, timing_repeats)]

        seed_everything(seed)
        mlp = _build(recipe.baseline_spec.name, observed, recipe.baseline_spec.model_kwargs())
        history = trainer(recipe.baseline_spec).fit(mlp, observed, seed=seed, checkpoint=_file(folder, "mlp.ckpt"))
        seed_rows.append(_row("mlp", seed, mlp, history, observed, full, metric, timing_repeats))

        seed_everything(seed)
        distiller = method_cls.from_recipe(recipe, observed, trainer(recipe.student))
        meta = {"dataset": name, "split": split or "default", "seed": seed, "setting": setting}
        signals = distiller.teacher_signals(teacher, observed, seed)
        outputs = _teacher_outputs(teacher, observed, folder, distiller.teacher_layers(), signals, **meta)
        if teacher_outputs_dir is not None:
            outputs.save(Path(teacher_outputs_dir) / f"{name}-{setting}-seed{seed}.pt")
        distiller.fit(observed, outputs, seed=seed, checkpoint=_file(folder, "student.ckpt"))
        if on_student is not None:
            on_student(seed, distiller)
        student = distiller.student
        # the graph as the student reads it (e.g. with NOSMOG's positional features)
        observed_s = distiller.transform(observed)
        full_s = distiller.transform(full, observed_nodes) if full is not None else None
        seed_rows.append(_row(method, seed, student, distiller.history_, observed_s, full_s, metric, timing_repeats))
        if export_dir is not None:
            extra = student.in_channels - observed.num_features
            graph_s = full_s if full_s is not None else observed_s
            _export(student, graph_s, Path(export_dir) / f"seed-{seed}", identity, extra)
        if folder is not None:
            payload = {"identity": {**identity, "seed": seed}, "rows": [asdict(r) for r in seed_rows]}
            atomic_write_text(folder / "rows.json", json.dumps(payload, indent=1) + "\n")
        rows.extend(seed_rows)
        if on_seed is not None:
            on_seed(seed, seed_rows)
    return rows


def _finished_rows(folder: Path | None, identity: dict[str, Any]) -> list[RunResult] | None:
    if folder is None or not (folder / "rows.json").is_file():
        return None
    try:
        saved = json.loads((folder / "rows.json").read_text())
        rows = [RunResult(**r) for r in saved["rows"]]
        saved_identity = saved["identity"]
    except (ValueError, KeyError, TypeError) as err:
        raise ValueError(f"{folder / 'rows.json'} is not a graphkd results file ({err}); remove it") from err
    if saved_identity != json.loads(json.dumps(identity)):
        differ = sorted(k for k in identity if saved_identity.get(k) != json.loads(json.dumps(identity[k])))
        raise ValueError(
            f"{folder} holds the results of another run (differs in: {', '.join(differ)}); "
            "remove it, or write this run elsewhere"
        )
    return rows


def _export(student: Model, graph: Data, folder: Path, identity: dict[str, Any], extra: int = 0) -> None:
    from ..deploy import export_bundle

    test = graph.test_mask | graph.ind_test_mask if "ind_test_mask" in graph else graph.test_mask
    meta = {k: identity[k] for k in ("dataset", "setting", "method")}
    if extra:  # e.g. NOSMOG: the student reads more columns than the node features
        meta["inputs"] = (
            f"{student.in_channels - extra} node features followed by {extra} positional features "
            "(graphkd.features.PositionalFeatures; a new node: its observed neighbours' mean)"
        )
    export_bundle(student, folder, graph.x, graph.y, test, metadata=meta)


def _exported(export_dir: str | os.PathLike, seed: int) -> bool:
    return (Path(export_dir) / f"seed-{seed}" / "export.json").is_file()


def _file(folder: Path | None, name: str) -> Path | None:
    return folder / name if folder is not None else None


def _teacher_outputs(
    teacher: Model, observed: Data, folder: Path | None, layers: list[int], signals: dict[str, Any], **meta: Any
) -> TeacherOutputs:
    # kept outputs are a cache of the trained teacher's weights: reused only for the same weights
    # and when they hold the hidden layers and the signals the method reads
    path = folder / "teacher_outputs.pt" if folder is not None else None
    weights = weights_digest(teacher)
    layers = sorted({i % teacher.num_layers for i in layers})
    if path is not None and path.is_file():
        outputs = TeacherOutputs.load(path, observed, **meta)  # another graph or seed raises
        same = outputs.meta.get("teacher_weights") == weights and outputs.meta.get("teacher") == repr(teacher)
        kept = outputs.extras or {}
        has_signals = all(k in kept and torch.equal(kept[k], v) for k, v in signals.items())
        if same and has_signals and set(layers) <= set(outputs.meta.get("hidden_layers") or []):
            return outputs
    outputs = TeacherOutputs.compute(
        teacher, observed, hidden_layers=layers or None, extras=signals or None, teacher_weights=weights, **meta
    )
    if path is not None:
        outputs.save(path)
    return outputs


def _build(name: str, data: Data, kwargs: dict) -> Model:
    return build_model(name, data.num_features, data.num_classes, **kwargs)


def _row(
    name: str,
    seed: int,
    model: Model,
    history: History,
    observed: Data,
    full: Data | None,
    metric: Metric = accuracy,
    timing_repeats: int = TIMING_REPEATS,
) -> RunResult:
    graph = full if full is not None else observed
    logits = predict(model, graph)  # warm-up (and the GNN's cached graph)
    times = []
    for _ in range(timing_repeats):
        start = time.perf_counter()
        predict(model, graph)
        times.append(time.perf_counter() - start)
    infer = statistics.median(times) if times else None
    latency = _latency_10(model, graph, timing_repeats) if timing_repeats else None
    ind = prod = None
    if full is not None:
        ind = metric(logits, full.y, full.ind_test_mask)
        prod = PRODUCTION_WEIGHT * float(history.best.test_acc) + (1 - PRODUCTION_WEIGHT) * ind
    return RunResult.from_history(
        name, seed, history, test_ind_acc=ind, test_prod_acc=prod, infer_time_s=infer, latency_ms=latency
    )


def _latency_10(model: Model, graph: Data, timing_repeats: int) -> float:
    from ..deploy.latency import LatencyProtocol, gnn_predictor, measure_latency, mlp_predictor

    device = model._device()
    if graph.x.device != device:  # Data.to moves in place: move a copy
        graph = copy.copy(graph).to(device, "x", "edge_index")
    predictor = gnn_predictor(model, graph) if model.uses_graph else mlp_predictor(model, graph.x)
    protocol = LatencyProtocol(
        batch_sizes=(min(10, graph.num_nodes),), repeats=max(10, 4 * timing_repeats), device=str(device)
    )
    return measure_latency([predictor], graph.num_nodes, protocol)[0].median_ms
