"""An error as a row's `detail` says it: what went wrong, whole, never its first line only.

A pydantic `ValidationError`'s first line is "1 validation error for Schema", which says nothing;
`describe_error` writes the number of errors and the first one in full, with where it is:
"ValidationError: 3 validation errors; first: scene 1 end: '00:06:16.942' is after the video's end
(122.6 s)". A validator that finds several problems at once can raise `Problems` (a ValueError
holding the list): each problem counts as an error.
"""

from __future__ import annotations

from collections.abc import Sequence

MAX_OTHER_CHARS = 300  # for errors other than validation errors: their first line, this long at most


class Problems(ValueError):
    """Several problems found by one validator; its message lists the first `shown` of them."""

    def __init__(self, problems: Sequence[str], shown: int = 5):
        self.problems = [str(p) for p in problems]
        more = f" (and {len(self.problems) - shown} more)" if len(self.problems) > shown else ""
        super().__init__("; ".join(self.problems[:shown]) + more)


def _messages(error: dict) -> list[str]:
    where = ".".join(str(p) for p in error.get("loc") or ())
    found = (error.get("ctx") or {}).get("error")
    problems = getattr(found, "problems", None)
    msgs = list(problems) if problems else [str(error.get("msg", "")).removeprefix("Value error, ")]
    return [f"{where}: {m}" if where else m for m in msgs]


def describe_validation(e) -> str:
    """'<n> validation error(s); first: <location>: <message>' of a pydantic ValidationError."""
    messages = [m for err in e.errors(include_url=False) for m in _messages(err)]
    n = len(messages)
    return f"{n} validation error{'s' if n != 1 else ''}; first: {messages[0] if messages else e.title}"


def describe_error(e: BaseException) -> str:
    """`<type>: <what>` of an exception, or of the exception it was raised from (a retry wrapper's
    cause); a validation error is described by `describe_validation`."""
    from pydantic import ValidationError

    root = e.__cause__ if e.__cause__ is not None else e
    if isinstance(root, ValidationError):
        return f"{type(root).__name__}: {describe_validation(root)}"
    text = str(root).strip()
    return f"{type(root).__name__}: {text.splitlines()[0][:MAX_OTHER_CHARS] if text else ''}"
