"""int8 inference for the Classifier: the fp32 model exported to ONNX and dynamically quantised.

Why ONNX Runtime rather than ``torch.ao.quantization.quantize_dynamic``: measured on e5-small with
real posts, the accuracy loss of dynamic int8 comes almost entirely from quantising *activations*
per tensor. torch's dynamic ``Linear`` on x86 quantises activations to 7 bits (``reduce_range``),
which flipped 4–12 % of the flags; ONNX Runtime uses the full 8 bits. The one layer that still hurts
is the feed-forward *output* projection: its input, the GELU output, carries huge outliers, so one
activation scale per tensor (plain dynamic quantisation) flipped flags and SmoothQuant-style rescaling did
not help. It now runs in int8 with **one activation scale per token** (a graph rewrite after
``quantize_dynamic``: per-row max|x|/127, uint8 with zero point 128, int8 weights per output column,
``MatMulInteger``, both scales multiplied back). ``benchmarks/int8_recipes.py`` (fine-tuned e5-small, 1,200
real posts, pure int8, 2-core AVX-512 VNNI idle): 1.90× pantau's fp32 against 1.48× with that projection in
fp32 and 2.05× with it per tensor; posts with every flag equal to fp32 97.9 % against 98.2 % and 95.7 %; the
band that gets to 99.5 % is 0.15 log-odds for both of the first two and none for per tensor. (On a loaded
machine the same code measured 2.86× and 2.41×: torch fp32 suffers more from a busy CPU.) int8 × int8
activations (``per_token_s8``) run through a much slower MLAS path here (1.6× against 3.5× in a session
benchmark); ``fp32``, ``per_tensor`` and ``per_token_asym`` (each row's own range, zero point taken out after
the GEMM) remain selectable through ``build_int8_onnx(ffn_output=...)`` for measurement. The other five
projections of every layer run in int8 with per-channel weights and per-tensor dynamic activations; the
small head stays fp32. The word-embedding table (most of the file: e5-small 407 → 120 MB) is stored as int8
with one scale per row and scaled back per token (recipe 4, :func:`_int8_word_embeddings`); measured against
fp32 on 1,200 real windows, its error is the same as with the fp32 table (mean |Δlogit| 0.1087 vs 0.1089).

Before quantising, ONNX Runtime's transformer optimiser fuses each layer's attention (exported with
eager attention so the pattern is recognisable) into one ``Attention`` node, which the quantiser turns
into ``QAttention`` (query, key and value in one int8 GEMM), plus fused LayerNorm/GELU (measured earlier
on a 2-core AVX2 machine: 1.60× torch fp32 against 1.46× unfused, same error). The residual sums are *not*
fused into ``SkipLayerNormalization`` (recipe 5): that CPU kernel took a fifth of the int8 graph's time at
tweet lengths, and plain ``Add`` + ``LayerNormalization`` run the same graph 1.22× faster (per token) with the
same error (see :func:`_fuse`). A model whose graph does not fuse is quantised unfused.

The quantised file is cached (``cache_dir``, default ``~/.cache/pantau/int8``) under a key made of the
model's weights, the recipe version and the library versions, written atomically so several processes
(Ray actors) can load the same model at once.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import torch

log = logging.getLogger(__name__)

# 3: feed-forward output projections int8, one activation scale per token; 4: word table int8 per row;
# 5: residual Add + LayerNormalization instead of the fused SkipLayerNormalization
RECIPE_VERSION = "5"

# How the feed-forward output projection runs: kept fp32; int8 with one activation scale per tensor
# (plain dynamic quantisation); int8 with one scale per token (uint8 or, "_s8", int8 activations).
# "per_token_all": every projection outside the fused attention (attention output, feed-forward input and
# output) with one scale per token.
FFN_OUTPUT_MODES = ("fp32", "per_tensor", "per_token", "per_token_s8", "per_token_asym", "per_token_all")
DEFAULT_FFN_OUTPUT = "per_token"


def default_cache_dir() -> Path:
    """Where quantised models are kept between runs."""
    return Path.home() / ".cache" / "pantau" / "int8"


def cache_key(folder: Path) -> str:
    """Identify a model folder's weights cheaply (sizes and mtimes of big files, bytes of small ones)."""
    h = hashlib.sha256(RECIPE_VERSION.encode())
    for name in ("onnxruntime", "onnx", "torch", "transformers"):
        try:
            h.update(f"{name}={metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            h.update(name.encode())
    for path in sorted(folder.iterdir()):
        if not path.is_file():
            continue
        stat = path.stat()
        h.update(path.name.encode())
        if stat.st_size < 1_000_000:
            h.update(path.read_bytes())
        else:
            h.update(f"{stat.st_size}:{stat.st_mtime_ns}".encode())
    return h.hexdigest()[:24]


def build_int8_onnx(
    model: torch.nn.Module,
    intermediate_size: int | None,
    num_labels: int,
    target: Path,
    *,
    ffn_output: str = DEFAULT_FFN_OUTPUT,
    int8_embeddings: bool = True,
    skip_layer_norm: bool = False,
) -> Path:
    """Export ``model`` (input_ids, attention_mask → logits) to ONNX, quantise it, write ``target``.

    ``ffn_output`` picks how the feed-forward output projections run (see :data:`FFN_OUTPUT_MODES`);
    ``int8_embeddings`` stores the word-embedding table as int8 with one scale per row
    (:func:`_int8_word_embeddings`; fused graphs only); ``skip_layer_norm`` fuses each residual sum and its
    LayerNorm into ``SkipLayerNormalization`` (recipe 4 and before; slower here, see :func:`_fuse`).
    """
    if ffn_output not in FFN_OUTPUT_MODES:
        raise ValueError(f"ffn_output must be one of {FFN_OUTPUT_MODES}, got {ffn_output!r}")
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        fp32_path = Path(tmp) / "model.onnx"
        ids = torch.ones(2, 8, dtype=torch.long)
        mask = torch.ones(2, 8, dtype=torch.long)
        # A padded row, so shape- and value-dependent branches of the mask code trace the padding path.
        mask[1, 5:] = 0
        config = getattr(getattr(model, "encoder", None), "config", None)
        with _exportable(model), torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings about shape-dependent Python branches
            torch.onnx.export(
                model,
                (ids, mask),
                str(fp32_path),
                input_names=["input_ids", "attention_mask"],
                output_names=["logits"],
                opset_version=17,
                dynamo=False,
                dynamic_axes={
                    "input_ids": {0: "batch", 1: "tokens"},
                    "attention_mask": {0: "batch", 1: "tokens"},
                    "logits": {0: "batch"},
                },
            )
        fp32_path = _fuse(fp32_path, config, skip_layer_norm=skip_layer_norm)
        every = ffn_output == "per_token_all"
        excluded = _fp32_matmuls(
            fp32_path, intermediate_size, num_labels, ffn_output=ffn_output != "per_tensor", every_linear=every
        )
        int8_path = Path(tmp) / "model.int8.onnx"
        root = logging.getLogger()
        was = root.disabled
        root.disabled = True
        try:  # the quantiser logs a pre-processing hint on the root logger every time
            quantize_dynamic(
                str(fp32_path),
                str(int8_path),
                weight_type=QuantType.QInt8,
                per_channel=True,
                op_types_to_quantize=["MatMul", "Attention"],
                nodes_to_exclude=excluded,
                # Fused nodes live in the com.microsoft domain, which ONNX shape inference cannot type.
                extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
            )
        finally:
            root.disabled = was
        per_token = ffn_output.startswith("per_token") and bool(intermediate_size)
        if per_token or int8_embeddings:
            quantised = onnx.load(str(int8_path))
            if per_token:
                _per_token_ffn_outputs(quantised, intermediate_size, mode=ffn_output,
                                       num_labels=num_labels if every else None)
            if int8_embeddings:
                _int8_word_embeddings(quantised)
            onnx.save(quantised, str(int8_path))
        os.replace(int8_path, target)
    return target


@contextmanager
def _exportable(model: torch.nn.Module) -> Iterator[None]:
    """Eval mode and eager attention for the export; afterwards every module exactly as it was.

    ``torch.onnx.export`` restores the *top* module's mode on every submodule: a wrapper in training
    mode around an eval encoder came back with dropout on, and the fp32 model that verifies int8 scores
    near a threshold drifted. Eager attention exports the pattern ONNX Runtime's fusion recognises.
    """
    modes = {module: module.training for module in model.modules()}
    encoder = getattr(model, "encoder", None)
    attention = getattr(getattr(encoder, "config", None), "_attn_implementation", None)
    switch = attention not in (None, "eager") and hasattr(encoder, "set_attn_implementation")
    model.eval()
    if switch:
        encoder.set_attn_implementation("eager")  # same numbers as sdpa
    try:
        yield
    finally:
        if switch:
            encoder.set_attn_implementation(attention)
        for module, training in modes.items():
            module.training = training


def _fuse(path: Path, config: Any, *, skip_layer_norm: bool = False) -> Path:
    """The graph with attention, LayerNorm and GELU fused by ONNX Runtime's optimiser, written next to
    ``path``; ``path`` itself if the model is not BERT-like or not every layer's attention fused.

    The residual sums stay plain ``Add`` before ``LayerNormalization`` unless ``skip_layer_norm``: ONNX
    Runtime 1.32's CPU ``SkipLayerNormalization`` took 21 % of the int8 graph's time at tweet lengths, where
    ``Add`` + ``LayerNormalization`` take 6.5 % (same numbers: mean |Δlogit| against fp32 0.109 vs 0.111).
    """
    layers = getattr(config, "num_hidden_layers", None)
    heads = getattr(config, "num_attention_heads", None)
    hidden = getattr(config, "hidden_size", None)
    if getattr(config, "model_type", None) not in _FUSABLE or not (layers and heads and hidden):
        return path
    try:
        from onnxruntime.transformers import optimizer
    except ImportError:  # pragma: no cover - part of the onnxruntime wheel
        return path
    logger = logging.getLogger("onnxruntime.transformers")
    level = logger.level
    logger.setLevel(logging.ERROR)  # it reports every fusion it tries at INFO/WARNING
    try:
        from onnxruntime.transformers.fusion_options import FusionOptions

        options = FusionOptions("bert")
        options.enable_skip_layer_norm = skip_layer_norm
        options.enable_bias_skip_layer_norm = skip_layer_norm
        fused = optimizer.optimize_model(
            str(path), model_type="bert", num_heads=heads, hidden_size=hidden, opt_level=1,
            optimization_options=options,
        )
        stats = fused.get_fused_operator_statistics()
    except Exception as exc:  # noqa: BLE001 - an optimiser failure only costs speed
        log.info("attention fusion failed (%s); quantising the unfused graph", exc)
        return path
    finally:
        logger.setLevel(level)
    if stats.get("Attention", 0) != layers:
        log.info("attention fused in %s of %d layers; quantising the unfused graph", stats.get("Attention"), layers)
        return path
    out = path.with_name(path.stem + ".fused.onnx")
    fused.save_model_to_file(str(out))
    return out


# BERT-style encoders (post-LayerNorm, absolute positions) that the "bert" fusions recognise.
_FUSABLE = frozenset({"bert", "xlm-roberta", "roberta"})


def _fp32_matmuls(
    path: Path, intermediate_size: int | None, num_labels: int, *, ffn_output: bool = True,
    every_linear: bool = False,
) -> list[str]:
    """MatMul nodes the dynamic quantiser leaves alone: the head (weight [hidden, labels]) and, with
    ``ffn_output``, the feed-forward output projections (weight [intermediate, hidden]); with
    ``every_linear``, every MatMul with a 2-D weight (rewritten per token afterwards)."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    shapes = {init.name: tuple(init.dims) for init in graph.initializer}

    def keep(shape: tuple[int, ...]) -> bool:
        return len(shape) == 2 and (every_linear or (ffn_output and shape[0] == intermediate_size)
                                    or num_labels in shape)

    names = []
    for node in graph.node:
        if node.op_type in ("MatMul", "Gemm") and any(keep(shapes.get(i, ())) for i in node.input):
            # The quantiser rewrites a Gemm into "<name>_MatMul" before matching exclusions.
            names += [node.name, f"{node.name}_MatMul"]
    return names


def _per_token_ffn_outputs(model: Any, intermediate_size: int, *, mode: str = "per_token",
                           num_labels: int | None = None) -> int:
    """Rewrite every fp32 MatMul with a [intermediate, hidden] weight in ``model`` (in place) into int8
    with one activation scale per token; returns how many were rewritten. With ``num_labels``, every fp32
    MatMul with a 2-D weight except the head's ([hidden, num_labels]) is rewritten.

    Per token because the GELU output's outliers sit in a few tokens: one scale for the whole tensor
    (dynamic quantisation) spends the 8 bits on them and rounds every other token to a handful of levels.
    ORT's MatMulInteger takes only a scalar activation zero point, so the per-token part lives in the
    scale (symmetric, zero point 128 for uint8) and is multiplied back after the integer GEMM.
    """
    from onnx import numpy_helper

    graph = model.graph
    weights = {init.name: init for init in graph.initializer}
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    count = 0
    for position, node in reversed(list(enumerate(graph.node))):
        if node.op_type != "MatMul" or node.input[1] not in weights:
            continue
        w = numpy_helper.to_array(weights[node.input[1]])
        if w.ndim != 2:
            continue
        if (num_labels in w.shape) if num_labels is not None else w.shape[0] != intermediate_size:
            continue
        prefix = f"{node.name or node.output[0]}_pt"
        if mode == "per_token_asym":
            new_nodes, new_inits = _per_token_asym_matmul(node, w, prefix, opset)
        else:
            new_nodes, new_inits = _per_token_matmul(node, w, prefix, opset, mode == "per_token_s8")
        del graph.node[position]
        for offset, new_node in enumerate(new_nodes):
            graph.node.insert(position + offset, new_node)
        graph.initializer.extend(new_inits)
        count += 1
    used = {i for n in graph.node for i in n.input}
    for init in [i for i in graph.initializer if i.name not in used]:
        graph.initializer.remove(init)  # the fp32 weights just replaced
    return count


def _per_column_int8(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``w`` [K, N] as int8 with one scale per output column (its largest weight maps to ±127)."""
    scale_w = np.maximum(np.abs(w).max(axis=0), 1e-12).astype(np.float32) / 127
    return np.clip(np.rint(w / scale_w), -127, 127).astype(np.int8), scale_w


def _common_inits(p: str, w: np.ndarray, q_w: np.ndarray, scale_w: np.ndarray) -> list:
    """Initializers both per-token rewrites use: the int8 weights and their scales, the shapes to flatten x
    to [rows, K] and back, and the small constants."""
    from onnx import numpy_helper

    return [
        numpy_helper.from_array(q_w, f"{p}_w"),
        numpy_helper.from_array(scale_w, f"{p}_w_scale"),
        numpy_helper.from_array(np.array([-1, w.shape[0]], dtype=np.int64), f"{p}_rows_k"),
        numpy_helper.from_array(np.array([w.shape[1]], dtype=np.int64), f"{p}_n"),
        numpy_helper.from_array(np.array([0], dtype=np.int64), f"{p}_zero_i"),
        numpy_helper.from_array(np.array([-1], dtype=np.int64), f"{p}_last_i"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), f"{p}_axis1"),
        # An all-zero row (not seen in practice) would otherwise divide by a zero scale.
        numpy_helper.from_array(np.array(1e-12, dtype=np.float32), f"{p}_tiny"),
    ]


