"""Docmatix (RECIPES section 3) and its DocVQA-style evaluation with LAVE (section 4) as assets.

Per document shard: `documents` (PDFA-layout text from the PDFA JSON or the PDF's text layer; locked,
broken, text-less and > 4-page PDFs rejected) -> `raw_qa` (one LLM call per document, one of five
prompts, Q#/A# parsed) -> `filtered_qa` (Docmatix's regexes as the `compat` profile; the default
profile keeps decimals and URLs, and requires grounded answers, no repeated questions, sane lengths)
-> `page_images` (150 dpi PNG, longest side <= 2,940 px) -> `grounding_pairs`, `page_dialogues`.
Across shards: `docmatix_dataset` (+ card) with a document-level, hash-stable train/test split ->
`docvqa_test_split` -> `docvqa_predictions` (extractive baseline, any OpenAI-compatible VLM) ->
`docvqa_judgments` (LAVE, or its labelled rubric proxy offline) -> `docvqa_evaluation`.

Where this departs from Docmatix, on purpose: the regex filter's false hits and missing grounding
check (both profiles recorded), the prompt variant chosen by hash instead of at random, and a split
by document that never moves as shards land.
"""
