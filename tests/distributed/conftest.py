import os
import socket

import pytest
import torch.distributed as dist


@pytest.fixture
def one_process_group(monkeypatch):
    """A gloo process group of this test process alone (world size 1), as torchrun would set it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {"RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    from graphkd import distributed as gd

    gd.init("gloo", timeout_s=60)
    yield
    if dist.is_initialized():
        dist.destroy_process_group()
    os.environ.pop("TORCH_NCCL_ASYNC_ERROR_HANDLING", None)
