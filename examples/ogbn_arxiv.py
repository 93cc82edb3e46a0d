"""Distil a GraphSAGE teacher into an MLP on ogbn-arxiv (GLNN, Zhang et al., ICLR 2022).

    python examples/ogbn_arxiv.py                          # 10 runs, transductive, GLNN's recipe
    python examples/ogbn_arxiv.py --setting inductive      # production setting: 20% of test nodes unseen
    python examples/ogbn_arxiv.py --runs 1 --epochs 3 --device cpu --out results/quick

Loads ogbn-arxiv through OGB (``PygNodePropPredDataset``, downloaded into ``--root`` when
missing; the official time split; the graph made undirected), trains the recipe's GraphSAGE
teacher (3 x 256, batch norm, neighbour sampling with fan-outs 15, 10, 5 from the seeds outward:
GLNN's DGL ``5,10,15``) on the GPU when there is one, computes its outputs by layer-wise
inference, trains a plain MLP on labels and distils the teacher into an MLP student of the same
architecture (GLNN's ``MLP3w4``: 3 x 1024, batch norm), each checkpoint chosen on validation and
scored by OGB's ``Evaluator``. Prints mean ± std over ``--runs`` and writes ``results.json``,
``results.md`` and ``runs.csv`` to ``--out``; every run resumes from its last epoch when the
script is started again. The recipe is printed first (``graphkd.recipes``, ``--set`` changes it).

Published references (test accuracy, %), *not* graphkd claims until measured on the real data:
GLNN's README and VQGraph's Table 1 report SAGE 70.73 and GLNN 63.75 with a 3 x 256 MLP student,
71.46 (transductive) with the wide 3 x 1024 student used here; GLNN's paper reports inductive
GLNN 60.48 against SAGE 70.64. OGB's data could not be downloaded where graphkd was developed,
so this script has run there only on graphs written in OGB's format (``--dataset-meta``, e.g.
from ``graphkd save-ogb --synthetic arxiv --out DIR``).
"""

from __future__ import annotations

from graphkd.cli.ogb import ogb_main, ogb_script


def main(argv: list[str] | None = None):
    return ogb_main("ogbn-arxiv", argv, prog="ogbn_arxiv.py")


if __name__ == "__main__":
    ogb_script("ogbn-arxiv", "ogbn_arxiv.py")
