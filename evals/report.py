"""The report of an evaluation run: ``results.json`` (per case, per variant, per repetition, every
metric), ``report.md`` (means with 95% CIs, paired tests, where the variants disagree, token
efficiency against the raw payloads) and ``chart.png``."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from .evaluators import BINARY, CONTINUOUS
from .stats import Comparison, Estimate, adjust, mcnemar, mean, proportion, wilcoxon

Rows = list[dict[str, Any]]  # {case, variant, repetition, split, metrics: {...}, answer}


def per_case(rows: Rows, variant: str, metric: str) -> dict[str, float]:
    """The metric of each case for one variant, averaged over repetitions (cases without it left out)."""
    values: dict[str, list[float]] = {}
    for row in rows:
        value = row["metrics"].get(metric)
        if row["variant"] == variant and value is not None:
            values.setdefault(row["case"], []).append(float(value))
    return {case: sum(v) / len(v) for case, v in values.items()}


def summarise(rows: Rows, variants: list[str]) -> dict[str, Any]:
    summary: dict[str, Any] = {"metrics": {}, "comparisons": [], "disagreements": []}
    for metric in BINARY + CONTINUOUS:
        summary["metrics"][metric] = {}
        for variant in variants:
            values = list(per_case(rows, variant, metric).values())
            bounds = (0.0, 1.0) if metric == "fact_recall" else (0.0, math.inf)
            estimate = proportion(values) if metric in BINARY else mean(values, bounds)
            summary["metrics"][metric][variant] = estimate.__dict__
    if len(variants) >= 2:
        a, b = variants[0], variants[1]
        compared = []
        for metric in BINARY + CONTINUOUS:
            left, right = per_case(rows, a, metric), per_case(rows, b, metric)
            cases = sorted(set(left) & set(right))
            if not cases:
                continue
            xs, ys = [left[c] for c in cases], [right[c] for c in cases]
            test = mcnemar if metric in BINARY else wilcoxon
            compared.append(test(xs, ys, metric))
        summary["comparisons"] = [c.__dict__ for c in adjust(compared)]  # Holm across the metrics
        left, right = per_case(rows, a, "pass"), per_case(rows, b, "pass")
        summary["disagreements"] = sorted(c for c in set(left) & set(right) if left[c] != right[c])
    return summary


def _ci(estimate: dict[str, Any], percent: bool) -> str:
    if estimate["n"] == 0 or math.isnan(estimate["mean"]):
        return "—"
    scale, unit, places = (100, "%", 1) if percent else (1, "", 3)
    mean, low, high = (estimate[k] * scale for k in ("mean", "low", "high"))
    return f"{mean:.{places}f}{unit} [{low:.{places}f}, {high:.{places}f}] (n={estimate['n']})"


def p_text(p: float) -> str:
    """A p-value with three decimals (never printed as 0.000)."""
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def markdown(dataset: str, variants: list[str], rows: Rows, summary: dict[str, Any], repetitions: int) -> str:
    lines = [
        f"# Evaluation: {dataset}",
        "",
        f"Variants: {', '.join(variants)}; {len({r['case'] for r in rows})} cases × {repetitions} repetition(s).",
        "Means with 95% confidence intervals (Wilson for pass/fail, t for continuous); tokens are estimates",
        "(characters / 4; no offline tokenizer for the model is installable here).",
        "",
        "| metric | " + " | ".join(variants) + " |",
        "|---|" + "---|" * len(variants),
    ]
    for metric, by_variant in summary["metrics"].items():
        cells = [_ci(by_variant[v], metric in BINARY) for v in variants]
        lines.append(f"| {metric} | " + " | ".join(cells) + " |")
    if summary["comparisons"]:
        a, b = variants[0], variants[1]
        lines += ["", f"## {b} against {a} (paired, same cases)", ""]
        lines += [
            f"{len(summary['comparisons'])} metrics are compared at once: significance is judged on Holm-adjusted p.",
            "",
            "| metric | test | A | B | B − A | p | p (Holm) | significant (α = 0.05) |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for c in (Comparison(**d) for d in summary["comparisons"]):
            verdict = "**yes**" if c.significant else "no"
            lines.append(
                f"| {c.metric} | {c.test} | {c.a:.3f} | {c.b:.3f} | {c.difference:+.3f} | {p_text(c.p_value)}"
                f" | {p_text(c.p_adjusted if c.p_adjusted is not None else c.p_value)} | {verdict} ({c.detail}) |"
            )
        significant = [c["metric"] for c in summary["comparisons"] if c["significant"]]
        lines += [
            "",
            f"Significant differences: {', '.join(significant)}."
            if significant
            else "No difference is significant at α = 0.05.",
        ]
        lines += ["", "### Cases where the variants disagree on pass", ""]
        lines += [f"- {case}" for case in summary["disagreements"]] or ["- none"]
    lines += ["", "## Token efficiency", ""]
    lines += [
        "| variant | raw payload tokens | context tokens | context / raw | tokens sent per turn | sent / raw "
        "| fact recall |",
        "|---|---|---|---|---|---|---|",
    ]
    for variant in variants:
        metrics = summary["metrics"]
        sent, raw = metrics["tokens_sent"][variant]["mean"], metrics["tokens_raw"][variant]["mean"]
        context = metrics.get("tokens_context", {}).get(variant, {}).get("mean", math.nan)
        recall = metrics["fact_recall"][variant]["mean"]
        lines.append(
            f"| {variant} | {raw:.0f} | {context:.0f} | {context / raw if raw else math.nan:.2f} | {sent:.0f} "
            f"| {sent / raw if raw else math.nan:.2f} | {recall:.3f} |"
        )
    lines += ["", "Raw payload tokens: everything the scheduler and stores returned in the turn (their JSON and"]
    lines += ["log text as received), before the tools compacted it and before ranking."]
    lines += ["Context tokens: the gathered items the model received after ranking and the relevance cut."]
    lines += ["Tokens sent: the whole input of every model call of the turn (prompt, context, facts, history)."]
    return "\n".join(lines) + "\n"


def chart(path: Path, variants: list[str], summary: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = [*BINARY, "fact_recall"]
    figure, axis = plt.subplots(figsize=(9, 4))
    width = 0.8 / max(len(variants), 1)
    for index, variant in enumerate(variants):
        estimates = [Estimate(**summary["metrics"][m][variant]) for m in metrics]
        centres = [0.0 if math.isnan(e.mean) else e.mean for e in estimates]
        errors = [
            [max(0.0, c - (e.low if not math.isnan(e.low) else c)) for c, e in zip(centres, estimates, strict=True)],
            [max(0.0, (e.high if not math.isnan(e.high) else c) - c) for c, e in zip(centres, estimates, strict=True)],
        ]
        positions = [i + index * width for i in range(len(metrics))]
        axis.bar(positions, centres, width, yerr=errors, capsize=3, label=variant)
    axis.set_xticks([i + width * (len(variants) - 1) / 2 for i in range(len(metrics))], metrics)
    axis.set_ylim(0, 1.05)
    axis.set_ylabel("share / mean (95% CI)")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def write(
    out: Path, dataset: str, variants: list[str], rows: Rows, repetitions: int, models: dict[str, str] | None = None
) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    summary = summarise(rows, variants)
    results = {
        "dataset": dataset,
        "variants": variants,
        "models": models or {},
        "repetitions": repetitions,
        "summary": summary,
        "rows": rows,
    }
    (out / "results.json").write_text(json.dumps(results, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
    text = markdown(dataset, variants, rows, summary, repetitions)
    if models:  # which model answered each variant's runs
        named = "; ".join(f"{name}: {label}" for name, label in models.items())
        text = text.replace(" repetition(s).\n", f" repetition(s).\nModels: {named}.\n", 1)
    (out / "report.md").write_text(text, encoding="utf-8")
    chart(out / "chart.png", variants, summary)
    return out / "report.md"
