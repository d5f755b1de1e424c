"""Scoring benchmarks, measured side by side in one run (issue 6).

``speed``: the same model and the same real posts (Ibrohim 2019 tweets + IndoNLU SmSA comments from
``../shared/data``), scored by

* pantau's ``Classifier`` in fp32 and in int8 (ONNX Runtime dynamic quantisation, posts near a threshold
  re-checked in fp32: ``score.int8_verify_margin``), and
* transformers ``pipeline("text-classification")`` with default settings (one post per forward pass)
  and with ``batch_size=32``.

pipeline() cannot load a pantau folder (mean pooling + linear head is not a transformers head class),
so the benchmark wraps the *same* encoder weights and the *same* head in a ``PreTrainedModel``
(``MeanPoolForSequenceClassification``: mean of the last hidden states over real tokens → Linear) with
the per-label temperatures folded into the head (``W/T``, ``b/T``), ``problem_type =
multi_label_classification`` (so pipeline applies a sigmoid) and ``top_k=None`` (all labels). So the
compared outputs are the same calibrated probabilities; only the inference code differs. Probability
equality is checked on posts that fit in one window (pipeline reads a longer post in one pass, pantau in
overlapping windows). If the model has a preprocessing pipeline, pipeline() gets texts preprocessed
before timing starts while the Classifier's time includes preprocessing. Without ``--model`` the
benchmark builds an e5-small-sized model with a random head from the imported base
(``pantau base import-e5 DIR``); speed does not depend on training.

Memory (peak RSS at 1M vs 10k posts, the id index at 10⁷ ids) is measured by ``benchmarks/memory.py``.
Model folders are written with :func:`pantau.model.layout.save_head` and ``save_meta``, as training does.

    nice python benchmarks/scoring.py speed --base models/base/e5-small [--model models/pantau-classifier]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# Python puts this script's folder first on sys.path; sibling scripts (benchmarks/queue.py) would then
# shadow standard-library modules of the same name that torch imports.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
LABELS = ("hate_speech", "abusive", "divisive_label", "incitement")


# -- data ------------------------------------------------------------------------------------------


def real_posts(n: int, seed: int = 13) -> list[str]:
    """``n`` real posts: half Ibrohim 2019 tweets, half IndoNLU SmSA texts, read by pantau's reader."""
    from pantau.io import read_all

    ibrohim = SHARED / "ibrohim2019" / "re_dataset.csv"
    smsa = SHARED / "indonlu" / "smsa" / "train_preprocess.tsv"
    if not ibrohim.exists() or not smsa.exists():
        raise SystemExit(f"real data not found under {SHARED}")
    tweets, _ = read_all(ibrohim, text_column="Tweet", id_column=None, row_id_prefix="ib")
    smsa_frame, _ = read_all(
        smsa, text_column="text", id_column=None, columns=["text", "label"], format="tsv", row_id_prefix="sm"
    )
    rng = np.random.default_rng(seed)
    half = n // 2
    a = tweets["text"].to_numpy()[rng.permutation(len(tweets))[:half]]
    b = smsa_frame["text"].to_numpy()[rng.permutation(len(smsa_frame))[: n - half]]
    posts = [str(x) for x in np.concatenate([a, b])]
    rng.shuffle(posts)
    return posts


# -- models ----------------------------------------------------------------------------------------


def link_files(source: Path, out: Path, skip: tuple[str, ...] = ()) -> None:
    """Symlink ``source``'s files into ``out`` (except ``skip`` and names already there)."""
    out.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        if item.is_file() and item.name not in skip and not (out / item.name).exists():
            os.symlink(item.resolve(), out / item.name)


