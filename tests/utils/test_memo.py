import gc

import torch

from graphkd.utils import memo
from graphkd.utils.memo import memo_per_tensor


def counter():
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    return calls, compute


def test_computed_once_per_tensor_and_key():
    calls, compute = counter()
    x = torch.ones(3)
    assert memo_per_tensor("t", x, (1,), compute) == 1
    assert memo_per_tensor("t", x, (1,), compute) == 1  # reused
    assert memo_per_tensor("other", x, (1,), compute) == 2  # another kind
    assert memo_per_tensor("t", x, (2,), compute) == 3  # another key replaces it
    assert memo_per_tensor("t", x.clone(), (2,), compute) == 4  # an equal tensor is another tensor
    x.add_(1)  # modified in place: its version counter moves
    assert memo_per_tensor("t", x, (2,), compute) == 5
    assert len(calls) == 5


def test_the_value_goes_with_the_tensor():
    _, compute = counter()
    x = torch.ones(3)
    memo_per_tensor("gone", x, (), compute)
    slot = ("gone", id(x))
    assert slot in memo._MEMO
    del x
    gc.collect()
    assert slot not in memo._MEMO


def test_inference_mode_tensors_are_not_memoised():
    # they have no version counter, so an in-place change could not be seen
    calls, compute = counter()
    with torch.inference_mode():
        x = torch.ones(3)
    memo_per_tensor("inference", x, (), compute)
    memo_per_tensor("inference", x, (), compute)
    assert len(calls) == 2
