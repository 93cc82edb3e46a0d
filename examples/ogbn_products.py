"""Distil a GraphSAGE teacher into an MLP on ogbn-products (GLNN, Zhang et al., ICLR 2022).

    python examples/ogbn_products.py                       # 10 runs, transductive, GLNN's recipe
    python examples/ogbn_products.py --setting inductive   # production setting: 20% of test nodes unseen
    python examples/ogbn_products.py --runs 1 --num-workers 4

Loads ogbn-products through OGB (``PygNodePropPredDataset``, downloaded into ``--root`` when
missing; the official sales-rank split), trains the recipe's GraphSAGE teacher (3 x 256, batch
norm, dropout 0.5, lr 0.003, batches of 4,096 seeds with fan-outs 15, 10, 5 from the seeds
outward: GLNN's DGL ``5,10,15``) on the GPU when there is one, computes its outputs by
layer-wise inference, trains a plain MLP on labels and distils the teacher into an MLP student
of the same architecture (GLNN's ``MLP3w8``: 3 x 2048, batch norm, batches of 4,096 nodes), each
checkpoint chosen on validation and scored by OGB's ``Evaluator``. Prints mean ± std over
``--runs`` and writes ``results.json``, ``results.md`` and ``runs.csv`` to ``--out``; every run
resumes from its last epoch when the script is started again. Evaluating every epoch is a
full-graph layer-wise inference over 2.4 M nodes: minutes on a CPU, seconds on a GPU.

Published references (test accuracy, %), *not* graphkd claims until measured on the real data:
GLNN's README and VQGraph's Table 1 report SAGE 77.17 and GLNN 75.92 with the wide 3 x 2048
student used here. OGB's data could not be downloaded where graphkd was developed, so this
script has run there only on graphs written in OGB's format (``--dataset-meta``).
"""

from __future__ import annotations

from graphkd.cli.ogb import ogb_main, ogb_script


def main(argv: list[str] | None = None):
    return ogb_main("ogbn-products", argv, prog="ogbn_products.py")


if __name__ == "__main__":
    ogb_script("ogbn-products", "ogbn_products.py")
