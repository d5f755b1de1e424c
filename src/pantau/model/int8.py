"""int8 inference for the Classifier: the fp32 model exported to ONNX and dynamically quantised.

Why ONNX Runtime rather than ``torch.ao.quantization.quantize_dynamic``: measured on e5-small with
real posts, the accuracy loss of dynamic int8 comes almost entirely from quantising *activations*
per tensor. torch's dynamic ``Linear`` on x86 quantises activations to 7 bits (``reduce_range``),
which flipped 4–12 % of the flags; ONNX Runtime uses the full 8 bits. The one layer that still hurts
is the feed-forward *output* projection (its input, the GELU output, carries a few huge outlier
channels; SmoothQuant-style rescaling did not help), so it stays fp32 — the other five projections of
every layer run in int8 with per-channel weights. Word embeddings and the small head stay fp32.

Before quantising, ONNX Runtime's transformer optimiser fuses each layer's attention (exported with
eager attention so the pattern is recognisable) into one ``Attention`` node, which the quantiser turns
into ``QAttention`` (query, key and value in one int8 GEMM), plus fused LayerNorm/GELU. Measured on this
2-core AVX2 machine: 1.60× torch fp32 against 1.46× unfused, same error. A model whose graph does not fuse
is quantised unfused.

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

RECIPE_VERSION = "2"


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
    model: torch.nn.Module, intermediate_size: int | None, num_labels: int, target: Path
) -> Path:
    """Export ``model`` (input_ids, attention_mask → logits) to ONNX, quantise it, write ``target``."""
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
        fp32_path = _fuse(fp32_path, config)
        excluded = _fp32_matmuls(fp32_path, intermediate_size, num_labels)
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


def _fuse(path: Path, config: Any) -> Path:
    """The graph with attention, LayerNorm and GELU fused by ONNX Runtime's optimiser, written next to
    ``path``; ``path`` itself if the model is not BERT-like or not every layer's attention fused."""
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
        fused = optimizer.optimize_model(
            str(path), model_type="bert", num_heads=heads, hidden_size=hidden, opt_level=1
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


def _fp32_matmuls(path: Path, intermediate_size: int | None, num_labels: int) -> list[str]:
    """MatMul nodes kept fp32: weights [intermediate, hidden] (feed-forward output) and [hidden, labels] (head)."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    shapes = {init.name: tuple(init.dims) for init in graph.initializer}

    def keep(shape: tuple[int, ...]) -> bool:
        return len(shape) == 2 and (shape[0] == intermediate_size or num_labels in shape)

    names = []
    for node in graph.node:
        if node.op_type in ("MatMul", "Gemm") and any(keep(shapes.get(i, ())) for i in node.input):
            # The quantiser rewrites a Gemm into "<name>_MatMul" before matching exclusions.
            names += [node.name, f"{node.name}_MatMul"]
    return names


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
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = cache / f"{cache_key(folder)}.int8.onnx"
    if not target.exists():
        log.info("quantising %s to int8 (once; cached in %s)", folder, cache)
        build_int8_onnx(model, intermediate_size, num_labels, target)
    return OnnxInt8Model(target, num_labels, threads)
