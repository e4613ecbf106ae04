"""The digit-scenes world: a multimodal training set small enough to learn on two CPU cores.

A scene is a 36x36 canvas cut into a 3x3 grid of 12-pixel cells; 1 to 3 of scikit-learn's 8x8
handwritten digits sit in distinct cells, each at a random offset (0-4 px) inside its cell. Every
scene carries what real MLLM data must carry (RECIPES section 6): a caption ("a 3 at the top left
and a 7 at the bottom right"), grounding (each digit's bounding box, in pixels of the 36x36 model input), OCR (read the digits left to
right), discriminative questions (is there a 5?), counting, region-to-text questions (what is at
the center?) and multi-turn dialogues. Train and test scenes draw their digit images from disjoint
parts of the sklearn digits (a third part is kept for preference data), so held-out scenes show
unseen handwriting.

Caption quality is a setting, as in real data: `caption_noise` is the rate at which the captioner
(like web alt-text or an LLM writing captions) adds a digit that usually goes with one it sees
(CO_OCCURRENCE: a 1 with a 7, an 8 with a 3) although it is not there. Such invented objects in SFT
captions are what RLHF-V / RLAIF-V set out to undo; every other answer is exact, and every
evaluation scores against the scene itself.

Balance and diversity are by construction: the digit count is uniform over 1-3, cells and classes
are uniform, existence questions are half yes / half no, position questions half occupied / half
empty, and question wording is drawn from several paraphrases. Duplicate layouts are removed.

Identity: a scene is `digit_scene:<split>:<seed>:<n>` (the n-th scene drawn for that split and
seed: the same draw gives the same scene whatever the profile's scene count), a conversation
nests its scene's id (`conversation:<scene id>:<kind>:<i>`), a source digit is
`sklearn_digits:<row>`; all minted by `assets.kit.identity`.

Pure logic: numpy and Pillow only; no Dagster, no torch.
"""

from __future__ import annotations

import io
import random
import re
from dataclasses import dataclass, field

import numpy as np

from assets.kit.identity import record_id, source_key

CANVAS = 36
CELL = 12
TILE = 8
MAX_OFFSET = CELL - TILE  # offsets 0..4 inside a cell
GRID = 3
ROWS = ("top", "middle", "bottom")
COLS = ("left", "middle", "right")
POSITION_NAMES = tuple(
    "center" if (r, c) == ("middle", "middle") else f"{r} {c}" for r in ROWS for c in COLS
)
NUMBER_WORDS = {1: "one", 2: "two", 3: "three"}

CAPTION_PROMPTS = ("describe the image.", "what do you see?", "write a short caption.")
COUNT_PROMPTS = ("how many digits are there?", "how many digits do you see?", "count the digits.")
EXIST_PROMPTS = ("is there {art} {d}?", "is there {art} {d} in the image?", "do you see {art} {d}?")
WHERE_PROMPTS = ("where is the {d}?", "give the bounding box of the {d}.", "locate the {d}.")
WHAT_AT_PROMPTS = ("what is at the {p}?", "which digit is at the {p}?")
READ_PROMPTS = ("read the digits from left to right.", "read the digits left to right.")

QTYPES = ("caption", "count", "exist", "where", "what_at", "read")


def article(d: int) -> str:
    return "an" if d == 8 else "a"


@dataclass(frozen=True)
class Placed:
    digit: int
    cell: int  # 0..8, row-major
    x: int  # top-left pixel of the 8x8 tile on the 36x36 canvas
    y: int
    source_index: int  # row of sklearn's load_digits()

    @property
    def position(self) -> str:
        return POSITION_NAMES[self.cell]

    @property
    def bbox(self) -> tuple[int, int, int, int]:
        """x0, y0, x1, y1 in canvas pixels."""
        return (self.x, self.y, self.x + TILE, self.y + TILE)


@dataclass(frozen=True)
class Scene:
    scene_id: str
    split: str
    digits: tuple[Placed, ...]  # row-major cell order

    @property
    def classes(self) -> set[int]:
        return {p.digit for p in self.digits}

    def layout_key(self) -> tuple:
        return tuple((p.digit, p.cell, p.x, p.y, p.source_index) for p in self.digits)