def _restore_shape(x: str, flat: str, y: str, p: str) -> list:
    """Nodes reshaping ``flat`` [rows, N] back to x's leading dims with the projection's width, into ``y``."""
    from onnx import helper

    return [
        helper.make_node("Shape", [x], [f"{p}_xshape"]),
        helper.make_node("Slice", [f"{p}_xshape", f"{p}_zero_i", f"{p}_last_i"], [f"{p}_lead"]),
        helper.make_node("Concat", [f"{p}_lead", f"{p}_n"], [f"{p}_yshape"], axis=0),
        helper.make_node("Reshape", [flat, f"{p}_yshape"], [y]),
    ]


def _per_token_matmul(node: Any, w: np.ndarray, prefix: str, opset: int, signed: bool) -> tuple[list, list]:
    """Nodes and initializers computing ``node`` (x @ w, x [..., K]) with x quantised per row, w per column.

    x is flattened to [rows, K] so QuantizeLinear's per-axis mode (axis 0, one scale per row) quantises it
    in one vectorised pass instead of Div/Round/Clip/Add/Cast.
    """
    from onnx import helper, numpy_helper

    x, (y,) = node.input[0], node.output
    p = prefix
    q_w, scale_w = _per_column_int8(w)
    zp_dtype = np.int8 if signed else np.uint8
    inits = [
        *_common_inits(p, w, q_w, scale_w),
        numpy_helper.from_array(np.array(1 / 127, dtype=np.float32), f"{p}_inv127"),
        numpy_helper.from_array(np.array([0 if signed else 128], dtype=zp_dtype), f"{p}_zp1"),
        numpy_helper.from_array(np.array(0 if signed else 128, dtype=zp_dtype), f"{p}_zp"),
    ]
    if opset >= 18:
        reduce = helper.make_node("ReduceMax", [f"{p}_abs", f"{p}_axis1"], [f"{p}_max"], keepdims=0)
    else:
        reduce = helper.make_node("ReduceMax", [f"{p}_abs"], [f"{p}_max"], axes=[1], keepdims=0)
    nodes = [
        helper.make_node("Reshape", [x, f"{p}_rows_k"], [f"{p}_x2"]),
        helper.make_node("Abs", [f"{p}_x2"], [f"{p}_abs"]),
        reduce,
        helper.make_node("Mul", [f"{p}_max", f"{p}_inv127"], [f"{p}_s_raw"]),
        helper.make_node("Max", [f"{p}_s_raw", f"{p}_tiny"], [f"{p}_s"]),
        helper.make_node("Shape", [f"{p}_s"], [f"{p}_rows"]),
        helper.make_node("Expand", [f"{p}_zp1", f"{p}_rows"], [f"{p}_zps"]),
        helper.make_node("QuantizeLinear", [f"{p}_x2", f"{p}_s", f"{p}_zps"], [f"{p}_xq"], axis=0),
        helper.make_node("MatMulInteger", [f"{p}_xq", f"{p}_w", f"{p}_zp"], [f"{p}_acc"]),
        helper.make_node("Cast", [f"{p}_acc"], [f"{p}_accf"], to=1),
        helper.make_node("Mul", [f"{p}_accf", f"{p}_w_scale"], [f"{p}_yw"]),
        helper.make_node("Unsqueeze", [f"{p}_s", f"{p}_axis1"], [f"{p}_s_col"]),
        helper.make_node("Mul", [f"{p}_yw", f"{p}_s_col"], [f"{p}_y2"]),
        *_restore_shape(x, f"{p}_y2", y, p),
    ]
    return nodes, inits


