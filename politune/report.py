"""Report: the compass plot (base and each ideology per model, with 95% intervals), shifts from base,
and a short Markdown summary."""

from __future__ import annotations

from typing import Any

COLORS = {"base": "#444444", "left": "#1f5fbf", "right": "#c8302c"}
MARKERS = ["o", "s", "^", "D", "v", "P"]


def shifts(results: dict[str, dict[str, dict[str, Any]]]) -> dict[str, dict[str, dict[str, float]]]:
    """results[model][variant] -> {economic, social, ...}; shift of each non-base variant from base."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for model, variants in results.items():
        base = variants.get("base")
        if base is None:
            continue
        out[model] = {
            v: {"economic": round(r["economic"] - base["economic"], 4), "social": round(r["social"] - base["social"], 4)}
            for v, r in variants.items() if v != "base"
        }
    return out


def plot_compass(results: dict[str, dict[str, dict[str, Any]]], path: str, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 6.4), dpi=110)
    lim = 10
    for (x0, y0), color in (((0, 0), "#f4c7c3"), ((-lim, 0), "#c9daf8"), ((-lim, -lim), "#d9ead3"), ((0, -lim), "#fff2cc")):
        ax.add_patch(plt.Rectangle((x0, y0), lim, lim, color=color, alpha=0.45, lw=0))
    ax.axhline(0, color="k", lw=0.8)
    ax.axvline(0, color="k", lw=0.8)
    for mi, (model, variants) in enumerate(sorted(results.items())):
        marker = MARKERS[mi % len(MARKERS)]
        base = variants.get("base")
        for v, r in sorted(variants.items()):
            x, y = r["economic"], r["social"]
            xe = [[x - r["economic_ci95"][0]], [r["economic_ci95"][1] - x]]
            ye = [[y - r["social_ci95"][0]], [r["social_ci95"][1] - y]]
            color = COLORS.get(v, f"C{mi}")
            ax.errorbar(x, y, xerr=xe, yerr=ye, fmt=marker, color=color, ms=8, capsize=3, lw=1,
                        label=f"{model} {v}")
            if base is not None and v != "base":
                ax.annotate("", xy=(x, y), xytext=(base["economic"], base["social"]),
                            arrowprops={"arrowstyle": "->", "color": color, "lw": 1.2})
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_xlabel("economic: left  <-  ->  right")
    ax.set_ylabel("social: libertarian  <-  ->  authoritarian")
    ax.set_title(title, fontsize=10)
    ax.legend(loc="lower right", fontsize=7)
    ax.set_aspect("equal")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def summary_markdown(results: dict[str, dict[str, dict[str, Any]]], instrument: str) -> str:
    lines = [f"# Political compass ({instrument})", "",
             "| model | variant | economic | 95% CI | social | 95% CI | shift econ | shift social |",
             "|---|---|---|---|---|---|---|---|"]
    sh = shifts(results)
    for model, variants in sorted(results.items()):
        for v, r in sorted(variants.items(), key=lambda kv: (kv[0] != "base", kv[0])):
            s = sh.get(model, {}).get(v, {})
            lines.append(
                f"| {model} | {v} | {r['economic']:+.2f} | [{r['economic_ci95'][0]:+.2f}, {r['economic_ci95'][1]:+.2f}] "
                f"| {r['social']:+.2f} | [{r['social_ci95'][0]:+.2f}, {r['social_ci95'][1]:+.2f}] "
                f"| {s.get('economic', 0):+.2f} | {s.get('social', 0):+.2f} |"
            )
    lines += ["", "Intervals resample the instrument's items (bootstrap); they say how much the coordinate",
              "depends on which propositions were asked, not how the model would answer other wordings."]
    return "\n".join(lines) + "\n"
