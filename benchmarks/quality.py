"""Quality benchmark: baseline vs fine-tuned offline e5-small on real data, side by side in one run.

Data: ``../shared/data/ibrohim2019/re_dataset.csv`` and our sample (``data/sample/labelled.csv``), loaded,
deduplicated and split (group-aware, leak-free) by ``pantau prepare``'s own code. Then, for each model
kind (baseline = TF-IDF + lexicon + logistic regression; e5 = imported multilingual-e5-small fine-tuned
with a mean-pooling head):

* ``ibrohim``  — trained on Ibrohim's train split (validated on its val split), evaluated on Ibrohim's
  test split (in-domain) and on all of our sample (cross-source);
* ``sample``   — trained on our sample's train split, evaluated on its test split (divisive_label,
  mentions/literal uses flagged) and on Ibrohim's test split (cross-source);
* ``mixed``    — (``--mixed``) both corpora at once, evaluated on both test splits.

For each plan where both were trained, the ``ensemble`` (``pantau.training.ensemble``: the two models blended
per label, weights and calibration fitted on the plan's validation split) is evaluated as well.

Prints one table (F1 per label per evaluation set, plus macro-F1), the training speed (samples/s, wall
time per epoch) and writes everything to ``--out`` (metrics.json / slices.json per run, results.json).

    nice .venv/bin/python benchmarks/quality.py                 # full run (~30-60 min on 2 cores)
    nice .venv/bin/python benchmarks/quality.py --quick         # smoke run: few rows, 1 epoch (minutes)
    nice .venv/bin/python benchmarks/quality.py --skip-e5       # baselines only (about a minute)
    nice .venv/bin/python benchmarks/quality.py --speed         # training throughput: tutorial recipe vs ours
    nice .venv/bin/python benchmarks/quality.py --out DIR --reuse   # re-blend and re-evaluate DIR's trained models
    nice .venv/bin/python benchmarks/quality.py --base indobenchmark/indobert-base-p1   # another base (Hub or folder)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PANTAU_SHARED_DATA", REPO.parent / "shared" / "data"))


# Sources grouped by where the posts come from: leave-one-source-out holds out a whole group.
GROUPS = {"ibrohim": ("ann-ibrohim", "ann-ibrohim-terms", "ibrohim2019"), "sample": ("sample",), "emot": ("ann-emot",)}
REAL = ("ann-ibrohim", "ann-ibrohim-terms", "ann-emot")  # the team's annotations of real posts (data/annotations)
# real-test-round1: the test posts of the first annotation round only, to compare with earlier figures
FIRST_ROUND = ("ann-ibrohim", "ann-emot")


def prepare_corpora(work: Path) -> dict[str, pd.DataFrame]:
    """Run the prepare stage on every corpus into ``work``; return the three splits.

    The annotation sources come first, so where an annotated Ibrohim tweet is also read from the corpus the
    kept row is the annotated one (with all four labels), not the corpus copy (two).
    """
    from pantau.config import DataSettings, Settings, SourceSettings
    from pantau.data.prepare import prepare
    from pantau.training.data import load_splits

    ibrohim = SHARED / "ibrohim2019" / "re_dataset.csv"
    if not ibrohim.exists():
        sys.exit(f"{ibrohim} not found: set PANTAU_SHARED_DATA to the folder holding ibrohim2019/")
    ann = REPO / "data" / "annotations"
    settings = Settings(
        data=DataSettings(
            sources=(
                SourceSettings(name="ann-ibrohim", kind="annotations", path=str(ann / "ibrohim2019_divisive.csv"),
                               corpus_root=str(SHARED)),
                SourceSettings(name="ann-ibrohim-terms", kind="annotations", path=str(ann / "ibrohim2019_terms.csv"),
                               corpus_root=str(SHARED)),
                SourceSettings(name="ann-emot", kind="annotations", path=str(ann / "emot.csv"), corpus_root=str(SHARED)),
                SourceSettings(name="sample", kind="sample", path=str(REPO / "data" / "sample" / "labelled.csv")),
                SourceSettings(name="ibrohim2019", kind="ibrohim2019", path=str(ibrohim)),
            ),
            processed_dir=str(work / "processed"),
        ),
        root=str(REPO),
    )
    prepare(settings)
    return load_splits(work / "processed")


def by_source(frame: pd.DataFrame, *sources: str) -> pd.DataFrame:
    return frame[frame["source"].isin(sources)].reset_index(drop=True)


def every_split(splits: dict[str, pd.DataFrame], *sources: str) -> pd.DataFrame:
    return pd.concat([by_source(f, *sources) for f in splits.values()], ignore_index=True)


def generalisation_plans(splits: dict[str, pd.DataFrame]) -> dict[str, tuple]:
    """``real``: every source, judged on the real-post test split; ``loso-G``: all sources but group G, judged
    on every post of G (none of which it trained, tuned or calibrated on)."""
    plans = {"real": (splits["train"], splits["val"],
                      {"real-test": by_source(splits["test"], *REAL),
                       "real-test-round1": by_source(splits["test"], *FIRST_ROUND),
                       "ibrohim-test": by_source(splits["test"], *GROUPS["ibrohim"]),
                       "sample-test": by_source(splits["test"], "sample")})}
    for held, sources in GROUPS.items():
        rest = [s for g, ss in GROUPS.items() if g != held for s in ss]
        plans[f"loso-{held}"] = (by_source(splits["train"], *rest), by_source(splits["val"], *rest),
                                 {f"{held}-all (held out)": every_split(splits, *sources)})
    return plans


def source_shares(text: str) -> dict[str, float]:
    """``ibrohim2019=0.35,sample=1`` → {source: share}; each share in (0, 1]."""
    out: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        name, sep, value = part.partition("=")
        try:
            share = float(value)
        except ValueError:
            share = -1.0
        if not sep or not name or not 0 < share <= 1:
            raise argparse.ArgumentTypeError(f"{part!r}: expected SOURCE=SHARE with a share in (0, 1]")
        out[name.strip()] = share
    return out


def share_of_sources(frame: pd.DataFrame, shares: dict[str, float], seed: int = 13) -> pd.DataFrame:
    """``frame`` with only ``shares[source]`` of each named source's rows (a reproducible draw), the rest whole."""
    if not shares:
        return frame
    keep = [part if share >= 1 else part.sample(frac=share, random_state=seed)
            for source, part in frame.groupby("source", sort=False)
            for share in [shares.get(str(source), 1.0)]]
    return pd.concat(keep).sort_index().reset_index(drop=True)


