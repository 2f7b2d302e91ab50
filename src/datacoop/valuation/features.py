"""Item features for valuation: turn each item's ``data`` into a vector of numbers.

A feature spec is one or more blocks joined by ``+``; each item's vector is the blocks side by
side, in order:

``numeric:a,b``      the fields ``a`` and ``b``: numbers, or text holding a finite number
                     (CSV imports store every cell as text). ``numeric`` alone: every field
                     that is numeric in every item, by name.
``vector:f``         field ``f`` holds a list of numbers (or text holding a JSON list), the
                     same length in every item.
``image:f[:S]``      field ``f`` names an image under the instance's media directory
                     (``/media/...``, as the demo stores them) or is a ``data:image/...;base64``
                     URI. It is decoded with Pillow, converted to grayscale, resized to S × S
                     pixels (default 16, bilinear) and scaled to [0, 1]: S² numbers.
``text:f``           sentence embedding of the text in ``f`` (384 numbers, unit length) from
                     the offline ``all-MiniLM-L6-v2`` model; needs the ``embeddings`` extra.
``auto``             the default: ``numeric`` if some field is numeric in every item, else
                     ``vector`` of the first field holding numeric lists everywhere, else
                     ``image:image`` if every item has an ``image`` text field, else ``text``
                     of ``text`` (or of the one field holding text in every item).

Features are used as given: KNN compares Euclidean distances, so put numeric fields on
comparable scales before importing. A run stores the resolved spec (``auto`` and bare
``numeric`` spelled out), so a re-run builds the same vectors.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from datacoop.errors import ValidationFailed
from datacoop.valuation.embeddings import EmbeddingsUnavailable, TextEmbedder, minilm

KINDS = ("numeric", "vector", "image", "text")
DEFAULT_IMAGE_SIZE = 16
MAX_IMAGE_SIZE = 256
MEDIA_PREFIX = "/media/"

Item = tuple[int, Mapping[str, Any]]  # (item id, its data)


@dataclass(frozen=True)
class Block:
    kind: str
    fields: tuple[str, ...]  # numeric: the fields (empty: every numeric one); else one field
    size: int = 0  # image side in pixels

    def __str__(self) -> str:
        if self.kind == "numeric":
            return "numeric" + (":" + ",".join(self.fields) if self.fields else "")
        if self.kind == "image":
            return f"image:{self.fields[0]}:{self.size}"
        return f"{self.kind}:{self.fields[0]}"


@dataclass(frozen=True)
class FeatureSpec:
    blocks: tuple[Block, ...]  # empty: auto

    def __str__(self) -> str:
        return "+".join(str(b) for b in self.blocks) if self.blocks else "auto"


def bad(message: str) -> ValidationFailed:
    return ValidationFailed.field("features", message)


def parse_spec(text: str) -> FeatureSpec:
    """Read a spec such as ``numeric:x,y+text:title``; raise ``ValidationFailed`` when bad."""
    text = text.strip()
    if not text or text == "auto":
        return FeatureSpec(())
    return FeatureSpec(tuple(_parse_block(part.strip()) for part in text.split("+")))


def _parse_block(part: str) -> Block:
    kind, _, rest = part.partition(":")
    if kind not in KINDS:
        raise bad(f"unknown block {part!r}; blocks are {', '.join(KINDS)} (or auto)")
    if kind == "numeric":
        fields = tuple(f.strip() for f in rest.split(",")) if rest else ()
        if any(not f for f in fields):
            raise bad("numeric:a,b needs field names separated by commas")
        return Block("numeric", fields)
    if kind == "image":
        name, _, size_text = rest.partition(":")
        size = DEFAULT_IMAGE_SIZE
        if size_text:
            if not size_text.isdigit() or not 1 <= int(size_text) <= MAX_IMAGE_SIZE:
                raise bad(f"image size must be a whole number from 1 to {MAX_IMAGE_SIZE}")
            size = int(size_text)
        rest = name
    if not rest.strip():
        raise bad(f"{kind} needs a field name, as in {kind}:FIELD")
    return Block(kind, (rest.strip(),), size if kind == "image" else 0)


# --- resolving auto -----------------------------------------------------------------------


def resolve(spec: FeatureSpec, items: Sequence[Item]) -> FeatureSpec:
    """Spell out ``auto`` and bare ``numeric`` for these items."""
    datas = [d for _, d in items]
    if spec.blocks:
        return FeatureSpec(
            tuple(
                Block("numeric", _numeric_fields(datas) or _none_numeric())
                if b.kind == "numeric" and not b.fields
                else b
                for b in spec.blocks
            )
        )
    if numeric := _numeric_fields(datas):
        return FeatureSpec((Block("numeric", numeric),))
    common = sorted(set.intersection(*(set(d) for d in datas))) if datas else []
    for name in common:
        if all(_vector(d[name]) is not None for d in datas):
            return FeatureSpec((Block("vector", (name,)),))
    if "image" in common and all(isinstance(d["image"], str) for d in datas):
        return FeatureSpec((Block("image", ("image",), DEFAULT_IMAGE_SIZE),))
    texts = [n for n in common if all(isinstance(d[n], str) for d in datas)]
    if "text" in texts or len(texts) == 1:
        return FeatureSpec((Block("text", ("text" if "text" in texts else texts[0],)),))
    raise bad(
        "cannot pick features for these items automatically; give a spec such as "
        "numeric:FIELD,FIELD, vector:FIELD, image:FIELD or text:FIELD"
    )


def _none_numeric() -> tuple[str, ...]:
    raise bad("no field is numeric in every item")


def _numeric_fields(datas: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    if not datas:
        return ()
    common = set.intersection(*(set(d) for d in datas))
    return tuple(sorted(n for n in common if all(_number(d[n]) is not None for d in datas)))


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _vector(value: Any) -> list[float] | None:
    if isinstance(value, str) and value.lstrip().startswith("["):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if not isinstance(value, list) or not value:
        return None
    numbers = [_number(v) if not isinstance(v, str) else None for v in value]
    return None if any(n is None for n in numbers) else [float(n) for n in numbers if n is not None]


# --- building vectors ---------------------------------------------------------------------


def item_features(
    items: Sequence[Item],
    spec: FeatureSpec,
    *,
    media_dir: Path | None = None,
    embedder: TextEmbedder | None = None,
) -> NDArray[np.float64]:
    """One row per item: the resolved spec's blocks side by side (float64, finite)."""
    if not spec.blocks:
        spec = resolve(spec, items)
    builders: dict[str, Callable[[Block], NDArray[np.float64]]] = {
        "numeric": lambda b: _numeric_block(items, b),
        "vector": lambda b: _vector_block(items, b),
        "image": lambda b: _image_block(items, b, media_dir),
        "text": lambda b: _text_block(items, b, embedder),
    }
    blocks = [builders[b.kind](b) for b in spec.blocks]
    return np.hstack(blocks) if blocks else np.zeros((len(items), 0))


