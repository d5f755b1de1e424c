"""Campaign clustering on a synthetic stream: planted campaigns mixed into real posts, side by side with an
exact-duplicate baseline, in one run.

The background is real posts read at run time from ``../shared/data`` (Ibrohim & Budi 2019 tweets, IndoNLU
EmoT and SmSA; nothing is copied into the repository), deduplicated on their normalised words, each by a
random account. The corpora hold ~30k distinct posts; for larger runs the list is cycled, and each copy of a
post is placed one cycle (1.25 windows) after the previous copy, so a real post never meets its
own copy inside one window (the window is what makes them different events); the background keeps a steady
rate over the whole span. The background is generated afresh on each pass over the stream (from its own seed)
and merged in time order with the planted posts, which alone are held: a 1M-post run does not keep 1M posts in
memory, so the process's peak RSS is the index's, not the stream's.

Planted campaigns take a real post of 12+ words as the message (removed from the background) and have
3–30 accounts push 5–60 variants within 1–24 hours. Each variant gets 1–3 edits: word swaps, insertions,
deletions, truncation, hashtag additions, emoji and @handle changes, links, case, elongation, an ``RT``
prefix. Negative controls: one account posting variants of one message 5–20 times (must not be a campaign).

Both methods see the same posts, time-sorted, in batches, through the same normaliser and window:

* ``minhash``: :class:`pantau.campaigns.CampaignIndex` with ``params.yaml``'s ``campaigns:`` settings;
* ``exact``: posts grouped by a hash of their normalised words (the same words MinHash shingles), the same
  window, ``min_accounts`` and ``min_tokens``.

Quality, over the final assignment of every post (a post that joins a campaign in a later batch counts):

* **B-cubed** precision over posts put in a campaign (a background or solo-spam post's true cluster is
  itself), recall over planted-campaign posts (a post left out is its own predicted cluster);
* **pairwise** precision/recall over pairs of posts sharing a predicted / a planted campaign;
* campaigns: planted ones found (half or more of their posts in one predicted campaign), predicted
  campaigns made mostly of background or solo-spam posts ("false");
* recall by edit kind: share of variants with that edit that landed in their campaign's main cluster.

Throughput is posts per wall-clock second of ``add`` on one thread (normalising included, after one warm-up pass
over the stream that fills the shared normaliser's memo, so neither method pays it alone); memory is the
process's peak RSS growth over the run (``ru_maxrss``), and RSS against posts in the window at checkpoints.
``--memory-probe N`` also fills one index with N distinct posts and no expiry (random 15-word posts from the
corpora's vocabulary) and prints RSS per post, for the growth toward 1M posts in one window.

    nice python benchmarks/campaigns.py [--posts 100000] [--data ../shared/data] [--batch 5000]
                                        [--planted-share 0.1] [--seed 7] [--memory-probe 0]

Measured (params.yaml's settings: char 5-shingles, 128 permutations, threshold 0.6, 48 h window, 3 accounts;
Python 3.11, a 2-core x86_64 VM shared with other jobs; ``nice .venv/bin/python
benchmarks/campaigns.py --posts N``):

| posts | posts/s | peak RSS growth / process (posts in window) | B3 P / R | pair P / R | planted found | false campaigns | exact: posts/s, B3 P / R |
|---|---|---|---|---|---|---|---|
| 100,000 | 4,374 | +249 MB / 496 MB (25,813) | 0.950 / 0.995 | 0.970 / 0.997 | 307/307 | 48 of 355 | 30,476, 1.000 / 0.153 |
| 1,000,000 | 4,103 | +218 MB / 541 MB (23,048) | 0.950 / 0.996 | 0.766 / 0.996 | 3,058/3,059 | 194 of 3,238 | 32,017, 1.000 / 0.148 |

Throughput and memory stay flat from 100k to 1M posts: memory follows the posts in one window (~23-26k at this
rate), not the posts seen. The exact baseline is ~7x faster but finds 33/307 and 301/3,059 campaigns.
Pairwise precision falls at 1M (0.766) while B-cubed precision does not, which points to wrong pairs in large
predicted clusters (pairs count a cluster quadratically, B-cubed per post; not broken down per cluster here). Posts put in a campaign that were
not planted: 4,812 of 889,962 background and 10 of 10,007 solo-spam posts (539 of 88,988 and 19 of 1,010 at
100k). One window holding 1M posts would need ~7.6 GiB: ``--posts 20000 --memory-probe 200000`` measured
8.0 KiB per post in the window (1,562 MB at 200k posts).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import gc
import glob
import heapq
import itertools
import platform
import random
import resource
import sys
import time
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from pantau.campaigns import CampaignIndex, CampaignPost
from pantau.campaigns.shingles import default_normalise, words
from pantau.config import CampaignSettings, load_settings
from pantau.data.sources import repair_ibrohim_text

HOUR = 3600.0
EMOJI = ["🔥", "😡", "👍", "🙏", "💪", "🇮🇩", "😂", "‼️", "👇", "❤️"]
FILLERS = ["ayo", "guys", "bener", "banget", "sih", "dong", "nih", "pokoknya", "wajib", "sebarkan", "info"]
HASHTAGS = ["#Pemilu2024", "#IndonesiaMaju", "#SaveRakyat", "#TolakHoax", "#KawalSuara", "#ViralkanIni"]
EDITS = (
    "swap", "insert", "delete", "truncate", "hashtag", "emoji", "handle", "link", "case", "elongate", "rt",
)  # fmt: skip


# -- data -------------------------------------------------------------------------------------------------
def load_real(data: Path) -> list[str]:
    """Real posts from the shared corpora (read here, never stored in the repository)."""
    texts: list[str] = []
    with (data / "ibrohim2019" / "re_dataset.csv").open(encoding="latin-1", newline="") as f:
        reader = csv.reader(f)
        next(reader)
        texts += [repair_ibrohim_text(row[0]) for row in reader if row]
    for path in sorted(glob.glob(str(data / "indonlu" / "emot" / "*.csv"))):
        with open(path, encoding="utf-8", newline="") as f:
            texts += [row["tweet"] for row in csv.DictReader(f)]
    for path in sorted(glob.glob(str(data / "indonlu" / "smsa" / "*.tsv"))):
        with open(path, encoding="utf-8") as f:
            texts += [line.rsplit("\t", 1)[0] for line in f if line.strip()]
    return texts


def distinct(texts: list[str], norm) -> list[tuple[str, list[str]]]:
    """One post per distinct normalised word sequence, with its words."""
    seen, out = set(), []
    for t in texts:
        w = words(norm(t))
        key = " ".join(w)
        if key and key not in seen:
            seen.add(key)
            out.append((t, w))
    return out


# -- variants ---------------------------------------------------------------------------------------------
def variant(text: str, rng: random.Random) -> tuple[str, list[str]]:
    """A buzzer's copy of ``text`` with 1–3 edits; returns it and the edit kinds."""
    kinds = rng.sample(EDITS, rng.randint(1, 3))
    toks = text.split()
    for kind in kinds:
        if kind == "swap" and len(toks) > 3:
            i = rng.randrange(len(toks) - 1)
            toks[i], toks[i + 1] = toks[i + 1], toks[i]
        elif kind == "insert":
            toks.insert(rng.randrange(len(toks) + 1), rng.choice(FILLERS))
        elif kind == "delete" and len(toks) > 6:
            del toks[rng.randrange(len(toks))]
        elif kind == "truncate" and len(toks) > 8:
            toks = toks[: max(6, int(len(toks) * rng.uniform(0.7, 0.9)))]
        elif kind == "hashtag":
            toks += rng.sample(HASHTAGS, rng.randint(1, 2))
        elif kind == "emoji":
            toks.insert(rng.choice([0, len(toks)]), "".join(rng.choices(EMOJI, k=rng.randint(1, 3))))
        elif kind == "handle":
            toks.insert(0, f"@akun{rng.randrange(10**6)}")
        elif kind == "link":
            toks.append(f"https://t.co/{rng.randrange(16**8):08x}")
        elif kind == "case":
            toks = [t.upper() for t in toks] if rng.random() < 0.5 else [t.capitalize() for t in toks]
        elif kind == "elongate":
            i = rng.randrange(len(toks))
            if toks[i][-1:].isalpha():
                toks[i] += toks[i][-1] * rng.randint(2, 5)
        elif kind == "rt":
            toks = ["RT", f"@buzzer{rng.randrange(1000)}:", *toks]
    return " ".join(toks), kinds


