"""Every asset of the cinepile group, listed explicitly (the root `definitions.py` imports these).

One module per Task-running asset, so an asset's computed code version covers its own logic and
the Tasks it runs and nothing else: editing a prompt or an offline method marks exactly the assets
that run it stale (tests/unit/test_cinepile_versions.py)."""

import dagster as dg

from assets.cinepile.bank_assets import question_bank
from assets.cinepile.duplicate_assets import question_duplicates
from assets.cinepile.prediction_assets import cinepile_predictions
from assets.cinepile.question_assets import scene_questions
from assets.cinepile.refined_assets import refined_questions
from assets.cinepile.refinement_assets import refinement_rounds
from assets.cinepile.release_assets import cinepile_dataset, cinepile_dataset_card, cinepile_leaderboard
from assets.cinepile.scene_assets import cinepile_scenes
from assets.cinepile.template_assets import question_templates

ASSETS: list[dg.AssetsDefinition] = [
    question_bank,
    question_templates,
    cinepile_scenes,
    scene_questions,
    refinement_rounds,
    refined_questions,
    question_duplicates,
    cinepile_dataset,
    cinepile_predictions,
    cinepile_leaderboard,
    cinepile_dataset_card,
]
CHECKS: list[dg.AssetChecksDefinition] = []  # every check is a spec of its asset, computed in its step
