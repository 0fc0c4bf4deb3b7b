"""A faster copy of the bundled MiniLM model: integer matrix products, made once and cached.

The bundled model stores its weights as int8 but multiplies in float32: ONNX Runtime turns every
weight back into float32 when the session starts, so each query pays float matrix products. Dynamic
quantisation (ONNX Runtime's ``quantize_dynamic``, int8 weights per output channel, activations
quantised per call) runs the same network with integer products instead. Before quantising, the
graph's operators are fused (see ``_fused``: attention, bias + GELU, residual + layer norm), since
for a ten-token message per-node overhead costs as much as the arithmetic. A query's embedding
then takes about 3-4 ms instead of 7.5-8.5 ms on this project's 2-core benchmark host (4.2 ms
with quantisation alone), and building the demo engine embeds its ~700 texts in well under half
the time. The embeddings move a little (cosine 0.993 on average to the bundled model's; fusing
moves them by 1e-4); every accuracy figure in the README is measured with this copy.

The conversion needs the ``onnx`` package and takes several seconds, so it runs once, in a child
process (the gateway never imports ``onnx``), and the result is kept in a cache directory with its
sha256 beside it. The file name carries the conversion's version, the source model's sha256 and
ONNX Runtime's version, so a new conversion, model or runtime makes a new file. A cached file that
does not match its recorded sha256 is made again; if the conversion fails, the caller falls back
to the bundled model.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: Environment variable naming the cache directory; "off" keeps the bundled model as it is.
CACHE_ENV = "ONETHREAD_MODEL_CACHE"
CONVERT_TIMEOUT_S = 300


def default_cache_dir() -> Path | None:
    """``$ONETHREAD_MODEL_CACHE``, else ``$XDG_CACHE_HOME/onethread`` or ``~/.cache/onethread``.

    None when the setting is ``off``.
    """
    configured = os.environ.get(CACHE_ENV, "").strip()
    if configured.lower() == "off":
        return None
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "onethread"


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


#: Bumped whenever convert() makes a different graph, so that a cached older copy (and the
#: training embeddings remembered for it) is not mistaken for the current one.
CONVERSION = "fused1"


def cached_path(source_sha256: str, cache_dir: Path) -> Path:
    """Where the quantised copy of the model with this sha256 lives."""
    import onnxruntime

    return cache_dir / (f"minilm-{CONVERSION}-int8-{source_sha256[:16]}"
                        f"-ort{onnxruntime.__version__}.onnx")


def remembered_embeddings_path(cache_dir: Path, model_id: str) -> Path:
    """Where the training embeddings made by the model ``model_id`` are remembered
    (knowledge/remembered.py); removed with that model's copy."""
    return cache_dir / f"training-embeddings-{model_id}.npz"


def quantised_model(source: Path, source_sha256: str, cache_dir: Path) -> Path | None:
    """The quantised copy of source (verified), made now if it is missing or damaged.

    Returns None when it cannot be made (no ``onnx`` package, an unwritable directory, a failed
    conversion): the caller then uses the bundled model.
    """
    target = cached_path(source_sha256, cache_dir)
    recorded = target.with_name(target.name + ".sha256")
    if target.is_file() and recorded.is_file():
        if sha256_of(target) == recorded.read_text(encoding="ascii").strip():
            return target
        log.warning("%s does not match its recorded sha256; making it again", target)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="quantise-", dir=cache_dir) as tmp:
            made = Path(tmp) / target.name
            subprocess.run(
                [sys.executable, "-m", "knowledge.quantize", str(source), str(made)],
                check=True, capture_output=True, text=True, timeout=CONVERT_TIMEOUT_S,
            )
            digest = sha256_of(made)
            # Rename into place: a process starting alongside sees a whole file or none.
            os.replace(made, target)
            recorded.write_text(digest + "\n", encoding="ascii")
        _remove_older_copies(target, source_sha256, cache_dir)
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("could not make the faster (integer) copy of the embedding model; using the "
                    "bundled one (%s)", _reason(exc))
        return None
    log.info("made the integer copy of the embedding model: %s", target)
    return target


