"""``torchrun --nproc_per_node=N -m graphkd.distributed ...`` (see :mod:`graphkd.distributed.launch`)."""

from .launch import main

if __name__ == "__main__":
    raise SystemExit(main())
