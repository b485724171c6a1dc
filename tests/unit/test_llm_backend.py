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


def _wider_model(tiny_model_dir: Path) -> object:
    """The tiny tokenizer with wider layers (256 / 768): matrix products big enough for BLAS to choose its kernel
    by shape, as it does for SmolLM2."""
    from conftest import tiny_llama

    return tiny_llama(
        load_tokenizer(tiny_model_dir), seed=1, hidden=256, intermediate=768, max_positions=1024
    ).eval()


def test_batch_invariant_scores_do_not_depend_on_the_batch(tiny_model_dir: Path) -> None:
    """Batch-invariant scoring (politune.llm.invariant): a post's label log-probabilities are bitwise the same
    scored alone, in batches of 3 or 16, or among another set of posts in another order; the linear layers are
    restored afterwards."""
    import torch

    from politune.annotate import LABELS, annotate_posts, build_prompt, template_prefix

    model, tok = _wider_model(tiny_model_dir), load_tokenizer(tiny_model_dir)
    words = ["taxes", "wages", "unions", "rent", "billionaires", "Medicare", "border", "jobs"]
    texts = [" ".join(words[: 1 + i % 8]) + ("!" if i % 3 else ".") for i in range(30)]
    shared = len(template_prefix(tok, 600))

    def scores(batch_size: int, which: list[int]) -> np.ndarray:
        be = TransformersBackend(
            model, tok, batch_size=batch_size, progress=False, shared_prefix_len=shared, batch_invariant=True
        )
        return be.option_logprobs([build_prompt(texts[i], 600) for i in which], list(LABELS))

    every = list(range(len(texts)))
    a = scores(16, every)
    assert np.array_equal(a, scores(3, every))
    other = every[::-1][::2]  # half of the posts, in reverse order: other batches
    assert np.array_equal(a[other], scores(16, other))
    for i in (0, 7, 29):
        assert np.array_equal(a[[i]], scores(16, [i]))
    assert all("forward" not in vars(m) for m in model.modules() if type(m) is torch.nn.Linear)
    # the annotations (calibrated probabilities) follow
    be = TransformersBackend(
        model, tok, batch_size=5, progress=False, shared_prefix_len=shared, batch_invariant=True
    )
    whole = annotate_posts(be, [{"text": t} for t in texts], 600)
    part = annotate_posts(be, [{"text": texts[i]} for i in other], 600)
    assert [whole[i] for i in other] == part


def test_tiled_linear_equals_linear_up_to_rounding_and_keeps_shapes() -> None:
    import torch

    from politune.llm.invariant import TILE, equal_length_batches, tiled_linear

    torch.manual_seed(0)
    w, b = torch.randn(48, 40), torch.randn(48)
    for rows in (1, TILE - 1, TILE, 2 * TILE + 3):
        x = torch.randn(2, rows, 40)
        y = tiled_linear(x, w, b)
        assert y.shape == (2, rows, 48)
        torch.testing.assert_close(y, torch.nn.functional.linear(x, w, b), rtol=1e-5, atol=1e-5)
    assert equal_length_batches([5, 3, 5, 5, 3], 2) == [[1, 4], [0, 2], [3]]