@dataclasses.dataclass
class Stream:
    """The synthetic stream, re-iterable in time order without holding it: the background (the bulk at
    1M posts) is generated afresh on each pass from its own seed; only planted and solo-spam posts are kept."""

    planted: list[CampaignPost]  # planted-campaign and solo-spam posts, sorted by time
    background_texts: list[str]
    background: int  # background posts in the stream
    background_seed: int
    truth: dict[str, int]  # post id -> planted campaign number (planted posts only)
    edits: dict[str, list[str]]  # planted post id -> edit kinds
    spam: set[str]  # solo-spam post ids
    campaigns: int
    span_hours: float

    def __len__(self) -> int:
        return self.background + len(self.planted)

    @property
    def distinct_background(self) -> int:
        return len(self.background_texts)

    def posts(self) -> Iterator[CampaignPost]:
        """Every post, time-sorted; the same posts on every call."""
        return heapq.merge(self._background(), self.planted, key=lambda p: p.posted_at)

    def _background(self) -> Iterator[CampaignPost]:
        # steady rate over the span; the jitter (< half a step) keeps the times increasing, so the
        # generator is already in time order and merges with the planted posts without a sort
        rng, n, span = random.Random(self.background_seed), self.background, self.span_hours * HOUR
        texts = self.background_texts
        for i in range(n):
            t = (i + rng.random() * 0.5) / n * span
            yield CampaignPost(f"bg{i}", texts[i % len(texts)], f"user{rng.randrange(50_000)}", t)


