"""One resolver for every string choice (dataset, model, optimizer, norm, ...).

A typo never fails deep inside a library: it fails here, quoting the value and listing the valid
choices.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeVar

__all__ = ["normalize_name", "resolve"]

T = TypeVar("T")


def normalize_name(name: str) -> str:
    r"""Lower-cases ``name`` and maps ``_`` and spaces to ``-`` (``"Cora_ML"`` → ``"cora-ml"``)."""
    return name.strip().lower().replace("_", "-").replace(" ", "-")


def resolve(name: str, choices: Mapping[str, T], kind: str, aliases: Mapping[str, str] | None = None) -> T:
    r"""Returns ``choices[name]`` after normalising ``name`` and applying ``aliases``.

    Args:
        name (str): the user's value.
        choices (Mapping[str, T]): valid (normalised) names and what they resolve to.
        kind (str): what is being resolved, for the error message (e.g. ``"dataset"``).
        aliases (Mapping[str, str], optional): extra names mapped onto keys of ``choices``.

    Raises:
        ValueError: naming the value and listing the valid choices.
    """
    if not isinstance(name, str):
        raise ValueError(f"{kind} name must be a string, got {type(name).__name__} {name!r}")
    key = normalize_name(name)
    key = (aliases or {}).get(key, key)
    if key not in choices:
        raise ValueError(f"Unknown {kind} {name!r}; valid choices: {_listing(choices)}")
    return choices[key]


def _listing(names: Iterable[str]) -> str:
    return ", ".join(sorted(names))
