"""``pantau serve``: the reviewer web app on serve.host:serve.port."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated

import typer

from pantau.cli.common import fail, settings_from
from pantau.cli.queue import engine_for
from pantau.config import Settings

if TYPE_CHECKING:
    from pantau.web.app import WebConfig


def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Default serve.host (127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Default serve.port (8000).")] = None,
) -> None:
    """Run the reviewer web app (FastAPI) on serve.host:serve.port."""
    import uvicorn

    from pantau.queue.complaints import purge_contacts
    from pantau.web.app import create_app
    from pantau.web.security import load_or_create_secret

    settings = settings_from(ctx)
    try:
        secret = load_or_create_secret(
            settings.path(settings.serve.secret_file), os.environ.get("PANTAU_SECRET_KEY")
        )
    except (ValueError, OSError) as exc:
        raise fail(f"session secret: {exc}", 2) from None
    engine = engine_for(ctx)
    purge_contacts(engine, settings.complaints.retention_days)  # contacts past retention go before serving
    config = web_config(settings)
    app = create_app(engine, secret_key=secret, config=config)
    uvicorn.run(app, host=host or settings.serve.host, port=port or settings.serve.port, proxy_headers=False)


def web_config(settings: Settings) -> WebConfig:
    """The web app's settings from params.yaml (queue, serve and complaints sections): what ``pantau serve`` runs."""
    from pantau.queue.complaints import ComplaintPolicy
    from pantau.web.app import WebConfig

    return WebConfig(
        lease_minutes=settings.queue.lease_minutes,
        aging_per_hour=settings.queue.aging_per_hour,
        secure_cookies=settings.serve.secure_cookies,
        session_hours=settings.serve.session_hours,
        max_body_bytes=settings.serve.max_body_bytes,
        claim_batch=settings.queue.claim_batch,
        undo_seconds=settings.queue.undo_seconds,
        complaints=ComplaintPolicy.from_settings(settings.complaints, settings.queue),
        complaint_model=_complaint_model(settings),
    )


def _complaint_model(settings: Settings) -> str | None:
    """The model that scores public complaints: complaints.model, else score.model (the deployed one);
    None when that folder is not there (complaints are then filed unscored, and the pages say so)."""
    source = settings.complaints.model or settings.score.model
    if source.startswith("models:/"):
        return source
    path = settings.path(source)
    return str(path) if path.exists() else None


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the top-level app."""
    app.command("serve")(serve)
