"""Data hygiene shared by the datasets: near-duplicate search, caption cleaning and balance.

Pure logic only (no Dagster): each group's screens call it and store what it measured."""
