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


def test_render_chat_is_the_one_renderer(tiny_model_dir: Path) -> None:
    """render_chat: the chat template with the assistant turn opened, as a list of ids whatever the tokenizer
    returns (a list in transformers 4, a BatchEncoding in 5, a dict); the backend and the annotator's scoring
    plan render through it."""
    from politune.annotate import build_prompt, scoring_plan
    from politune.llm.transformers_backend import render_chat

    tok = load_tokenizer(tiny_model_dir)
    m = [{"role": "user", "content": "Cut taxes now."}]
    ids = render_chat(tok, m)
    assert isinstance(ids, list) and all(isinstance(i, int) for i in ids)
    assert tok.decode(ids).endswith("<|im_start|>assistant\n")
    assert ids == TransformersBackend(load_model(tiny_model_dir), tok).render(m)

    class Returns:
        def __init__(self, value: object) -> None:
            self.value = value

        def apply_chat_template(self, messages: list, add_generation_prompt: bool, tokenize: bool) -> object:
            assert add_generation_prompt and tokenize
            return self.value

    assert render_chat(Returns([1, 2, 3]), m) == [1, 2, 3]
    assert render_chat(Returns({"input_ids": [4, 5], "attention_mask": [1, 1]}), m) == [4, 5]
    enc = tok("a b", add_special_tokens=False)  # a BatchEncoding
    assert render_chat(Returns(enc), m) == list(enc["input_ids"])
    posts = [{"text": "A longer post about taxes and wages."}, {"text": "Short."}]
    order, shared = scoring_plan(tok, posts, 600)
    rendered = [render_chat(tok, build_prompt(p["text"], 600)) for p in posts]
    assert order == [1, 0] and 0 < shared < len(rendered[1]) and rendered[0][:shared] == rendered[1][:shared]


def test_vllm_fit_cuts_the_post_to_the_token_budget(tiny_model_dir: Path) -> None:
    """VLLMBackend._fit measures prompts with render_chat and cuts only the post between its tags (no vLLM
    needed: the engine is not started)."""
    from politune.llm.transformers_backend import render_chat
    from politune.llm.vllm_backend import VLLMBackend

    b = VLLMBackend.__new__(VLLMBackend)
    b.tok = load_tokenizer(tiny_model_dir)
    b.stats = {"truncated": 0}
    post = " ".join(["Unions built the middle class."] * 20)
    m = [{"role": "user", "content": f"Read this.\n<post>\n{post}\n</post>\nIs the author a liberal?"}]
    full = len(render_chat(b.tok, m))
    assert b._fit(m, full) == m and b.stats["truncated"] == 0
    cut = b._fit(m, full - 30)
    assert len(render_chat(b.tok, cut)) <= full - 30 and b.stats["truncated"] == 1
    text = cut[0]["content"]
    assert text.startswith("Read this.\n<post>\n") and text.endswith("\n</post>\nIs the author a liberal?")