def _field(item: Item, name: str) -> Any:
    item_id, data = item
    if name not in data:
        raise bad(f"item {item_id} has no field {name!r}")
    return data[name]


def _numeric_block(items: Sequence[Item], block: Block) -> NDArray[np.float64]:
    out = np.empty((len(items), len(block.fields)), dtype=np.float64)
    for row, item in enumerate(items):
        for col, name in enumerate(block.fields):
            value = _field(item, name)
            number = _number(value)
            if number is None:
                raise bad(f"item {item[0]}: field {name!r} is not a finite number ({value!r:.40})")
            out[row, col] = number
    return out


def _vector_block(items: Sequence[Item], block: Block) -> NDArray[np.float64]:
    name = block.fields[0]
    rows: list[list[float]] = []
    for item in items:
        vector = _vector(_field(item, name))
        if vector is None:
            raise bad(f"item {item[0]}: field {name!r} is not a non-empty list of finite numbers")
        if rows and len(vector) != len(rows[0]):
            raise bad(
                f"item {item[0]}: field {name!r} has {len(vector)} numbers, "
                f"other items have {len(rows[0])}"
            )
        rows.append(vector)
    return np.asarray(rows, dtype=np.float64).reshape(len(items), -1)


def _text_block(
    items: Sequence[Item], block: Block, embedder: TextEmbedder | None
) -> NDArray[np.float64]:
    name = block.fields[0]
    texts: list[str] = []
    for item in items:
        value = _field(item, name)
        if not isinstance(value, str):
            raise bad(f"item {item[0]}: field {name!r} is not text")
        texts.append(value)
    try:
        out = (embedder or minilm()).embed(texts)
    except EmbeddingsUnavailable as exc:
        raise bad(exc.message) from exc
    return np.asarray(out, dtype=np.float64)


def _image_block(
    items: Sequence[Item], block: Block, media_dir: Path | None
) -> NDArray[np.float64]:
    try:
        from PIL import Image
    except ImportError as exc:
        raise bad("image features need Pillow: pip install pillow") from exc
    name, size = block.fields[0], block.size
    out = np.empty((len(items), size * size), dtype=np.float64)
    for row, item in enumerate(items):
        value = _field(item, name)
        source = _image_source(item[0], name, value, media_dir)
        try:
            with Image.open(source) as image:
                gray = image.convert("L").resize((size, size), Image.Resampling.BILINEAR)
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            raise bad(f"item {item[0]}: field {name!r} is not a readable image ({exc})") from exc
        out[row] = np.asarray(gray, dtype=np.float64).reshape(-1) / 255.0
    return out


def _image_source(item_id: int, name: str, value: Any, media_dir: Path | None) -> Any:
    where = f"item {item_id}: field {name!r}"
    if not isinstance(value, str) or not value:
        raise bad(f"{where} is not an image reference")
    if value.startswith("data:"):
        header, _, payload = value.partition(",")
        if not header.startswith("data:image/") or not header.endswith(";base64"):
            raise bad(f"{where}: only base64 data:image/... URIs are read")
        try:
            return io.BytesIO(base64.b64decode(payload, validate=True))
        except (binascii.Error, ValueError) as exc:
            raise bad(f"{where}: bad base64 ({exc})") from exc
    if media_dir is None:
        raise bad(f"{where}: no media directory to read images from")
    if value.startswith(MEDIA_PREFIX):
        relative = value[len(MEDIA_PREFIX) :]
    elif value.startswith("/") or "://" in value:
        raise bad(f"{where}: only images under {MEDIA_PREFIX} (or data: URIs) are read")
    else:
        relative = value
    base = media_dir.resolve()
    path = (base / relative).resolve()
    if not path.is_relative_to(base):
        raise bad(f"{where} points outside the media directory")
    if not path.is_file():
        raise bad(f"{where}: no image at {MEDIA_PREFIX}{relative}")
    return path
