"""Penn Treebank tokens as coco-caption's PTBTokenizer gives them to BLEU and CIDEr-D.

coco-caption runs Stanford CoreNLP's PTBTokenizer (lower-cased) and then drops punctuation tokens.
This is a rule-based re-implementation of what those two steps do to short answers, so the caption
metrics compare the tokens the reference implementations compare, without Java:

- lower case; clitics split off ("it's" -> "it 's", "don't" -> "do n't");
- "$", "%", "#", "&", "@" and brackets are tokens of their own ("$8,500" -> "$ 8,500");
- numbers keep their separators ("1,234.50", "3/4", "2011-12"), hyphenated words stay whole,
  dotted abbreviations stay whole ("u.s."), a sentence's final period is split off;
- coco-caption's punctuation tokens (quotes, brackets, . ? ! , : ; - -- ...) are then dropped,
  while "$", "%", "'s" and "n't" stay, as they do there.

It is not CoreNLP: a rare construction (an URL, an emoticon, an odd abbreviation) may split
differently, so scores on such text can differ slightly from coco-caption's.
"""

from __future__ import annotations

import re

# what coco-caption's tokenizer removes after CoreNLP (pycocoevalcap/tokenizer/ptbtokenizer.py)
PUNCTUATION = frozenset(["''", "'", "``", "`", "-lrb-", "-rrb-", "-lcb-", "-rcb-", ".", "?", "!", ",", ":",
                         "-", "--", "...", ";", "(", ")", "[", "]", "{", "}", '"'])
_CLITIC = re.compile(r"(?<=[^\s'])('s|'m|'d|'ll|'re|'ve|n't)\b")
_SYMBOL = re.compile(r"([$%#&@(){}\[\];?!\"`]|--|\.\.\.)")
_COMMA = re.compile(r"(?<!\d),|,(?!\d)")  # a comma between digits belongs to the number
_COLON = re.compile(r"(?<!\d):|:(?!\d)")  # so does a colon ("10:30")
_FINAL_PERIOD = re.compile(r"(?<![.\s])(?<!\b[a-z])\.(?=\s|$)")  # "end." splits; "u.s." and "p." stay
_QUOTE = re.compile(r"(^|\s)'|'(\s|$)")


def ptb_tokenize(text: str) -> list[str]:
    t = text.lower()
    t = _SYMBOL.sub(r" \1 ", t)
    t = _COMMA.sub(" , ", t)
    t = _COLON.sub(" : ", t)
    t = _QUOTE.sub(r"\1 ' \2", t)
    t = _CLITIC.sub(r" \1", t)
    t = _FINAL_PERIOD.sub(" .", t)
    return [w for w in t.split() if w not in PUNCTUATION]
