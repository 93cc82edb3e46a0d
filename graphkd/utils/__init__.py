r"""Small shared helpers."""

from .fingerprint import fingerprint
from .io import atomic_write_bytes, atomic_write_text
from .seed import seed_everything

__all__ = ["atomic_write_bytes", "atomic_write_text", "fingerprint", "seed_everything"]
