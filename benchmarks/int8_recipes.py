"""int8 recipes side by side (issue 17 §1): how each way of quantising the encoder trades speed for decisions.

Every recipe of :data:`pantau.model.int8.FFN_OUTPUT_MODES` asked for (``+fp32_table``: with the word-embedding
table kept fp32, as before recipe 4; ``+skip_ln``: with fused ``SkipLayerNormalization``, as before recipe 5)
is built from the same fine-tuned model folder
(``build_int8_onnx(ffn_output=..., int8_embeddings=..., skip_layer_norm=...)``, written where ``Classifier.load(precision="int8",
cache_dir=...)`` finds it) and scored as *pure* int8 (no re-check band) beside pantau's fp32 Classifier on
the same real posts: half the issue-6 set (Ibrohim 2019 + IndoNLU SmSA), half the desk stream of
``benchmarks/scoring.py`` (3 % Ibrohim hate speech, the rest SmSA/EmoT). Ways are timed round-robin over
slices (the order rotated every round), so load changes on a shared machine hit all alike.

Reported per recipe: posts/s and the ratio to fp32; max |prob − fp32 prob|; the share of posts whose every
flag equals fp32's; and for each re-check band (log-odds around a threshold, ``score.int8_verify_margin``)
the share of posts it would re-score in fp32, the agreement after that re-check, and the speed it implies,
``1 / (1/int8 + share/fp32)`` posts/s — an estimate; ``benchmarks/scoring.py speed`` times the deployed
recipe with its band for real. The smallest band that reaches ``--target`` agreement is marked.

    nice python benchmarks/int8_recipes.py --model models/e5 [--posts 1200] [--recipes fp32,per_token,...]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# As in benchmarks/scoring.py: sibling scripts must not shadow standard-library modules torch imports.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import numpy as np

HERE = Path(__file__).resolve().parent
FP32_TABLE = "+fp32_table"  # recipe suffix: the word-embedding table stays fp32 (recipe 3 and before)
SKIP_LN = "+skip_ln"  # recipe suffix: fused SkipLayerNormalization (recipe 4 and before)
SUFFIXES = (FP32_TABLE, SKIP_LN)


def parse_recipe(recipe: str) -> tuple[str, set[str]]:
    """``per_token+fp32_table+skip_ln`` → (``per_token``, {``+fp32_table``, ``+skip_ln``})."""
    mode, *rest = recipe.split("+")
    return mode, {f"+{r}" for r in rest}


def _scoring_module() -> Any:
    """benchmarks/scoring.py, for its real-post sets (loaded by path: benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location("pantau_bench_scoring", HERE / "scoring.py")
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {HERE / 'scoring.py'}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def band_table(p32: np.ndarray, p8: np.ndarray, thresholds: np.ndarray, bands: list[float],
               rate8: float, rate32: float) -> list[dict[str, float]]:
    """Per band: share of posts re-checked, post agreement after the re-check, implied posts/s."""
    from pantau.model.calibrate import logit

    flags32 = p32 >= thresholds
    distance = np.abs(logit(p8) - logit(thresholds)).min(axis=1)
    rows = []
    for band in bands:
        near = distance < band
        final = np.where(near[:, None], p32, p8) >= thresholds
        share = float(near.mean())
        rows.append({
            "band": band,
            "rechecked_share": share,
            "post_agreement": float((final == flags32).all(axis=1).mean()),
            "est_posts_per_s": 1.0 / (1.0 / rate8 + share / rate32),
        })
    return rows


def main() -> None:
    from pantau.model.int8 import FFN_OUTPUT_MODES, build_int8_onnx, cache_key

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="a fine-tuned transformer model folder")
    parser.add_argument("--posts", type=int, default=1200, help="real posts: half today's set, half the desk stream")
    parser.add_argument("--recipes", default="fp32,per_tensor,per_token+skip_ln,per_token,per_token_all",
                        help=f"comma-separated, from {','.join(FFN_OUTPUT_MODES)}; '+fp32_table' keeps the word "
                             "table fp32 (without it: int8 per row, the default); '+skip_ln' fuses the residual "
                             "sums into SkipLayerNormalization (without it: Add + LayerNormalization, the default)")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--bands", default="0.05,0.1,0.15,0.2,0.3,0.5")
    parser.add_argument("--target", type=float, default=0.995, help="post agreement with fp32 a band must reach")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    recipes = [r for r in args.recipes.split(",") if r]
    parsed = {r: parse_recipe(r) for r in recipes}
    unknown = sorted(r for r, (mode, suffixes) in parsed.items()
                     if mode not in FFN_OUTPUT_MODES or not suffixes <= set(SUFFIXES))
    if unknown:
        parser.error(f"unknown recipe(s) {unknown}; choose from {', '.join(FFN_OUTPUT_MODES)}, "
                     f"each optionally with {' and/or '.join(SUFFIXES)}")
    bands = [float(b) for b in args.bands.split(",") if b]

    from transformers.utils import logging as hf_logging

    from pantau.model.classifier import Classifier

    hf_logging.set_verbosity_error()
    bench = _scoring_module()
    posts = bench.real_posts(args.posts // 2) + bench.desk_stream(args.posts - args.posts // 2)
    folder = Path(args.model)
    work = Path(tempfile.mkdtemp(prefix="pantau-int8-recipes-"))
    fp32 = Classifier.load(folder, precision="fp32", batch_size=32)
    backend = fp32._backend
    intermediate = getattr(backend.model.encoder.config, "intermediate_size", None)
    ways: dict[str, Any] = {"fp32": fp32}
    for recipe in recipes:
        cache = work / recipe
        t0 = time.perf_counter()
        mode, suffixes = parsed[recipe]
        build_int8_onnx(backend.model, intermediate, len(fp32.labels), cache / f"{cache_key(folder)}.int8.onnx",
                        ffn_output=mode, int8_embeddings=FP32_TABLE not in suffixes,
                        skip_layer_norm=SKIP_LN in suffixes)
        print(f"built {recipe} in {time.perf_counter() - t0:.0f}s", file=sys.stderr, flush=True)
        ways[f"int8_{recipe}"] = Classifier.load(folder, precision="int8", batch_size=32, cache_dir=cache,
                                                 int8_verify_margin=0.0)
    for clf in ways.values():
        clf.predict_proba(posts[:32])  # warm-up: first-call allocations are not scoring time
    n, labels = len(posts), len(fp32.labels)
    probs = {w: np.full((n, labels), np.nan) for w in ways}
    seconds = dict.fromkeys(ways, 0.0)
    names = list(ways)
    slices = np.array_split(np.arange(n), args.rounds)
    for r, idx in enumerate(slices):
        for way in names[r % len(names):] + names[: r % len(names)]:
            texts = [posts[i] for i in idx]
            t0 = time.perf_counter()
            probs[way][idx] = ways[way].predict_proba(texts)
            seconds[way] += time.perf_counter() - t0
        print(f"round {r + 1}/{args.rounds}: " + ", ".join(
            f"{w} {sum(len(s) for s in slices[: r + 1]) / seconds[w]:.1f}/s" for w in names),
            file=sys.stderr, flush=True)
    thresholds = np.asarray(fp32.thresholds)
    rate = {w: n / seconds[w] for w in ways}
    flags32 = probs["fp32"] >= thresholds
    results: dict[str, Any] = {"model": str(folder), "posts": n, "rounds": args.rounds, "target": args.target,
                               "fp32_posts_per_s": rate["fp32"], "recipes": {}}
    header = ("| recipe | posts/s | × fp32 | max abs dp | post agreement (pure) | smallest band for target "
              "| re-checked | est. × fp32 with it |")
    lines = [header, "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for recipe in recipes:
        w = f"int8_{recipe}"
        p8 = probs[w]
        table = band_table(probs["fp32"], p8, thresholds, bands, rate[w], rate["fp32"])
        enough = next((row for row in table if row["post_agreement"] >= args.target), None)
        results["recipes"][recipe] = {
            "posts_per_s": rate[w], "vs_fp32": rate[w] / rate["fp32"],
            "max_abs_prob_diff": float(np.abs(p8 - probs["fp32"]).max()),
            "post_agreement": float(((p8 >= thresholds) == flags32).all(axis=1).mean()),
            "bands": table, "smallest_band_for_target": enough,
        }
        res = results["recipes"][recipe]
        band_cells = (f"{enough['band']} | {100 * enough['rechecked_share']:.1f} % | "
                      f"{enough['est_posts_per_s'] / rate['fp32']:.2f}") if enough else "none | – | –"
        lines.append(f"| {recipe} | {rate[w]:.1f} | {res['vs_fp32']:.2f} | {res['max_abs_prob_diff']:.3f} | "
                     f"{100 * res['post_agreement']:.2f} % | {band_cells} |")
    print(f"fp32: {rate['fp32']:.1f} posts/s on {n} real posts", file=sys.stderr)
    print("\n".join(lines), file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=float) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2, default=float))


if __name__ == "__main__":
    main()