@dataclass(frozen=True)
class Turn:
    qtype: str
    question: str
    answer: str
    target: str = ""  # what the question is about: a digit for exist/where, a position for what_at
    noise: str = ""  # for a collected caption: the digit it invents ("" when faithful)


@dataclass
class Conversation:
    record_id: str
    scene_id: str
    kind: str  # caption | qa | dialogue
    turns: list[Turn] = field(default_factory=list)


# --------------------------------------------------------------------------- digits and scenes


def load_digit_pool(seed: int = 0, test_fraction: float = 0.25, pref_fraction: float = 0.10,
                    ) -> dict[str, dict[int, list[int]]]:
    """Indices of sklearn's digits by split and class, stratified and seeded: `train` (components,
    stage 1, stage 2), `pref` (preference data: handwriting the SFT model never saw, as RLAIF-V's
    images are new to the model it corrects) and `test` (every evaluation)."""
    from sklearn.datasets import load_digits

    target = load_digits().target
    rng = np.random.default_rng(seed)
    pool: dict[str, dict[int, list[int]]] = {"train": {}, "pref": {}, "test": {}}
    for d in range(10):
        idx = np.flatnonzero(target == d)
        rng.shuffle(idx)
        n_test = int(round(len(idx) * test_fraction))
        n_pref = int(round(len(idx) * pref_fraction))
        pool["test"][d] = sorted(int(i) for i in idx[:n_test])
        pool["pref"][d] = sorted(int(i) for i in idx[n_test:n_test + n_pref])
        pool["train"][d] = sorted(int(i) for i in idx[n_test + n_pref:])
    return pool


def digit_images() -> np.ndarray:
    """sklearn's 1797 8x8 digits as uint8 intensities 0-255 (ink bright on a dark canvas)."""
    from sklearn.datasets import load_digits

    return (load_digits().images * (255.0 / 16.0)).round().astype(np.uint8)


def draw_digits(rng: random.Random, pool: dict[int, list[int]], k: int) -> tuple[Placed, ...]:
    """k digits in distinct uniform cells, uniform classes (repeats allowed), uniform offsets,
    each a random sklearn image of its class from `pool`."""
    placed = []
    for cell in sorted(rng.sample(range(GRID * GRID), k)):
        d = rng.randrange(10)
        r, c = divmod(cell, GRID)
        placed.append(Placed(digit=d, cell=cell, x=c * CELL + rng.randint(0, MAX_OFFSET),
                             y=r * CELL + rng.randint(0, MAX_OFFSET), source_index=rng.choice(pool[d])))
    return tuple(placed)


def scene_record_id(split: str, seed: int, n: int) -> str:
    return record_id("digit_scene", split, seed, n)


def digit_source_key(source_index: int) -> str:
    """The sklearn digit a placed tile was cut from (a source, shared by every scene using it)."""
    return source_key("sklearn_digits", source_index)


def conversation_id(scene_id: str, kind: str, i: int) -> str:
    return record_id("conversation", scene_id, kind, i)


def generate_scenes(n: int, split: str, pool: dict[int, list[int]], seed: int,
                    max_digits: int = 3) -> tuple[list[Scene], int]:
    """`n` distinct scenes with exactly balanced digit counts (1..max_digits in turn); a layout
    drawn twice is dropped and drawn again (dedup). Returns the scenes and the duplicates dropped."""
    rng = random.Random(f"{seed}:{split}")
    seen: set[tuple] = set()
    scenes: list[Scene] = []
    dropped = 0
    while len(scenes) < n:
        if dropped > 50 * n + 100:
            raise ValueError(f"could not draw {n} distinct scenes")
        digits = draw_digits(rng, pool, 1 + len(scenes) % max_digits)
        key = tuple((p.digit, p.cell, p.x, p.y, p.source_index) for p in digits)
        if key in seen:
            dropped += 1
            continue
        seen.add(key)
        scenes.append(Scene(scene_id=scene_record_id(split, seed, len(scenes)), split=split, digits=digits))
    rng.shuffle(scenes)
    return scenes, dropped