def train_one(kind: str, train: pd.DataFrame, val: pd.DataFrame, out: Path, args: argparse.Namespace):
    """Train one model with the library's own training functions; return its TrainResult."""
    from pantau.config import TrainSettings
    from pantau.training.data import preprocessing_id

    recipe = {"baseline": {}, "span": {"mention_cues": False, "span_context": True},
              "cues+span": {"mention_cues": True, "span_context": True},
              "cues+span+masked": {"mention_cues": True, "span_context": True, "masked_term_copies": 1.0}}
    variant = kind.split(":", 1)[1] if ":" in kind else "baseline"
    kind = kind.split(":", 1)[0]
    settings = TrainSettings(
        **recipe.get(variant, {}),
        kind=kind, epochs=args.epochs, learning_rate=args.learning_rate, batch_size=args.batch_size,
        max_length=args.max_length, bf16=args.bf16, freeze_embeddings=True, freeze_layers=args.freeze_layers,
        seed=args.seed,
        early_stopping_patience=args.patience, eval_batch_size=64, head_lr_multiplier=args.head_lr_multiplier,
        threshold_sources=args.threshold_sources,
    )
    if kind == "baseline":
        from pantau.training.augment import masked_term_copies
        from pantau.training.baseline import train_baseline

        train = masked_term_copies(train, settings.masked_term_copies, seed=settings.seed)

        return train_baseline(train, val, out_dir=out, settings=settings, preprocessing=preprocessing_id("classic"))
    from pantau.training.transformer import train_transformer

    return train_transformer(train, val, base_model=args.base_path, out_dir=out, settings=settings,
                             preprocessing=preprocessing_id("transformer"), base_name=args.base)


