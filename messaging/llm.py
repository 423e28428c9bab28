"""A language model behind any OpenAI-compatible chat API (OpenAI, a hosted one, vLLM, Ollama, llama.cpp …),
configured by LLM_BASE_URL, LLM_API_KEY and LLM_MODEL; off when LLM_BASE_URL is unset.

One call, `chat`, through the one door for outbound HTTP (config.outbound). It never raises: a model that is
off, slow, down, or answers nonsense gives None, and every caller has a rule-based answer ready (a suggestion
falls back to inbox.suggestions' own draft, never to silence and never to a 500)."""

import json
import logging
from dataclasses import dataclass

from django.conf import settings

from config import outbound

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChatMessage:
    role: str  # "system", "user" or "assistant"
    content: str


def llm_enabled() -> bool:
    return bool(settings.LLM_BASE_URL)


def chat(messages: list[ChatMessage], *, max_tokens: int = 300, temperature: float = 0.3) -> str | None:
    """The model's answer to `messages`, stripped, or None (off, failed, timed out, or empty)."""
    if not llm_enabled():
        return None
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if settings.LLM_API_KEY:
        headers["Authorization"] = f"Bearer {settings.LLM_API_KEY}"
    payload = {
        "model": settings.LLM_MODEL,
        "messages": [{"role": m.role, "content": m.content} for m in messages],
        "max_tokens": max_tokens,
        "temperature": temperature,
    }
    timeout = settings.LLM_TIMEOUT_SECONDS
    try:
        answer = outbound.request(
            "POST",
            f"{settings.LLM_BASE_URL}/chat/completions",
            body=json.dumps(payload).encode(),
            headers=headers,
            schemes=("https", "http"),
            allow_private=True,  # the operator's own setting, not a URL a client gave us
            connect_timeout=min(3.05, timeout),
            read_timeout=timeout,
            deadline=timeout,
            max_bytes=64 * 1024,
        )
    except outbound.OutboundError as exc:
        log.warning("the language model did not answer: %s", exc)
        return None
    if answer.status != 200:
        log.warning("the language model answered HTTP %s", answer.status)
        return None
    try:
        content = json.loads(answer.body)["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        log.warning("the language model's answer was not a chat completion")
        return None
    return content.strip() if isinstance(content, str) and content.strip() else None
