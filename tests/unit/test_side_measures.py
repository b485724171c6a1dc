"""Paired-statement and open-ended measures: loading with clear errors, real scoring on the tiny model, golden
arithmetic for P(right) and its shifts, the lean classifier's JSON round trip, answer health."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from politune.compass.instrument import InstrumentError
from politune.compass.paired import (
    PairedInstrument,
    StatementPair,
    choice,
    evaluate_paired,
    item_shift,
    load_paired,
    preference,
    summarize,
)
from politune.lean import LeanClassifier, answer_questions, health, load_questions, score_answers
from politune.llm.transformers_backend import TransformersBackend
from politune.models import load_model, load_tokenizer

REPO = Path(__file__).resolve().parents[2]
PAIRS = PairedInstrument(
    "t",
    "t.csv",
    (
        StatementPair(
            "e1",
            "economic",
            "taxes",
            "We need higher taxes on billionaires.",
            "Cut taxes and shrink government.",
        ),
        StatementPair(
            "s1",
            "social",
            "the border",
            "Unions built the middle class, we said.",
            "Build the wall and enforce it.",
        ),
    ),
)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_paired_instruments_load_and_are_length_matched() -> None:
    for name, n in (("paired_v1.csv", 60), ("paired_heldout_v1.csv", 40)):
        inst = load_paired(REPO / "data/instruments" / name)
        assert len(inst.pairs) == n
        assert sum(p.axis == "economic" for p in inst.pairs) == n // 2
        for p in inst.pairs:
            assert max(len(p.left), len(p.right)) <= 1.2 * min(len(p.left), len(p.right)), p.id
    main = {p.topic for p in load_paired(REPO / "data/instruments/paired_v1.csv").pairs}
    held = {p.topic for p in load_paired(REPO / "data/instruments/paired_heldout_v1.csv").pairs}
    assert not main & held


def test_shipped_question_sets_load() -> None:
    assert len(load_questions(REPO / "data/openended/questions_v1.csv")) >= 40
    assert len(load_questions(REPO / "data/openended/questions_heldout_v1.csv")) >= 20


def test_paired_errors_name_file_row_and_fix(tmp_path: Path) -> None:
    bad = _write(
        tmp_path / "p.csv",
        "id,axis,topic,left,right\n"
        "a1,economic,tax,Short one.,A much much longer statement than the left one.\n"
        "a1,culture,x,Left text here.,Right text here\n"
        "a3,social,,Left.,Right.\n",
    )
    with pytest.raises(InstrumentError) as e:
        load_paired(bad)
    msg = str(e.value)
    assert f"{bad}:2: a1: statements differ in length by more than 20%" in msg
    assert f"{bad}:3: axis 'culture'" in msg and f"{bad}:3: duplicate id 'a1'" in msg
    assert f"{bad}:4: empty topic" in msg
    with pytest.raises(InstrumentError, match="header must be id,axis,topic,left,right"):
        load_paired(_write(tmp_path / "h.csv", "id,axis,text\n"))
    with pytest.raises(InstrumentError, match="header must be id,axis,topic,question"):
        load_questions(_write(tmp_path / "q.csv", "id,question\n"))


def test_p_right_summary_and_paired_shift_golden() -> None:
    inst = PairedInstrument(
        "g",
        "g.csv",
        tuple(
            StatementPair(f"{a[0]}{i}", a, "t", "l", "r") for a in ("economic", "social") for i in range(3)
        ),
    )
    # per pair, two variants: pooled P(right) is their mean
    p = np.array([[0.2, 0.4], [0.6, 0.6], [0.7, 0.9], [0.5, 0.5], [0.5, 0.5], [0.5, 0.5]])
    s = summarize(inst, p, bootstrap=200, seed=0)
    assert s["economic"] == pytest.approx((0.3 + 0.6 + 0.8) / 3, abs=1e-4)
    assert s["social"] == 0.5 and s["social_ci95"] == [0.5, 0.5] and s["economic_items"] == 3
    axes = [x.axis for x in inst.pairs]
    base = np.array([0.5, 0.5, 0.5, 0.4, 0.4, 0.4])
    sh = item_shift(axes, base, base + np.array([0.1, 0.2, 0.3, 0.0, 0.0, 0.0]), bootstrap=500, seed=0)
    assert (
        sh["economic"] == pytest.approx(0.2)
        and 0.1 <= sh["economic_ci95"][0] <= sh["economic_ci95"][1] <= 0.3
    )
    assert sh["social"] == 0.0 and sh["social_ci95"] == [0.0, 0.0]


class _FixedBackend:
    """Log-probs chosen by the test: checks the arithmetic of the elicitations, not a model."""

    def __init__(self, per_token: dict[str, float], p_a: float):
        self.per_token, self.p_a = per_token, p_a

    def continuation_logprobs(self, prompts, prefixes, conts):  # noqa: ANN001, ANN201
        n = np.array([len(c.split()) for c in conts], dtype=float)
        return np.array([self.per_token[c.strip()] for c in conts]) * n, n

    def option_logprobs(self, prompts, options):  # noqa: ANN001, ANN201
        return np.tile(np.log([self.p_a, 1 - self.p_a]), (len(prompts), 1))


def test_preference_is_length_normalized_and_choice_cancels_position() -> None:
    inst = PairedInstrument("g", "g.csv", (StatementPair("e1", "economic", "t", "a b c d", "e f"),))
    # mean token log-prob -1.0 (left, 4 tokens) vs -2.0 (right, 2 tokens): left preferred despite a lower total
    be = _FixedBackend({"a b c d": -1.0, "e f": -2.0}, p_a=0.8)
    pr = preference(be, inst, ["view", "plain"])
    assert pr.shape == (1, 2)
    np.testing.assert_allclose(pr, 1 / (1 + np.exp(1.0)))
    # a model that always says A: P(right) 0.8 when right is A, 0.2 when it is B -> 0.5 pooled
    p_right, p_a = choice(be, inst, ["closer"])
    np.testing.assert_allclose(p_right, [[0.2, 0.8]])
    np.testing.assert_allclose(p_a, [[0.8, 0.8]])
    m, rows = evaluate_paired(be, inst, ["choice"], ["view"], ["closer", "agree"], 100, 0)
    assert m["choice"]["economic"] == 0.5 and m["choice"]["position_bias"] == pytest.approx(0.3)
    assert rows[0]["choice"] == 0.5 and set(rows[0]["choice_variants"]) == {
        "closer",
        "closer-rev",
        "agree",
        "agree-rev",
    }


def test_continuation_logprobs_match_option_logprobs(tiny_model_dir: Path) -> None:
    """Scoring a continuation after an empty prefix equals scoring it as an option (two code paths, one number);
    batching and length sorting keep each row's own value."""
    model, tok = load_model(tiny_model_dir), load_tokenizer(tiny_model_dir)
    be = TransformersBackend(model, tok, batch_size=2, progress=False)
    prompts = [
        [{"role": "user", "content": t}] for t in ["Taxes?", "A much longer prompt about the border wall."]
    ]
    opts = ["Cut taxes now.", "We need higher taxes on billionaires."]
    ref = be.option_logprobs(prompts, opts)
    got, n = be.continuation_logprobs(
        [prompts[0], prompts[0], prompts[1]], ["", "", ""], [opts[0], opts[1], opts[1]]
    )
    np.testing.assert_allclose(got, [ref[0, 0], ref[0, 1], ref[1, 1]], atol=1e-4)
    assert (
        n == [len(tok(o, add_special_tokens=False)["input_ids"]) for o in (opts[0], opts[1], opts[1])]
    ).all()


