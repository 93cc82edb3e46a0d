r"""Distillation: teacher outputs as a checked artifact, and the methods that distil them."""

from .base import Distiller
from .composed import ComposedKD, Term
from .cpf import CPF
from .glnn import GLNN
from .krd import KRD
from .nosmog import NOSMOG
from .refined import RefinedKD
from .teacher_outputs import TeacherOutputs, fingerprint
from .vqgraph import VQGraph, soft_token_loss

__all__ = [
    "CPF",
    "GLNN",
    "KRD",
    "NOSMOG",
    "RefinedKD",
    "VQGraph",
    "ComposedKD",
    "Distiller",
    "TeacherOutputs",
    "Term",
    "fingerprint",
    "soft_token_loss",
]
