"""Near-duplicate documents, Q/A pairs and questions, and templated repeats (issue "Data hygiene").

Three different things go wrong in the landed data, and each needs its own notion of "the same":

- documents: the same document lands twice under two keys, re-extracted (other line breaks), with a few
  OCR errors, a header line changed or a page missing. Exact copies share the hash of their normalised
  text; the others share most of their word shingles. Shingle sets are compared with MinHash-LSH
  (datasketch signatures cut into bands) stored as band rows (`band_index`), so a new shard is queried
  against the stored index by a join and never re-signs or re-compares the earlier shards; every LSH
  candidate is then verified on the exact shingle sets (LSH only proposes).
- Q/A pairs and questions: two records that ask the same thing about the same page or video (a
  re-generated pair, a tense or punctuation change, a synonym, the choices in another order). Within one
  scope every pair is compared by sentence-embedding cosine; across scopes only each record's few
  approximate nearest neighbours (usearch), so the work grows with n, not n squared.
- templated repeats: one normalised question on many videos ("where is this video taken" on 130 NExT-QA
  videos). Each copy asks about a different video, so none is a duplicate of another; too many of them
  teach the template, so the copies past the first N scopes are flagged, apart from the duplicates.

Why a cosine threshold alone cannot separate near-duplicates from templated look-alikes: one content word
changed in a long question barely moves a sentence embedding (MiniLM puts "... after she released the
catapult" and "... before she released the catapult" at 0.997), while a harmless synonym can move a short
one a lot ("what is the video about" / "what is the clip about": 0.58). So a pair at the cosine threshold
must also pass a word check: every content word one side has and the other lacks must be matched on the
other side by the same word in another form (tense, number: a light stemmer) or by a near-synonym (word
embedding cosine >= `qa_word_cosine`); numbers must be equal, and function words (articles, auxiliaries,
light prepositions) are ignored. Word embeddings cannot tell every synonym from a contrast either ("lady" /
"woman" 0.77, "black" / "white" 0.76), so the word threshold is set for precision: a missed duplicate
leaves some redundancy, a false one deletes a distinct question. Measured on real text
(bench/dedup_text_set.py, where the numbers are): documents precision and recall 1.0 (copies at Jaccard
>= 0.6, different documents <= 0.27); Q/A precision 0.98-1.0, recall 0.955-0.962, of which synonym swaps
only 0.53-0.62.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field, model_validator

from assets.hygiene.band_index import BAND_SCHEMA, band_rows, candidate_pairs
from assets.hygiene.groups import kept_copies

# Scripts written without spaces between words (and Hangul, whose words are long runs): each character is
# a token, so their shingles are character n-grams, whatever the spacing of the extraction.
_CHAR_SCRIPTS = (
    "\u0e00-\u0eff"  # Thai, Lao
    "\u1000-\u109f"  # Myanmar
    "\u1100-\u11ff"  # Hangul Jamo
    "\u1780-\u17ff"  # Khmer
    "\u2e80-\u2fdf"  # CJK radicals
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3100-\u312f\u3130-\u318f\u31a0-\u31ff"  # Bopomofo, Hangul compatibility Jamo
    "\u3400-\u4dbf\u4e00-\u9fff"  # CJK ideographs
    "\ua960-\ua97f\uac00-\ud7ff"  # Hangul
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\U00020000-\U0003134f"  # CJK extensions
)
_TOKEN = re.compile(rf"[{_CHAR_SCRIPTS}]|[^\s{_CHAR_SCRIPTS}]+")


def normalise(text: str) -> str:
    """The text two copies of one record share whatever their extraction did to it: NFKC (full-width
    forms, ligatures), casefolded, punctuation turned into spaces ("baby's" and NExT-QA's "baby s" agree),
    runs of whitespace and line breaks collapsed to one space."""
    text = unicodedata.normalize("NFKC", text or "").casefold()
    text = "".join(" " if unicodedata.category(c).startswith("P") else c for c in text)
    return " ".join(text.split())


def tokens(text: str) -> list[str]:
    """Words of the normalised text; a character of a script written without spaces (CJK, Thai) is a
    token of its own, so no tokeniser of those languages is needed."""
    return _TOKEN.findall(normalise(text))


def _hash64(data: str | bytes) -> int:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


def text_hash(text: str) -> int | None:
    """Hash of the normalised text (UInt64), or None when nothing is left: two empty extractions are not
    the same document."""
    norm = normalise(text)
    return _hash64(norm) if norm else None


class TextDedupRules(BaseModel):
    """Thresholds of the text near-duplicate screens; stored with what they measured so a later audit
    re-judges with the same numbers."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    num_perm: int = Field(default=128, ge=16, description="MinHash permutations per document")
    bands: int = Field(default=32, ge=1, description="LSH bands; bands * rows <= num_perm")
    rows: int = Field(default=4, ge=1, description="MinHash values per band: a pair with shingle Jaccard J "
                      "becomes a candidate with probability 1 - (1 - J**rows)**bands")
    shingle: int = Field(default=3, ge=1, description="tokens per shingle (a CJK/Thai token is one character)")
    jaccard: float = Field(default=0.5, gt=0, le=1, description="exact shingle-set Jaccard a candidate "
                           "document pair must reach")
    qa_cosine: float = Field(default=0.85, gt=0, le=1, description="sentence-embedding cosine of two Q/A "
                             "texts (question and answer) for a near-duplicate")
    qa_word_cosine: float = Field(default=0.765, gt=0, le=1, description="word-embedding cosine at which a "
                                  "changed content word counts as a synonym of its counterpart")
    qa_neighbours: int = Field(default=8, ge=1, description="approximate nearest neighbours per record "
                               "searched across scopes")
    template_scopes: int = Field(default=3, ge=1, description="scopes a normalised question may appear on "
                                 "before its later copies are templated repeats")
    across_scopes: bool = Field(default=True, description="also pair Q/A records of different scopes (the "
                                "same record landed under two keys): only records with the same choices, "
                                "and never a templated question without choices")

    @model_validator(mode="after")
    def _bands_fit(self) -> TextDedupRules:
        if self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands * rows = {self.bands * self.rows} > num_perm = {self.num_perm}")
        return self

    def lsh_threshold(self) -> float:
        """Jaccard at which a pair is a candidate with probability about one half."""
        return (1 / self.bands) ** (1 / self.rows)

    def describe(self) -> str:
        return (f"documents: {self.shingle}-token shingles, MinHash {self.num_perm} perms in {self.bands} bands "
                f"of {self.rows} (LSH knee ~{self.lsh_threshold():.2f}), verified Jaccard >= {self.jaccard:g}, "
                f"or the same normalised text; Q/A: cosine >= {self.qa_cosine:g} within a scope and among "
                f"{self.qa_neighbours} nearest neighbours across scopes"
                f"{'' if self.across_scopes else ' (off)'}, changed content words matched by form or word "
                f"cosine >= {self.qa_word_cosine:g}, or the same normalised question and answer; templated "
                f"repeat: one normalised question on more than {self.template_scopes} scopes")


DEFAULTS = TextDedupRules()


# ---------------------------------------------------------------------------------------------- documents

SIGNATURE_SCHEMA = {"item": pl.String, "exact": pl.UInt64, "shingles": pl.List(pl.UInt64)}
PAIR_SCHEMA = {"a": pl.String, "b": pl.String, "jaccard": pl.Float64, "exact": pl.Boolean}


def shingles(text: str, size: int) -> np.ndarray:
    """Sorted distinct UInt64 hashes of the text's `size`-token shingles; a text shorter than one shingle
    is one shingle of all its tokens (two short texts then match only when equal)."""
    toks = tokens(text)
    if not toks:
        return np.zeros(0, dtype=np.uint64)
    grams = {"\x1f".join(toks[i:i + size]) for i in range(max(1, len(toks) - size + 1))}
    return np.unique(np.fromiter((_hash64(g) for g in grams), dtype=np.uint64, count=len(grams)))


def _band_keys(hashvalues: np.ndarray, rules: TextDedupRules) -> list[int]:
    values = hashvalues.astype("<u8")
    return [_hash64(values[b * rules.rows:(b + 1) * rules.rows].tobytes()) for b in range(rules.bands)]


@dataclass(frozen=True)
class DocumentSignatures:
    """What a shard's documents leave in the index: their LSH band rows (`band_index.BAND_SCHEMA`) and,
    per item, the normalised-text hash and the exact shingle set that candidates are verified on. Both are
    plain tables, stored as Parquet beside the shard; they hold only for the rules that made them (shingle
    size, permutations, bands), so an index is rebuilt when those change."""

    bands: pl.DataFrame
    signatures: pl.DataFrame

    @classmethod
    def empty(cls) -> DocumentSignatures:
        return cls(pl.DataFrame(schema=BAND_SCHEMA), pl.DataFrame(schema=SIGNATURE_SCHEMA))

    def __add__(self, other: DocumentSignatures) -> DocumentSignatures:
        """The index after `other` landed: rows appended, nothing re-signed."""
        return DocumentSignatures(pl.concat([self.bands, other.bands]),
                                  pl.concat([self.signatures, other.signatures]))


def document_signatures(items: Sequence[tuple[str, str]], rules: TextDedupRules = DEFAULTS) -> DocumentSignatures:
    """Signatures of (id, text) documents. A document with no text gets no band rows and no exact hash:
    an empty extraction (a scan without OCR) says nothing about which document it is."""
    from datasketch import MinHash

    ids, keys, sigs = [], [], []
    for item, text in items:
        sh = shingles(text, rules.shingle)
        sigs.append((item, text_hash(text), sh.tolist()))
        if not len(sh):
            continue
        mh = MinHash(num_perm=rules.num_perm, seed=1, hashfunc=_low32)
        mh.update_batch(sh.tolist())
        ids.append(item)
        keys.append(_band_keys(mh.hashvalues, rules))
    bands = band_rows(ids, keys) if ids else pl.DataFrame(schema=BAND_SCHEMA)
    return DocumentSignatures(bands, pl.DataFrame(sigs, schema=SIGNATURE_SCHEMA, orient="row"))


def _low32(value: int) -> int:
    # datasketch's permutations are defined on 32-bit hashes; the shingle hashes are 64-bit
    return value & 0xFFFFFFFF


def document_pairs(new_items: Sequence[tuple[str, str]] | DocumentSignatures,
                   index: DocumentSignatures | None = None, rules: TextDedupRules = DEFAULTS) -> pl.DataFrame:
    """Verified near-duplicate pairs (a, b, jaccard, exact): a from the new shard, b from the new shard
    (a < b) or from the index. The index's documents are never paired among themselves (they were when
    they landed). `exact` marks the same normalised text; the rest passed LSH and then exact Jaccard."""
    new = new_items if isinstance(new_items, DocumentSignatures) else document_signatures(new_items, rules)
    old = index if index is not None else DocumentSignatures.empty()

    exact_frames = [new.signatures.drop_nulls("exact").join(new.signatures.drop_nulls("exact"), on="exact",
                                                            suffix="_b")
                    .filter(pl.col("item") < pl.col("item_b")).select(a="item", b="item_b")]
    if old.signatures.height:
        exact_frames.append(new.signatures.drop_nulls("exact")
                            .join(old.signatures.drop_nulls("exact").select("item", "exact"), on="exact",
                                  suffix="_b")
                            .filter(pl.col("item") != pl.col("item_b")).select(a="item", b="item_b"))
    exact = pl.concat(exact_frames).unique()
    candidates = candidate_pairs(new.bands, old.bands if old.bands.height else None)
    pairs = pl.concat([candidates.with_columns(exact=pl.lit(False)), exact.with_columns(exact=pl.lit(True))])
    pairs = pairs.group_by("a", "b").agg(pl.col("exact").any())
    if not pairs.height:
        return pl.DataFrame(schema=PAIR_SCHEMA)

    named = pl.concat([pairs["a"], pairs["b"]]).unique()  # only the candidates' sets are read
    sets = {item: np.asarray(sh, dtype=np.uint64) for item, sh in
            pl.concat([old.signatures, new.signatures]).filter(pl.col("item").is_in(named))
            .select("item", "shingles").iter_rows()}
    jac = [_jaccard(sets[a], sets[b]) for a, b in pairs.select("a", "b").iter_rows()]
    return (pairs.with_columns(jaccard=pl.Series(jac, dtype=pl.Float64))
            .filter(pl.col("exact") | (pl.col("jaccard") >= rules.jaccard))
            .select(PAIR_SCHEMA.keys()).sort("a", "b"))


def _jaccard(a: np.ndarray, b: np.ndarray) -> float:
    if not len(a) and not len(b):
        return 0.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)


