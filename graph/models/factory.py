"""The model factory: an OpenAI-compatible server when configured, else the offline model."""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel

from .offline import OfflineChatModel


def make_chat_model(
    model: str | None = None,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    temperature: float = 0.1,
    timeout: float = 60.0,
    max_retries: int = 0,
    max_tokens: int | None = None,
) -> BaseChatModel:
    """``ChatOpenAI`` for any OpenAI-compatible server (key and/or base URL given), else offline. The
    client does not retry by default: ``guard.ask`` is the one retry layer, within the turn's budget."""
    if not (base_url or api_key):
        return OfflineChatModel()
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=model or "gpt-4o-mini",
        base_url=base_url,
        api_key=api_key or "none",
        temperature=temperature,
        timeout=timeout,
        max_retries=max_retries,
        max_completion_tokens=max_tokens,
        stream_usage=True,
    )
