"""Values computed once per tensor, while it lives unmodified."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from torch import Tensor

__all__ = ["memo_per_tensor"]

#: (kind, id of a tensor) -> (a weak reference to it, (its version counter, key), the value)
_MEMO: dict[tuple[str, int], tuple[weakref.ref, tuple, Any]] = {}


def memo_per_tensor(kind: str, tensor: Tensor, key: tuple, compute: Callable[[], Any]) -> Any:
    r"""``compute()``, computed once and then returned again for the same ``tensor`` (the same
    object, not modified in place since: its version counter is part of the key) and the same
    ``key``; another ``kind`` is another memo. One value is kept per tensor and kind (a new key
    replaces it), and it goes when the tensor does. E.g. what a full-batch training step derives
    from its inputs, which are the same tensors at every step. Tensors made in inference mode
    have no version counter: for them ``compute()`` runs every time."""
    if tensor.is_inference():
        return compute()
    slot, full_key = (kind, id(tensor)), (tensor._version, *key)
    entry = _MEMO.get(slot)
    if entry is not None and entry[0]() is tensor and entry[1] == full_key:
        return entry[2]
    value = compute()
    _MEMO[slot] = (weakref.ref(tensor, lambda _, slot=slot: _MEMO.pop(slot, None)), full_key, value)
    return value
