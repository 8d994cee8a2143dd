"""What ``cssim calibrate`` writes and prints: the calibrated scenario as a commented YAML (every
fitted value with its estimate, 95% CI and sample size), the fit table, and charts next to the
YAML (arrival profile; patience Kaplan-Meier with the fitted curves; reply times per pool).
Every file is written atomically."""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from cssim.calibrate.estimators import Estimate
from cssim.calibrate.fit import Calibration, _num
from cssim.config import Config, Dist, Shift
from cssim.io import write_atomic, write_csv, write_png


def _scalar(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, float):
        if math.isinf(v):
            return ".inf" if v > 0 else "-.inf"
        return repr(round(v, 6))
    if isinstance(v, int):
        return str(v)
    return json.dumps(str(v), ensure_ascii=False)  # a YAML double-quoted scalar


def _flow(obj) -> str:
    parts = []
    for f in dataclasses.fields(obj):
        v = getattr(obj, f.name)
        if isinstance(obj, Dist) and f.name == "values" and not v:
            continue
        if isinstance(obj, Dist) and f.name == "cv" and obj.dist in ("exponential", "constant"):
            continue
        parts.append(f"{f.name}: {_list(v) if isinstance(v, list) else _scalar(v)}")
    return "{" + ", ".join(parts) + "}"


def _list(v: list, indent: int = 0) -> str:
    items = [_scalar(float(x)) if isinstance(x, (int, float)) and not isinstance(x, bool) else _scalar(x) for x in v]
    line, lines = "[", []
    for i, it in enumerate(items):
        piece = it + (", " if i < len(items) - 1 else "")
        if len(line) + len(piece) > 96 and line.strip() != "[":
            lines.append(line.rstrip())
            line = " " * (indent + 2)
        line += piece
    lines.append(line + "]")
    return "\n".join(lines)


def _emit(obj, comments: dict[str, str], path: str = "", indent: int = 0) -> list[str]:
    out = []
    pad = " " * indent
    for f in dataclasses.fields(obj):
        key = f"{path}{f.name}"
        v = getattr(obj, f.name)
        note = comments.get(key)
        tail = f"   # {note}" if note else ""
        if isinstance(v, Dist):
            out.append(f"{pad}{f.name}: {_flow(v)}{tail}")
        elif dataclasses.is_dataclass(v):
            out.append(f"{pad}{f.name}:{tail}")
            out.extend(_emit(v, comments, key + ".", indent + 2))
        elif isinstance(v, list) and v and isinstance(v[0], Shift):
            out.append(f"{pad}{f.name}:{tail}")
            out.extend(f"{pad}  - {_flow(s)}" for s in v)
        elif isinstance(v, list):
            if note:
                out.append(f"{pad}# {note}")
            out.append(f"{pad}{f.name}: {_list(v, indent + len(f.name) + 1)}")
        else:
            out.append(f"{pad}{f.name}: {_scalar(v)}{tail}")
    return out


def _ci(e: Estimate) -> str:
    return f"95% CI {_num(e.lo)}-{_num(e.hi)}" if np.isfinite(e.lo) else "no CI"


def comments(cal: Calibration) -> dict[str, str]:
    """Scenario key -> 'fitted: estimate (CI), n, method' for every fitted key."""
    out: dict[str, str] = {}
    by_block: dict[str, list[Estimate]] = {}
    for e in cal.estimates:
        key = e.key.replace(" (effective)", "")
        head, _, last = key.rpartition(".")
        if last in ("dist", "mean", "cv") and (head.endswith(("reply_s", "patience", "order_value")) or head == "conversation.think_s"):
            by_block.setdefault(head, []).append(e)
            continue
        if key.startswith("arrivals.weights"):
            out["arrivals.weights"] = f"fitted: mean arrivals per interval over {e.n} day(s); {e.method}"
            continue
        unit = f" {e.unit}" if e.unit and e.unit not in ("share", "") else ""
        out[key] = f"fitted: {_num(e.value)}{unit}, {_ci(e)}, n={e.n:,}; {e.method}" if e.text is None else f"fitted: {e.text}, n={e.n:,}; {e.method}"
    for head, es in by_block.items():
        parts = []
        for e in es:
            last = e.key.rpartition(".")[2]
            if last == "dist":
                parts.append(f"{e.text} ({e.method})")
            elif last == "mean":
                eff = " effective (after speed)" if "effective" in e.key else ""
                parts.append(f"mean{eff} {_num(e.value)} {e.unit} ({_ci(e)})")
            else:
                parts.append(f"cv {_num(e.value)} ({_ci(e)})")
        out[head] = f"fitted: {'; '.join(parts)}; n={es[0].n:,}; {es[-1].method}"
    if "conversation.turns" in out and "conversation.turns_dist" in out:
        out["conversation.turns_dist"] = out["conversation.turns_dist"].split(";")[0]
    return out


def scenario_yaml(cal: Calibration, source: str, base_name: str) -> str:
    """The calibrated scenario as YAML text with a header and per-key comments."""
    cfg = cal.config
    lines = [
        f"# Calibrated by `cssim calibrate` from {source} on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC,",
        f"# starting from the scenario {base_name!r} for what a log cannot tell. Fitted keys carry their",
        "# estimate, 95% confidence interval and sample size; every other key is the base's.",
        "# Kept from the base (a log cannot identify them):",
    ]
    lines += [f"#   {k}: {why}" for k, why in cal.kept]
    lines += [f"# Note: {n}" for n in cal.notes]
    lines += _emit(cfg, comments(cal))
    return "\n".join(lines) + "\n"