def _remove_older_copies(current: Path, source_sha256: str, cache_dir: Path) -> None:
    """Delete copies of the same model made by an older conversion or runtime, and the training
    embeddings remembered for them (``training-embeddings-<copy name>.npz``).

    Each is 23 MB and would otherwise stay in the cache for good. A process already running on an
    older copy is unaffected: ONNX Runtime read the file when the process started.
    """
    for old in cache_dir.glob(f"minilm-*-int8-{source_sha256[:16]}-ort*.onnx"):
        if old == current:
            continue
        for path in (old, old.with_name(old.name + ".sha256"),
                     remembered_embeddings_path(cache_dir, old.stem)):
            path.unlink(missing_ok=True)
        log.info("removed an older copy of the embedding model: %s", old.name)
    # Named by the model's variant until the conversion had a version of its own.
    for legacy in cache_dir.glob(f"training-embeddings-integer-{source_sha256[:16]}-ort*.npz"):
        legacy.unlink(missing_ok=True)


def _reason(exc: Exception) -> str:
    """One line saying why the conversion failed: the child's last error line if it printed one."""
    stderr = exc.stderr if isinstance(exc, subprocess.CalledProcessError) else None
    lines = stderr.strip().splitlines() if stderr else []
    return lines[-1] if lines else str(exc)


def convert(source: Path, target: Path) -> None:
    """Fold the bundled model's weights to float32, fuse its operators, quantise it to target.

    The fusions are optional: a step that does not apply, or whose graph does not reproduce the
    folded model's output, is skipped, and the copy is quantised from the last good graph.
    """
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory(prefix="onethread-fold-") as tmp:
        folded = Path(tmp) / "folded.onnx"
        options = ort.SessionOptions()
        # Basic optimisation folds the graph's Cast/Mul of each int8 weight into a float32
        # initializer, which is what quantize_dynamic expects to find.
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.optimized_model_filepath = str(folded)
        ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
        fused = _fused(folded, Path(tmp) / "fused.onnx")
        quantize_dynamic(str(fused), str(target), weight_type=QuantType.QInt8, per_channel=True)


#: MiniLM-L6's attention heads and hidden size.
HEADS = 12
HIDDEN = 384
#: A fused graph must give the folded graph's hidden states to this tolerance (float32 sums in a
#: different order differ by ~1e-6).
FUSION_TOLERANCE = 1e-3


def _fused(folded: Path, out: Path) -> Path:
    """The folded model with ONNX Runtime's BERT fusions and fused attention, if they check out.

    ``onnxruntime.transformers`` fuses bias + GELU and residual + layer norm (its attention
    fusion does not recognise this export's attention; knowledge/fuse_attention.py does). A
    short message's embedding is dominated by per-node overhead, so 260 nodes becoming 50 took
    the integer model's per-query time from ~4.5 to ~3.3 ms on this project's host.
    """
    import onnx

    from knowledge.fuse_attention import AttentionPatternError, fuse_attention

    try:
        from onnxruntime.transformers.optimizer import optimize_model

        # opt_level 0: the Python fusions only (level 1 would import torch for a version check).
        model = optimize_model(str(folded), model_type="bert", num_heads=HEADS,
                               hidden_size=HIDDEN, opt_level=0).model
    except Exception as exc:
        log.warning("BERT operator fusion skipped: %s", exc)
        model = onnx.load(str(folded))
    try:
        fuse_attention(model, HEADS)
    except AttentionPatternError as exc:
        log.warning("attention fusion skipped: %s", exc)
    onnx.save(model, str(out))
    if _same_outputs(folded, out):
        return out
    log.warning("the fused graph does not reproduce the model's output; quantising it unfused")
    return folded


def _same_outputs(reference: Path, candidate: Path) -> bool:
    """True when both graphs give the same last hidden states for a few token sequences."""
    import numpy as np
    import onnxruntime as ort

    def run(path: Path, ids: Any) -> Any:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids),
                 "token_type_ids": np.zeros_like(ids)}
        return session.run(["last_hidden_state"], feeds)[0]

    rng = np.random.default_rng(0)
    for length in (3, 12, 64):
        # [CLS] random word pieces [SEP], as the tokenizer frames a message.
        ids = np.concatenate([[101], rng.integers(1000, 30000, length - 2), [102]])[None]
        ids = ids.astype(np.int64)
        if not np.allclose(run(reference, ids), run(candidate, ids), atol=FUSION_TOLERANCE):
            return False
    return True


if __name__ == "__main__":
    logging.basicConfig(level=logging.ERROR)
    convert(Path(sys.argv[1]), Path(sys.argv[2]))
