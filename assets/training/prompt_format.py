"""The LLaVA-1.5 prompt format as text: the special tokens, the roles and separators.

Both the tokenizer (which learns the format from text) and the trainer (which masks it) read it
from here, so neither imports the other.
"""

from __future__ import annotations

from collections.abc import Sequence

SPECIAL_TOKENS = ("<pad>", "<s>", "</s>", "<unk>", "<image>")
PAD, BOS, EOS, UNK, IMAGE = SPECIAL_TOKENS


def prompt_text(question: str, first: bool) -> str:
    return (f"{BOS}USER:{IMAGE} " if first else "USER: ") + f"{question} ASSISTANT:"


def answer_text(answer: str) -> str:
    return f" {answer}{EOS}"


def conversation_text(turns: Sequence[tuple[str, str]]) -> str:
    return "".join(prompt_text(q, i == 0) + answer_text(a) for i, (q, a) in enumerate(turns))


def expand_image(text: str, n_image_tokens: int) -> str:
    return text.replace(IMAGE, IMAGE * n_image_tokens)
