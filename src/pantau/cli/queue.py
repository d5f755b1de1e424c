"""``pantau queue …``, ``pantau users …`` and ``pantau serve``: thin commands over the queue library."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pantau.cli.common import fail, settings_from

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from pantau.config import Settings

queue_app = typer.Typer(
    help="The review queue: migrate, enqueue, status, agreement, export.", no_args_is_help=True
)
users_app = typer.Typer(help="Reviewer accounts (roles: reviewer, lead, admin).", no_args_is_help=True)


def database_url(settings: Settings) -> str:
    """``queue.database_url`` with a relative SQLite path resolved against the params file's folder."""
    from pantau.queue.db import resolve_url

    return resolve_url(settings.queue.database_url, settings.root)


def _settings(ctx: typer.Context) -> Settings:
    return settings_from(ctx)


def engine_for(ctx: typer.Context, *, migrate: bool = True) -> Engine:
    from pantau.queue.db import make_engine, upgrade

    engine = make_engine(database_url(_settings(ctx)))
    if migrate:
        upgrade(engine)
    return engine


# ------------------------------------------------------------------------------------------------ queue


@queue_app.command("migrate")
def migrate(ctx: typer.Context) -> None:
    """Create or upgrade the queue tables (Alembic; safe to repeat)."""
    from pantau.queue.db import current_revision

    engine = engine_for(ctx)
    typer.echo(f"queue database at revision {current_revision(engine)}")


def rows_from_file(path: Path) -> tuple[list[dict[str, Any]], str | None, list[tuple[int, str, str]]]:
    """Enqueue rows from JSONL (one row dict per line) or a CSV/Parquet table with either nested
    ``probabilities``/``flags`` columns or flat ``prob_<label>``/``flag_<label>`` columns (the
    ``pantau score`` layout) plus ``text``. Returns the rows, the file's single model version and
    (line, reason, raw) for JSONL lines that are not JSON objects."""
    import pandas as pd

    from pantau.labels import LABEL_KEYS

    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json"):
        return _jsonl_rows(path)
    if path.is_dir() or suffix in (".parquet", ".pq"):
        frame = pd.read_parquet(path)
    elif suffix == ".csv":
        frame = pd.read_csv(path, dtype={"id": str}, keep_default_na=False)
    else:
        raise ValueError(f"{path}: expected .jsonl, .csv or .parquet")
    if "text" not in frame.columns:
        raise ValueError(
            f"{path} has no text column (score output stores only a hash): enqueue while scoring with "
            "`pantau score --queue`, or join the posts' text first"
        )
    rows = []
    for rec in frame.astype(object).where(frame.notna(), None).to_dict("records"):
        for key in ("probabilities", "flags", "thresholds", "spans"):
            if isinstance(rec.get(key), str) and rec[key]:
                try:
                    rec[key] = json.loads(rec[key])
                except json.JSONDecodeError:
                    rec[key] = None  # the row is rejected with a reason by enqueue's validation
        if "probabilities" not in rec:
            rec["probabilities"] = {k: rec.get(f"prob_{k}") for k in LABEL_KEYS}
        if "flags" not in rec:
            rec["flags"] = {k: rec.get(f"flag_{k}") for k in LABEL_KEYS}
        if hasattr(rec.get("spans"), "tolist"):
            rec["spans"] = [dict(s) for s in rec["spans"].tolist()]
        rows.append(rec)
    return rows, _single_version(path, rows), []


def _single_version(path: Path, rows: list[dict[str, Any]]) -> str | None:
    versions = {
        r["model_version"] for r in rows if isinstance(r.get("model_version"), str) and r["model_version"]
    }
    if len(versions) > 1:
        raise ValueError(f"{path} mixes model versions {sorted(versions)}; enqueue one version at a time")
    return versions.pop() if versions else None


def _jsonl_rows(path: Path) -> tuple[list[dict[str, Any]], str | None, list[tuple[int, str, str]]]:
    rows: list[dict[str, Any]] = []
    bad: list[tuple[int, str, str]] = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                bad.append((number, f"not JSON: {exc.msg}", line[:2000]))
                continue
            if not isinstance(rec, dict):
                bad.append((number, "not a JSON object", line[:2000]))
                continue
            rows.append(rec)
    return rows, _single_version(path, rows), bad


