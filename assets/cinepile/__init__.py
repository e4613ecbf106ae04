"""CinePile (RECIPES section 2) as assets: long-video multiple-choice QA from FineVideo's scenes.

`question_bank` -> `question_templates` (embeddings + KMeans at the best silhouette, a Task names each
cluster) -> `cinepile_scenes` (subtitles + timed descriptions per scene of `aligned_annotations`, or
of an external clip table) -> `scene_questions` (a Task picks templates per scene, a Task writes
5-choice questions with a rationale and timestamps) -> `refinement_rounds` -> `refined_questions`
(CinePile's adversarial refinement) -> `cinepile_dataset` (train/test by video, hard split, CinePile's
fields) -> `cinepile_predictions` -> `cinepile_leaderboard` (lmms-eval's parsing, accuracy per
category and hard split).

Where this departs from CinePile, on purpose: a failed blind call makes a question `unverified`
instead of silently `fine`; at most 5 rewrites (the public loop allowed 6); every rewrite must
still be answered correctly by a context-aware answerer that sees the scene text; every round is a
row; and every model step runs offline on grounded rules (text-only baselines, a scene-text reader,
cue removal) so the whole group is reproducible without an endpoint.

Every row carries the provenance contract: ids minted by `assets/kit/identity.py`, each nesting the
record it was made from (`scene:<video>:<n>`, `question:<scene>:<template>:<variant>`,
`round:<question>:<r>`, `refined:<question>`, `cinepile:<question>`, `prediction:<release row>:<adapter>`),
`parent_ids` and `models` (roles template, template_pick, question, blind_answer, context_answer,
rewrite, reader, vlm). The assets are listed in `definitions.py`.
"""
