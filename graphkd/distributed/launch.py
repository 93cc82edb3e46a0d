r"""The distributed job: ``torchrun --nproc_per_node=N -m graphkd.distributed --dataset D --out DIR``.

On every process: load the graph, train the teacher data-parallel with neighbour sampling,
compute its outputs sharded into ``DIR/teacher_outputs`` (memory-mapped), distil GLNN's MLP
data-parallel from them, and (rank 0) write ``DIR/results.json``. Every step is resumable:
run the same command again after a failure and finished steps are reused (checked), an
interrupted one continues from its last checkpoint.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import torch

from ..datasets import load
from ..distill import GLNN, TeacherOutputs
from ..eval.metrics import accuracy, evaluate
from ..nn import build_model
from ..recipes import Recipe, get_recipe
from ..utils.fingerprint import weights_digest
from ..utils.io import atomic_write_text
from ..utils.seed import seed_everything
from . import context
from .inference import sharded_teacher_outputs
from .trainer import DistributedTrainer

__all__ = ["build_parser", "main"]

log = logging.getLogger("graphkd.distributed")
METHODS = ("glnn",)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="torchrun --nproc_per_node=N -m graphkd.distributed",
        description="Data-parallel teacher training, sharded teacher inference and data-parallel distillation.",
    )
    p.add_argument("--dataset", default="csbm", help="a graphkd.datasets.load name (default: csbm, embedded)")
    p.add_argument("--out", required=True, help="the job's folder: checkpoints, teacher_outputs/, results.json")
    p.add_argument("--method", default="glnn", choices=METHODS, help="distillation method (default: glnn)")
    p.add_argument("--seed", type=int, default=0, help="seed of the split, the models and the batches")
    p.add_argument("--root", help="data root (default: $GRAPHKD_DATA or ./datasets)")
    p.add_argument("--split", help="the dataset's split (default: its first)")
    p.add_argument("--teacher-batch-size", type=int, default=512, help="global seed nodes per teacher step")
    p.add_argument("--fanout", type=int, nargs="+", default=[5], help="neighbours sampled per hop (default: 5)")
    p.add_argument(
        "--student-batch-size", type=int, default=None, help="global nodes per student step (default: full batch)"
    )
    p.add_argument(
        "--teacher-outputs",
        help="distil these teacher outputs (a folder or file, checked against the graph) instead of training a teacher",
    )
    p.add_argument("--teacher-epochs", type=int, help="override the recipe's teacher epochs")
    p.add_argument("--student-epochs", type=int, help="override the recipe's student epochs")
    p.add_argument("--backend", choices=("gloo", "nccl"), help="default: nccl with CUDA, else gloo")
    p.add_argument("--timeout", type=float, default=context.DEFAULT_TIMEOUT_S, help="collective timeout, seconds")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        rank, world = context.init(args.backend, args.timeout)
    except (RuntimeError, ValueError) as err:
        print(f"graphkd.distributed: {err}", file=sys.stderr)
        return 2
    try:
        result = run(args, rank, world)
    except context.DistributedError as err:
        print(f"graphkd.distributed: {err}", file=sys.stderr)
        return 1
    except ValueError as err:
        print(f"graphkd.distributed (rank {rank}): {err}", file=sys.stderr)
        return 2
    finally:
        context.shutdown()
    if rank == 0:
        t, s = result["teacher"], result["student"]
        print(
            f"{world} process(es): teacher {result['teacher_name']} test {t['test']:.4f} (val {t['val']:.4f}); "
            f"GLNN MLP test {s['test']:.4f} (val {s['val']:.4f}); results in {args.out}/results.json"
        )
    return 0


def run(args: argparse.Namespace, rank: int, world: int) -> dict:
    out = Path(args.out)
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
    context.barrier("creating the output folder")
    # bad settings fail here, before anything is loaded or trained
    recipe = _recipe(args)
    teacher_trainer = DistributedTrainer(**recipe.teacher.trainer_kwargs(), progress=False)
    student_trainer = DistributedTrainer(**recipe.student.trainer_kwargs(), progress=False)
    data = load(args.dataset, root=args.root, split=args.split, seed=args.seed)

    meta = {"dataset": args.dataset, "split": args.split or "default", "seed": args.seed, "setting": "transductive"}
    if args.teacher_outputs is not None:  # distil given outputs: steps 1 and 2 are skipped
        outputs, problem = _load_outputs(args.teacher_outputs, data, meta)
        if problem:
            raise ValueError(f"--teacher-outputs {args.teacher_outputs}: {problem}")
        teacher_s = inference_s = 0.0
        teacher_epochs, reused = 0, True
    else:
        teacher_s, teacher_epochs, inference_s, outputs, reused = _teacher(
            args, recipe, teacher_trainer, data, out, meta
        )

    # 3. the student, data-parallel, reading the teacher's logits from the mapped file
    seed_everything(args.seed)
    method = GLNN.from_recipe(recipe, data, student_trainer)
    tic = time.perf_counter()
    method.fit(data, outputs, seed=args.seed, checkpoint=out / "student.ckpt")
    student_s = time.perf_counter() - tic

    masks = {s: data[f"{s}_mask"] for s in ("train", "val", "test")}
    result = {
        "dataset": args.dataset,
        "method": args.method,
        "seed": args.seed,
        "world_size": world,
        "backend": torch.distributed.get_backend(),
        "teacher_name": recipe.teacher.name,
        "teacher": {s: accuracy(outputs.logits, data.y, m) for s, m in masks.items()},
        "student": evaluate(method.student, data),
        "teacher_train_s": teacher_s,
        "teacher_epochs": teacher_epochs,
        "teacher_outputs_s": inference_s,
        "teacher_outputs_reused": reused,
        "student_train_s": student_s,
        "student_epochs": len(method.history_.epochs),
        "student_best_epoch": method.history_.best_epoch,
        "recipe": recipe.to_dict(),
        "teacher_outputs": str(args.teacher_outputs or out / "teacher_outputs"),
    }
    if rank == 0:
        atomic_write_text(out / "results.json", json.dumps(result, indent=1) + "\n")
    context.barrier("writing the results")
    return result


def _recipe(args: argparse.Namespace) -> Recipe:
    # the method's recipe with the job's settings: the teacher neighbour-sampled, the student's
    # batches, and the epoch overrides (checked by the recipe's own validation)
    recipe = get_recipe(args.method, args.dataset, "transductive")
    fanout = args.fanout[0] if len(args.fanout) == 1 else tuple(args.fanout)
    changes = {
        "teacher.batch_size": args.teacher_batch_size,
        "teacher.fanout": fanout,
        "student.batch_size": args.student_batch_size,
    }
    if args.teacher_epochs is not None:
        changes["teacher.epochs"] = args.teacher_epochs
    if args.student_epochs is not None:
        changes["student.epochs"] = args.student_epochs
    return recipe.override(**changes)


def _teacher(args, recipe: Recipe, trainer: DistributedTrainer, data, out: Path, meta: dict):
    # 1. the teacher, data-parallel with neighbour sampling on every process
    seed_everything(args.seed)
    teacher = build_model(recipe.teacher.name, data.num_features, data.num_classes, **recipe.teacher.model_kwargs())
    tic = time.perf_counter()
    history = trainer.fit(teacher, data, seed=args.seed, checkpoint=out / "teacher.ckpt")
    teacher_s = time.perf_counter() - tic
    teacher_epochs = len(history.epochs)

    # 2. its outputs, sharded over the processes into one memory-mapped folder (reused when checked)
    tic = time.perf_counter()
    outputs = _kept_outputs(out / "teacher_outputs", teacher, data, meta)
    reused = outputs is not None
    if outputs is None:
        outputs = sharded_teacher_outputs(
            teacher, data, out / "teacher_outputs", **meta, teacher_weights=weights_digest(teacher)
        )
    inference_s = time.perf_counter() - tic

    return teacher_s, teacher_epochs, inference_s, outputs, reused


def _kept_outputs(folder: Path, teacher, data, meta: dict) -> TeacherOutputs | None:
    # outputs of an earlier run of this job, reused only for the same graph, teacher and weights;
    # unreadable or foreign ones are computed again (and replaced atomically)
    if not (folder / "meta.json").is_file():
        return None
    outputs, problem = _load_outputs(folder, data, meta)
    if problem:
        log.warning("recomputing the teacher outputs in %s: %s", folder, problem)
        return None
    same = outputs.meta.get("teacher_weights") == weights_digest(teacher) and outputs.meta.get("teacher") == repr(
        teacher
    )
    return outputs if same else None


def _load_outputs(path: str | Path, data, meta: dict) -> tuple[TeacherOutputs | None, str | None]:
    # rank 0 reads every byte once (checksums, finiteness); the others trust its verdict, so a
    # bad file fails every process at once instead of leaving them waiting at the next collective
    problem = None
    try:
        outputs = TeacherOutputs.load(path, data, verify=context.rank() == 0, **meta)
    except (OSError, ValueError) as err:
        outputs, problem = None, f"{type(err).__name__}: {err}"
    if context.is_distributed():  # every process's verdict: one failing process fails them all
        every = [None] * context.world_size()
        with context.collective("checking the teacher outputs"):
            torch.distributed.all_gather_object(every, problem)
        problem = next((f"rank {r}: {p}" for r, p in enumerate(every) if p), None)
    return (None, problem) if problem else (outputs, None)
