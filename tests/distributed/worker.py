"""A torchrun worker for the multi-process tests (run as a script, not collected by pytest).

    torchrun --nproc_per_node=2 tests/distributed/worker.py MODE --out DIR [...]

Modes:
  inference  sharded outputs of a seeded (untrained) teacher on the embedded csbm graph
  distil     GLNN data-parallel from a seeded teacher's outputs, with a checkpoint in --out;
             --kill-rank R --kill-epoch E kills rank R (SIGKILL) in epoch E, --hang-rank R
             --hang-epoch E makes it stop answering instead
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

import torch
from torch_geometric.data import Data

from graphkd import distributed as gd
from graphkd.datasets import load
from graphkd.distill import GLNN, KRD, NOSMOG, TeacherOutputs, VQGraph
from graphkd.eval import evaluate
from graphkd.nn import MLP, build_model
from graphkd.utils.fingerprint import weights_digest

# teachers of the sharded-inference test: name -> (model, arguments)
MODELS = {
    "sage": ("sage", {}),
    "gcn": ("gcn", {}),
    "gat": ("gat", {"heads": 4}),
    "appnp": ("appnp", {}),
    "gin": ("gin", {}),
    "mlp": ("mlp", {}),
    "vq-sage": ("vq-sage", {"codebook_size": 8}),
    "gcn-res-bn": ("gcn", {"num_layers": 3, "residual": True, "norm": "batch"}),
}


def _teacher(name: str, data):
    model, kwargs = MODELS[name]
    torch.manual_seed(0)
    return build_model(model, data.num_features, data.num_classes, hidden_channels=16, **{"num_layers": 2, **kwargs})


def tiny_graph():
    """One node, no edge: fewer nodes than processes."""
    x = torch.randn(1, 8, generator=torch.Generator().manual_seed(0))
    return Data(x=x, edge_index=torch.empty(2, 0, dtype=torch.long), y=torch.zeros(1, dtype=torch.long), num_classes=3)


def inference(args, data) -> dict:
    digests = {}
    data = tiny_graph() if args.tiny else data
    for name in args.model:
        teacher = _teacher(name, data)
        folder = Path(args.out) / f"outputs-{name}"
        out = gd.sharded_teacher_outputs(teacher, data, folder, hidden_layers=[0], batch_size=97, dataset="csbm")
        digests[name] = out.digest()
    return digests


def distil(args, data) -> dict:
    teacher = _teacher("sage", data)
    outputs = gd.sharded_teacher_outputs(teacher, data, Path(args.out) / "outputs", dataset="csbm")
    rank = gd.rank()

    class Faulty(GLNN):
        def start_epoch(self, student):  # the fault injection of this test, not of the library
            epoch = getattr(self, "_epoch_no", 0)
            self._epoch_no = epoch + 1
            if rank == args.kill_rank and epoch == args.kill_epoch:
                os.kill(os.getpid(), signal.SIGKILL)
            if rank == args.hang_rank and epoch == args.hang_epoch:
                time.sleep(3600)

    torch.manual_seed(0)
    student = MLP(data.num_features, 32, data.num_classes, dropout=0.2)
    trainer = gd.DistributedTrainer(epochs=args.epochs, patience=None, batch_size=args.batch_size, progress=False)
    method = Faulty(student, trainer=trainer).fit(data, outputs, seed=0, checkpoint=Path(args.out) / "student.ckpt")
    return {
        "weights": weights_digest(method.student),
        "acc": evaluate(method.student, data),
        "epochs": len(method.history_.epochs),
    }


def evaluation(args, data) -> dict:
    # the gathered evaluation of 2 processes against one process's, on an odd number of nodes
    data.test_mask[:7] = False
    torch.manual_seed(0)
    student = MLP(data.num_features, 16, data.num_classes)
    return {"sharded": gd.DistributedTrainer()._evaluate(student, data), "single": evaluate(student, data)}


def methods(args, data) -> dict:
    # every method on the DDP engine; the replicas must end identical on every process, although
    # each process's generators start apart (no seed) and each trains on other nodes
    teacher = _teacher("sage", data)
    out = {}
    for name in ("nosmog", "krd", "vqgraph"):
        torch.manual_seed(1 + gd.rank())
        student = MLP(data.num_features, 16, data.num_classes)
        trainer = gd.DistributedTrainer(epochs=3, patience=None, batch_size=512, progress=False)
        if name == "nosmog":  # RSD, PGD (several forwards per step), no positional features
            method = NOSMOG(student, positional=None, rsd_weight=0.1, adv_eps=0.05, trainer=trainer)
        elif name == "krd":
            method = KRD(student, warmup_epochs=1, trainer=trainer)
        else:
            method = VQGraph(student, token_weight=1.0, trainer=trainer)
        layers = method.teacher_layers()
        signals = method.teacher_signals(teacher, data, 0)
        if name == "vqgraph":
            signals = {"codebook": torch.randn(8, 16, generator=torch.Generator().manual_seed(0))}
        outputs = TeacherOutputs.compute(teacher, data, hidden_layers=layers or None, extras=signals or None)
        method.fit(data, outputs)
        out[name] = [weights_digest(m) for m in [method.student, *method.trainable_modules()]]
    return out


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=("inference", "distil", "evaluation", "methods"))
    p.add_argument("--tiny", action="store_true", help="inference on a one-node graph")
    p.add_argument("--out", required=True)
    p.add_argument("--model", nargs="+", default=["sage"])
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--batch-size", type=int, default=512)
    p.add_argument("--kill-rank", type=int, default=-1)
    p.add_argument("--kill-epoch", type=int, default=-1)
    p.add_argument("--hang-rank", type=int, default=-1)
    p.add_argument("--hang-epoch", type=int, default=-1)
    p.add_argument("--timeout", type=float, default=60)
    args = p.parse_args()
    gd.init("gloo", args.timeout)
    try:
        data = load("csbm")
        modes = {"inference": inference, "distil": distil, "evaluation": evaluation, "methods": methods}
        result = modes[args.mode](args, data)
    except gd.DistributedError as err:
        print(f"worker: {err}", file=sys.stderr, flush=True)
        return 3
    finally:
        gd.shutdown()
    Path(args.out).mkdir(parents=True, exist_ok=True)
    Path(args.out, f"result-{os.environ['RANK']}.json").write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