def unseen_term_recall(folder: Path, frame: pd.DataFrame) -> float | None:
    """Share of the divisive uses still flagged when each lexicon term is swapped for a made-up word:
    how a model would do on a camp nickname coined after it was trained."""
    import random

    import numpy as np

    from pantau.model.classifier import Classifier
    from pantau.training.augment import replace_terms

    uses = frame[frame["divisive_label"] == 1]
    if uses.empty:
        return None
    clf = Classifier.load(folder)
    rng = random.Random(99)  # not the training copies' seed: other made-up words than the ones trained on
    swapped = [replace_terms(t, rng) for t in uses["text"].astype(str)]
    j = list(clf.labels).index("divisive_label")
    probs = clf.predict_proba(swapped)[:, j]
    return float(np.mean(probs >= clf.meta.thresholds["divisive_label"]))


def build_ensemble(folders: dict[str, Path], train: pd.DataFrame, val: pd.DataFrame, out: Path,
                   args: argparse.Namespace) -> Path:
    """An ensemble folder whose members are links to the two trained folders (``pantau.training.ensemble``)."""
    from pantau.config import TrainSettings
    from pantau.labels import LABEL_KEYS
    from pantau.model.layout import MEMBERS_DIR
    from pantau.training.data import data_fingerprint
    from pantau.training.ensemble import assemble_ensemble

    members = out / MEMBERS_DIR
    members.mkdir(parents=True, exist_ok=True)
    for kind in ("transformer", "baseline"):
        link = members / kind
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(folders[kind].resolve(), target_is_directory=True)
    assemble_ensemble(out, val, settings=TrainSettings(seed=13, threshold_sources=args.threshold_sources),
                      fingerprint=data_fingerprint(train, LABEL_KEYS),
                      sources=train["source"].unique().tolist(), train_rows=len(train))
    return out


