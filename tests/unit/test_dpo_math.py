"""DPO reward arithmetic (TRL's definitions) and completion log-probabilities."""

import math

import pytest

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

from assets.training import dpo  # noqa: E402


def test_dpo_terms_hand_computed():
    t = dpo.dpo_terms(torch.tensor([-1.0]), torch.tensor([-3.0]), torch.tensor([-2.0]), torch.tensor([-2.0]), 0.5)
    assert t["rewards/chosen"] == pytest.approx(0.5) and t["rewards/rejected"] == pytest.approx(-0.5)
    assert t["rewards/margins"] == pytest.approx(1.0) and t["rewards/accuracies"] == 1.0
    assert t["loss"] == pytest.approx(-math.log(1 / (1 + math.exp(-1.0))))


def test_dpo_sign_preferring_rejected_costs_more_than_log2():
    t = dpo.dpo_terms(torch.tensor([-3.0, -1.0]), torch.tensor([-1.0, -1.0]), torch.tensor([-2.0, -1.0]),
                      torch.tensor([-2.0, -1.0]), 0.1)
    # pair 1 prefers rejected (margin -0.2), pair 2 is indifferent (margin 0)
    assert t["rewards/margins"] == pytest.approx(-0.1) and t["rewards/accuracies"] == 0.0
    assert t["loss"] > math.log(2)
    same = dpo.dpo_terms(torch.tensor([-2.0]), torch.tensor([-2.0]), torch.tensor([-2.0]), torch.tensor([-2.0]), 0.1)
    assert same["loss"] == pytest.approx(math.log(2)) and same["rewards/margins"] == 0.0


def test_completion_logps_sum_only_the_completion_and_ignore_padding():
    from transformers import GPT2Config, GPT2LMHeadModel

    from assets.training import mllm_components as mc

    texts = ["<s>USER: a b ASSISTANT:", " a 3 at the top left</s>", " no</s>"]
    tok = mc.train_tokenizer(texts * 5, 60)
    torch.manual_seed(0)
    lm = GPT2LMHeadModel(GPT2Config(vocab_size=len(tok), n_embd=16, n_layer=1, n_head=2, n_positions=64,
                                    bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)).eval()

    class TextOnly(torch.nn.Module):  # completion_logps passes pixel_values; a text LM ignores them
        def forward(self, input_ids, attention_mask, pixel_values):
            return lm(input_ids=input_ids, attention_mask=attention_mask)

    prompts, completions = [texts[0], texts[0]], [texts[1], texts[2]]
    got = dpo.completion_logps(TextOnly(), tok, torch.zeros(2, 1), prompts, completions, n_image_tokens=0)
    for k in range(2):
        p = tok(prompts[k], add_special_tokens=False)["input_ids"]
        c = tok(completions[k], add_special_tokens=False)["input_ids"]
        ids = torch.tensor([p + c])
        logp = torch.log_softmax(lm(input_ids=ids).logits[0, :-1], -1)
        want = sum(logp[len(p) - 1 + j, c[j]].item() for j in range(len(c)))
        assert got[k].item() == pytest.approx(want, abs=1e-4)


def test_the_loss_is_named_as_trained():
    assert dpo.loss_name(0.0) == "sigmoid DPO"
    assert dpo.loss_name(1.0) == "sigmoid DPO + 1 x SFT on the chosen answer (RPO)"