def batches(posts: Iterable[CampaignPost], size: int) -> Iterator[list[CampaignPost]]:
    """Consecutive lists of ``size`` posts (the last may be shorter)."""
    it = iter(posts)
    while batch := list(itertools.islice(it, size)):
        yield batch


def build_stream(
    real: list[tuple[str, list[str]]], n: int, planted_share: float, window_h: float, seed: int
) -> Stream:
    """The synthetic stream (see the module docstring)."""
    rng = random.Random(seed)
    real = real[:]
    rng.shuffle(real)
    seeds = [t for t, w in real if len(w) >= 12]
    n_planted = int(n * planted_share)
    n_spam = int(n * 0.01)
    sizes = []
    while sum(sizes) < n_planted:
        sizes.append(rng.randint(5, 60))
    spam_sizes = []
    while sum(spam_sizes) < n_spam:
        spam_sizes.append(rng.randint(5, 20))
    messages = seeds[: len(sizes) + len(spam_sizes)]
    used = set(messages)
    background = [t for t, _ in real if t not in used]
    n_bg = max(0, n - sum(sizes) - sum(spam_sizes))
    # the distinct posts in the same order each cycle: copies of a post are one cycle (1.25 windows) apart,
    # so a post never meets its own copy inside a window
    cycle_h = window_h * 1.25
    span = max(1.0, n_bg / len(background)) * cycle_h * HOUR
    posts: list[CampaignPost] = []
    truth, edits, spam = {}, {}, set()
    for k, size in enumerate(sizes):
        message, start = messages[k], rng.uniform(0, span - 24 * HOUR)
        burst = rng.uniform(1, 24) * HOUR
        accounts = [f"buzzer{rng.randrange(2000)}" for _ in range(rng.randint(3, min(30, size)))]
        accounts = list(dict.fromkeys(accounts)) or ["buzzer0"]
        for m in range(size):
            pid = f"c{k}-{m}"
            text, kinds = (message, []) if m == 0 else variant(message, rng)
            account = accounts[m] if m < len(accounts) else rng.choice(accounts)
            posts.append(CampaignPost(pid, text, account, start + rng.uniform(0, burst)))
            truth[pid], edits[pid] = k, kinds
    for s, size in enumerate(spam_sizes):
        message, start = messages[len(sizes) + s], rng.uniform(0, span - 24 * HOUR)
        for m in range(size):
            pid = f"s{s}-{m}"
            posts.append(
                CampaignPost(pid, variant(message, rng)[0], f"solo{s}", start + rng.uniform(0, 12 * HOUR))
            )
            spam.add(pid)
    posts.sort(key=lambda p: p.posted_at)
    return Stream(posts, background, n_bg, rng.randrange(2**32), truth, edits, spam, len(sizes), span / HOUR)