def _per_token_asym_matmul(node: Any, w: np.ndarray, prefix: str, opset: int) -> tuple[list, list]:
    """Like :func:`_per_token_matmul`, with each row's own [min, max] mapped onto 0..255 (zero point per row).

    The GELU output never goes below about -0.17, so a symmetric scale leaves half the codes unused.
    MatMulInteger accepts only a scalar activation zero point, so the rows' zero points are taken out after
    the integer GEMM: x @ W ≈ s·(q @ Wq − z·colsum(Wq))·w_scale.
    """
    from onnx import helper, numpy_helper

    x, (y,) = node.input[0], node.output
    p = prefix
    q_w, scale_w = _per_column_int8(w)
    inits = [
        *_common_inits(p, w, q_w, scale_w),
        numpy_helper.from_array((q_w.astype(np.float32).sum(axis=0) * scale_w).astype(np.float32), f"{p}_colsum"),
        numpy_helper.from_array(np.array(0.0, dtype=np.float32), f"{p}_f0"),
        numpy_helper.from_array(np.array(255.0, dtype=np.float32), f"{p}_f255"),
        numpy_helper.from_array(np.array(1 / 255, dtype=np.float32), f"{p}_inv255"),
    ]

    def reduce(op: str, out: str) -> Any:
        if opset >= 18:
            return helper.make_node(op, [f"{p}_x2", f"{p}_axis1"], [out], keepdims=0)
        return helper.make_node(op, [f"{p}_x2"], [out], axes=[1], keepdims=0)

    nodes = [
        helper.make_node("Reshape", [x, f"{p}_rows_k"], [f"{p}_x2"]),
        reduce("ReduceMax", f"{p}_hi_raw"),
        reduce("ReduceMin", f"{p}_lo_raw"),
        # The range must hold 0 exactly, so zero activations (and the zero point) are exact.
        helper.make_node("Max", [f"{p}_hi_raw", f"{p}_f0"], [f"{p}_hi"]),
        helper.make_node("Min", [f"{p}_lo_raw", f"{p}_f0"], [f"{p}_lo"]),
        helper.make_node("Sub", [f"{p}_hi", f"{p}_lo"], [f"{p}_range"]),
        helper.make_node("Mul", [f"{p}_range", f"{p}_inv255"], [f"{p}_s_raw"]),
        helper.make_node("Max", [f"{p}_s_raw", f"{p}_tiny"], [f"{p}_s"]),
        helper.make_node("Div", [f"{p}_lo", f"{p}_s"], [f"{p}_lo_q"]),
        helper.make_node("Neg", [f"{p}_lo_q"], [f"{p}_z_raw"]),
        helper.make_node("Round", [f"{p}_z_raw"], [f"{p}_z_round"]),
        helper.make_node("Clip", [f"{p}_z_round", f"{p}_f0", f"{p}_f255"], [f"{p}_zf"]),
        helper.make_node("Cast", [f"{p}_zf"], [f"{p}_zps"], to=2),  # uint8
        helper.make_node("QuantizeLinear", [f"{p}_x2", f"{p}_s", f"{p}_zps"], [f"{p}_xq"], axis=0),
        helper.make_node("MatMulInteger", [f"{p}_xq", f"{p}_w"], [f"{p}_acc"]),
        helper.make_node("Cast", [f"{p}_acc"], [f"{p}_accf"], to=1),
        helper.make_node("Mul", [f"{p}_accf", f"{p}_w_scale"], [f"{p}_yw"]),
        helper.make_node("Unsqueeze", [f"{p}_zf", f"{p}_axis1"], [f"{p}_z_col"]),
        helper.make_node("Mul", [f"{p}_z_col", f"{p}_colsum"], [f"{p}_offset"]),
        helper.make_node("Sub", [f"{p}_yw", f"{p}_offset"], [f"{p}_yc"]),
        helper.make_node("Unsqueeze", [f"{p}_s", f"{p}_axis1"], [f"{p}_s_col"]),
        helper.make_node("Mul", [f"{p}_yc", f"{p}_s_col"], [f"{p}_y2"]),
        *_restore_shape(x, f"{p}_y2", y, p),
    ]
    return nodes, inits