# ---------------------------------------------------------------------------------------- Q/A and questions

class QA(NamedTuple):
    """One question (with its answer and multiple-choice options, when it has them)."""

    id: str
    question: str
    answer: str | None = None
    choices: tuple[str, ...] = ()


QA_PAIR_SCHEMA = {"a": pl.String, "b": pl.String, "cosine": pl.Float64, "exact": pl.Boolean,
                  "same_scope": pl.Boolean}


def qa_text(row: QA | Sequence) -> str:
    """The text embedded for a record: the question, then its answer. The choices' order is no part of
    it (shuffled choices are the same record)."""
    row = QA(*row)
    return row.question if not row.answer else f"{row.question}\n{row.answer}"


def exact_key(question: str, answer: str | None = None, choices: Iterable[str] = ()) -> str:
    """Key two copies of one record share after case, punctuation and whitespace changes and with the
    choices in any order (the answer is matched as text, never as an option index)."""
    parts = [normalise(question), normalise(answer or ""), *sorted(normalise(c) for c in choices)]
    return hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=10).hexdigest()


# Words whose change leaves what a question asks untouched: articles, demonstratives, auxiliaries (their
# tense is the tense change), light prepositions. Contrastive ones (after/before, up/down, in/out's "out",
# on/off's "off") are content words.
FUNCTION_WORDS = frozenset((
    "a", "an", "the", "this", "that", "these", "those", "be", "am", "is", "are", "was", "were", "been",
    "being", "do", "does", "did", "has", "have", "had", "having", "will", "would", "shall", "should", "can",
    "could", "may", "might", "must", "of", "in", "at", "on", "to", "from", "for", "with", "by", "into",
    "onto", "within", "and"
))