# -- the exact baseline -----------------------------------------------------------------------------------
class ExactIndex:
    """Exact duplicates of the normalised words within the window, with the same campaign rule."""

    def __init__(self, settings: CampaignSettings):
        self.settings = settings
        self.norm = default_normalise()
        self.groups: dict[str, deque[tuple[float, str, str | None]]] = {}
        self.campaign_of_key: dict[str, str] = {}
        self.expiry: deque[tuple[float, str]] = deque()
        self.next = 1

    def add(self, posts: list[CampaignPost]) -> dict[str, str]:
        """Post id -> campaign id for this batch, including earlier posts of a group that just qualified."""
        out: dict[str, str] = {}
        window = self.settings.window_hours * HOUR
        for p in posts:
            w = words(self.norm(p.text))
            if len(w) < self.settings.min_tokens:
                continue
            key = " ".join(w)
            while self.expiry and self.expiry[0][0] < p.posted_at - window:
                _, k = self.expiry.popleft()
                group = self.groups[k]
                group.popleft()
                if not group:
                    del self.groups[k]
                    self.campaign_of_key.pop(k, None)
            group = self.groups.setdefault(key, deque())
            group.append((p.posted_at, p.post_id, p.account))
            self.expiry.append((p.posted_at, key))
            cid = self.campaign_of_key.get(key)
            if cid is None and len({a for _, _, a in group}) >= self.settings.min_accounts:
                cid = self.campaign_of_key[key] = f"E{self.next}"
                self.next += 1
                out.update((pid, cid) for _, pid, _ in group)
            if cid is not None:
                out[p.post_id] = cid
        return out


