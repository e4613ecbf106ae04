"""Seeded sample corpus for mmfoundry: a landing zone whose items have known, stated outcomes.

`build_corpus(out, seed, size)` writes it (see `corpus.build` for the layout and the manifest);
`VideoSpec` + `render` re-render any of its videos at another size, for benchmarks. Attributes are
resolved lazily so `python -m corpus.build` and a plain `import corpus` load nothing heavy twice.
"""

from __future__ import annotations

_EXPORTS = {
    "build_corpus": "corpus.build",
    "plan": "corpus.build",
    "Segment": "corpus.videos",
    "VideoSpec": "corpus.videos",
    "render": "corpus.videos",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'corpus' has no attribute {name!r}")