# Irregular forms a suffix-stripper cannot reach, mapped to their base form (a tense change is no new content).
_IRREGULAR = {
    "ate": "eat", "eaten": "eat", "began": "begin", "begun": "begin", "bent": "bend", "bit": "bite",
    "blew": "blow", "broke": "break", "broken": "break", "brought": "bring", "built": "build",
    "bought": "buy", "came": "come", "caught": "catch", "chose": "choose", "dug": "dig", "drew": "draw",
    "drawn": "draw", "drank": "drink", "drove": "drive", "driven": "drive", "fed": "feed", "fell": "fall",
    "fallen": "fall", "felt": "feel", "fought": "fight", "found": "find", "flew": "fly", "flown": "fly",
    "forgot": "forget", "froze": "freeze", "gave": "give", "given": "give", "got": "get", "gotten": "get",
    "went": "go", "gone": "go", "goes": "go", "grew": "grow", "grown": "grow", "hung": "hang", "held": "hold",
    "hid": "hide", "hit": "hit", "kept": "keep", "knew": "know", "known": "know", "laid": "lay",
    "led": "lead", "lit": "light", "lost": "lose",
    "made": "make", "meant": "mean", "met": "meet", "paid": "pay", "ran": "run", "rang": "ring",
    "rode": "ride", "ridden": "ride", "rose": "rise", "said": "say", "saw": "see", "seen": "see",
    "sold": "sell", "sent": "send", "shook": "shake", "shot": "shoot", "showed": "show", "shown": "show",
    "sang": "sing", "sung": "sing", "sat": "sit", "slept": "sleep", "slid": "slide", "spoke": "speak",
    "spoken": "speak", "spent": "spend", "spun": "spin", "stood": "stand", "stole": "steal",
    "stuck": "stick", "struck": "strike", "swam": "swim", "swung": "swing", "took": "take", "taken": "take",
    "taught": "teach", "tore": "tear", "torn": "tear", "told": "tell", "thought": "think", "threw": "throw",
    "thrown": "throw", "understood": "understand", "woke": "wake", "wore": "wear", "worn": "wear",
    "won": "win", "wrote": "write", "written": "write", "children": "child", "men": "man", "women": "woman",
    "feet": "foot", "teeth": "tooth", "mice": "mouse", "geese": "goose", "people": "person",
}
_NUMBER_WORDS = frozenset((
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty",
    "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety", "hundred", "thousand", "million",
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "once",
    "twice", "both", "single", "half"
))


