"""The transformers backend: shared-prefix scoring equals full scoring; order is preserved."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from politune.llm.transformers_backend import TransformersBackend
from politune.models import load_model, load_tokenizer


def test_shared_prefix_matches_full_scoring(tiny_model_dir: Path) -> None:
    model, tok = load_model(tiny_model_dir), load_tokenizer(tiny_model_dir)
    prompts = [
        [{"role": "user", "content": t}]
        for t in [
            "Cut taxes now.",
            "We need higher taxes on billionaires and Medicare for All.",
            "Hi",
            "Unions!",
        ]
    ]
    options = ["I agree with this statement.", "I disagree with this statement.", "The author is a liberal."]
    shared = TransformersBackend(model, tok, batch_size=3, progress=False, share_prefix=True)
    full = TransformersBackend(model, tok, batch_size=2, progress=False, share_prefix=False)
    a = shared.option_logprobs(prompts, options)
    b = full.option_logprobs(prompts, options)
    assert a.shape == (4, 3)
    np.testing.assert_allclose(a, b, atol=1e-4)
    # each row equals scoring that prompt alone: batching and length-sorting keep the order
    for i, p in enumerate(prompts):
        np.testing.assert_allclose(shared.option_logprobs([p], options)[0], a[i], atol=1e-4)
    assert (a < 0).all()


def test_single_token_options_match_full_scoring(tiny_model_dir: Path) -> None:
    model, tok = load_model(tiny_model_dir), load_tokenizer(tiny_model_dir)
    prompts = [
        [{"role": "user", "content": t}] for t in ["Taxes?", "A much longer prompt about wages and rent."]
    ]
    options = [o for o in ("A", "B", "C") if len(tok(o, add_special_tokens=False)["input_ids"]) == 1]
    assert options, "the tiny tokenizer should encode single letters as one token"
    a = TransformersBackend(model, tok, batch_size=2, progress=False).option_logprobs(prompts, options)
    b = TransformersBackend(model, tok, batch_size=1, progress=False, share_prefix=False).option_logprobs(
        prompts, options
    )
    np.testing.assert_allclose(a, b, atol=1e-4)


def test_shared_system_prompt_prefix_matches_full_scoring(tiny_model_dir: Path) -> None:
    from politune.llm.transformers_backend import _common_prefix_len

    model, tok = load_model(tiny_model_dir), load_tokenizer(tiny_model_dir)
    system = {
        "role": "system",
        "content": "You judge political statements. Consider this statement carefully.",
    }
    prompts = [
        [system, {"role": "user", "content": t}]
        for t in ["Tax the rich.", "Cut taxes now, all of them.", "Hi"]
    ]
    options = ["I agree with this statement.", "I disagree with this statement.", "No."]
    shared = TransformersBackend(model, tok, batch_size=2, progress=False)
    assert _common_prefix_len([shared.render(p) for p in prompts]) > 10  # the prefix path really runs
    a = shared.option_logprobs(prompts, options)
    b = TransformersBackend(model, tok, batch_size=2, progress=False, share_prefix=False).option_logprobs(
        prompts, options
    )
    np.testing.assert_allclose(a, b, atol=1e-4)
    assert _common_prefix_len([[1, 2, 3], [1, 2, 3]]) == 2 and _common_prefix_len([[1], [2]]) == 0


def test_continuation_logprobs_shared_heads_match_full_passes(tiny_model_dir: Path) -> None:
    """Rows sharing a prompt and prefix run it once (the shared-prefix path, groups of 2, one group of 3 split and
    padded); every row equals one full pass over head + continuation."""
    model, tok = load_model(tiny_model_dir), load_tokenizer(tiny_model_dir)
    ask = [
        [{"role": "user", "content": t}]
        for t in ["Taxes?", "A much longer prompt about the border wall.", "Hi"]
    ]
    prompts = [ask[0], ask[0], ask[1], ask[1], ask[2], ask[2], ask[2], ask[0]]
    prefixes = ["My view:", "My view:", "I think", "I think", "", "", "", "I think"]
    conts = [
        " Cut taxes now.",
        " We need higher taxes on billionaires.",
        " Build it.",
        " Unions!",
        " Support the strike.",
        " No.",
        " Medicare for All, and unions built the middle class.",
        " Cut.",
    ]
    shared = TransformersBackend(model, tok, batch_size=2, progress=False)
    full = TransformersBackend(model, tok, batch_size=3, progress=False, share_prefix=False)
    a, n = shared.continuation_logprobs(prompts, prefixes, conts)
    b, m = full.continuation_logprobs(prompts, prefixes, conts)
    np.testing.assert_allclose(a, b, atol=1e-4)
    assert (n == m).all() and (a < 0).all()
