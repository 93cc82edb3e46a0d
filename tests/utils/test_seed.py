import random

import numpy as np
import pytest
import torch

from graphkd.utils import seed_everything


def draws() -> tuple:
    return random.random(), float(np.random.rand()), torch.rand(3)


def test_the_same_seed_gives_the_same_draws_in_every_generator():
    seed_everything(7)
    first = draws()
    seed_everything(7)
    again = draws()
    assert first[:2] == again[:2] and torch.equal(first[2], again[2])
    seed_everything(8)
    other = draws()
    assert first[0] != other[0] and first[1] != other[1] and not torch.equal(first[2], other[2])
    assert torch.initial_seed() == 8


def test_seeds_beyond_numpys_range_are_taken_modulo_2_32_by_numpy():
    seed_everything(2**32 + 5)
    big = draws()
    assert torch.initial_seed() == 2**32 + 5  # PyTorch records the whole seed
    seed_everything(5)
    assert big[1] == draws()[1]
    seed_everything(2**64 - 1)  # the largest seed PyTorch takes
    assert torch.initial_seed() == 2**64 - 1


@pytest.mark.parametrize("bad", [-1, 2**64, 1.0, "3", None, True])
def test_bad_seeds_are_refused(bad):
    with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 2\*\*64\), got "):
        seed_everything(bad)
