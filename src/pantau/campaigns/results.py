"""What the index reports: one assignment per post, campaign summaries, and what was missing."""

from __future__ import annotations

from dataclasses import dataclass, field

# Assignment.status values
CAMPAIGN = "campaign"  # in a campaign (campaign_id set)
CLUSTER = "cluster"  # near-duplicates found, but too few accounts (so far) to be a campaign
UNIQUE = "unique"  # no near-duplicate in the window
TOO_SHORT = "too_short"  # fewer words than campaigns.min_tokens after normalising: not clustered
LATE = "late"  # posted before the current window started: not clustered
SEEN = "seen"  # this post id is already in the index (scored twice): its current campaign is reported
STATUSES = (CAMPAIGN, CLUSTER, UNIQUE, TOO_SHORT, LATE, SEEN)

ACCOUNTS_UNKNOWN = "accounts unknown"
TIMES_UNKNOWN = "times unknown: window not applied"


@dataclass(frozen=True)
class Assignment:
    """One input post's outcome, in input order."""

    post_id: str
    status: str
    campaign_id: str | None = None


@dataclass(frozen=True)
class Campaign:
    """A campaign as it stands: near-duplicates from ``min_accounts`` or more accounts within the window.

    ``post_ids`` are the posts still in the window; ``posts_total`` counts every post ever joined.
    ``basis`` is ``"accounts"`` when distinct known accounts reached ``min_accounts``, ``"posts"`` when that
    needed posts without an account (then ``flags`` says "accounts unknown").
    """

    campaign_id: str
    post_ids: tuple[str, ...]
    accounts: tuple[str, ...]
    posts_total: int
    posts_without_account: int
    posts_without_time: int
    first_seen: float | None
    last_seen: float | None
    basis: str

    @property
    def flags(self) -> tuple[str, ...]:
        """What is missing from this campaign's evidence, in words (empty when nothing is)."""
        out = []
        if self.posts_without_account:
            out.append(ACCOUNTS_UNKNOWN)
        if self.posts_without_time:
            out.append(TIMES_UNKNOWN)
        return tuple(out)


@dataclass(frozen=True)
class BatchResult:
    """The outcome of one :meth:`CampaignIndex.add` call.

    ``campaigns`` holds every campaign this batch created, grew or merged (with its posts in the window, so
    earlier posts can be linked too); ``merged`` maps a campaign id that was absorbed to the one it joined.
    ``notes`` says in words what the input lacked and what that changed.
    """

    assignments: tuple[Assignment, ...]
    campaigns: tuple[Campaign, ...] = ()
    merged: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def campaign_of(self) -> dict[str, str]:
        """Post id → campaign id for every post of this batch in a campaign."""
        return {a.post_id: a.campaign_id for a in self.assignments if a.campaign_id is not None}


def batch_notes(counts: dict[str, int]) -> tuple[str, ...]:
    """The visible account of what was missing or left out in a batch (see :class:`BatchResult`)."""
    notes = []
    if counts.get("without_time"):
        notes.append(
            f"{counts['without_time']} post(s) without posted_at: the time window was not applied to them "
            "(they match posts of any time and leave the index only by max_posts)"
        )
    if counts.get("without_account"):
        notes.append(
            f"{counts['without_account']} post(s) without an account: their clusters are counted by posts "
            f"and flagged '{ACCOUNTS_UNKNOWN}'"
        )
    if counts.get(LATE):
        notes.append(f"{counts[LATE]} post(s) older than the current window: not clustered")
    if counts.get(TOO_SHORT):
        notes.append(f"{counts[TOO_SHORT]} post(s) too short after normalising: not clustered")
    if counts.get("evicted"):
        notes.append(
            f"{counts['evicted']} post(s) dropped from the index by max_posts before their window ended"
        )
    return tuple(notes)
