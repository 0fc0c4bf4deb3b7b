"""Embeddings of the knowledge base's training texts kept on disk, so a restart need not redo them.

Training the engine embeds every title, question, SMS answer and intent example, and the generic
out-of-scope examples: about 770 texts and 1.7 s for the demo, most of a start. A text embeds to
the same vector every time (one text per model call, see ``Embedder.encode``), so the vectors of
the last build can be kept and reused exactly. The file sits in the model cache directory, named
after the model that made the vectors. It holds the texts of the latest build and, up to
KEEP_TEXTS in all, those of earlier builds: gateways with different knowledge bases on one machine
(a staging and a production instance) share the file, and each would otherwise throw the other's
vectors away at every start. It is replaced whole (write, then rename), so a second process
starting at the same time reads either the old file or the new one. Anything wrong with the file
only costs the time to embed again.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import numpy as np

from knowledge.embedder import TextEncoder

log = logging.getLogger(__name__)

#: Texts kept in the file: all of the latest build's, then earlier builds' up to this many in all
#: (20,000 vectors are about 30 MB on disk and read in a few tens of milliseconds).
KEEP_TEXTS = 20_000


class RememberedEmbeddings:
    """A TextEncoder that reuses, and then records, the vectors of the last training's texts.

    Single texts (customer messages) go straight to the encoder and are never written down.
    """

    def __init__(self, encoder: TextEncoder, path: Path) -> None:
        self._encoder = encoder
        self.path = path

    def encode(self, texts: list[str]) -> np.ndarray:
        if len(texts) < 2:
            return self._encoder.encode(texts)
        known = self._load()
        wanted = list(dict.fromkeys(texts))
        missing = [t for t in wanted if t not in known]
        if missing:
            known.update(zip(missing, self._encoder.encode(missing), strict=True))
            latest = set(wanted)
            earlier = [t for t in known if t not in latest][: max(0, KEEP_TEXTS - len(wanted))]
            kept = [*wanted, *earlier]
            self._save(kept, np.stack([known[t] for t in kept]))
        return np.stack([known[t] for t in texts]).astype(np.float32, copy=False)

    def _load(self) -> dict[str, np.ndarray]:
        try:
            with np.load(self.path, allow_pickle=False) as saved:
                texts, vectors = saved["texts"].tolist(), saved["vectors"]
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, KeyError) as exc:
            log.warning("ignoring the remembered embeddings in %s: %s", self.path, exc)
            return {}
        if vectors.ndim != 2 or len(vectors) != len(texts):
            log.warning("ignoring the remembered embeddings in %s: malformed", self.path)
            return {}
        return dict(zip(texts, vectors, strict=True))

    def _save(self, texts: list[str], vectors: np.ndarray) -> None:
        tmp: str | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".npz")
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, texts=np.array(texts, dtype=str), vectors=vectors)
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("could not remember the training embeddings in %s: %s", self.path, exc)
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