def stem(word: str) -> str:
    """A light English stemmer: the same word in another tense or number gets the same stem (falls, fell,
    falling; boxes, box), nothing more (no derivation: "relation" is not "relationship")."""
    word = _IRREGULAR.get(word, word)
    if len(word) <= 3 or not word.isalpha():
        return word
    for suffix, repl in (("ies", "y"), ("ied", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            word = word[: -len(suffix)] + repl
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiouls":
        word = word[:-1]  # sitting -> sitt -> sit
    return word.removesuffix("e") if len(word) > 3 else word  # placed/place -> plac


def _derived(a: str, b: str) -> bool:
    """One stem extends the other by a suffix ("relation", "relationship"); short stems never do (play,
    player are different people and acts)."""
    short, long = sorted((a, b), key=len)
    return len(short) >= 5 and long.startswith(short) and short.isalpha() and not _is_number(long)


def _is_number(word: str) -> bool:
    return word in _NUMBER_WORDS or any(c.isdigit() for c in word)


def changed_words(a: str, b: str) -> tuple[list[str], list[str]]:
    """Content words of `a` missing from `b` and of `b` missing from `a`, compared by stem and as bags (a
    word moved elsewhere in the question is no change); returned as written, for their word vectors."""
    def bag(text: str) -> dict[str, list[str]]:
        out: dict[str, list[str]] = defaultdict(list)
        for t in tokens(text):
            if t not in FUNCTION_WORDS:
                out[stem(t)].append(t)
        return out

    ba, bb = bag(a), bag(b)
    left = [w for s, ws in ba.items() for w in ws[len(bb.get(s, ())):]]
    right = [w for s, ws in bb.items() for w in ws[len(ba.get(s, ())):]]
    return sorted(left), sorted(right)


def words_match(a: str, b: str, encode: Callable[[list[str]], np.ndarray] | None,
                rules: TextDedupRules = DEFAULTS, cache: dict[str, np.ndarray] | None = None) -> bool:
    """Whether texts `a` and `b` differ only in wording: each changed content word has its own counterpart
    on the other side that is the same word with a suffix ("relation", "relationship") or a near-synonym
    (word cosine >= `qa_word_cosine`; a number never is). Without an encoder only form changes pass."""
    left, right = changed_words(a, b)
    if len(left) != len(right):
        return False  # a content word added or dropped: the question asks something else
    if not left:
        return True
    sim = np.array([[1.0 if _derived(stem(x), stem(y)) else 0.0 for y in right] for x in left])
    words = [w for w in {*left, *right} if not _is_number(w)]
    if encode is not None and words:
        cache = {} if cache is None else cache
        missing = [w for w in words if w not in cache]
        if missing:
            cache.update(zip(missing, encode(missing), strict=True))
        for i, x in enumerate(left):
            for j, y in enumerate(right):
                if x in cache and y in cache:
                    sim[i, j] = max(sim[i, j], float(cache[x] @ cache[y]))
    # a one-to-one matching: greedily take the most similar remaining pair
    used_l, used_r = set(), set()
    for flat in np.argsort(-sim, axis=None, kind="stable"):
        i, j = divmod(int(flat), len(right))
        if i in used_l or j in used_r:
            continue
        if sim[i, j] < rules.qa_word_cosine:
            return False
        used_l.add(i)
        used_r.add(j)
    return True


def templated_repeats(rows: Sequence[tuple[str, str, str]], rules: TextDedupRules = DEFAULTS) -> pl.DataFrame:
    """(id, scope, question) rows in landed order -> (id, template, scopes, scope_rank, repeat): a
    normalised question on more than `template_scopes` distinct scopes is a template, and its copies on the
    scopes after the first `template_scopes` are repeats. Not duplicates: each copy asks about its own
    video or page, and "why did the boy fall" and "why did the girl fall" are two templates' worth of
    different content, never one."""
    first_seen: dict[str, dict[str, int]] = defaultdict(dict)
    out = []
    for item, scope, question in rows:
        key = normalise(question)
        ranks = first_seen[key]
        ranks.setdefault(scope, len(ranks))
        out.append((item, key, ranks[scope]))
    counts = {k: len(v) for k, v in first_seen.items()}
    return pl.DataFrame(
        [(item, key, counts[key], rank, counts[key] > rules.template_scopes and rank >= rules.template_scopes)
         for item, key, rank in out],
        schema={"id": pl.String, "template": pl.String, "scopes": pl.Int64, "scope_rank": pl.Int64,
                "repeat": pl.Boolean}, orient="row")


def qa_near_duplicates(rows: Sequence[QA | Sequence], embeddings: np.ndarray, scope: Sequence[str],
                       rules: TextDedupRules = DEFAULTS,
                       encode: Callable[[list[str]], np.ndarray] | None = None) -> pl.DataFrame:
    """Near-duplicate Q/A pairs (a, b, cosine, exact, same_scope); a and b in the order of `rows`.

    `embeddings` are the unit-normalised rows of `qa_text(row)`; `scope` is each row's page or video.
    Within a scope every pair is compared; across scopes each row only meets its `qa_neighbours`
    approximate nearest neighbours (usearch), and only rows with the same set of choices (distractors
    written for another video make another record; NExT-QA repeats "how many children are in the video /
    one" on several videos with other choices); a templated question (`templated_repeats`) without choices
    is never paired across scopes: its copies ask about different pages. A pair is a near-duplicate when its
    normalised question, answer and choices are equal (`exact`), or its cosine reaches `qa_cosine` and its
    question and answer each differ only in wording (`words_match`, with `encode` for the word vectors;
    without it a changed content word is never a synonym)."""
    rows = [QA(*r) for r in rows]
    n = len(rows)
    if len(scope) != n or len(embeddings) != n:
        raise ValueError(f"{n} rows, {len(scope)} scopes, {len(embeddings)} embeddings")
    if not n:
        return pl.DataFrame(schema=QA_PAIR_SCHEMA)
    vectors = np.ascontiguousarray(embeddings, dtype=np.float32)
    keys = [exact_key(r.question, r.answer, r.choices) for r in rows]
    found: dict[tuple[int, int], bool] = {}  # (i, j), i < j -> exact

    def add_exact(members: list[int]) -> None:
        by_key: dict[str, int] = {}
        for i in members:
            first = by_key.setdefault(keys[i], i)
            if first != i:
                found[(first, i)] = True

    by_scope: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(scope):
        by_scope[s].append(i)
    candidates: set[tuple[int, int]] = set()
    for members in by_scope.values():
        add_exact(members)
        if len(members) > 1:
            sims = vectors[members] @ vectors[members].T
            for x, y in zip(*np.nonzero(np.triu(sims >= rules.qa_cosine, k=1)), strict=True):
                candidates.add((members[x], members[y]))

    if rules.across_scopes and len(by_scope) > 1:
        template = templated_repeats([(str(i), scope[i], r.question) for i, r in enumerate(rows)], rules)
        choice_sets = [tuple(sorted(normalise(c) for c in r.choices)) for r in rows]
        open_rows = [i for i, t in enumerate(template["scopes"].to_list())
                     if choice_sets[i] or t <= rules.template_scopes]
        add_exact(open_rows)  # the key holds the choices: equal keys have equal choice sets
        candidates |= {(i, j) for i, j in _neighbour_pairs(vectors, open_rows, scope, rules)
                       if choice_sets[i] == choice_sets[j]}

    cache: dict[str, np.ndarray] = {}
    for i, j in sorted(candidates - found.keys()):
        a, b = rows[i], rows[j]
        if words_match(a.question, b.question, encode, rules, cache) and \
                words_match(a.answer or "", b.answer or "", encode, rules, cache):
            found[(i, j)] = False
    out = [(rows[i].id, rows[j].id, float(vectors[i] @ vectors[j]), ex, scope[i] == scope[j])
           for (i, j), ex in sorted(found.items())]
    return pl.DataFrame(out, schema=QA_PAIR_SCHEMA, orient="row")


def _neighbour_pairs(vectors: np.ndarray, members: list[int], scope: Sequence[str],
                     rules: TextDedupRules) -> set[tuple[int, int]]:
    """Pairs of rows from different scopes among each row's nearest neighbours at cosine >= qa_cosine;
    usearch proposes, the exact dot product decides."""
    if len(members) < 2:
        return set()
    from usearch.index import Index

    sub = vectors[members]
    index = Index(ndim=sub.shape[1], metric="ip", dtype="f32")
    index.add(np.arange(len(members), dtype=np.uint64), sub)
    k = min(rules.qa_neighbours + 1, len(members))
    found = index.search(sub, k)
    neighbours = np.asarray(found.keys).reshape(len(members), -1)
    pairs = set()
    for x, row in enumerate(neighbours):
        for y in row:
            y = int(y)
            if y < 0 or y >= len(members) or y == x:
                continue
            i, j = sorted((members[x], members[y]))
            if scope[i] != scope[j] and float(vectors[i] @ vectors[j]) >= rules.qa_cosine:
                pairs.add((i, j))
    return pairs


# ------------------------------------------------------------------------------------------------ grouping

def group(items: Sequence[str], pairs: pl.DataFrame | Iterable[tuple[str, str]],
          rank: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Each item -> the id of the record its duplicate group keeps (`groups.kept_copies`): the lowest
    `rank`, then the first landed (its position in `items`, so pass the index's items before the new
    shard's). An item only named in `pairs` lands after every listed one."""
    links = pairs.select("a", "b") if isinstance(pairs, pl.DataFrame) else pl.DataFrame(
        list(pairs), schema={"a": pl.String, "b": pl.String}, orient="row")
    order = list(dict.fromkeys([*items, *links["a"].to_list(), *links["b"].to_list()]))
    rank = rank or {}
    ranked = pl.DataFrame({"item": order, "_rank": [rank.get(i) for i in order], "_landed": range(len(order))},
                          schema={"item": pl.String, "_rank": pl.Float64, "_landed": pl.Int64})
    kept = kept_copies(ranked.with_columns(pl.col("_rank").is_null().alias("_unranked")), links,
                       ["_unranked", "_rank", "_landed"])
    return {i: d or i for i, d in kept.select("item", "duplicate_of").iter_rows()}