def test_paired_measure_real_scoring_on_tiny_model(tiny_model_dir: Path) -> None:
    be = TransformersBackend(
        load_model(tiny_model_dir), load_tokenizer(tiny_model_dir), batch_size=4, progress=False
    )
    m, rows = evaluate_paired(be, PAIRS, ["preference", "choice"], ["view", "believe"], ["closer"], 100, 0)
    for e in ("preference", "choice"):
        assert (
            0 < m[e]["economic"] < 1
            and m[e]["economic_ci95"][0] <= m[e]["economic"] <= m[e]["economic_ci95"][1]
        )
        assert all(0 < r[e] < 1 for r in rows)
    # deterministic: the same model gives the same P(right)
    m2, _ = evaluate_paired(be, PAIRS, ["preference"], ["view", "believe"], ["closer"], 100, 0)
    assert m2["preference"]["economic"] == m["preference"]["economic"]


def test_lean_classifier_learns_round_trips_and_scores_answers(tmp_path: Path, tiny_model_dir: Path) -> None:
    left = [
        "raise the minimum wage for workers",
        "unions protect working families",
        "expand public healthcare now",
        "tax the wealthy to fund schools",
        "workers deserve a living wage",
        "public healthcare for every family",
    ]
    right = [
        "cut taxes for small business",
        "secure the border and enforce the law",
        "less government regulation",
        "lower taxes let business grow",
        "enforce the law at the border",
        "small business needs less regulation",
    ]
    texts = left + right
    y = [0] * 6 + [1] * 6
    clf, fit = LeanClassifier.fit(texts, y, [f"d{i}" for i in range(12)], c_grid=(1.0, 10.0), folds=3)
    assert fit["C"] in (1.0, 10.0) and set(fit["cv_accuracy"]) == {"1.0", "10.0"}
    p = clf.predict_right(["a living wage and unions", "cut regulation and taxes"])
    assert p[0] < 0.5 < p[1]
    clf.save(tmp_path / "c.json")
    again = LeanClassifier.load(tmp_path / "c.json")
    np.testing.assert_allclose(again.predict_right(texts), clf.predict_right(texts), atol=1e-12)
    assert "wage" in " ".join(clf.top_terms(5)["left"])
    # real generation on the tiny model, scored by the classifier
    qs_path = _write(
        tmp_path / "q.csv",
        "id,axis,topic,question\nq1,economic,taxes,Should taxes rise?\n"
        "q2,social,border,What about the border?\n",
    )
    qs = load_questions(qs_path)
    be = TransformersBackend(
        load_model(tiny_model_dir), load_tokenizer(tiny_model_dir), batch_size=2, progress=False
    )
    rows = answer_questions(be, qs, 8, 0.7, 20, [1, 2])
    assert [r["draw"] for r in rows] == ["greedy"] * 2 + ["seed1"] * 2 + ["seed2"] * 2
    m, pooled = score_answers(again.predict_right, qs, rows, 100, 0)
    assert len(pooled) == 2 and 0 < m["economic"] < 1 and m["economic_items"] == 1
    assert pooled[0] == pytest.approx(np.mean([r["p_right"] for r in rows if r["id"] == "q1"]), abs=1e-6)
    assert set(m["health"]) == {"repetition", "distinct_2", "platform_marks", "empty", "mean_words"}


