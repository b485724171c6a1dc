"""Report: the compass plot (base and each ideology per model, with 95% intervals), shifts from base,
and a short Markdown summary. `build_report` assembles everything the report stage writes from what it reads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from politune.compass.instrument import Instrument, load_instrument
from politune.compass.score import paired_shift
from politune.io import read_json, read_jsonl
from politune.params import EvaluateParams, IdeologySpec, Params

COLORS = {"base": "#444444", "left": "#1f5fbf", "right": "#c8302c"}
MARKERS = ["o", "s", "^", "D", "v", "P"]


def expected_by_item(instrument: Instrument, rows: list[dict[str, Any]], who: str) -> np.ndarray:
    """Per-item rows (with expected_weight) -> expected weights in the instrument's item order (NaN =
    unanswered). `who` names the rows' model in the error when they do not match the instrument."""
    by_id = {r["id"]: np.nan if r["expected_weight"] is None else r["expected_weight"] for r in rows}
    ids = [p.id for p in instrument.propositions]
    if set(by_id) != set(ids):
        raise ValueError(
            f"{who}: per-item answers do not match the instrument {instrument.name}; rerun evaluate"
        )
    return np.array([by_id[i] for i in ids], dtype=float)


def shifts(
    instrument: Instrument,
    items: dict[str, dict[str, list[dict[str, Any]]]],
    bootstrap: int,
    seed: int,
    ref: str = "base",
    only: list[str] | None = None,
) -> dict[str, dict[str, dict[str, Any]]]:
    """items[model][variant] -> per-item rows (with expected_weight); paired shift of each variant (or of those in
    `only`) from `ref`: base, or a control arm."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for model, variants in items.items():
        if ref not in variants:
            continue
        base = expected_by_item(instrument, variants[ref], model)
        out[model] = {
            v: paired_shift(instrument, base, expected_by_item(instrument, rows, model), bootstrap, seed)
            for v, rows in variants.items()
            if v not in (ref, "base") and (only is None or v in only)
        }
    return out


def plot_compass(
    results: dict[str, dict[str, dict[str, Any]]],
    sh: dict[str, dict[str, dict[str, Any]]],
    path: str,
    title: str,
) -> None:
    """Left: the compass (-10..10) with each model's base and adapters. Right: zoom on the shift from
    base, with paired 95% intervals (the comparison that matters; coordinate intervals would hide it)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 6), dpi=100)
    lim = 10
    for (x0, y0), color in (
        ((0, 0), "#f4c7c3"),
        ((-lim, 0), "#c9daf8"),
        ((-lim, -lim), "#d9ead3"),
        ((0, -lim), "#fff2cc"),
    ):
        ax.add_patch(plt.Rectangle((x0, y0), lim, lim, color=color, alpha=0.45, lw=0))
    span = 0.05
    for mi, (model, variants) in enumerate(sorted(results.items())):
        marker = MARKERS[mi % len(MARKERS)]
        base = variants.get("base")
        for v, r in sorted(variants.items()):
            color = COLORS.get(v, f"C{mi}")
            ax.plot(r["economic"], r["social"], marker, color=color, ms=9, label=f"{model} {v}")
            if base is not None and v != "base":
                ax.annotate(
                    "",
                    xy=(r["economic"], r["social"]),
                    xytext=(base["economic"], base["social"]),
                    arrowprops={"arrowstyle": "->", "color": color, "lw": 1.2},
                )
        for v, s in sorted(sh.get(model, {}).items()):
            color = COLORS.get(v, f"C{mi}")
            x, y = s["economic"], s["social"]
            xe = [[x - s["economic_ci95"][0]], [s["economic_ci95"][1] - x]]
            ye = [[y - s["social_ci95"][0]], [s["social_ci95"][1] - y]]
            ax2.errorbar(
                x, y, xerr=xe, yerr=ye, fmt=marker, color=color, ms=8, capsize=3, label=f"{model} {v}"
            )
            span = max(span, *map(abs, s["economic_ci95"]), *map(abs, s["social_ci95"]))
    for a in (ax, ax2):
        a.axhline(0, color="k", lw=0.8)
        a.axvline(0, color="k", lw=0.8)
        a.set_aspect("equal")
        a.legend(loc="lower right", fontsize=7)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_xlabel("economic: left  <-  ->  right")
    ax.set_ylabel("social: libertarian  <-  ->  authoritarian")
    ax.set_title(title, fontsize=10)
    span *= 1.2
    ax2.set_xlim(-span, span)
    ax2.set_ylim(-span, span)
    ax2.set_xlabel("shift from base, economic")
    ax2.set_ylabel("shift from base, social")
    ax2.set_title("adapter minus base, paired 95% intervals (zoomed)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def item_changes(items: dict[str, dict[str, list[dict[str, Any]]]]) -> list[dict[str, Any]]:
    """Per proposition: pooled expected weight of each adapter minus base's (positive = toward right on the
    economic axis, toward authoritarian on the social one). Unanswered items are left out."""
    rows = []
    for model, variants in sorted(items.items()):
        base = {r["id"]: r for r in variants.get("base", [])}
        for v, lst in sorted(variants.items()):
            if v == "base":
                continue
            for r in lst:
                b = base.get(r["id"])
                if b is None or r["expected_weight"] is None or b["expected_weight"] is None:
                    continue
                rows.append(
                    {
                        "model": model,
                        "variant": v,
                        "item": r["id"],
                        "axis": r["axis"],
                        "change": round(r["expected_weight"] - b["expected_weight"], 4),
                        "text": r["text"],
                    }
                )
    return rows


def _ci(lo_hi: list[float], digits: int = 2) -> str:
    return f"[{lo_hi[0]:+.{digits}f}, {lo_hi[1]:+.{digits}f}]"


def _agreement(s: dict[str, Any]) -> str:
    return f"{s['agreement']:+.3f} {_ci(s['agreement_ci95'], 3)}" if "agreement" in s else "-"


def summary_markdown(
    results: dict[str, dict[str, dict[str, Any]]],
    sh: dict[str, dict[str, dict[str, Any]]],
    instrument: str,
    changes: list[dict[str, Any]] | None = None,
    sh_heldout: dict[str, dict[str, dict[str, dict[str, Any]]]] | None = None,
    sh_control: dict[str, dict[str, dict[str, dict[str, dict[str, Any]]]]] | None = None,
) -> str:
    """sh_control[control][instrument][model][variant]: shifts from a control arm (same pairs, shuffled labels)."""
    lines = [
        f"## Likert: political compass ({instrument})",
        "",
        "| model | variant | economic | 95% CI | social | 95% CI | shift econ [95% CI] | shift social [95% CI] "
        "| agreement [95% CI] |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for model, variants in sorted(results.items()):
        for v, r in sorted(variants.items(), key=lambda kv: (kv[0] != "base", kv[0])):
            s = sh.get(model, {}).get(v)
            shift = (
                f"{s['economic']:+.2f} {_ci(s['economic_ci95'])} | {s['social']:+.2f} {_ci(s['social_ci95'])} "
                f"| {_agreement(s)}"
                if s
                else "- | - | -"
            )
            lines.append(
                f"| {model} | {v} | {r['economic']:+.2f} | {_ci(r['economic_ci95'])} "
                f"| {r['social']:+.2f} | {_ci(r['social_ci95'])} | {shift} |"
            )
    lines += [
        "",
        "Coordinate intervals resample the instrument's items: they mostly show how different the",
        "items are. Shift intervals are paired (the same resampled items for base and variant): a",
        "shift whose interval excludes 0 moved consistently across items. Both resample within each",
        "keying (propositions whose agreement counts right, and those whose agreement counts left),",
        "so every draw keeps the instrument balanced. `agreement` is the change in acquiescence: how",
        "much more the variant agrees with every proposition, whatever its side (-1..1 of an item's",
        "answer range, the two keyings weighted equally); a balanced instrument cancels it in the",
        "coordinates. None of this says how the model would answer other wordings or templates.",
        "Headline coordinates pool every prompt variant; `variant_spread` in metrics/evaluate/*.json",
        "is how far the variants disagree.",
    ]
    if sh_heldout:
        lines += [
            "",
            "## Shift on held-out instruments (no text shared with the training data)",
            "",
            "| instrument | model | variant | shift econ [95% CI] | shift social [95% CI] | agreement [95% CI] |",
            "|---|---|---|---|---|---|",
        ]
        for name, by_model in sorted(sh_heldout.items()):
            for model, variants in sorted(by_model.items()):
                for v, s in sorted(variants.items()):
                    lines.append(
                        f"| {name} | {model} | {v} | {s['economic']:+.2f} {_ci(s['economic_ci95'])} "
                        f"| {s['social']:+.2f} {_ci(s['social_ci95'])} | {_agreement(s)} |"
                    )
    if sh_control:
        lines += [
            "",
            "## Shift from the control arm (the same pairs with shuffled labels)",
            "",
            "A shift from base can come from fine-tuning on this text at all; a shift from the control is what",
            "the labels (which side is chosen) add beyond that. Paired intervals, as above.",
            "",
            "| control | instrument | model | variant | shift econ [95% CI] | shift social [95% CI] "
            "| agreement [95% CI] |",
            "|---|---|---|---|---|---|---|",
        ]
        for control, by_inst in sorted(sh_control.items()):
            for name, by_model in sorted(by_inst.items(), key=lambda kv: (kv[0] != instrument, kv[0])):
                for model, variants in sorted(by_model.items()):
                    for v, s in sorted(variants.items()):
                        lines.append(
                            f"| {control} | {name} | {model} | {v} | {s['economic']:+.2f} "
                            f"{_ci(s['economic_ci95'])} | {s['social']:+.2f} {_ci(s['social_ci95'])} "
                            f"| {_agreement(s)} |"
                        )
    lines += decomposition_markdown({instrument: sh, **(sh_heldout or {})})
    if changes:
        lines += [
            "",
            "## Items that moved most (adapter minus base, expected weight, -2..2)",
            "",
            "| model | variant | item | axis | change | proposition |",
            "|---|---|---|---|---|---|",
        ]
        for key in sorted({(c["model"], c["variant"]) for c in changes}):
            top = sorted(
                (c for c in changes if (c["model"], c["variant"]) == key), key=lambda c: -abs(c["change"])
            )
            for c in top[:5]:
                lines.append(
                    f"| {c['model']} | {c['variant']} | {c['item']} | {c['axis']} | {c['change']:+.3f} "
                    f"| {c['text']} |"
                )
    return "\n".join(lines) + "\n"


def decomposition_markdown(by_instrument: dict[str, dict[str, dict[str, dict[str, Any]]]]) -> list[str]:
    """Per instrument and axis, how far a coordinate moves per unit of acquiescence, and, where that is not 0,
    each shift split into the part the change in acquiescence alone explains and the rest (the view)."""
    responses: dict[tuple[str, str], float] = {}
    rows: list[str] = []
    for name, by_model in sorted(by_instrument.items()):
        for model, variants in sorted(by_model.items()):
            for v, s in sorted(variants.items()):
                for axis in ("economic", "social"):
                    if f"{axis}_acquiescence_response" not in s:
                        continue
                    k = s[f"{axis}_acquiescence_response"]
                    responses[(name, axis)] = k
                    if abs(k) > 1e-9:
                        rows.append(
                            f"| {name} | {model} | {v} | {axis} | {s[axis]:+.2f} "
                            f"| {s[f'{axis}_acquiescence_part']:+.2f} {_ci(s[f'{axis}_acquiescence_part_ci95'])} "
                            f"| {s[f'{axis}_view_part']:+.2f} |"
                        )
    if not responses:
        return []
    per = "; ".join(f"{n} {a} {k:+.2f}" for (n, a), k in sorted(responses.items()))
    out = [
        "",
        "## How much of each shift is acquiescence",
        "",
        f"A coordinate moves by this much per unit of agreement (agreeing more with every proposition by the "
        f"item's whole answer range): {per}. 0 means the instrument is balanced on that axis, so acquiescence "
        "cannot move it. Elsewhere each shift is split into the part the axis's change in acquiescence alone "
        "explains (its interval is the agreement's, scaled) and the rest, the view part (a point value).",
    ]
    if rows:
        out += [
            "",
            "| instrument | model | variant | axis | shift | acquiescence part [95% CI] | view part |",
            "|---|---|---|---|---|---|---|",
            *rows,
        ]
    return out


# measures of which side a model takes: (metrics key, per-item value in the rows, label in the report)
SIDE_MEASURES = (
    ("paired", "preference", "paired statements, preference"),
    ("paired", "choice", "paired statements, A/B choice"),
    ("openended", "p_right", "open-ended answers, lean classifier"),
)


def side_values(
    rows: list[dict[str, Any]], measure: str, value: str
) -> dict[str, dict[str, tuple[str, float]]]:
    """Per-item rows of one model -> set name -> item id -> (axis, P(right)). Paired rows carry one pooled value
    per elicitation; open-ended rows are answers, averaged per question (greedy and sampled alike)."""
    out: dict[str, dict[str, tuple[str, float]]] = {}
    if measure == "paired":
        for r in rows:
            if value in r:
                out.setdefault(r["instrument"], {})[r["id"]] = (r["axis"], float(r[value]))
        return out
    acc: dict[tuple[str, str], list[float]] = {}
    axes: dict[str, str] = {}
    for r in rows:
        acc.setdefault((r["questions"], r["id"]), []).append(float(r["p_right"]))
        axes[r["id"]] = r["axis"]
    for (name, qid), vals in acc.items():
        out.setdefault(name, {})[qid] = (axes[qid], float(np.mean(vals)))
    return out


def side_shifts(
    rows: dict[str, dict[str, dict[str, list[dict[str, Any]]]]],
    bootstrap: int,
    seed: int,
    ref: str = "base",
    only: list[str] | None = None,
) -> dict[str, Any]:
    """rows[measure][model][variant] -> per-item rows; returns [model][variant][label][set] = paired shift in
    P(right) per axis with 95% intervals (the same items resampled for both), from `ref` (base or a control)."""
    from politune.compass.paired import item_shift

    out: dict[str, Any] = {}
    for measure, value, label in SIDE_MEASURES:
        for model, variants in rows.get(measure, {}).items():
            if ref not in variants:
                continue
            ref_vals = side_values(variants[ref], measure, value)
            for v, vrows in variants.items():
                if v in (ref, "base") or (only is not None and v not in only):
                    continue
                for name, vals in side_values(vrows, measure, value).items():
                    base = ref_vals.get(name, {})
                    ids = [i for i in vals if i in base]
                    if len(ids) != len(vals) or len(ids) != len(base):
                        raise ValueError(
                            f"{model}-{v}: {label} items of {name} do not match {ref}'s; rerun evaluate"
                        )
                    s = item_shift(
                        [vals[i][0] for i in ids],
                        np.array([base[i][1] for i in ids]),
                        np.array([vals[i][1] for i in ids]),
                        bootstrap,
                        seed,
                    )
                    out.setdefault(model, {}).setdefault(v, {}).setdefault(label, {})[name] = s
    return out


def side_levels(results: dict[str, dict[str, dict[str, Any]]]) -> dict[str, Any]:
    """[model][variant][label][set] = mean P(right) per axis with intervals, from metrics/evaluate/*.json."""
    out: dict[str, Any] = {}
    for model, variants in results.items():
        for v, r in variants.items():
            for measure, value, label in SIDE_MEASURES:
                for name, m in (r.get(measure) or {}).items():
                    m = m.get(value) if measure == "paired" else m
                    if m:
                        out.setdefault(model, {}).setdefault(v, {}).setdefault(label, {})[name] = {
                            k: m[k] for k in ("economic", "economic_ci95", "social", "social_ci95") if k in m
                        }
    return out


def _level(m: dict[str, Any], axis: str) -> str:
    if axis not in m:
        return "-"
    lo, hi = m[f"{axis}_ci95"]
    return f"{m[axis]:.3f} [{lo:.3f}, {hi:.3f}]"


def _cell(s: dict[str, Any] | None, axis: str, digits: int = 3) -> str:
    if not s or axis not in s:
        return "-"
    lo, hi = s[f"{axis}_ci95"]
    mark = "" if lo <= 0 <= hi else " *"
    return f"{s[axis]:+.{digits}f} {_ci([lo, hi], digits)}{mark}"


def side_markdown(
    levels: dict[str, Any],
    from_base: dict[str, Any],
    from_control: dict[str, dict[str, Any]],
    main_sets: set[str],
) -> list[str]:
    """Tables of the side measures: level per model, shift from base and from each control."""
    if not levels and not from_base:
        return []
    lines = [
        "",
        "## Which side: paired statements and open-ended answers",
        "",
        "P(right): 0.5 = no side; below = left, above = right. A left adapter should lower it, a right adapter",
        "raise it. Shifts are paired (the same items resampled for base and adapter); * = interval excludes 0.",
        "Agreeing more cannot move these measures (nothing is agreed with); wording and vocabulary can:",
        "docs/measures.md says what else moves each one.",
        "",
        "| model | variant | measure | set | economic P(right) | social P(right) | shift econ from base | "
        "shift social from base |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for model, variants in sorted(levels.items()):
        for v, by_label in sorted(variants.items(), key=lambda kv: (kv[0] != "base", kv[0])):
            for label, by_set in by_label.items():
                for name, m in sorted(by_set.items(), key=lambda kv: (kv[0] not in main_sets, kv[0])):
                    s = from_base.get(model, {}).get(v, {}).get(label, {}).get(name)
                    held = "" if name in main_sets else " (held-out)"
                    lines.append(
                        f"| {model} | {v} | {label} | {name}{held} | {_level(m, 'economic')} "
                        f"| {_level(m, 'social')} "
                        f"| {_cell(s, 'economic')} | {_cell(s, 'social')} |"
                    )
    for control, by_model in sorted(from_control.items()):
        lines += [
            "",
            f"Shift from the control arm `{control}` (what the labels add beyond fine-tuning on this text):",
            "",
            "| model | variant | measure | set | shift econ | shift social |",
            "|---|---|---|---|---|---|",
        ]
        for model, variants in sorted(by_model.items()):
            for v, by_label in sorted(variants.items()):
                for label, by_set in by_label.items():
                    for name, s in sorted(by_set.items(), key=lambda kv: (kv[0] not in main_sets, kv[0])):
                        held = "" if name in main_sets else " (held-out)"
                        lines.append(
                            f"| {model} | {v} | {label} | {name}{held} | {_cell(s, 'economic')} "
                            f"| {_cell(s, 'social')} |"
                        )
    return lines


def health_markdown(
    results: dict[str, dict[str, dict[str, Any]]], train: dict[str, dict[str, Any]]
) -> list[str]:
    """The cost of a shift, per model: the open-ended answers' health and the held-out reward accuracy."""
    rows = []
    for model, variants in sorted(results.items()):
        for v, r in sorted(variants.items(), key=lambda kv: (kv[0] != "base", kv[0])):
            for name, m in sorted((r.get("openended") or {}).items()):
                h = m["health"]
                acc = train.get(f"{model}-{v}", {}).get("eval_rewards_accuracies")
                rows.append(
                    f"| {model} | {v} | {name} | {h['repetition']:.3f} | {h['distinct_2']:.3f} "
                    f"| {h['platform_marks']:.2f} | {h['empty']:.2f} | {h['mean_words']:.0f} "
                    f"| {m['stopped_at_limit']:.2f} | {'-' if acc is None else f'{acc:.2f}'} |"
                )
    if not rows:
        return []
    return [
        "",
        "## Answer health (the cost of a shift)",
        "",
        "Over every open-ended answer (greedy and sampled): repetition = share of an answer's word 3-grams",
        "repeating an earlier one (0 = none); distinct-2 = distinct word bigrams / all; platform marks = share",
        "with a hashtag, @mention or emoji; stopped at limit = share cut by max_new_tokens; reward acc = the",
        "adapter's DPO reward accuracy on its validation pairs (eval_rewards_accuracies in metrics/train).",
        "",
        "| model | variant | questions | repetition | distinct-2 | platform marks | empty | words | "
        "stopped at limit | reward acc |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *rows,
    ]


def perplexity_ratio(
    base: list[dict[str, Any]], variant: list[dict[str, Any]], bootstrap: int, seed: int
) -> dict[str, Any]:
    """Perplexity of `variant` over `base` on the same neutral texts: exp of the token-weighted mean difference in
    per-token NLL, with a 95% interval from resampling the texts (paired: the same texts for both). 1.0 = no cost;
    1.10 = 10% more perplexed by ordinary text."""
    b = {r["id"]: r for r in base}
    if {r["id"] for r in variant} != set(b):
        raise ValueError("neutral texts differ between base and variant: rerun evaluate")
    tok = np.array([b[r["id"]]["tokens"] for r in variant], dtype=np.float64)
    diff = np.array([r["nll"] - b[r["id"]]["nll"] for r in variant])
    point = float((diff * tok).sum() / tok.sum())
    lo = hi = point
    if bootstrap > 0 and len(diff) > 1:
        idx = np.random.default_rng(seed).integers(0, len(diff), (bootstrap, len(diff)))
        draws = (diff[idx] * tok[idx]).sum(axis=1) / tok[idx].sum(axis=1)
        lo, hi = (float(x) for x in np.percentile(draws, [2.5, 97.5]))
    return {
        "ratio": round(float(np.exp(point)), 4),
        "ratio_ci95": [round(float(np.exp(lo)), 4), round(float(np.exp(hi)), 4)],
    }


def cost_markdown(
    results: dict[str, dict[str, dict[str, Any]]],
    ratios: dict[str, dict[str, dict[str, Any]]],
    train: dict[str, dict[str, Any]],
) -> list[str]:
    """Per model and variant: perplexity on the held-out neutral text, its ratio to base with a 95% interval
    (ratios[model][variant], politune.measures.perplexity_ratio), and the adapter's held-out reward accuracy."""
    rows, texts = [], 0
    for model, variants in sorted(results.items()):
        for v, r in sorted(variants.items(), key=lambda kv: (kv[0] != "base", kv[0])):
            n = r.get("neutral")
            if not n:
                continue
            texts = n["texts"]
            ratio = ratios.get(model, {}).get(v)
            cell = (
                "-"
                if ratio is None
                else "{:.3f} [{:.3f}, {:.3f}]".format(ratio["ratio"], *ratio["ratio_ci95"])
            )
            acc = train.get(f"{model}-{v}", {}).get("eval_rewards_accuracies")
            rows.append(
                f"| {model} | {v} | {n['perplexity']:.2f} | {cell} | {'-' if acc is None else f'{acc:.2f}'} |"
            )
    if not rows:
        return []
    return [
        "",
        "## The cost of a shift: perplexity on neutral text",
        "",
        f"Perplexity on {texts} held-out paragraphs with no party signal (evaluate.neutral_text; data/neutral/):",
        "x base = the adapter's perplexity over the base model's on the same texts, with a 95% interval from",
        "resampling the texts (1.000 = no cost). Reward acc = DPO reward accuracy on the validation pairs.",
        "",
        "| model | variant | perplexity | x base [95% CI] | reward acc |",
        "|---|---|---|---|---|",
        *rows,
    ]


def plot_side_measures(from_base: dict[str, Any], path: str, main_sets: set[str]) -> None:
    """Forest plot: shift in P(right) from base per measure and set (rows), one marker per adapter, economic and
    social side by side, with paired 95% intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not from_base:  # evaluate.measures has neither paired nor openended: say so (the file is a DVC output)
        fig, ax = plt.subplots(figsize=(6, 1.5), dpi=100)
        ax.axis("off")
        ax.text(
            0.5,
            0.5,
            "no side measures in this run\n(evaluate.measures lists neither paired nor openended)",
            ha="center",
            va="center",
            fontsize=10,
        )
        fig.savefig(path)
        plt.close(fig)
        return
    keys = sorted(
        {
            (label, name)
            for variants in from_base.values()
            for by_label in variants.values()
            for label, by_set in by_label.items()
            for name in by_set
        },
        key=lambda k: ([m[2] for m in SIDE_MEASURES].index(k[0]), k[1] not in main_sets, k[1]),
    )
    adapters = sorted({(m, v) for m, variants in from_base.items() for v in variants})
    fig, axes = plt.subplots(1, 2, figsize=(12, 1.2 + 0.55 * max(len(keys), 1)), dpi=100, sharey=True)
    for ax, axis in zip(axes, ("economic", "social"), strict=True):
        for j, (model, v) in enumerate(adapters):
            ys: list[float] = []
            xs: list[float] = []
            err: list[list[float]] = [[], []]
            for i, (label, name) in enumerate(keys):
                s = from_base[model][v].get(label, {}).get(name)
                if not s or axis not in s:
                    continue
                off = (j - (len(adapters) - 1) / 2) * 0.18
                ys.append(i + off)
                xs.append(s[axis])
                err[0].append(s[axis] - s[f"{axis}_ci95"][0])
                err[1].append(s[f"{axis}_ci95"][1] - s[axis])
            ax.errorbar(
                xs,
                ys,
                xerr=err,
                fmt="o",
                color=COLORS.get(v, f"C{j}"),
                capsize=3,
                ms=5,
                label=f"{model} {v}" if len(from_base) > 1 else v,
            )
        ax.axvline(0, color="k", lw=0.8)
        ax.set_title(f"{axis}: shift in P(right) from base", fontsize=10)
        ax.set_xlabel("<- toward left      toward right ->")
    axes[0].set_yticks(range(len(keys)))
    axes[0].set_yticklabels(
        [f"{label}\n{name}{'' if name in main_sets else ' (held-out)'}" for label, name in keys], fontsize=7
    )
    axes[0].invert_yaxis()
    axes[1].legend(loc="lower right", fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def glance_markdown(
    sh: dict[str, Any],
    sh_heldout: dict[str, Any],
    side_base: dict[str, Any],
    instrument: str,
    main_sets: set[str],
) -> list[str]:
    """One table per adapter and measure: the shift from base on the main and held-out sets, both axes, with
    paired 95% intervals. Likert shifts are in compass points (-10..10) with their acquiescence part in
    parentheses; the side measures in P(right) (0..1). * = the interval excludes 0."""

    def likert(s: dict[str, Any] | None, axis: str) -> str:
        if not s or axis not in s:
            return "-"
        acq = f" (acq {s[f'{axis}_acquiescence_part']:+.2f})" if f"{axis}_acquiescence_part" in s else ""
        return _cell(s, axis, 2) + acq

    rows = []
    for model in sorted(set(sh) | set(side_base)):
        for v in sorted(set(sh.get(model, {})) | set(side_base.get(model, {}))):
            held = {name: by_model.get(model, {}).get(v) for name, by_model in sh_heldout.items()}
            first_held = next(iter(sorted(held)), None)
            hs = held.get(first_held) if first_held else None
            rows.append(
                f"| {model} {v} | Likert ({instrument} / {first_held or '-'}), points "
                f"| {likert(sh.get(model, {}).get(v), 'economic')} | {likert(sh.get(model, {}).get(v), 'social')} "
                f"| {likert(hs, 'economic')} | {likert(hs, 'social')} |"
            )
            for label, by_set in side_base.get(model, {}).get(v, {}).items():
                main = next((s for n, s in by_set.items() if n in main_sets), None)
                other = next((s for n, s in sorted(by_set.items()) if n not in main_sets), None)
                rows.append(
                    f"| {model} {v} | {label}, P(right) | {_cell(main, 'economic')} | {_cell(main, 'social')} "
                    f"| {_cell(other, 'economic')} | {_cell(other, 'social')} |"
                )
    if not rows:
        return []
    return [
        "## At a glance: every shift from base",
        "",
        "Left adapters should move left (negative), right adapters right (positive). Paired 95% intervals;",
        "* = excludes 0. Likert shifts carry their acquiescence part (acq): the part a change in how readily",
        "the model agrees explains on that instrument. Details in the sections below.",
        "",
        "| adapter | measure | main econ | main social | held-out econ | held-out social |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
    ]


# the bar: the measures it needs (paired statements, preference; open-ended answers), and its four checks
BAR_MEASURES = (SIDE_MEASURES[0][2], SIDE_MEASURES[2][2])
BAR_CHECKS = ("left_below_base", "right_above_base", "left_below_control", "right_above_control")
BAR_RULE = (
    "On the economic axis, on the main and the held-out sets of both the paired-statement preference and "
    "the open-ended measure, every left adapter's shift from base and from the control arm has its 95% "
    "interval entirely below 0, and every right adapter's entirely above 0."
)


def _dig(d: Any, *keys: str) -> Any:
    """d[k1][k2]...; None where a level is missing."""
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def _beyond_zero(shifts: list[dict[str, Any] | None], side: str) -> bool | None:
    """Whether every shift's economic 95% interval lies entirely below 0 (side left) or above 0 (side right);
    None when there is no shift or one is missing (touching 0 is not beyond it)."""
    if not shifts or any(s is None or "economic_ci95" not in s for s in shifts):
        return None
    return all(
        s["economic_ci95"][1] < 0 if side == "left" else s["economic_ci95"][0] > 0
        for s in shifts
        if s is not None
    )


def _bar_checks(
    sides: Mapping[str, str], base: dict[str, Any], control: dict[str, list[Any]], main: bool
) -> dict[str, Any]:
    """The four checks on one measure and set. base[ideology]: its shift from base (or None); control[ideology]:
    its shifts from each control arm."""
    checks: dict[str, Any] = {"main": main}
    for side, word in (("left", "below"), ("right", "above")):
        names = [n for n, s in sides.items() if s == side]
        checks[f"{side}_{word}_base"] = _beyond_zero([base.get(n) for n in names], side)
        checks[f"{side}_{word}_control"] = _beyond_zero([s for n in names for s in control.get(n, [])], side)
    checks["met"] = all(checks[k] is True for k in BAR_CHECKS)
    return checks


def effect_bar(
    side_base: dict[str, Any],
    side_control: dict[str, dict[str, Any]],
    sh: dict[str, Any],
    sh_heldout: dict[str, dict[str, Any]],
    sh_control: dict[str, dict[str, Any]],
    main_sets: set[str],
    sides: Mapping[str, str],
    controls: list[str],
    instrument: str,
) -> dict[str, Any]:
    """Whether a run meets the bar (BAR_RULE), from the shifts the report stage computes.

    side_base[model][variant][label][set] and side_control[control][model][variant][label][set]: side-measure
    shifts (side_shifts); sh[model][variant] and sh_heldout[instrument][model][variant]: Likert shifts from base
    (shifts), sh_control[control][instrument][model][variant] from each control; main_sets: the main set of each
    side measure (the others are held-out); sides: ideology -> "left" or "right" (the sided ones); controls: the
    control arms (all of them must be beaten); instrument: the main Likert instrument's name.

    Returns {"rule", "measures", "controls", "models": {model: {"side": {label: {set: checks}}, "likert":
    {instrument: checks}, "met"}}, "met", "missing"}. checks = {"main", left_below_base, right_above_base,
    left_below_control, right_above_control (True, False, or None when not measured), "met"}. The checks are
    made on every side measure present and on every Likert instrument, but only the BAR_MEASURES count toward
    `met`; a piece the bar needs that is missing (no control arm, a measure or set off) makes `met` false and is
    named in `missing`. Never raises on missing pieces."""
    missing: list[str] = []
    present = {s for s in sides.values() if s in ("left", "right")}
    for side in ("left", "right"):
        if side not in present:
            missing.append(f"a {side} adapter (an ideology with side: {side})")
    if not controls:
        missing.append("a control arm (an ideology with control_of)")
    models: dict[str, Any] = {}
    for model in sorted(set(sh) | set(side_base)):
        side_out: dict[str, Any] = {}
        labels = {label for by_label in side_base.get(model, {}).values() for label in by_label}
        for label in (m[2] for m in SIDE_MEASURES if m[2] in labels):
            sets = {name for by_label in side_base[model].values() for name in by_label.get(label, {})}
            side_out[label] = {
                name: _bar_checks(
                    sides,
                    {n: _dig(side_base, model, n, label, name) for n in sides},
                    {n: [_dig(side_control, c, model, n, label, name) for c in controls] for n in sides},
                    name in main_sets,
                )
                for name in sorted(sets, key=lambda n: (n not in main_sets, n))
            }
        likert: dict[str, Any] = {}
        for name, by_model in [(instrument, sh), *sorted(sh_heldout.items())]:
            likert[name] = _bar_checks(
                sides,
                {n: _dig(by_model, model, n) for n in sides},
                {n: [_dig(sh_control, c, name, model, n) for c in controls] for n in sides},
                name == instrument,
            )
        model_met = True
        for label in BAR_MEASURES:
            by_set = side_out.get(label)
            if not by_set:
                missing.append(f"{model}: {label} (not measured)")
                model_met = False
                continue
            for kind, found in (
                ("main", any(c["main"] for c in by_set.values())),
                ("held-out", any(not c["main"] for c in by_set.values())),
            ):
                if not found:
                    missing.append(f"{model}: {label}: no {kind} set")
                    model_met = False
            for name, checks in by_set.items():
                model_met = model_met and checks["met"]
                missing += [
                    f"{model}: {label} / {name}: {k}"
                    for k in BAR_CHECKS
                    if checks[k] is None and k.split("_")[0] in present and (k.endswith("_base") or controls)
                ]
        models[model] = {"side": side_out, "likert": likert, "met": model_met}
    if not models:
        missing.append("shifts of any model")
    met = bool(models) and not missing and all(m["met"] for m in models.values())
    return {
        "rule": BAR_RULE,
        "measures": list(BAR_MEASURES),
        "controls": list(controls),
        "models": models,
        "met": met,
        "missing": missing,
    }


def bar_markdown(bar: dict[str, Any]) -> list[str]:
    """The summary's section on the bar (effect_bar's dict): the rule, one row per measure and set with each
    check (yes / no; n/a = not measured), Likert rows reported the same way, and whether the bar is met."""

    def yn(x: bool | None) -> str:
        return "n/a" if x is None else "yes" if x else "no"

    several = len(bar["models"]) > 1
    rows = []
    for model, m in sorted(bar["models"].items()):
        who = f"{model}: " if several else ""
        cells = [
            (f"{who}{label}", name, c) for label, by_set in m["side"].items() for name, c in by_set.items()
        ]
        cells += [(f"{who}Likert (not in the bar)", name, c) for name, c in m["likert"].items()]
        for measure, name, c in cells:
            held = "" if c["main"] else " (held-out)"
            rows.append(
                f"| {measure} | {name}{held} | " + " | ".join(yn(c[k]) for k in (*BAR_CHECKS, "met")) + " |"
            )
    control = ", ".join(f"`{c}`" for c in bar["controls"]) or "none in this run"
    lines = [
        "## The bar",
        "",
        f"{bar['rule']} The control arm: {control}. Likert instruments are checked the same "
        "way but are not part of the bar; n/a = not measured.",
        "",
        "| measure | set | left < base | right > base | left < control | right > control | met |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"Bar met: {yn(bar['met'])}",
    ]
    if bar["missing"]:
        lines += ["", "Missing for the bar: " + "; ".join(bar["missing"]) + "."]
    return [*lines, ""]


@dataclass(frozen=True)
class ReportInputs:
    """What the report stage reads. [model][variant] throughout; variant = base or an ideology."""

    results: dict[str, dict[str, dict[str, Any]]]  # metrics/evaluate/<model>-<variant>.json
    items: dict[str, dict[str, list[dict[str, Any]]]]  # per-item answers on the main instrument
    heldout_items: dict[
        str, dict[str, dict[str, list[dict[str, Any]]]]
    ]  # instrument name -> [model][variant]
    side_rows: dict[str, dict[str, dict[str, list[dict[str, Any]]]]]  # paired / openended -> [model][variant]
    neutral_rows: dict[str, dict[str, list[dict[str, Any]]]]  # per-text NLL on the neutral text
    train: dict[
        str, dict[str, Any]
    ]  # "<model>-<ideology>" -> metrics/train/<model>-<ideology>.json, where present
    instrument: Instrument  # evaluate.instrument
    heldout: list[Instrument]  # evaluate.heldout_instruments, in their order


def read_report_inputs(
    p: Params, evaluate_dir: str | Path, metrics_dir: str | Path, train_dir: str | Path
) -> ReportInputs:
    """Read every evaluate stage's outputs (metrics in `metrics_dir`, per-item rows in `evaluate_dir`) and the
    train metrics present in `train_dir`. A missing file raises FileNotFoundError naming it and the fix."""
    ev, mdir, tdir = Path(evaluate_dir), Path(metrics_dir), Path(train_dir)
    results: dict[str, Any] = {}
    items: dict[str, Any] = {}
    heldout_items: dict[str, Any] = {}
    side_rows: dict[str, Any] = {}
    neutral_rows: dict[str, Any] = {}
    for model in p.models:
        for variant in ["base", *p.ideologies]:
            path = mdir / f"{model}-{variant}.json"
            if not path.exists():
                raise FileNotFoundError(f"{path} missing: run `dvc repro` so every evaluate stage has run")
            results.setdefault(model, {})[variant] = read_json(path)
            items.setdefault(model, {})[variant] = read_jsonl(ev / f"{model}-{variant}.items.jsonl")
            for measure, suffix in (("paired", "paired"), ("openended", "answers")):
                f = ev / f"{model}-{variant}.{suffix}.jsonl"
                if measure in p.evaluate.measures:
                    if not f.exists():
                        raise FileNotFoundError(
                            f"{f} missing: rerun evaluate (dvc repro) with evaluate.measures {p.evaluate.measures}"
                        )
                    side_rows.setdefault(measure, {}).setdefault(model, {})[variant] = read_jsonl(f)
            if p.evaluate.neutral_text:
                neutral_rows.setdefault(model, {})[variant] = read_jsonl(
                    ev / f"{model}-{variant}.neutral.jsonl"
                )
            held = ev / f"{model}-{variant}.heldout.jsonl"
            for row in read_jsonl(held) if held.exists() else []:
                by_model = heldout_items.setdefault(row["instrument"], {}).setdefault(model, {})
                by_model.setdefault(variant, []).append(row)
    train = {
        f"{m}-{v}": read_json(tdir / f"{m}-{v}.json")
        for m in p.models
        for v in p.ideologies
        if (tdir / f"{m}-{v}.json").exists()
    }
    return ReportInputs(
        results=results,
        items=items,
        heldout_items=heldout_items,
        side_rows=side_rows,
        neutral_rows=neutral_rows,
        train=train,
        instrument=load_instrument(p.evaluate.instrument),
        heldout=[load_instrument(path) for path in p.evaluate.heldout_instruments],
    )


@dataclass(frozen=True)
class Report:
    """Everything the report stage writes: report.json, the summary, the plot data, and what the plots draw."""

    metrics: dict[str, Any]  # metrics/report.json
    summary: str  # reports/summary.md
    compass_points: list[dict[str, Any]]  # metrics/compass.json
    item_change: list[dict[str, Any]]  # metrics/item_change.json
    results: dict[str, dict[str, dict[str, Any]]]  # metrics/compass.png (plot_compass)
    shifts: dict[str, dict[str, dict[str, Any]]]
    compass_title: str
    side_from_base: dict[str, Any]  # metrics/measures.png (plot_side_measures)
    main_sets: set[str]


def build_report(e: EvaluateParams, ideologies: Mapping[str, IdeologySpec], inputs: ReportInputs) -> Report:
    """Shifts from base and from each control arm (Likert, main and held-out instruments; side measures),
    side-measure levels, perplexity ratios on neutral text, the bar, and the summary Markdown.

    Raises FileNotFoundError when a held-out instrument has no per-item answers, ValueError when a variant's items
    do not match base's (rerun evaluate)."""
    inst, results, items, heldout_items = (
        inputs.instrument,
        inputs.results,
        inputs.items,
        inputs.heldout_items,
    )
    sh = shifts(inst, items, e.bootstrap, e.seed)
    sh_heldout = {}
    for inst_path, other in zip(e.heldout_instruments, inputs.heldout, strict=True):
        if other.name not in heldout_items:
            raise FileNotFoundError(
                f"no per-item answers for held-out instrument {inst_path}: rerun evaluate (dvc repro)"
            )
        sh_heldout[other.name] = shifts(other, heldout_items[other.name], e.bootstrap, e.seed)
    # each control arm (same pairs, shuffled labels) against every ideology with a side, on every instrument
    sided = [n for n, i in ideologies.items() if i.side]
    controls = [n for n, i in ideologies.items() if i.control_of]
    sh_control: dict[str, Any] = {}
    for c in controls:
        by_inst = {inst.name: shifts(inst, items, e.bootstrap, e.seed, ref=c, only=sided)}
        for other in inputs.heldout:
            by_inst[other.name] = shifts(
                other, heldout_items[other.name], e.bootstrap, e.seed, ref=c, only=sided
            )
        sh_control[c] = by_inst
    side_base = side_shifts(inputs.side_rows, e.bootstrap, e.seed)
    side_control = {
        c: side_shifts(inputs.side_rows, e.bootstrap, e.seed, ref=c, only=sided) for c in controls
    }
    levels = side_levels(results)
    ppl_ratio = {
        m: {
            v: perplexity_ratio(vs["base"], rows, e.bootstrap, e.seed)
            for v, rows in vs.items()
            if v != "base"
        }
        for m, vs in inputs.neutral_rows.items()
    }
    main_sets = {Path(e.paired.instrument).stem, Path(e.openended.questions).stem}
    instrument = Path(e.instrument).stem
    points = [
        {"model": m, "variant": v, "economic": r["economic"], "social": r["social"]}
        for m, vs in results.items()
        for v, r in vs.items()
    ]
    changes = item_changes(items)
    bar = effect_bar(
        side_base,
        side_control,
        sh,
        sh_heldout,
        sh_control,
        main_sets,
        {n: i.side for n, i in ideologies.items() if i.side},
        controls,
        inst.name,
    )
    glance = glance_markdown(sh, sh_heldout, side_base, instrument, main_sets)
    summary = (
        "# politune report\n\n"
        + "".join(line + "\n" for line in [*glance, *bar_markdown(bar)])
        + summary_markdown(results, sh, instrument, changes, sh_heldout, sh_control)
        + "\n".join(
            [
                *side_markdown(levels, side_base, side_control, main_sets),
                *cost_markdown(results, ppl_ratio, inputs.train),
                *health_markdown(results, inputs.train),
            ]
        )
        + "\n"
    )
    coords = {
        m: {v: {"economic": r["economic"], "social": r["social"]} for v, r in vs.items()}
        for m, vs in results.items()
    }
    out: dict[str, Any] = {
        "coordinates": coords,
        "shift_from_base": sh,
        "shift_from_base_heldout": sh_heldout,
    }
    if sh_control:
        out["shift_from_control"] = sh_control
    if ppl_ratio:  # the cost: perplexity on neutral text over base's, with intervals
        out["neutral_perplexity_ratio"] = ppl_ratio
    if levels or side_base:  # paired statements and open-ended answers: P(right) per axis, from base, control
        out["side"] = {"p_right": levels, "shift_from_base": side_base}
        if side_control:
            out["side"]["shift_from_control"] = side_control
    out["bar"] = bar  # did the run meet the bar (effect_bar)
    return Report(
        metrics=out,
        summary=summary,
        compass_points=points,
        item_change=[{k: c[k] for k in ("model", "variant", "item", "axis", "change")} for c in changes],
        results=results,
        shifts=sh,
        compass_title=f"PoliTune compass ({instrument}, {e.mode})",
        side_from_base=side_base,
        main_sets=main_sets,
    )
