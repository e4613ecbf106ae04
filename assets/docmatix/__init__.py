"""Docmatix (RECIPES section 3) and its DocVQA-style evaluation with LAVE (section 4) as assets.

Per document shard: `documents` (PDFA-layout text from the PDFA JSON or the PDF's text layer; locked,
broken, text-less and over-long PDFs rejected by `DocumentRules`) -> `raw_qa` (one LLM call per
document, one of five prompts, Q#/A# parsed) -> `filtered_qa` (Docmatix's regexes as the `compat`
profile; the default profile, `QAFilterRules`, keeps decimals and URLs, and requires grounded
answers, no repeated questions, sane lengths) -> `page_images` (150 dpi PNG, longest side capped)
-> `grounding_pairs`, `page_dialogues`. Across shards: `docmatix_dataset` (+ card) with a
document-level, hash-stable train/test split -> `docvqa_test_split` -> `docvqa_predictions`
(extractive baseline, any OpenAI-compatible VLM) -> `docvqa_judgments` (LAVE, or its labelled rubric
proxy offline) -> `docvqa_evaluation`. `definitions.py` lists them.

Records: `pdf:<shard>:<PDFA key>` (one per landing; `source_key` `pdf:<sha256>` is shared by every
landing of the same file, and the release keeps one), `qa:<document id>:<i>`, `page:<document id>:<i>`,
`grounding:<page id>:<kind>:<n>`, `dialogue:<page id>`, `docmatix:<document id>`,
`docvqa_item:<qa id>`, `prediction:<item id>:<adapter>`, `judgment:<prediction id>`,
`docvqa_score:<adapter>`: each nests the id of the record it was built from.

Asset modules are cut along what they run, since a code version is its module's source closure: the
generation Task reaches `raw_qa` alone, the judge `docvqa_judgments` alone.

Where this departs from Docmatix, on purpose: the regex filter's false hits and missing grounding
check (both profiles recorded), the prompt variant chosen by hash instead of at random, and a split
by document that never moves as shards land.
"""