def fit_report(cal: Calibration) -> str:
    """The fit table as text, then what was kept and why."""
    t = cal.table().rename(columns={"ci95": "95% CI"})
    lines = ["Fit report (95% confidence intervals; n = observations used)", t.to_string(index=False)]
    lines.append("Kept from the base scenario (not identifiable from a chat log):")
    lines += [f"  {k}: {why}" for k, why in cal.kept]
    lines += [f"  {n}" for n in cal.notes]
    return "\n".join(lines)


def charts(cal: Calibration, stem: Path, interval_min: float) -> list[Path]:
    """Arrival profile, patience curves and reply-time histograms as PNGs beside ``stem``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    counts = cal.counts
    if counts is not None:
        nd, nb = counts.shape
        per_min = counts / interval_min
        mean = per_min.mean(axis=0)
        if nd >= 2:
            from scipy import stats

            hw = stats.t.ppf(0.975, nd - 1) * per_min.std(axis=0, ddof=1) / math.sqrt(nd)
        else:
            hw = 1.96 * np.sqrt(counts[0]) / interval_min
        x = np.arange(nb) * interval_min / 60.0
        fig, ax = plt.subplots(figsize=(9, 3.5))
        ax.step(x, mean, where="post", label=f"mean over {nd} day(s)")
        ax.fill_between(x, np.maximum(mean - hw, 0), mean + hw, step="post", alpha=0.3, label="95% CI")
        ax.set(xlabel="hour of the day (h)", ylabel="arrivals (inquiries/min)", title="Arrival profile per planning interval")
        ax.legend()
        p = stem.with_name(stem.name + ".arrivals.png")
        write_png(p, fig)
        plt.close(fig)
        paths.append(p)
    if cal.patience_km is not None:
        km = cal.patience_km
        fig, ax = plt.subplots(figsize=(7, 4))
        sf = km.survival_function_.iloc[:, 0]
        ci = km.confidence_interval_
        tmax = float(np.quantile(cal.patience_data[0][cal.patience_data[1]], 0.99))
        keep = sf.index <= tmax
        ax.step(sf.index[keep], sf.values[keep], where="post", color="k", label="Kaplan-Meier")
        ax.fill_between(ci.index[keep], ci.iloc[keep, 0], ci.iloc[keep, 1], step="post", color="k", alpha=0.15, label="95% CI")
        tt = np.linspace(0, tmax, 300)
        best = min(cal.patience_fits.values(), key=lambda f: f.aic)
        for fam, fit in cal.patience_fits.items():
            ax.plot(tt, fit.frozen().sf(tt), lw=2.5 if fit is best else 1.2, ls="-" if fit is best else "--",
                    label=f"{fam}: mean {fit.mean:.0f} s, cv {fit.cv:.2f} (AIC {fit.aic:,.0f})")
        ax.set(xlabel="time waiting for a first reply (s)", ylabel="share still willing to wait", title="First-reply patience", ylim=(0, 1.02))
        ax.legend(fontsize=8)
        p = stem.with_name(stem.name + ".patience.png")
        write_png(p, fig)
        plt.close(fig)
        paths.append(p)
    if cal.reply_samples:
        pools = list(cal.reply_samples)
        fig, axes = plt.subplots(1, len(pools), figsize=(4.5 * len(pools), 3.5), squeeze=False)
        for ax, pool in zip(axes[0], pools):
            x = cal.reply_samples[pool]
            hi = float(np.quantile(x, 0.99))
            ax.hist(x[x <= hi], bins=40, density=True, alpha=0.5, color="grey", label=f"n={x.size:,}")
            tt = np.linspace(max(hi / 400, 1e-3), hi, 300)
            fits = cal.reply_fits[pool]
            best = min(fits.values(), key=lambda f: f.aic)
            for fam, fit in fits.items():
                ax.plot(tt, fit.frozen().pdf(tt), lw=2.2 if fit is best else 1, ls="-" if fit is best else "--", label=f"{fam} (mean {fit.mean:.3g} s)")
            ax.set(xlabel="typing time of a first reply (s)", ylabel="density", title=f"Reply times: {pool}")
            ax.legend(fontsize=8)
        p = stem.with_name(stem.name + ".reply_times.png")
        write_png(p, fig)
        plt.close(fig)
        paths.append(p)
    return paths


def write_outputs(cal: Calibration, out: Path, source: str, base_name: str, interval_min: float) -> list[Path]:
    """The scenario YAML at ``out``, the fit table (``<out stem>.fit.csv``) and charts beside it."""
    out = Path(out)
    text = scenario_yaml(cal, source, base_name)
    write_atomic(out, lambda p: p.write_text(text))
    stem = out.with_suffix("")
    table = stem.with_name(stem.name + ".fit.csv")
    write_csv(table, cal.table())
    return [out, table, *charts(cal, stem, interval_min)]


def name_scenario(cfg: Config, out: Path, source: str, L_n: int, days: int, origin: pd.Timestamp) -> None:
    """Name and describe the calibrated scenario; its clock starts where the log's first day does."""
    cfg.name = Path(out).stem
    cfg.description = f"Calibrated from {Path(source).name}: {L_n:,} inquiries over {days} day(s)"
    cfg.start = origin.isoformat()
    cfg.log = False