def random_head_model(base: Path, out: Path, *, seed: int = 0) -> Path:
    """A pantau model folder: the base encoder as is + a random head, neutral calibration."""
    import torch
    from transformers import AutoConfig

    from pantau.model.layout import save_head
    from pantau.model.meta import ModelMeta, save_meta

    link_files(base, out)
    hidden = AutoConfig.from_pretrained(base).hidden_size
    g = torch.Generator().manual_seed(seed)
    head = torch.nn.Linear(hidden, len(LABELS))
    with torch.no_grad():
        # Spread the random probabilities around 0.5, the hardest case for int8-vs-fp32 flag agreement.
        head.weight.copy_(torch.randn(len(LABELS), hidden, generator=g) * 0.5)
        head.bias.zero_()
    save_head(out, head)
    save_meta(
        out,
        ModelMeta(
            labels=LABELS,
            thresholds={k: 0.5 for k in LABELS},
            kind="transformer",
            base_model=str(base),
            preprocessing="none",
            max_length=128,
            name="bench-random-head",
            version="0",
        ),
    )
    return out


def label_subset(folder: Path, labels: tuple[str, ...], out: Path) -> Path:
    """A view of a transformer model folder with only ``labels`` (head rows cut, meta narrowed).

    A model trained on one corpus keeps untrained head rows for the labels that corpus does not annotate;
    their scores sit near 0.5, the worst case for any flag comparison, and nobody would use them.
    """
    import dataclasses

    import torch

    from pantau.model.layout import load_head, save_head
    from pantau.model.meta import load_meta, save_meta

    meta = load_meta(folder)
    unknown = [k for k in labels if k not in meta.labels]
    if unknown or meta.kind != "transformer":
        raise SystemExit(f"--labels: {folder} is a {meta.kind} model with labels {meta.labels}; got {labels}")
    link_files(folder, out, skip=("head.safetensors", "pantau_model.json"))
    rows = [meta.labels.index(k) for k in labels]
    from transformers import AutoConfig

    full = load_head(folder, len(meta.labels), AutoConfig.from_pretrained(folder).hidden_size)
    head = torch.nn.Linear(full.in_features, len(rows))
    with torch.no_grad():
        head.weight.copy_(full.weight[rows])
        head.bias.copy_(full.bias[rows])
    save_head(out, head)

    def keep(values: dict[str, float] | None) -> dict[str, float]:
        return {k: v for k, v in (values or {}).items() if k in labels}

    save_meta(out, dataclasses.replace(meta, labels=labels, thresholds=keep(meta.thresholds),
                                       temperatures=keep(meta.temperatures)))
    return out


def pipeline_model(folder: Path) -> Any:
    """The pantau model as a transformers PreTrainedModel pipeline() accepts (see the module docstring)."""
    import torch
    from safetensors.torch import load_file
    from transformers import AutoConfig, AutoModel, PreTrainedModel
    from transformers.modeling_outputs import SequenceClassifierOutput

    from pantau.model.meta import load_meta

    meta = load_meta(folder)
    config = AutoConfig.from_pretrained(folder)
    config.num_labels = len(meta.labels)
    config.id2label = dict(enumerate(meta.labels))
    config.label2id = {k: i for i, k in enumerate(meta.labels)}
    config.problem_type = "multi_label_classification"

    class MeanPoolForSequenceClassification(PreTrainedModel):
        config_class = type(config)
        base_model_prefix = "encoder"

        def __init__(self, cfg: Any):
            super().__init__(cfg)
            self.encoder = AutoModel.from_config(cfg)
            self.classifier = torch.nn.Linear(cfg.hidden_size, cfg.num_labels)
            self.post_init()

        def forward(
            self, input_ids: Any = None, attention_mask: Any = None, token_type_ids: Any = None, **_: Any
        ) -> SequenceClassifierOutput:
            hidden = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
            return SequenceClassifierOutput(logits=self.classifier(pooled))

    model = MeanPoolForSequenceClassification(config)
    model.encoder.load_state_dict(AutoModel.from_pretrained(folder).state_dict())
    head = load_file(str(folder / "head.safetensors"))
    temps = torch.tensor([float(meta.temperatures.get(k, 1.0)) for k in meta.labels])
    with torch.no_grad():
        model.classifier.weight.copy_(head["weight"] / temps[:, None])
        model.classifier.bias.copy_(head["bias"] / temps)
    return model.eval()


def pipeline_probs(outputs: list[list[dict[str, Any]]], labels: tuple[str, ...]) -> np.ndarray:
    return np.array([[{d["label"]: d["score"] for d in row}[k] for k in labels] for row in outputs])


