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

Two post sets, every way timed on both, interleaved (per round: each set, each way, the order rotated):

* ``today_ibrohim_smsa`` (``--posts``): the set of issue 6, half Ibrohim 2019 tweets (42 % hate speech), half
  IndoNLU SmSA comments — far more hateful than anything a desk sees;
* ``desk_stream`` (``--stream-posts``, issue 17 §3): what a monitoring desk sees, built at run time from
  ``../shared/data`` (no corpus text is stored in this repository): **3 % Ibrohim 2019 tweets annotated hate
  speech (HS = 1)** (``--positive-share``), the other 97 % everyday posts, **half IndoNLU SmSA** review and
  news comments and **half IndoNLU EmoT** tweets (train files), shuffled with a fixed seed. The mix is
  printed with the results.

Further ways when given: ``--baseline`` (a baseline folder, the default recipe of ``params.yaml``) and
``cascade_int8``: an ensemble of ``--model`` and ``--baseline`` (``--ensemble``, or assembled here on
``--val-rows`` posts of ``--val`` as training assembles one: blend weights, calibration, the cascade's skip
rule) scored with int8 and ``cascade=True``; its flags are compared with the full ensemble's, computed from
the fp32 transformer's and the baseline's scores of the same posts.

``startup``: ``pantau score`` as a fresh process per way (baseline, fp32, int8 with and without the re-check
band, an ensemble with the cascade): seconds to the first scored post (first part file, one batch per
part), to the end, and peak RSS (``wait4``), printed as a table.

Memory (peak RSS at 1M vs 10k posts, the id index at 10⁷ ids) is measured by ``benchmarks/memory.py``.
Model folders are written with :func:`pantau.model.layout.save_head` and ``save_meta``, as training does.

    nice python benchmarks/scoring.py speed --base models/base/e5-small [--model models/pantau-classifier]
        [--baseline models/baseline --val data/processed/val.parquet]
    nice python benchmarks/scoring.py startup --model models/e5 --baseline models/baseline [--ensemble DIR]
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
DESK_POSITIVE_SHARE = 0.03


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