def _int8_word_embeddings(model: Any) -> bool:
    """Replace the fused ``EmbedLayerNormalization`` of ``model`` (in place) by the same sum with an int8 word table.

    The word table is most of an int8 file (e5-small: 250k × 384 floats, 384 MB of 407 MB) and of a scoring
    process's memory. Stored as int8 with one scale per row (max|row|/127), it is looked up and scaled back per
    token; positions and token types are added and layer-normalised as the fused op did, and the attention's
    mask index (real tokens per row) is computed from the mask. Returns whether a node was replaced; graphs
    without the fused op (not BERT-like) keep their fp32 table.
    """
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    nodes = [n for n in graph.node if n.op_type == "EmbedLayerNormalization"]
    if len(nodes) != 1 or len(nodes[0].input) < 8 or len(nodes[0].output) < 2:
        return False
    node = nodes[0]
    ids, segments, word, position, token_type, gamma, beta, mask = list(node.input)[:8]
    position_ids = node.input[8] if len(node.input) > 8 else ""
    inits = {init.name: init for init in graph.initializer}
    if word not in inits or not mask:
        return False
    eps = next((helper.get_attribute_value(a) for a in node.attribute if a.name == "epsilon"), 1e-12)
    table = numpy_helper.to_array(inits[word]).astype(np.float32)
    scale = (np.maximum(np.abs(table).max(axis=1), 1e-12) / 127.0).astype(np.float32)
    q = np.clip(np.round(table / scale[:, None]), -127, 127).astype(np.int8)
    graph.initializer.remove(inits[word])
    p = "word_int8"
    graph.initializer.extend([
        numpy_helper.from_array(q, f"{p}_table"), numpy_helper.from_array(scale, f"{p}_scale"),
        numpy_helper.from_array(np.array([-1], np.int64), f"{p}_last_axis"),
        numpy_helper.from_array(np.array([1], np.int64), f"{p}_token_axis"),
        numpy_helper.from_array(np.array(0, np.int64), f"{p}_zero"),
        numpy_helper.from_array(np.array(1, np.int64), f"{p}_one"),
    ])
    new = [
        helper.make_node("Gather", [f"{p}_table", ids], [f"{p}_rows"], name=f"{p}_rows"),
        helper.make_node("Cast", [f"{p}_rows"], [f"{p}_rows_f"], to=TensorProto.FLOAT, name=f"{p}_cast"),
        helper.make_node("Gather", [f"{p}_scale", ids], [f"{p}_row_scale"], name=f"{p}_row_scale"),
        helper.make_node("Unsqueeze", [f"{p}_row_scale", f"{p}_last_axis"], [f"{p}_row_scale3"], name=f"{p}_unsqueeze"),
        helper.make_node("Mul", [f"{p}_rows_f", f"{p}_row_scale3"], [f"{p}_words"], name=f"{p}_scale_back"),
    ]
    if not position_ids:
        position_ids = f"{p}_positions"
        new += [
            helper.make_node("Shape", [ids], [f"{p}_shape"], name=f"{p}_shape"),
            helper.make_node("Gather", [f"{p}_shape", f"{p}_one"], [f"{p}_length"], name=f"{p}_length", axis=0),
            helper.make_node("Range", [f"{p}_zero", f"{p}_length", f"{p}_one"], [position_ids], name=f"{p}_range"),
        ]
    new += [
        helper.make_node("Gather", [position, position_ids], [f"{p}_pos"], name=f"{p}_pos"),
        helper.make_node("Add", [f"{p}_words", f"{p}_pos"], [f"{p}_sum_pos"], name=f"{p}_add_pos"),
    ]
    total = f"{p}_sum_pos"
    if segments and token_type:
        new += [
            helper.make_node("Gather", [token_type, segments], [f"{p}_types"], name=f"{p}_types"),
            helper.make_node("Add", [total, f"{p}_types"], [f"{p}_sum"], name=f"{p}_add_types"),
        ]
        total = f"{p}_sum"
    new += [
        helper.make_node("LayerNormalization", [total, gamma, beta], [node.output[0]], name=f"{p}_norm",
                         epsilon=eps, axis=-1),
        helper.make_node("ReduceSum", [mask, f"{p}_token_axis"], [f"{p}_lengths"], name=f"{p}_lengths", keepdims=0),
        helper.make_node("Cast", [f"{p}_lengths"], [node.output[1]], to=TensorProto.INT32, name=f"{p}_mask_index"),
    ]
    at = list(graph.node).index(node)
    graph.node.remove(node)
    for offset, item in enumerate(new):
        graph.node.insert(at + offset, item)
    return True


