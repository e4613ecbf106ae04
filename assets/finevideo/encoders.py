"""What an offline method records as its embedding model: the name it was given (the embeddings
resource's model, which MMFOUNDRY_EMBEDDING_MODEL chooses), or for an unnamed encoder the function
that embeds, never a model assumed by default."""

from __future__ import annotations

from collections.abc import Callable


def encoder_name(encode: Callable, encoder: str = "") -> str:
    return encoder or f"{getattr(encode, '__module__', '')}.{getattr(encode, '__qualname__', repr(encode))}"
