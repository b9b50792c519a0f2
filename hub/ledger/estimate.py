"""A deliberately generous estimate of prompt tokens, for reserving the worst case.

Real tokenizers differ per model; we reserve more than is likely (about 3 characters a token
plus per-message overhead) and settle the provider's own count afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence

from hub.model import ImagePart, Message, TextPart

PER_MESSAGE_TOKENS = 8
PER_IMAGE_TOKENS = 1_600


def estimate_prompt_tokens(messages: Sequence[Message]) -> int:
    total = 3
    for message in messages:
        total += PER_MESSAGE_TOKENS
        for part in message.content:
            if isinstance(part, TextPart):
                total += len(part.text) // 3 + 1
            elif isinstance(part, ImagePart):
                total += PER_IMAGE_TOKENS
    return total