def desk_stream(n: int, *, positive_share: float = DESK_POSITIVE_SHARE, seed: int = 13) -> list[str]:
    """A monitoring desk's stream, built at run time from ``../shared/data`` (see the module docstring):
    ``positive_share`` Ibrohim 2019 tweets annotated hate speech (HS = 1), the rest everyday posts, half
    IndoNLU SmSA comments and half IndoNLU EmoT tweets, shuffled."""
    from pantau.io import read_all

    ibrohim = SHARED / "ibrohim2019" / "re_dataset.csv"
    smsa = SHARED / "indonlu" / "smsa" / "train_preprocess.tsv"
    emot = SHARED / "indonlu" / "emot" / "train_preprocess.csv"
    for path in (ibrohim, smsa, emot):
        if not path.exists():
            raise SystemExit(f"real data not found: {path}")
    tweets, _ = read_all(ibrohim, text_column="Tweet", id_column=None, row_id_prefix="ib")
    hateful = tweets.loc[tweets["HS"].astype(int) == 1, "text"].to_numpy()
    smsa_frame, _ = read_all(
        smsa, text_column="text", id_column=None, columns=["text", "label"], format="tsv", row_id_prefix="sm"
    )
    emot_frame, _ = read_all(emot, text_column="tweet", id_column=None, row_id_prefix="em")
    rng = np.random.default_rng(seed)
    k = round(n * positive_share)
    everyday = n - k
    parts = [
        hateful[rng.permutation(len(hateful))[:k]],
        smsa_frame["text"].to_numpy()[rng.permutation(len(smsa_frame))[: everyday // 2]],
        emot_frame["text"].to_numpy()[rng.permutation(len(emot_frame))[: everyday - everyday // 2]],
    ]
    posts = [str(x) for x in np.concatenate(parts)]
    rng.shuffle(posts)
    return posts


def bench_ensemble(transformer: Path, baseline: Path, val_path: Path, val_rows: int, out: Path) -> Path:
    """An ensemble of the measured transformer and baseline folders, assembled (blend weights, calibration,
    cascade rule) on the first ``val_rows`` posts of the prepared validation split, as training does."""
    import pandas as pd

    from pantau.config import TrainSettings
    from pantau.model.layout import MEMBERS_DIR
    from pantau.training.ensemble import assemble_ensemble

    if not val_path.exists():
        raise SystemExit(f"--baseline: the validation split {val_path} is needed to assemble the ensemble "
                         "(pantau prepare), or pass --ensemble")
    val = pd.read_parquet(val_path).iloc[:val_rows]
    (out / MEMBERS_DIR).mkdir(parents=True, exist_ok=True)
    for name, folder in (("transformer", transformer), ("baseline", baseline)):
        os.symlink(folder.resolve(), out / MEMBERS_DIR / name)
    assemble_ensemble(out, val, settings=TrainSettings(), fingerprint="bench", sources=["bench"],
                      train_rows=0)
    return out


def speed(args: argparse.Namespace) -> dict[str, Any]:
    """Time every way round-robin over slices of both post sets, so load changes on a shared machine hit all alike."""
    import torch
    from transformers import AutoTokenizer, pipeline
    from transformers.utils import logging as hf_logging

    from pantau.model.calibrate import logit
    from pantau.model.classifier import Classifier, preprocess_for
    from pantau.model.meta import load_meta

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    if args.threads:
        torch.set_num_threads(args.threads)
    work = Path(tempfile.mkdtemp(prefix="pantau-bench-"))
    folder = Path(args.model) if args.model else random_head_model(Path(args.base), work / "model")
    if args.labels:
        folder = label_subset(folder, tuple(args.labels.split(",")), work / "subset")
    sets = {"today_ibrohim_smsa": real_posts(args.posts)}
    if args.stream_posts:
        sets["desk_stream"] = desk_stream(args.stream_posts, positive_share=args.positive_share)
    fp32 = Classifier.load(folder, precision="fp32", batch_size=32)
    margin = {} if args.int8_verify_margin is None else {"int8_verify_margin": args.int8_verify_margin}
    int8 = Classifier.load(folder, precision="int8", batch_size=32, cache_dir=work / "int8", **margin)
    baseline = Classifier.load(args.baseline) if args.baseline else None
    ensemble_folder = Path(args.ensemble) if args.ensemble else None
    if ensemble_folder is None and baseline is not None and args.model:
        ensemble_folder = bench_ensemble(folder, Path(args.baseline), Path(args.val), args.val_rows,
                                         work / "ensemble")
    cascade = (Classifier.load(ensemble_folder, precision="int8", batch_size=32, cache_dir=work / "int8",
                               cascade=True, **margin) if ensemble_folder else None)
    pipe = pipeline(
        "text-classification",
        model=pipeline_model(folder),
        tokenizer=AutoTokenizer.from_pretrained(folder),
        top_k=None,
    )
    pipe_texts = {name: preprocess_for(fp32.meta, posts, folder) for name, posts in sets.items()}
    first = next(iter(sets.values()))
    for clf in (fp32, int8, baseline, cascade):
        if clf is not None:
            clf.predict_proba(first[:64])
    pipe(pipe_texts["today_ibrohim_smsa"][:8])
    int8._verified_posts = 0
    if cascade is not None:
        cascade._backend.skipped_posts = 0
        cascade._verified_posts = 0  # the ensemble re-checks its own decisions; its members none
    L = len(fp32.labels)
    share = args.default_share
    ways = ["pantau_fp32", "pantau_int8", "pipeline_bs32", "pipeline_default"]
    ways += ["baseline"] * (baseline is not None) + ["cascade_int8"] * (cascade is not None)
    state: dict[str, dict[str, Any]] = {}
    for name, posts in sets.items():
        n = len(posts)
        state[name] = {
            "n": n, "slices": np.array_split(np.arange(n), args.rounds),
            "seconds": dict.fromkeys(ways, 0.0), "counted": dict.fromkeys(ways, 0),
            "verified": 0, "skipped": 0, "windows": np.zeros(n, dtype=np.int64),
            **{w: np.full((n, L), np.nan) for w in ways},
        }

    def run(way: str, name: str, idx: np.ndarray) -> int:
        st, posts = state[name], sets[name]
        texts = [posts[i] for i in idx]
        if way == "pantau_fp32":
            st[way][idx], st["windows"][idx] = fp32._scores(texts)
        elif way == "pantau_int8":
            before = int8.verified_posts
            st[way][idx] = int8.predict_proba(texts)
            st["verified"] += int8.verified_posts - before
        elif way == "pipeline_bs32":
            st[way][idx] = pipeline_probs(pipe([pipe_texts[name][i] for i in idx], batch_size=32), fp32.labels)
        elif way == "pipeline_default":
            # Timed on the first `default_share` of every slice (a random sample: posts are shuffled).
            idx = idx[: max(1, round(len(idx) * share))]
            st[way][idx] = pipeline_probs(pipe([pipe_texts[name][i] for i in idx]), fp32.labels)
        elif way == "baseline":
            st[way][idx] = baseline.predict_proba(texts)
        else:
            before = cascade.skipped_posts
            st[way][idx] = cascade.predict_proba(texts)
            st["skipped"] += cascade.skipped_posts - before
        return len(idx)

    def summarise_set(name: str, rounds_done: int) -> dict[str, Any]:
        st = state[name]
        done = np.concatenate(st["slices"][:rounds_done])
        rate = {w: st["counted"][w] / st["seconds"][w] for w in ways}
        single = np.zeros(st["n"], dtype=bool)
        single[done] = st["windows"][done] == 1
        p32, p8 = st["pantau_fp32"], st["pantau_int8"]
        timed_default = single & ~np.isnan(st["pipeline_default"][:, 0])
        flags32, flags8 = p32[done] >= fp32.thresholds, p8[done] >= int8.thresholds
        ratios = {f"{w}_vs_pipeline_default": rate[w] / rate["pipeline_default"] for w in ways if w != "pipeline_default"}
        ratios |= {f"{w}_vs_pipeline_bs32": rate[w] / rate["pipeline_bs32"] for w in ways
                   if w not in ("pipeline_default", "pipeline_bs32")}
        ratios["int8_vs_fp32"] = rate["pantau_int8"] / rate["pantau_fp32"]
        out: dict[str, Any] = {
            "posts": len(done), "posts_planned": st["n"],
            "posts_timed": dict(st["counted"]),
            "posts_per_s": {w: round(v, 2) for w, v in rate.items()},
            "seconds": {w: round(v, 1) for w, v in st["seconds"].items()},
            "ratios": {k: round(v, 3) for k, v in ratios.items()},
            "single_window_posts": int(single.sum()),
            "max_abs_diff_fp32_vs_pipeline_default": float(
                np.abs(p32[timed_default] - st["pipeline_default"][timed_default]).max()),
            "max_abs_diff_fp32_vs_pipeline_bs32": float(np.abs(p32[single] - st["pipeline_bs32"][single]).max()),
            "int8_flag_agreement": float((flags32 == flags8).mean()),
            "int8_post_agreement": float((flags32 == flags8).all(axis=1).mean()),
            "int8_verified_in_fp32": st["verified"],
            "int8_max_abs_prob_diff": float(np.abs(p32[done] - p8[done]).max()),
            "posts_flagged_fp32": int(flags32.any(axis=1).sum()),
            "positive_flags_fp32_per_label": dict(zip(fp32.labels, map(int, flags32.sum(axis=0)), strict=True)),
        }
        if baseline is not None:
            out["posts_flagged_baseline"] = int((st["baseline"][done] >= baseline.thresholds).any(axis=1).sum())
        if cascade is not None and baseline is not None and tuple(baseline.labels) == tuple(fp32.labels):
            # The full ensemble's flags from the fp32 transformer's and the baseline's scores of the same posts
            # (what the ensemble computes without the cascade), against the int8 cascade's final flags.
            meta = load_meta(ensemble_folder)
            w = np.array([meta.blend[k] for k in meta.labels])
            temps = np.array([meta.temperatures.get(k, 1.0) for k in meta.labels])
            z = w[:, 0] * logit(p32[done]) + w[:, 1] * logit(st["baseline"][done])
            full = 1 / (1 + np.exp(-z / temps)) >= cascade.thresholds
            got = st["cascade_int8"][done] >= cascade.thresholds
            out["cascade"] = {
                "margin": meta.cascade.get("margin"),
                "val": meta.cascade.get("val"),
                "skipped_full_model": st["skipped"],
                "skipped_share": st["skipped"] / max(st["counted"]["cascade_int8"], 1),
                "full_ensemble_flags": int(full.sum()),
                "recall_of_full_ensemble_flags": float((full & got).sum() / max(full.sum(), 1)),
                "share_of_cascade_flags_the_full_ensemble_makes": float((full & got).sum() / max(got.sum(), 1)),
            }
        return out

    results: dict[str, Any] = {}
    for r in range(args.rounds):
        for name in sets:
            st = state[name]
            order = ways[r % len(ways):] + ways[: r % len(ways)]  # rotate the order every round
            for way in order:
                t0 = time.perf_counter()
                st["counted"][way] += run(way, name, st["slices"][r])
                st["seconds"][way] += time.perf_counter() - t0
            print(f"round {r + 1}/{args.rounds} {name}: "
                  + ", ".join(f"{w} {st['counted'][w] / st['seconds'][w]:.1f}/s" for w in ways),
                  file=sys.stderr, flush=True)
        results = {
            "rounds_done": r + 1, "rounds": args.rounds, "threads": torch.get_num_threads(),
            "model": str(folder), "model_name": fp32.meta.name, "max_length": fp32.max_length,
            "baseline": args.baseline, "ensemble": str(ensemble_folder) if ensemble_folder else None,
            "int8_verify_margin": int8.int8_verify_margin,
            "desk_stream_mix": {"hate_speech_positives (Ibrohim 2019, HS=1)": args.positive_share,
                                "everyday: IndoNLU SmSA": (1 - args.positive_share) / 2,
                                "everyday: IndoNLU EmoT": (1 - args.positive_share) / 2},
            "sets": {name: summarise_set(name, r + 1) for name in sets},
        }
        if args.json:  # partial results after every round: a long run stopped early still reports
            args.json.write_text(json.dumps(results, indent=2, default=float) + "\n", encoding="utf-8")
    table = ["| way | " + " | ".join(f"{k} posts/s | × pipeline()" for k in sets) + " |",
             "|---|" + "---:|---:|" * len(sets)]
    for way in ways:
        cells = []
        for name in sets:
            res = results["sets"][name]
            ratio = res["ratios"].get(f"{way}_vs_pipeline_default", 1.0)
            cells += [f"{res['posts_per_s'][way]:.1f}", f"{ratio:.2f}"]
        table.append(f"| {way} | " + " | ".join(cells) + " |")
    print("\n".join(table), file=sys.stderr)
    shutil.rmtree(work, ignore_errors=True)
    return results


def startup(args: argparse.Namespace) -> dict[str, Any]:
    """``pantau score`` as a fresh process per way: seconds from start to the first scored post (the first
    part file, with one batch per part) and to the end, and the process's peak RSS (``wait4``), ways
    interleaved over ``--repeats`` rounds (median reported). int8 is run once untimed first, so its
    quantised copy is cached (that cold run is reported too)."""
    import csv
    import statistics
    import subprocess

    work = Path(tempfile.mkdtemp(prefix="pantau-startup-"))
    data = work / "posts.csv"
    with open(data, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "text"])
        writer.writerows((f"d{i}", t) for i, t in enumerate(desk_stream(args.posts, positive_share=args.positive_share)))
    ways: dict[str, tuple[str, list[str]]] = {}
    if args.baseline:
        ways["baseline"] = (args.baseline, [])
    if args.model:
        ways["fp32"] = (args.model, [])
        ways["int8 (default re-check band)"] = (args.model, ["--set", "score.precision=int8"])
        ways["int8 (no band, no fp32 copy)"] = (args.model, ["--set", "score.precision=int8",
                                                            "--set", "score.int8_verify_margin=0"])
    if args.ensemble:
        ways["ensemble int8 + cascade"] = (args.ensemble, ["--set", "score.precision=int8", "--set", "score.cascade=true"])
    exe = str(Path(sys.executable).with_name("pantau"))

    def once(name: str, model: str, extra: list[str], k: int) -> dict[str, float]:
        out = work / f"out-{abs(hash(name))}-{k}"
        cmd = [exe, "--set", "score.chunk_rows=32", "--set", "score.batch_size=32", *extra, "score", "--quiet",
               "--model", model, "--out", str(out), str(data)]
        t0 = time.perf_counter()
        log = out.with_suffix(".log")
        with open(log, "wb") as err:
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
            first = None
            while True:  # wait4 (not poll) so the child's own rusage comes back
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if first is None and any(out.glob("part-*.parquet")):
                    first = time.perf_counter() - t0
                time.sleep(0.01)
        proc.returncode = os.waitstatus_to_exitcode(status)
        total = time.perf_counter() - t0
        if proc.returncode:
            raise SystemExit(f"{name}: {' '.join(cmd)} failed: {log.read_text()[-2000:]}")
        if first is None:
            first = total
        return {"first_post_s": first, "total_s": total, "peak_rss_mb": usage.ru_maxrss / 1024}

    results: dict[str, Any] = {"posts": args.posts, "mix": f"desk stream, {args.positive_share:.0%} Ibrohim HS=1",
                               "ways": {}}
    cold = [w for w in ways if w.startswith("int8") or "int8" in w]
    if cold:
        name = cold[0]
        results["int8_cold_start (quantises once, cached)"] = once(name, *ways[name], -1)
    runs: dict[str, list[dict[str, float]]] = {w: [] for w in ways}
    for k in range(args.repeats):
        names = list(ways)
        names = names[k % len(names):] + names[: k % len(names)]
        for name in names:
            runs[name].append(once(name, *ways[name], k))
            print(f"round {k + 1}: {name} {runs[name][-1]}", file=sys.stderr, flush=True)
    for name, rows in runs.items():
        results["ways"][name] = {key: round(statistics.median(r[key] for r in rows), 3) for key in rows[0]}
    lines = ["| way | first scored post (s) | whole run (s) | peak RSS (MB) |", "|---|---:|---:|---:|"]
    for name, row in results["ways"].items():
        lines.append(f"| {name} | {row['first_post_s']:.2f} | {row['total_s']:.2f} | {row['peak_rss_mb']:.0f} |")
    print("\n".join(lines), file=sys.stderr)
    results["table"] = lines
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
    s.add_argument("--posts", type=int, default=5000, help="today's set: half Ibrohim, half SmSA")
    s.add_argument("--stream-posts", type=int, default=5000, help="the desk stream (0: leave it out)")
    s.add_argument("--positive-share", type=float, default=DESK_POSITIVE_SHARE,
                   help="share of the desk stream that is Ibrohim hate speech (HS=1)")
    s.add_argument("--baseline", default=None, help="a baseline model folder, timed as its own way")
    s.add_argument("--ensemble", default=None,
                   help="an ensemble folder with a tuned cascade (default: --model + --baseline assembled on "
                        "data/processed/val.parquet)")
    s.add_argument("--val", default=str(ROOT / "data" / "processed" / "val.parquet"),
                   help="the prepared validation split the bench ensemble is assembled on")
    s.add_argument("--val-rows", type=int, default=1000, help="validation posts the bench ensemble is assembled on")
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
    u = sub.add_parser("startup", help="pantau score: time to the first scored post and peak RSS per process")
    u.add_argument("--model", default=None, help="a transformer model folder (timed fp32 and int8)")
    u.add_argument("--baseline", default=None, help="a baseline model folder")
    u.add_argument("--ensemble", default=None, help="an ensemble folder with a tuned cascade")
    u.add_argument("--posts", type=int, default=300, help="desk-stream posts per run")
    u.add_argument("--positive-share", type=float, default=DESK_POSITIVE_SHARE)
    u.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    result = speed(args) if args.what == "speed" else startup(args)
    text = json.dumps(result, indent=2, default=float)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