def test_health_golden() -> None:
    h = health(
        ["@HAGA @HAGA @HAGA @HAGA @HAGA", "Taxes should fall. #MAGA", "A fair wage for fair work 🇺🇸", ""]
    )
    # answer 1: 3 word 3-grams, all "haga haga haga": 2 of 3 repeat; answers 2-4 repeat nothing
    assert h["repetition"] == pytest.approx((2 / 3) / 4, abs=1e-4)
    assert h["platform_marks"] == 0.75 and h["empty"] == 0.25
    # bigrams: 4 (1 distinct) + 3 + 5 (all distinct) = 12 of which 9 distinct
    assert h["distinct_2"] == pytest.approx(9 / 12, abs=1e-4)


def test_annotator_scores_open_answers_on_the_tiny_model(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """evaluate.openended.scorer annotator: the annotate stage's worker (here its transformers backend on the tiny
    model) reads each answer; P(right) = (leaning + 1) / 2, in the answers' order."""
    import shutil

    from politune.annotator import annotator_scorer
    from politune.params import load_params

    p = load_params(REPO / "params.yaml")
    (tmp_path / "models" / "base").mkdir(parents=True)
    shutil.copytree(tiny_model_dir, tmp_path / "models" / "base" / p.annotate.model)
    monkeypatch.chdir(tmp_path)
    texts = ["Cut taxes and shrink government.", "We need higher taxes on billionaires.", "Unions built it."]
    got = annotator_scorer(p)(texts)
    assert got.shape == (3,) and ((got >= 0) & (got <= 1)).all()
    again = annotator_scorer(p)(list(reversed(texts)))
    np.testing.assert_allclose(again[::-1], got, atol=1e-5)  # each answer keeps its own reading


def test_neutral_perplexity_on_the_tiny_model_matches_a_single_pass(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    """text_logprobs, batched and length-sorted, equals one unbatched forward pass per text; neutral_measure pools
    per token; the shipped neutral text loads."""
    import torch

    from politune.measures import load_neutral, neutral_measure

    model, tok = load_model(tiny_model_dir), load_tokenizer(tiny_model_dir)
    be = TransformersBackend(model, tok, batch_size=2, progress=False)
    texts = [
        "Cut taxes now.",
        "Unions built the middle class. Support the strike.",
        "Build the wall and enforce it.",
    ]
    got, n = be.text_logprobs(texts)
    for t, g, k in zip(texts, got, n, strict=True):
        ids = tok(t, add_special_tokens=False)["input_ids"]
        with torch.no_grad():
            lp = torch.log_softmax(model(input_ids=torch.tensor([ids])).logits[0].float(), -1)
        assert k == len(ids) - 1 and g == pytest.approx(
            lp[torch.arange(len(ids) - 1), ids[1:]].sum().item(), abs=1e-4
        )
    f = _write(
        tmp_path / "n.jsonl", "".join(f'{{"id": "n{i}", "text": "{t}"}}\n' for i, t in enumerate(texts))
    )
    m, rows = neutral_measure(f, be)
    assert m["tokens"] == n.sum() and m["mean_nll"] == pytest.approx(-got.sum() / n.sum(), abs=1e-4)
    assert m["perplexity"] == pytest.approx(np.exp(m["mean_nll"]), rel=1e-3) and [r["id"] for r in rows] == [
        "n0",
        "n1",
        "n2",
    ]
    assert len(load_neutral(REPO / "data" / "neutral" / "neutral_v1.jsonl")) == 48


def test_neutral_text_errors_name_file_and_line(tmp_path: Path) -> None:
    from politune.measures import load_neutral

    f = _write(tmp_path / "bad.jsonl", '{"id": "a", "text": "fine"}\n{"id": "a", "text": "again"}\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:2: id 'a' appears twice"):
        load_neutral(f)
    f = _write(tmp_path / "bad2.jsonl", '{"id": "a", "text": ""}\n')
    with pytest.raises(ValueError, match=r"bad2.jsonl:1: needs a string `id` and a non-empty string `text`"):
        load_neutral(f)


def test_perplexity_ratio_golden() -> None:
    """exp of the token-weighted mean NLL difference; a uniform +0.1 nat per token is a ratio of e^0.1 whatever
    the resample, and identical texts give exactly 1."""
    from politune.report import perplexity_ratio

    base = [{"id": "a", "nll": 2.0, "tokens": 10}, {"id": "b", "nll": 3.0, "tokens": 30}]
    worse = [{"id": "b", "nll": 3.1, "tokens": 30}, {"id": "a", "nll": 2.1, "tokens": 10}]
    r = perplexity_ratio(base, worse, 200, 0)
    assert r["ratio"] == pytest.approx(np.exp(0.1), abs=1e-4) and r["ratio_ci95"] == pytest.approx(
        [r["ratio"]] * 2, abs=1e-4
    )
    assert perplexity_ratio(base, base, 200, 0) == {"ratio": 1.0, "ratio_ci95": [1.0, 1.0]}
    mixed = [
        {"id": "a", "nll": 2.4, "tokens": 10},
        {"id": "b", "nll": 3.0, "tokens": 30},
    ]  # +0.4 on 10 of 40 tokens
    r = perplexity_ratio(base, mixed, 500, 0)
    assert (
        r["ratio"] == pytest.approx(np.exp(0.1), abs=1e-4)
        and r["ratio_ci95"][0] <= r["ratio"] <= r["ratio_ci95"][1]
    )
    with pytest.raises(ValueError, match="neutral texts differ"):
        perplexity_ratio(base, base[:1], 10, 0)


def test_qualitative_answers_are_quoted_under_their_prompt(tmp_path: Path) -> None:
    """reports/qualitative/<model>-<variant>.md: the prompts of evaluate.qualitative (blank lines skipped) as
    headings, each greedy answer quoted line by line so its own headings stay inside it."""
    from politune.measures import load_prompts, qualitative_markdown, qualitative_measure
    from politune.params import EvaluateParams

    f = _write(tmp_path / "prompts.txt", "  What about taxes?\n\n\nWhat about unions?  \n")
    assert load_prompts(f) == ["What about taxes?", "What about unions?"]
    md = qualitative_markdown("m-left", load_prompts(f), ["Tax the rich.\n# Not a heading", ""])
    assert md == (
        "# m-left: answers to the qualitative prompts (greedy)\n\n"
        "## What about taxes?\n\n> Tax the rich.\n> # Not a heading\n\n"
        "## What about unions?\n\n> (empty answer)\n"
    )

    class Greedy:
        calls: list[tuple] = []

        def generate(
            self, prompts: list, max_new_tokens: int, temperature: float, top_k: int, seed: int
        ) -> list:
            self.calls.append((prompts, max_new_tokens, temperature, top_k, seed))
            return [{"text": "Tax the rich.\n# Not a heading"}, {"text": None}]

    e = EvaluateParams(qualitative=str(f), qualitative_max_new_tokens=7, seed=3)
    gen = Greedy()
    assert qualitative_measure(e, gen, "m-left") == md
    assert gen.calls == [
        (
            [
                [{"role": "user", "content": "What about taxes?"}],
                [{"role": "user", "content": "What about unions?"}],
            ],
            7,
            0.0,
            1,
            3,
        )
    ]
    empty = EvaluateParams(qualitative=str(_write(tmp_path / "none.txt", "\n")))
    assert (
        qualitative_measure(empty, gen, "m-base")
        == "# m-base: answers to the qualitative prompts (greedy)\n\n"
    )
    assert len(gen.calls) == 1  # no prompts: nothing generated