@queue_app.command("enqueue")
def enqueue_cmd(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Scored rows: JSONL of row dicts, or CSV/Parquet with text.")],
    model_version: Annotated[
        str | None, typer.Option(help="Default: the file's model_version column.")
    ] = None,
    threshold: Annotated[
        float | None, typer.Option(help="Minimum risk (default queue.risk_threshold).")
    ] = None,
    rejects: Annotated[Path, typer.Option(help="Where invalid rows go, with the reason.")] = Path(
        "var/queue_rejects.csv"
    ),
) -> None:
    """Put scored posts with risk ≥ threshold in the queue (idempotent per post and model version)."""
    from pantau.io import RejectsWriter
    from pantau.queue.enqueue import enqueue

    settings = _settings(ctx)
    if not path.exists():
        raise fail(f"{path} does not exist", 2)
    try:
        rows, file_version, unreadable = rows_from_file(path)
    except ValueError as exc:
        raise fail(str(exc), 2) from None
    version = model_version or file_version
    if not version:
        raise fail("no model version: pass --model-version or add a model_version column", 2)
    result = enqueue(
        engine_for(ctx),
        rows,
        model_version=version,
        risk_threshold=settings.queue.risk_threshold if threshold is None else threshold,
        double_review_risk=settings.queue.double_review_risk,
        aging_per_hour=settings.queue.aging_per_hour,
    )
    n_rejected = len(result.rejected) + len(unreadable)
    if n_rejected:
        writer = RejectsWriter(settings.path(rejects))
        for number, reason, line in unreadable:
            writer.write(str(path), number, reason, line)
        raw = {str(r.get("id")): json.dumps(r, default=str, ensure_ascii=False)[:2000] for r in rows}
        for ident, reason in result.rejected:
            writer.write(str(path), 0, reason, raw.get(ident, ident))
        writer.close()
    typer.echo(
        f"inserted {result.inserted}, updated {result.updated}, skipped {result.skipped}, "
        f"rejected {n_rejected}" + (f" (see {settings.path(rejects)})" if n_rejected else "")
    )


@queue_app.command("seed")
def seed(
    ctx: typer.Context,
    n: Annotated[int, typer.Option(help="How many synthetic scored posts.")] = 200,
    model_version: Annotated[str, typer.Option()] = "synthetic-v1",
) -> None:
    """Fill the queue with synthetic scored posts to try the reviewer app."""
    from pantau.queue.enqueue import enqueue
    from pantau.queue.synthetic import synthetic_rows

    settings = _settings(ctx)
    result = enqueue(
        engine_for(ctx),
        synthetic_rows(n, model_version=model_version),
        model_version=model_version,
        risk_threshold=settings.queue.risk_threshold,
        double_review_risk=settings.queue.double_review_risk,
        aging_per_hour=settings.queue.aging_per_hour,
    )
    typer.echo(f"inserted {result.inserted}, updated {result.updated}, skipped {result.skipped}")


@queue_app.command("status")
def status(ctx: typer.Context) -> None:
    """Items per status."""
    from pantau.queue.reads import status_counts

    for name, count in status_counts(engine_for(ctx)).items():
        typer.echo(f"{name:10s} {count}")


@queue_app.command("agreement")
def agreement_cmd(ctx: typer.Context) -> None:
    """Cohen's kappa per label between the two independent reviews of double-reviewed items."""
    from pantau.queue.stats import agreement

    for a in agreement(engine_for(ctx)):
        kappa = "n/a" if a.kappa is None else f"{a.kappa:.3f}"
        observed = "n/a" if a.observed is None else f"{a.observed:.3f}"
        typer.echo(f"{a.label:15s} items={a.n:<6d} observed={observed}  kappa={kappa}")


@queue_app.command("release-expired")
def release_expired_cmd(ctx: typer.Context) -> None:
    """Return items whose claim lease ran out to the queue (claims do this too)."""
    from pantau.queue.claims import release_expired
    from pantau.queue.db import write_transaction
    from pantau.queue.models import utcnow

    with write_transaction(engine_for(ctx)) as conn:
        ids = release_expired(conn, utcnow())
    typer.echo(f"released {len(ids)} expired claim(s)")


@queue_app.command("export")
def export_cmd(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output file.")],
    fmt: Annotated[
        str | None, typer.Option("--format", "-f", help="csv | jsonl | parquet (default: suffix).")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only decisions at or after this ISO date/time (UTC).")
    ] = None,
    include_legacy: Annotated[
        bool,
        typer.Option(
            help="Also write decisions recorded before migration 0002, when the form pre-ticked the "
            "model's labels (only those whose action agrees with their labels)."
        ),
    ] = False,
) -> None:
    """Write decided items as labelled data (the corpus kind ``reviewed`` reads it): only what a
    person decided; decisions whose action contradicts their labels are never written."""
    from pantau.queue.export import export_decisions

    held: dict[str, int] = {}
    try:
        n = export_decisions(
            engine_for(ctx), out, since=since, fmt=fmt, include_legacy=include_legacy, held_back=held
        )
    except ValueError as exc:
        raise fail(str(exc), 2) from None
    typer.echo(f"wrote {n} decision(s) to {out}")
    if held.get("legacy"):
        typer.echo(
            f"held back {held['legacy']} decision(s) recorded while the form pre-ticked the model's labels "
            "(--include-legacy writes the consistent ones)"
        )
    if held.get("inconsistent"):
        typer.echo(f"held back {held['inconsistent']} decision(s) whose action contradicts their labels")