# -- speed -----------------------------------------------------------------------------------------


def speed(args: argparse.Namespace) -> dict[str, Any]:
    """Time the four ways round-robin over slices of the posts, so load changes on a shared machine hit all alike."""
    import torch
    from transformers import AutoTokenizer, pipeline
    from transformers.utils import logging as hf_logging

    from pantau.model.classifier import Classifier, preprocess_for

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    if args.threads:
        torch.set_num_threads(args.threads)
    work = Path(tempfile.mkdtemp(prefix="pantau-bench-"))
    folder = Path(args.model) if args.model else random_head_model(Path(args.base), work / "model")
    if args.labels:
        folder = label_subset(folder, tuple(args.labels.split(",")), work / "subset")
    posts = real_posts(args.posts)
    fp32 = Classifier.load(folder, precision="fp32", batch_size=32)
    margin = {} if args.int8_verify_margin is None else {"int8_verify_margin": args.int8_verify_margin}
    int8 = Classifier.load(folder, precision="int8", batch_size=32, cache_dir=work / "int8", **margin)
    pipe_texts = preprocess_for(fp32.meta, posts, folder)
    pipe = pipeline(
        "text-classification",
        model=pipeline_model(folder),
        tokenizer=AutoTokenizer.from_pretrained(folder),
        top_k=None,
    )
    fp32.predict_proba(posts[:64])
    int8.predict_proba(posts[:64])
    pipe(pipe_texts[:8])
    n = len(posts)
    slices = np.array_split(np.arange(n), args.rounds)
    # pipeline() with default settings is timed on the first `default_share` of every slice (a random sample
    # of the same posts: they are shuffled) to keep the run short; posts/s is per post timed.
    share = args.default_share
    seconds = {"pantau_fp32": 0.0, "pantau_int8": 0.0, "pipeline_bs32": 0.0, "pipeline_default": 0.0}
    counted = dict.fromkeys(seconds, 0)
    p32 = np.zeros((n, len(fp32.labels)))
    p8 = np.zeros_like(p32)
    pp32 = np.zeros_like(p32)
    pp1 = np.full_like(p32, np.nan)
    windows = np.zeros(n, dtype=np.int64)

    def run_fp32(idx: np.ndarray) -> int:
        p32[idx], windows[idx] = fp32._scores([posts[i] for i in idx])
        return len(idx)

    def run_int8(idx: np.ndarray) -> int:
        p8[idx] = int8.predict_proba([posts[i] for i in idx])
        return len(idx)

    def run_bs32(idx: np.ndarray) -> int:
        pp32[idx] = pipeline_probs(pipe([pipe_texts[i] for i in idx], batch_size=32), fp32.labels)
        return len(idx)

    def run_default(idx: np.ndarray) -> int:
        sub = idx[: max(1, round(len(idx) * share))]
        pp1[sub] = pipeline_probs(pipe([pipe_texts[i] for i in sub]), fp32.labels)
        return len(sub)

    runs = [
        ("pantau_fp32", run_fp32),
        ("pantau_int8", run_int8),
        ("pipeline_bs32", run_bs32),
        ("pipeline_default", run_default),
    ]

    def summarise(done: np.ndarray, rounds_done: int) -> dict[str, Any]:
        rate = {k: counted[k] / seconds[k] for k in seconds}
        single = np.zeros(n, dtype=bool)
        single[done] = windows[done] == 1
        timed_default = single & ~np.isnan(pp1[:, 0])
        flags32, flags8 = p32[done] >= fp32.thresholds, p8[done] >= int8.thresholds
        results: dict[str, Any] = {
            "posts": len(done),
            "posts_planned": n,
            "rounds_done": rounds_done,
            "threads": torch.get_num_threads(),
            "model": str(folder),
            "model_name": fp32.meta.name,
            "max_length": fp32.max_length,
            "rounds": args.rounds,
            "posts_timed": counted,
            "posts_per_s": {k: round(v, 2) for k, v in rate.items()},
            "seconds": {k: round(v, 1) for k, v in seconds.items()},
            "ratios": {
                "int8_vs_pipeline_default": rate["pantau_int8"] / rate["pipeline_default"],
                "int8_vs_pipeline_bs32": rate["pantau_int8"] / rate["pipeline_bs32"],
                "fp32_vs_pipeline_bs32": rate["pantau_fp32"] / rate["pipeline_bs32"],
                "fp32_vs_pipeline_default": rate["pantau_fp32"] / rate["pipeline_default"],
                "int8_vs_fp32": rate["pantau_int8"] / rate["pantau_fp32"],
            },
            "single_window_posts": int(single.sum()),
            "max_abs_diff_fp32_vs_pipeline_default": float(
                np.abs(p32[timed_default] - pp1[timed_default]).max()
            ),
            "max_abs_diff_fp32_vs_pipeline_bs32": float(np.abs(p32[single] - pp32[single]).max()),
            "int8_flag_agreement": float((flags32 == flags8).mean()),
            "int8_flag_agreement_per_label": dict(
                zip(fp32.labels, map(float, (flags32 == flags8).mean(axis=0)), strict=True)
            ),
            "int8_post_agreement": float((flags32 == flags8).all(axis=1).mean()),
            "int8_verify_margin": int8.int8_verify_margin,
            "int8_verified_in_fp32": int8.verified_posts,
            "int8_max_abs_prob_diff": float(np.abs(p32[done] - p8[done]).max()),
            "positive_flags_fp32_per_label": dict(
                zip(fp32.labels, map(int, flags32.sum(axis=0)), strict=True)
            ),
        }
        results["targets"] = {
            "int8 >= 5x pipeline default": results["ratios"]["int8_vs_pipeline_default"] >= 5,
            "int8 >= 3x pipeline bs32": results["ratios"]["int8_vs_pipeline_bs32"] >= 3,
            "fp32 >= 1.5x pipeline bs32": results["ratios"]["fp32_vs_pipeline_bs32"] >= 1.5,
            "fp32 == pipeline within 1e-4 (single-window posts)": max(
                results["max_abs_diff_fp32_vs_pipeline_default"],
                results["max_abs_diff_fp32_vs_pipeline_bs32"],
            )
            <= 1e-4,
            "int8 agrees on >= 99% of flags": results["int8_flag_agreement"] >= 0.99,
        }
        return results

    for r, idx in enumerate(slices):
        for name, fn in runs[r % 4 :] + runs[: r % 4]:  # rotate the order every round
            start = time.perf_counter()
            counted[name] += fn(idx)
            seconds[name] += time.perf_counter() - start
        print(
            f"round {r + 1}/{len(slices)}: "
            + ", ".join(f"{k} {counted[k] / seconds[k]:.1f}/s" for k in seconds),
            file=sys.stderr,
            flush=True,
        )
        results = summarise(np.concatenate(slices[: r + 1]), r + 1)
        if args.json:  # partial results after every round: a long run stopped early still reports
            args.json.write_text(json.dumps(results, indent=2, default=float) + "\n", encoding="utf-8")
    shutil.rmtree(work, ignore_errors=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    s = sub.add_parser("speed", help="Classifier fp32/int8 vs transformers pipeline()")
    s.add_argument("--base", default="models/base/e5-small", help="imported e5-small (pantau base import-e5)")
    s.add_argument(
        "--model", default=None, help="a trained pantau model folder (default: random head on --base)"
    )
    s.add_argument("--posts", type=int, default=5000)
    s.add_argument("--threads", type=int, default=0)
    s.add_argument("--rounds", type=int, default=10, help="slices timed round-robin")
    s.add_argument(
        "--default-share",
        type=float,
        default=1.0,
        help="fraction of each slice pipeline() with default settings is timed on (it is slow)",
    )
    s.add_argument(
        "--labels",
        default=None,
        help="comma-separated labels to keep (e.g. hate_speech,abusive for a model trained on Ibrohim alone)",
    )
    s.add_argument(
        "--int8-verify-margin",
        type=float,
        default=None,
        help="log-odds band re-checked in fp32 (default: the library's score.int8_verify_margin default)",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    result = speed(args)
    text = json.dumps(result, indent=2, default=float)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