class OnnxInt8Model:
    """Callable like the torch model: (input_ids, attention_mask) int64 tensors → logits tensor."""

    def __init__(self, path: Path, num_labels: int, threads: int = 0):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.num_labels = num_labels
        self.path = path

    def __call__(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        (logits,) = self.session.run(
            ["logits"], {"input_ids": input_ids.numpy(), "attention_mask": attention_mask.numpy()}
        )
        return torch.from_numpy(np.asarray(logits))


def int8_path(folder: Path, cache_dir: Path | None = None) -> Path:
    """Where the int8 copy of ``folder`` is (or will be) cached."""
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return cache / f"{cache_key(folder)}.int8.onnx"


def load_cached_int8(folder: Path, *, num_labels: int, threads: int = 0,
                     cache_dir: Path | None = None) -> OnnxInt8Model | None:
    """The int8 model for ``folder`` if it is already cached, else ``None`` — without the fp32 weights, which
    only the export (and the re-check band) need."""
    target = int8_path(folder, cache_dir)
    return OnnxInt8Model(target, num_labels, threads) if target.exists() else None


def load_int8(
    model: torch.nn.Module,
    folder: Path,
    *,
    num_labels: int,
    intermediate_size: int | None,
    threads: int = 0,
    cache_dir: Path | None = None,
) -> Any:
    """The int8 model for ``folder``: from the cache, or exported and quantised now (once)."""
    target = int8_path(folder, cache_dir)
    if not target.exists():
        cache = target.parent
        log.info("quantising %s to int8 (once; cached in %s)", folder, cache)
        build_int8_onnx(model, intermediate_size, num_labels, target)
    return OnnxInt8Model(target, num_labels, threads)