@queue_app.command("case")
def case_cmd(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output file: .pdf or .json.")],
    item_id: Annotated[
        int | None, typer.Argument(help="The item's id (a decided warn/takedown); or use --campaign.")
    ] = None,
    campaign: Annotated[
        int | None,
        typer.Option(
            "--campaign", help="A campaign's id: its case file, every queued post with its evidence."
        ),
    ] = None,
) -> None:
    """Write an item's (or a campaign's) case file: the post as captured with its SHA-256, the model's
    output (marked as such), the reviewers' labels and Pasal 280 clauses, and the decision trail."""
    from pantau.queue.errors import QueueError

    suffix = out.suffix.lower()
    if suffix not in (".pdf", ".json"):
        raise fail(f"--out must end in .pdf or .json, got {out.name!r}", 2)
    from pantau.queue.campaign_case import campaign_case_file
    from pantau.queue.casefile import case_file

    try:
        if campaign is not None and item_id is None:
            case = campaign_case_file(engine_for(ctx), campaign)
        elif item_id is not None and campaign is None:
            case = case_file(engine_for(ctx), item_id)
        else:
            raise fail("give an item id or --campaign ID (one of the two)", 2)
    except QueueError as exc:
        raise fail(str(exc)) from None
    if suffix == ".pdf":
        from pantau.web.pdf import campaign_case_pdf, case_pdf

        body = campaign_case_pdf(case) if campaign is not None else case_pdf(case)
    else:
        body = json.dumps(case, ensure_ascii=False, indent=2).encode("utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(body)
    if campaign is not None:
        typer.echo(
            f"wrote the case file of campaign {campaign} ({len(case['posts'])} post(s)) to {out} "
            f"(sha256 of its posts {case['posts_sha256']})"
        )
        for note in case["missing"]:
            typer.echo(f"not available: {note}")
        return
    typer.echo(
        f"wrote the case file of item {item_id} to {out} (sha256 of the post {case['post']['sha256']})"
    )
    if case["missing"]:
        typer.echo(f"not available for this item: {', '.join(case['missing'])}")


@queue_app.command("report")
def report_cmd(
    ctx: typer.Context,
    period: Annotated[str, typer.Option(help="day | week (ISO week, Monday first), UTC.")] = "day",
    date: Annotated[str | None, typer.Option(help="An ISO date in the period (default: today, UTC).")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write .pdf, .csv or .json instead of printing.")
    ] = None,
) -> None:
    """The desk report: posts scored, flagged, reviewed and decided (per action and label), the median
    time from scoring to decision, top accounts and campaigns, and reviewer agreement."""
    from pantau.queue.errors import Invalid
    from pantau.queue.reports import desk_report, period_of, report_csv

    try:
        report = desk_report(engine_for(ctx), period_of(period, date))
    except Invalid as exc:
        raise fail(str(exc), 2) from None
    if out is not None:
        suffix = out.suffix.lower()
        if suffix == ".pdf":
            from pantau.web.pdf import report_pdf

            body = report_pdf(report)
        elif suffix == ".csv":
            body = report_csv(report).encode("utf-8")
        elif suffix == ".json":
            body = json.dumps(report.to_dict(), ensure_ascii=False, indent=2).encode("utf-8")
        else:
            raise fail(f"--out must end in .pdf, .csv or .json, got {out.name!r}", 2)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(body)
        typer.echo(f"wrote the {period} report for {report.period.label} to {out}")
        return
    median = "n/a" if report.median_hours is None else f"{report.median_hours:.2f} h"
    typer.echo(f"period     {report.period.label}")
    typer.echo(f"scored     {report.scored}   flagged {report.flagged}")
    typer.echo(f"reviewed   {report.reviewed} (on {report.reviewed_items} items)   decided {report.decided}")
    typer.echo("by action  " + "  ".join(f"{k}={n}" for k, n in report.by_action.items()))
    typer.echo("by label   " + "  ".join(f"{k}={n}" for k, n in report.by_label.items()))
    typer.echo(f"median scoring → decision  {median}")
    ag = report.agreement
    share = "n/a" if ag.share is None else f"{ag.share:.0%}"
    typer.echo(f"agreement  {ag.agreeing}/{ag.items} double-reviewed items agree on all labels ({share})")
    if report.top_accounts:
        for account, flagged, violations in report.top_accounts:
            typer.echo(f"account    {account}  flagged={flagged}  warn/takedown={violations}")
    else:
        typer.echo("accounts   tidak tersedia / not available (no accounts on this period's posts)")
    for c in report.top_campaigns:
        typer.echo(
            f"campaign   #{c.id} {c.key}  posts={c.posts}  accounts={c.accounts}  decided={c.decided}  "
            f"warn/takedown={c.violations}"
        )
    if not report.top_campaigns:
        typer.echo("campaigns  none among this period's flagged posts")


# ------------------------------------------------------------------------------------------------ users


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_app.command("add")
def users_add(
    ctx: typer.Context,
    username: str,
    role: Annotated[str, typer.Option(help="reviewer | lead | admin")] = "reviewer",
    password_stdin: Annotated[bool, typer.Option(help="Read the password from stdin (no prompt).")] = False,
) -> None:
    """Create an account (argon2-hashed password)."""
    from pantau.queue.users import add_user

    try:
        user = add_user(engine_for(ctx), username, _read_password(password_stdin), role)
    except ValueError as exc:
        raise fail(str(exc), 2) from None
    typer.echo(f"added {user.username} ({user.role})")


@users_app.command("list")
def users_list(ctx: typer.Context) -> None:
    """Accounts with role and state."""
    from pantau.queue.users import list_users

    for u in list_users(engine_for(ctx)):
        typer.echo(f"{u.username:20s} {u.role:9s} {'active' if u.active else 'inactive'}")


@users_app.command("set-password")
def users_set_password(
    ctx: typer.Context,
    username: str,
    password_stdin: Annotated[bool, typer.Option(help="Read the password from stdin.")] = False,
) -> None:
    """Change a password (ends the user's sessions)."""
    from pantau.queue.users import set_password

    try:
        set_password(engine_for(ctx), username, _read_password(password_stdin))
    except ValueError as exc:
        raise fail(str(exc), 2) from None
    typer.echo(f"password changed for {username}")


@users_app.command("set-role")
def users_set_role(ctx: typer.Context, username: str, role: str) -> None:
    """Change a role (ends the user's sessions)."""
    from pantau.queue.users import set_role

    try:
        set_role(engine_for(ctx), username, role)
    except ValueError as exc:
        raise fail(str(exc), 2) from None
    typer.echo(f"{username} is now {role}")


def _set_active(ctx: typer.Context, username: str, active: bool) -> None:
    from pantau.queue.users import set_active

    try:
        set_active(engine_for(ctx), username, active)
    except ValueError as exc:
        raise fail(str(exc), 2) from None
    typer.echo(f"{username} {'reactivated' if active else 'deactivated'}")


@users_app.command("deactivate")
def users_deactivate(ctx: typer.Context, username: str) -> None:
    """Lock an account out (its sessions end at once)."""
    _set_active(ctx, username, False)


@users_app.command("reactivate")
def users_reactivate(ctx: typer.Context, username: str) -> None:
    """Let a deactivated account sign in again (with its old password and role)."""
    _set_active(ctx, username, True)


@users_app.command("throttled")
def users_throttled(ctx: typer.Context) -> None:
    """Clients the login throttle is delaying: per (username, client) and per client ("*")."""
    from pantau.queue.throttle import list_throttles

    rows = list_throttles(engine_for(ctx))
    if not rows:
        typer.echo("no failed sign-ins on record")
        return
    typer.echo(f"{'username':20s} {'client':40s} {'failures':>8s} {'wait s':>7s}  last failure (UTC)")
    for t in rows:
        last = t.last_failure_at.strftime("%Y-%m-%d %H:%M:%S")
        typer.echo(f"{t.username or '*':20s} {t.client:40s} {t.failures:8d} {t.wait_seconds:7.0f}  {last}")


@users_app.command("unthrottle")
def users_unthrottle(
    ctx: typer.Context,
    username: Annotated[str | None, typer.Argument(help="Forget this username's failures.")] = None,
    client: Annotated[str | None, typer.Option(help="Only from this client address (all its keys).")] = None,
    all_keys: Annotated[bool, typer.Option("--all", help="Forget every failed sign-in.")] = False,
) -> None:
    """Clear login delays: a username (from every client), a client, both, or --all."""
    from pantau.queue.throttle import clear_throttle

    if username is None and client is None and not all_keys:
        raise fail("name a USERNAME, a --client, or pass --all", 2)
    n = clear_throttle(engine_for(ctx), username=username, client=client)
    typer.echo(f"cleared {n} throttle key(s)")


def register(app: typer.Typer) -> None:
    """Add ``queue`` and ``users`` to the top-level app."""
    app.add_typer(queue_app, name="queue")
    app.add_typer(users_app, name="users")