def speed_comparison(train: pd.DataFrame, *, rows: int, rounds: int, batch_size: int,
                     freeze_layers: int) -> pd.DataFrame:
    """Training throughput of the tutorial recipe vs ours on the same rows, interleaved so load hits both.

    Each configuration runs forward + masked BCE + backward + AdamW on the same ``rows`` Ibrohim posts
    (e5-small, word embeddings frozen): ``padded-64`` pads every batch to 64 tokens in fp32 (the
    straightforward recipe); ``dynamic`` pads each batch to its own longest row; ``+grouped`` also batches
    rows of similar length; ``+frozen N`` also freezes the bottom N blocks (``train.freeze_layers``);
    ``+bf16`` adds bf16 autocast (only where the CPU has AVX-512 BF16/AMX: elsewhere it is emulated and
    an order of magnitude slower).
    """
    import numpy as np
    import torch
    from transformers import AutoModel, AutoTokenizer

    from pantau.training.base import resolve_base_model
    from pantau.training.data import preprocess_texts, preprocessing_id
    from pantau.training.transformer import MeanPoolingModel, bf16_supported, freeze_bottom_layers, masked_bce

    base = resolve_base_model("e5-small-offline", offline_dir=REPO / "models" / "base" / "e5-small")
    tok = AutoTokenizer.from_pretrained(base)
    model = MeanPoolingModel(AutoModel.from_pretrained(base), 4)
    model.encoder.get_input_embeddings().weight.requires_grad_(False)
    model.train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    layers = [b for b in model.encoder.encoder.layer]
    texts = preprocess_texts(train["text"].head(rows).tolist(), preprocessing_id("transformer"))
    ids = tok(texts, truncation=True, max_length=64)["input_ids"]
    y = torch.zeros((batch_size, 4))

    def batches(grouped: bool) -> list[list[int]]:
        order = np.argsort([len(i) for i in ids], kind="stable") if grouped else np.arange(len(ids))
        return [list(order[i : i + batch_size]) for i in range(0, len(order), batch_size)]

    def run(pad_to: int | None, grouped: bool, bf16: bool, frozen: int = 0) -> float:
        for block in layers:
            block.requires_grad_(True)
        model.encoder.embeddings.requires_grad_(True)
        model.encoder.get_input_embeddings().weight.requires_grad_(False)
        freeze_bottom_layers(model.encoder, frozen)
        start = time.perf_counter()
        for b in batches(grouped):
            width = pad_to or max(len(ids[i]) for i in b)
            x = torch.full((len(b), width), tok.pad_token_id, dtype=torch.long)
            m = torch.zeros_like(x)
            for r, i in enumerate(b):
                x[r, : len(ids[i])] = torch.tensor(ids[i])
                m[r, : len(ids[i])] = 1
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                logits = model(x, m)["logits"]
            masked_bce(logits, y[: len(b)], None, None).backward()
            opt.step()
            opt.zero_grad()
        return len(ids) / (time.perf_counter() - start)

    configs = {"padded-64 fp32": (64, False, False, 0), "dynamic fp32": (None, False, False, 0),
               "dynamic+grouped fp32": (None, True, False, 0)}
    if freeze_layers:
        configs[f"dynamic+grouped+frozen {freeze_layers}"] = (None, True, False, freeze_layers)
    if bf16_supported():
        configs["dynamic+grouped+bf16"] = (None, True, True, 0)
    run(None, True, False)  # warm-up
    speeds: dict[str, list[float]] = {k: [] for k in configs}
    for _ in range(rounds):
        for name, cfg in configs.items():
            speeds[name].append(run(*cfg))
    ref = float(np.median(speeds["padded-64 fp32"]))
    return pd.DataFrame([{"config": k, "samples_per_s": round(float(np.median(v)), 1),
                          "vs_padded_64": round(float(np.median(v)) / ref, 2)} for k, v in speeds.items()])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=None, help="keep models and reports here")
    parser.add_argument("--quick", action="store_true", help="smoke run: 300 training rows, 1 epoch")
    parser.add_argument("--skip-e5", action="store_true", help="baselines only")
    parser.add_argument("--base", default="e5-small-offline",
                        help="base model to fine-tune: e5-small-offline (imported, default), a Hub id such as "
                             "indobenchmark/indobert-base-p1 (needs the Hub) or a local transformers folder")
    parser.add_argument("--mixed", action="store_true", help="also train on both corpora at once")
    parser.add_argument("--plans", default="ibrohim,sample,mixed",
                        help="comma-separated subset of ibrohim, sample, mixed (needs --mixed), real (every source, "
                             "judged on the real-post test split), loso (leave each source group out in turn)")
    parser.add_argument("--baselines", default="baseline",
                        help="baseline recipes side by side: baseline (cue lists), baseline:span (masked-context "
                             "span model), baseline:cues+span, baseline:cues+span+masked (+ copies with "
                             "each term swapped for a made-up word, train.masked_term_copies=1)")
    parser.add_argument("--epochs", type=float, default=5.0)
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--patience", type=int, default=2)
    parser.add_argument("--head-lr-multiplier", type=float, default=10.0)
    parser.add_argument("--freeze-layers", type=int, default=0, help="train.freeze_layers: bottom blocks frozen")
    parser.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=None,
                        help="bf16 autocast (default: only where the CPU has AVX-512 BF16/AMX)")
    parser.add_argument("--max-train-rows", type=int, default=None)
    parser.add_argument("--transformer-share", type=source_shares, default={}, metavar="SOURCE=F[,SOURCE=F]",
                        help="e5 trains on this share of each named source's training rows (drawn with seed 13); "
                             "the baselines and the ensemble's calibration still use every row. E.g. "
                             "ibrohim2019=0.35: does a cheaper e5 member keep the ensemble's gain?")
    parser.add_argument("--reuse", action="store_true",
                        help="keep models already trained in --out (the ensembles are assembled and everything is "
                             "evaluated again): to compare blending or evaluation changes without retraining")
    parser.add_argument("--seed", type=int, default=13, help="training seed (head initialisation, data order)")
    parser.add_argument("--threshold-sources", type=lambda v: tuple(s for s in v.split(",") if s), default=(),
                        help="train.threshold_sources: tune thresholds on these sources' validation rows only "
                             "(e.g. 'real' for the team's annotations)")
    parser.add_argument("--speed", action="store_true", help="only compare training throughput of the recipes")
    parser.add_argument("--speed-rows", type=int, default=256)
    parser.add_argument("--speed-rounds", type=int, default=3)
    args = parser.parse_args()
    if args.threshold_sources == ("real",):
        args.threshold_sources = REAL
    if args.bf16 is None:
        from pantau.training.transformer import bf16_supported

        args.bf16 = bf16_supported()
    if args.quick:
        args.epochs, args.max_train_rows = 1.0, args.max_train_rows or 300
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    import torch

    from pantau.training.data import annotated_labels, subsample
    from pantau.training.evaluate import evaluate_model

    torch.set_num_threads(os.cpu_count() or 1)
    if not args.skip_e5 and not args.speed:
        from pantau.training.base import BaseModelError, resolve_base_model

        # Before any training: a Hub id without a reachable Hub fails here, in seconds, naming the offline option.
        try:
            args.base_path = resolve_base_model(args.base, offline_dir=REPO / "models" / "base" / "e5-small")
        except BaseModelError as exc:
            sys.exit(f"--base: {exc}")
    out = args.out or Path(tempfile.mkdtemp(prefix="pantau-quality-"))
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    splits = prepare_corpora(out)
    sets = {src: {name: by_source(frame, *sources) for name, frame in splits.items()}
            for src, sources in (("ibrohim2019", GROUPS["ibrohim"]), ("sample", ("sample",)))}
    if args.speed:
        table = speed_comparison(sets["ibrohim2019"]["train"], rows=args.speed_rows, rounds=args.speed_rounds,
                                 batch_size=args.batch_size, freeze_layers=args.freeze_layers)
        print(f"\ntraining throughput, e5-small, {args.speed_rows} Ibrohim posts, batch {args.batch_size}, "
              f"median of {args.speed_rounds} interleaved rounds, {torch.get_num_threads()} threads:")
        print(table.to_string(index=False))
        return
    plans = {
        "ibrohim": (sets["ibrohim2019"]["train"], sets["ibrohim2019"]["val"],
                    {"ibrohim-test": sets["ibrohim2019"]["test"],
                     "sample-all (cross)": pd.concat([sets["sample"][k] for k in ("train", "val", "test")],
                                                     ignore_index=True)}),
        "sample": (sets["sample"]["train"], sets["sample"]["val"],
                   {"sample-test": sets["sample"]["test"], "ibrohim-test (cross)": sets["ibrohim2019"]["test"]}),
    }
    if args.mixed:
        plans["mixed"] = (splits["train"], splits["val"],
                          {"ibrohim-test": sets["ibrohim2019"]["test"], "sample-test": sets["sample"]["test"]})
    plans.update(generalisation_plans(splits))
    wanted = {p.strip() for p in args.plans.split(",")}
    if "loso" in wanted:
        wanted |= {p for p in plans if p.startswith("loso-")}
    plans = {k: v for k, v in plans.items() if k in wanted}
    # baseline = today's recipe (cue word lists); baseline:span = masked-context span model instead.
    kinds = [k.strip() for k in args.baselines.split(",")] + ([] if args.skip_e5 else ["transformer"])
    rows, speed, results = [], [], {}
    # Model names in the table: "e5" for the offline default, else the base's last path component.
    tuned = "e5" if args.base == "e5-small-offline" else Path(args.base.rstrip("/")).name
    for plan, (train, val, evals) in plans.items():
        train = subsample(train, args.max_train_rows, 13)
        trained = annotated_labels(train)
        folders: dict[str, Path] = {}
        for kind in kinds:
            name = f"{plan}-{tuned if kind == 'transformer' else kind.replace(':', '-')}"
            if args.reuse and (out / name / "pantau_model.json").exists():
                folders[kind] = out / name
                print(f"[{time.perf_counter() - t0:6.0f}s] reusing {out / name} (--reuse)", flush=True)
                continue
            t = time.perf_counter()
            fit_rows = share_of_sources(train, args.transformer_share) if kind == "transformer" else train
            result = train_one(kind, fit_rows, val, out / name, args)
            folders[kind] = result.folder
            wall = time.perf_counter() - t
            print(f"[{time.perf_counter() - t0:6.0f}s] trained {name} on {len(fit_rows)} rows in {wall:.0f}s",
                  flush=True)
            if kind == "transformer":
                epochs = [v for k, v in sorted(result.timings.items()) if k.startswith("epoch_") and k.endswith("_seconds")]
                speed.append({"model": name, "rows": len(fit_rows), "max_length": result.meta.max_length,
                              "samples_per_s": round(result.timings.get("epoch_samples_per_second", 0.0), 1),
                              "incl_eval_samples_per_s": round(result.timings["train_samples_per_second"], 1),
                              "epoch_seconds": [round(e) for e in epochs], "best_epoch": result.timings["best_epoch"]})
        # The ensemble blends e5 with the first baseline recipe listed (put the default's first).
        first_baseline = next((k for k in kinds if k.startswith("baseline")), None)
        if "transformer" in folders and first_baseline in folders:
            # The ensemble blends the two models just trained (no retraining): weights and calibration on val.
            name = f"{plan}-ensemble" + ("-real-thresholds" if args.threshold_sources else "")
            members = {"transformer": folders["transformer"], "baseline": folders[first_baseline]}
            folders["ensemble"] = build_ensemble(members, train, val,
                                                 out / name, args)
            print(f"[{time.perf_counter() - t0:6.0f}s] assembled {name}", flush=True)
        for kind, folder in folders.items():
            name = folder.name
            for eval_name, frame in evals.items():
                ev = evaluate_model(folder, frame, out / name / f"eval-{eval_name.split()[0]}")
                row = {"model": name, "eval": eval_name, "n": len(frame)}
                # Only labels the model was trained on count: a label its corpus never annotates is unknown.
                for label, m in ev.metrics["labels"].items():
                    row[label] = m["f1"] if label in trained else None
                scored = [row[label] for label in trained if row.get(label) is not None]
                row["macro_f1"] = sum(scored) / len(scored) if scored else None
                for label, m in ev.metrics["labels"].items():
                    row[f"{label[:4]}_auc"] = m["roc_auc"] if label in trained else None
                row["mention_literal_flagged"] = (
                    ev.slices.get("mention_literal", {}).get("divisive_label_flag_rate")
                    if "divisive_label" in trained else None
                )
                row["unseen_term_recall"] = (unseen_term_recall(folder, frame)
                                             if "divisive_label" in trained else None)
                rows.append(row)
                results[f"{name}/{eval_name}"] = {"metrics": ev.metrics, "mention_literal": ev.slices.get("mention_literal")}
    table = pd.DataFrame(rows)
    for col in table.columns.drop(["model", "eval", "n"]):
        table[col] = pd.to_numeric(table[col])  # all-None columns would print "None" instead of "-"
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 20)
    print("\nF1 per label at each model's thresholds (tuned on its own validation split); macro over the labels it was "
          "trained on; '-' = not trained on / not annotated")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}", na_rep="-"))
    if speed:
        print("\ne5-small fine-tuning speed (this machine):")
        print(pd.DataFrame(speed).to_string(index=False))
    (out / "results.json").write_text(json.dumps({"table": rows, "speed": speed, "runs": results,
                                                  "args": {k: str(v) for k, v in vars(args).items()},
                                                  "wall_seconds": time.perf_counter() - t0}, indent=2, default=str))
    print(f"\ntotal {time.perf_counter() - t0:.0f}s; reports in {out}")


if __name__ == "__main__":
    main()
