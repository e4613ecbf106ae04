"""FineVideo (RECIPES section 1) as assets: metadata to a curated, annotated, aligned release."""
