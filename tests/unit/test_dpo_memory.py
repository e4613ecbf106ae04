"""The DPO memory plan: activations per pair and the plan rows the memory_plan asset shows."""

import pytest

from assets.training.dpo_memory import activation_gb_per_pair, plan_row


def test_activation_formula_hand_value():
    # 2 sequences x 2048 tokens x 4096 hidden x 32 layers x 34 bytes
    assert activation_gb_per_pair(2048, 4096, 32, 2) == pytest.approx(2 * 2048 * 4096 * 32 * 34 / 1e9)
    assert activation_gb_per_pair(10, 8, 2, 4) == pytest.approx(2 * activation_gb_per_pair(10, 8, 2, 2))


def test_production_default_reproduces_the_recipes_batch_2_by_32():
    per_pair = activation_gb_per_pair(2048, 4096, 32, 2)
    row = plan_row("8B", 8_000_000_000, 55_300_000, 80.0, 64, per_pair, "gpu")
    assert row["status"] == "planned"
    assert (row["precision"], row["lora"], row["batch_size"], row["grad_accumulation"]) == ("bf16", True, 2, 32)
    assert round(row["policy_gb"] + row["reference_gb"] + row["gradients_gb"] + row["optimizer_gb"], 1) == 32.3


def test_small_card_is_refused_with_the_numbers():
    row = plan_row("8B", 8_000_000_000, 55_300_000, 24.0, 64, activation_gb_per_pair(2048, 4096, 32, 2), "gpu")
    assert row["status"] == "refused" and "no configuration fits 24 GB" in row["message"]
    assert plan_row("x", 10, 1, None, 8, 0.1, "cpu")["status"] == "refused"