def render(scene: Scene, images: np.ndarray, scale: int = 1) -> np.ndarray:
    """The scene as a (36*scale)^2 uint8 grey image."""
    canvas = np.zeros((CANVAS, CANVAS), dtype=np.uint8)
    for p in scene.digits:
        tile = images[p.source_index]
        region = canvas[p.y:p.y + TILE, p.x:p.x + TILE]
        np.maximum(region, tile, out=region)
    if scale > 1:
        canvas = np.kron(canvas, np.ones((scale, scale), dtype=np.uint8))
    return canvas


def png_bytes(pixels: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(buf, format="PNG", optimize=True)
    return buf.getvalue()


# --------------------------------------------------------------------------- text


def caption(scene: Scene) -> str:
    """Digits in reading order (row-major cells): 'a 3 at the top left and a 7 at the center'."""
    parts = [f"{article(p.digit)} {p.digit} at the {p.position}" for p in scene.digits]
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def grid_text(scene: Scene) -> str:
    """The scene as nine symbols in row-major cell order, '.' for an empty cell: '5 . . . . 3 . . .'.
    The text form of what the image shows, used where the decoder learns language (see
    mllm_components.decoder_corpus)."""
    cells = ["."] * (GRID * GRID)
    for p in scene.digits:
        cells[p.cell] = str(p.digit)
    return " ".join(cells)


def random_scene(rng: random.Random, pool: dict[int, list[int]], max_digits: int = 3) -> Scene:
    """One scene drawn like `generate_scenes` draws them (for on-the-fly encoder pretraining)."""
    return Scene("sampled", "train", draw_digits(rng, pool, rng.randint(1, max_digits)))


def reading_order(scene: Scene) -> list[Placed]:
    """Left to right by grid column; digits stacked in one column read top to bottom (their
    offsets inside a cell do not reorder them)."""
    return sorted(scene.digits, key=lambda p: (p.cell % GRID, p.cell // GRID))


def read_answer(scene: Scene) -> str:
    return " ".join(str(p.digit) for p in reading_order(scene))


def bbox_answer(p: Placed) -> str:
    """The region, then [x0, y0, x1, y1] in pixels of the 36x36 image the model sees ("top left
    [1, 0, 9, 8]"), as grounded answers in Shikra or Kosmos-2 name what the box holds: the model
    first finds the cell (what captions teach it), then writes the box inside it."""
    return f"{p.position} [" + ", ".join(str(v) for v in p.bbox) + "]"


def what_at_answer(scene: Scene, cell: int) -> str:
    for p in scene.digits:
        if p.cell == cell:
            return f"{article(p.digit)} {p.digit}"
    return "nothing"


# The captioner's habit (web alt-text and LLM-written captions have the same kind of bias): when it
# sees the key digit and not the value, it often mentions the value too, in the next free cell.
CO_OCCURRENCE = {7: 1, 3: 8}


def collected_caption(scene: Scene, rng: random.Random, noise_rate: float) -> tuple[str, str]:
    """The caption as a biased captioner writes it: with probability `noise_rate`, a scene with a
    key digit of CO_OCCURRENCE and without its partner also 'has' the partner, in the first empty
    cell after the key digit (row-major, wrapping). Returns (caption, invented digit or '')."""
    triggers = [p for p in scene.digits if p.digit in CO_OCCURRENCE and CO_OCCURRENCE[p.digit] not in scene.classes]
    if not triggers or rng.random() >= noise_rate:
        return caption(scene), ""
    key = triggers[0]
    occupied = {p.cell for p in scene.digits}
    cell = next(c % (GRID * GRID) for c in range(key.cell + 1, key.cell + GRID * GRID) if c % (GRID * GRID) not in occupied)
    invented = CO_OCCURRENCE[key.digit]
    items = sorted([(p.cell, p.digit) for p in scene.digits] + [(cell, invented)])
    parts = [f"{article(d)} {d} at the {POSITION_NAMES[c]}" for c, d in items]
    return ", ".join(parts[:-1]) + " and " + parts[-1], str(invented)


def scene_turns(scene: Scene, rng: random.Random, caption_noise: float = 0.0) -> list[Turn]:
    """One question of each kind for this scene; existence and position questions alternate
    between a positive and a negative case so both answers are equally frequent overall. The
    caption is the collected one (see `collected_caption`); every other answer is computed from
    the scene and is exact."""
    text, invented = collected_caption(scene, rng, caption_noise)
    turns = [
        Turn("caption", rng.choice(CAPTION_PROMPTS), text, noise=invented),
        Turn("count", rng.choice(COUNT_PROMPTS), str(len(scene.digits))),
        Turn("read", rng.choice(READ_PROMPTS), read_answer(scene)),
    ]
    present = sorted(scene.classes)
    absent = [d for d in range(10) if d not in scene.classes]
    for d, ans in ((rng.choice(present), "yes"), (rng.choice(absent), "no")):
        q = rng.choice(EXIST_PROMPTS).format(art=article(d), d=d)
        turns.append(Turn("exist", q, ans, target=str(d)))
    counts = {d: sum(p.digit == d for p in scene.digits) for d in present}
    unique = [p for p in scene.digits if counts[p.digit] == 1]
    if unique:
        p = rng.choice(unique)
        turns.append(Turn("where", rng.choice(WHERE_PROMPTS).format(d=p.digit), bbox_answer(p),
                          target=str(p.digit)))
    occupied = [p.cell for p in scene.digits]
    empty = [c for c in range(GRID * GRID) if c not in occupied]
    for cell in (rng.choice(occupied), rng.choice(empty)):
        q = rng.choice(WHAT_AT_PROMPTS).format(p=POSITION_NAMES[cell])
        turns.append(Turn("what_at", q, what_at_answer(scene, cell), target=POSITION_NAMES[cell]))
    return turns


def conversations(scene: Scene, seed: int, dialogues: int = 1, max_turns: int = 3,
                  caption_noise: float = 0.0) -> list[Conversation]:
    """Every single-turn conversation of the scene, plus `dialogues` multi-turn ones (2..max_turns
    turns, a random order of the same questions, so later turns see earlier answers), plus a
    grounding question for each other digit that occurs once in the scene (a box needs more
    examples than a yes/no: with one grounding question per scene, stage 2 put 30-40% of boxes in
    the wrong cell)."""
    rng = random.Random(f"{seed}:{scene.scene_id}")
    turns = scene_turns(scene, rng, caption_noise)
    out = []
    for i, t in enumerate(turns):
        kind = "caption" if t.qtype == "caption" else "qa"
        out.append(Conversation(conversation_id(scene.scene_id, kind, i), scene.scene_id, kind, [t]))
    for j in range(dialogues):
        k = rng.randint(2, max_turns)
        out.append(Conversation(conversation_id(scene.scene_id, "dialogue", j), scene.scene_id, "dialogue",
                                rng.sample(turns, k)))
    asked = {t.target for t in turns if t.qtype == "where"}
    counts = {d: sum(p.digit == d for p in scene.digits) for d in scene.classes}
    for i, p in enumerate((p for p in scene.digits if counts[p.digit] == 1 and str(p.digit) not in asked),
                          start=len(turns)):
        turn = Turn("where", rng.choice(WHERE_PROMPTS).format(d=p.digit), bbox_answer(p), target=str(p.digit))
        out.append(Conversation(conversation_id(scene.scene_id, "qa", i), scene.scene_id, "qa", [turn]))
    return out


# --------------------------------------------------------------------------- parsing model output

_MENTION = re.compile(r"\ban? (\d) (?:at|in) the ((?:top|middle|bottom) (?:left|middle|right)|center)\b")
_DIGIT_WORD = re.compile(r"\ban? (\d)\b")
_BOX = re.compile(r"\[\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\]")


def parse_caption(text: str) -> list[tuple[int, str]]:
    """(digit, position) claims of a caption; a digit named without a known position counts as
    a claim with position ''."""
    claims = [(int(d), pos) for d, pos in _MENTION.findall(text)]
    placed = {m.start() for m in _MENTION.finditer(text)}
    claims += [(int(m.group(1)), "") for m in _DIGIT_WORD.finditer(text) if m.start() not in placed]
    return claims


def parse_box(text: str) -> tuple[int, int, int, int] | None:
    m = _BOX.search(text)
    return tuple(int(v) for v in m.groups()) if m else None  # type: ignore[return-value]


def normalise_answer(text: str) -> str:
    return " ".join(text.strip().lower().rstrip(".").split())