# -- measuring --------------------------------------------------------------------------------------------
def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def run_minhash(stream: Stream, settings: CampaignSettings, batch: int):
    index = CampaignIndex(settings)
    pred: dict[str, str] = {}
    checkpoints = []
    gc.collect()
    start_rss, t0 = rss_mb(), time.perf_counter()
    step = max(1, len(stream) // batch // 5)
    peak_live = 0
    for b, posts in enumerate(batches(stream.posts(), batch)):
        result = index.add(posts)
        for a in result.assignments:
            if a.campaign_id:
                pred[a.post_id] = a.campaign_id
        for c in result.campaigns:
            pred.update(dict.fromkeys(c.post_ids, c.campaign_id))
        peak_live = max(peak_live, len(index))
        if b % step == 0:
            checkpoints.append((b * batch + len(posts), len(index), rss_mb() - start_rss))
    elapsed = time.perf_counter() - t0
    resolved = {cid: index.campaign(cid).campaign_id for cid in set(pred.values())}
    pred = {pid: resolved[cid] for pid, cid in pred.items()}
    return pred, elapsed, checkpoints, peak_live, index.totals


def run_exact(stream: Stream, settings: CampaignSettings, batch: int):
    index = ExactIndex(settings)
    pred: dict[str, str] = {}
    t0 = time.perf_counter()
    for posts in batches(stream.posts(), batch):
        pred.update(index.add(posts))
    return pred, time.perf_counter() - t0


def quality(stream: Stream, pred: dict[str, str]) -> dict[str, float]:
    """B-cubed and pairwise precision/recall, campaigns found/false, recall by edit kind."""
    truth = stream.truth
    pred_members: dict[str, list[str]] = defaultdict(list)
    for pid, cid in pred.items():
        pred_members[cid].append(pid)
    truth_members: dict[int, list[str]] = defaultdict(list)
    for pid, k in truth.items():
        truth_members[k].append(pid)
    # overlap counts: (pred cid, truth k) -> posts
    overlap: Counter[tuple[str, int]] = Counter(
        (cid, truth[pid]) for pid, cid in pred.items() if pid in truth
    )
    # B-cubed
    p_sum = sum(
        overlap[(cid, truth[pid])] / len(pred_members[cid]) if pid in truth else 1 / len(pred_members[cid])
        for pid, cid in pred.items()
    )
    r_sum = sum(
        overlap[(pred[pid], k)] / len(truth_members[k]) if pid in pred else 1 / len(truth_members[k])
        for pid, k in truth.items()
    )
    b3p = p_sum / len(pred) if pred else float("nan")
    b3r = r_sum / len(truth)
    # pairwise
    pairs = lambda n: n * (n - 1) // 2
    tp = sum(pairs(v) for v in overlap.values())
    pred_pairs = sum(pairs(len(m)) for m in pred_members.values())
    true_pairs = sum(pairs(len(m)) for m in truth_members.values())
    # campaigns found: half or more of a planted campaign in one predicted campaign
    best: dict[int, tuple[int, str]] = {}
    for (cid, k), count in overlap.items():
        if count > best.get(k, (0, ""))[0]:
            best[k] = (count, cid)
    found = sum(1 for k, (count, _) in best.items() if count * 2 >= len(truth_members[k]))
    false = sum(1 for cid, m in pred_members.items() if sum(1 for p in m if p in truth) * 2 < len(m))
    by_edit: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for pid, kinds in stream.edits.items():
        hit = int(pid in pred and best.get(truth[pid], (0, None))[1] == pred[pid])
        for kind in kinds or ["verbatim"]:
            by_edit[kind][0] += hit
            by_edit[kind][1] += 1
    return {
        "b3p": b3p, "b3r": b3r, "b3f": 2 * b3p * b3r / (b3p + b3r) if pred else 0.0,
        "pp": tp / pred_pairs if pred_pairs else float("nan"), "pr": tp / true_pairs,
        "found": found, "false": false, "predicted": len(pred_members),
        "spam_flagged": sum(1 for p in stream.spam if p in pred),
        "bg_flagged": sum(1 for p in pred if p.startswith("bg")),
        "by_edit": {k: v[0] / v[1] for k, v in by_edit.items()},
    }  # fmt: skip


def memory_probe(
    real: list[tuple[str, list[str]]], settings: CampaignSettings, n: int, seed: int
) -> list[tuple[int, float]]:
    """RSS growth while one index holds ``n`` distinct random 15-word posts (no expiry: no times)."""
    rng = random.Random(seed)
    vocab = list({w for _, ws in real for w in ws if len(w) > 2})
    index = CampaignIndex(dataclasses.replace(settings, max_posts=max(n, 1)))
    gc.collect()
    base, out, step = rss_mb(), [], max(1, n // 5)
    for i in range(0, n, 5000):
        index.add(
            CampaignPost(f"m{j}", " ".join(rng.choices(vocab, k=15)), f"u{j}")
            for j in range(i, min(n, i + 5000))
        )
        if (i + 5000) % step < 5000 or i + 5000 >= n:
            out.append((len(index), rss_mb() - base))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--posts", type=int, default=100_000)
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--params", type=Path, default=REPO / "params.yaml")
    ap.add_argument("--batch", type=int, default=5000)
    ap.add_argument("--planted-share", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--threshold", type=float, default=None, help="override campaigns.threshold")
    ap.add_argument("--unit", choices=("char", "word"), default=None, help="override campaigns.shingle_unit")
    ap.add_argument("--size", type=int, default=None, help="override campaigns.shingle_size")
    ap.add_argument("--memory-probe", type=int, default=0, help="also fill one index with N distinct posts")
    args = ap.parse_args(argv)

    overrides = {
        f"campaigns.{k}": v
        for k, v in (("threshold", args.threshold), ("shingle_unit", args.unit), ("shingle_size", args.size))
        if v is not None
    }
    settings = load_settings(args.params, env={}, overrides=overrides).campaigns
    norm = default_normalise()
    t0 = time.perf_counter()
    real = distinct(load_real(args.data), norm)
    stream = build_stream(real, args.posts, args.planted_share, settings.window_hours, args.seed)
    print(
        f"# {platform.python_version()} on {platform.machine()}, datasketch MinHash/LSH; settings: {settings}"
    )
    print(
        f"# stream: {len(stream):,} posts = {stream.background:,} real background ({stream.distinct_background:,} distinct, "
        f"{stream.span_hours / 24:.1f} days) + {len(stream.truth):,} in {stream.campaigns} planted campaigns + "
        f"{len(stream.spam):,} solo spam; built in {time.perf_counter() - t0:.0f}s"
    )
    t1 = time.perf_counter()
    for p in stream.posts():  # both methods share this normaliser: warm its memo once, so neither pays it alone
        norm(p.text)
    print(
        f"# normaliser warm-up (first pass over the stream): {len(stream) / (time.perf_counter() - t1):,.0f} posts/s"
    )
    start_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    mh_pred, mh_time, checkpoints, peak_live, totals = run_minhash(stream, settings, args.batch)
    mh_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - start_peak
    ex_pred, ex_time = run_exact(stream, settings, args.batch)
    rows = [("minhash", mh_pred, mh_time, f"{mh_peak:.0f}"), ("exact", ex_pred, ex_time, "-")]
    print(
        "\n| method  | posts/s | peak RSS +MB | B3 P | B3 R | B3 F1 | pair P | pair R | planted found | false campaigns | solo spam flagged | background flagged |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    results = {}
    for name, pred, elapsed, peak in rows:
        q = results[name] = quality(stream, pred)
        print(
            f"| {name:7} | {len(stream) / elapsed:,.0f} | {peak} | {q['b3p']:.3f} | {q['b3r']:.3f} | {q['b3f']:.3f} | "
            f"{q['pp']:.3f} | {q['pr']:.3f} | {q['found']}/{stream.campaigns} | {q['false']} of {q['predicted']} | "
            f"{q['spam_flagged']}/{len(stream.spam)} | {q['bg_flagged']} |"
        )
    kinds = ["verbatim", *EDITS]
    print("\nrecall by edit kind (variant posts in their campaign's main cluster):")
    print("| method | " + " | ".join(kinds) + " |")
    print("|---|" + "---|" * len(kinds))
    for name in ("minhash", "exact"):
        print(
            f"| {name} | "
            + " | ".join(f"{results[name]['by_edit'].get(k, float('nan')):.2f}" for k in kinds)
            + " |"
        )
    print(
        f"\nminhash index: peak {peak_live:,} posts in the window; statuses over the run: "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(totals.items()))
    )
    print(
        "RSS growth vs posts in the window (posts fed, in window, +MB): "
        + "; ".join(f"{fed:,}, {live:,}, {mb:.0f}" for fed, live, mb in checkpoints)
    )
    print(f"process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
    if args.memory_probe:
        t1 = time.perf_counter()
        probe = memory_probe(real, settings, args.memory_probe, args.seed)
        per = probe[-1][1] * 2**20 / probe[-1][0]
        print(
            f"memory probe ({time.perf_counter() - t1:.0f}s), posts in one window vs +MB: "
            + "; ".join(f"{n:,}: {mb:.0f}" for n, mb in probe)
            + f" -> {per / 1024:.2f} KiB/post, ~{per * 1e6 / 2**30:.1f} GiB for 1M posts in one window"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
