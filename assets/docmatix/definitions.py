"""The docmatix group, listed explicitly: what the root `definitions.py` loads."""

from assets.docmatix.card_assets import docmatix_dataset_card
from assets.docmatix.conversation_assets import grounding_pairs, page_dialogues
from assets.docmatix.document_assets import documents
from assets.docmatix.duplicate_assets import document_duplicates, qa_duplicates
from assets.docmatix.evaluation_assets import docvqa_evaluation
from assets.docmatix.filter_assets import filtered_qa
from assets.docmatix.held_out_assets import docvqa_test_split
from assets.docmatix.judgment_assets import docvqa_judgments
from assets.docmatix.page_assets import page_images
from assets.docmatix.prediction_assets import docvqa_predictions
from assets.docmatix.qa_assets import raw_qa
from assets.docmatix.release_assets import docmatix_dataset

ASSETS = [
    documents,
    raw_qa,
    filtered_qa,
    qa_duplicates,
    page_images,
    document_duplicates,
    grounding_pairs,
    page_dialogues,
    docmatix_dataset,
    docmatix_dataset_card,
    docvqa_test_split,
    docvqa_predictions,
    docvqa_judgments,
    docvqa_evaluation,
]
CHECKS: list = []  # every check is a spec of its asset, evaluated in the asset's own step
