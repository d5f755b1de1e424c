"""Live clusters of near-duplicate posts, and the campaigns they become.

A cluster exists only once two posts match (a lone post has none). Each live post points straight at its
cluster: when clusters merge, the smaller one's members are relabelled into the larger (so no union-find
chains and amortised O(n log n) relabelling), and the surviving cluster keeps the older campaign id.
A cluster becomes a campaign once it holds ``min_accounts`` distinct known accounts, or — when some posts
have no account — ``min_accounts`` posts counting those (then flagged "accounts unknown"). A campaign stays
one after its posts leave the window; its record is kept for history.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass
class Cluster:
    """Posts (sequence numbers) in the window that are linked by near-duplicate matches."""

    cluster_id: int
    members: set[int] = field(default_factory=set)
    accounts: Counter[str] = field(default_factory=Counter)
    without_account: int = 0
    without_time: int = 0
    campaign: str | None = None


@dataclass
class CampaignRecord:
    """Everything a campaign ever gathered (its live posts are its cluster's members)."""

    campaign_id: str
    accounts: set[str] = field(default_factory=set)
    posts_total: int = 0
    without_account: int = 0
    without_time: int = 0
    first_seen: float | None = None
    last_seen: float | None = None
    basis: str = "accounts"
    merged_into: str | None = None

    def add_post(self, account: str | None, posted_at: float | None) -> None:
        """Count one more post in the campaign's history."""
        self.posts_total += 1
        if account is None:
            self.without_account += 1
        else:
            self.accounts.add(account)
        if posted_at is None:
            self.without_time += 1
        else:
            self.first_seen = posted_at if self.first_seen is None else min(self.first_seen, posted_at)
            self.last_seen = posted_at if self.last_seen is None else max(self.last_seen, posted_at)

    def absorb(self, other: CampaignRecord) -> None:
        """Take over another campaign's history (it merged into this one)."""
        self.accounts |= other.accounts
        self.posts_total += other.posts_total
        self.without_account += other.without_account
        self.without_time += other.without_time
        for t in (other.first_seen, other.last_seen):
            if t is not None:
                self.first_seen = t if self.first_seen is None else min(self.first_seen, t)
                self.last_seen = t if self.last_seen is None else max(self.last_seen, t)
        if other.basis == "accounts":  # a campaign on accounts stays one when more posts join it
            self.basis = "accounts"
        other.merged_into = self.campaign_id


@dataclass
class PostInfo:
    """What the clusters need to know about one live post."""

    account: str | None
    posted_at: float | None
    cluster: int | None = None


class ClusterBook:
    """Live clusters, campaign records and the campaign rule."""

    def __init__(self, min_accounts: int):
        self.min_accounts = min_accounts
        self.clusters: dict[int, Cluster] = {}
        self.campaigns: dict[str, CampaignRecord] = {}
        self.live_cluster: dict[str, int] = {}  # campaign id -> its live cluster
        self.next_cluster = 0
        self.next_campaign = 1
        self.touched: set[str] = set()  # campaigns changed since the last reset_batch()
        self.merged: dict[str, str] = {}

    def reset_batch(self) -> None:
        """Forget what the last batch touched."""
        self.touched = set()
        self.merged = {}

    # -- joining ----------------------------------------------------------------------------------------
    def join(self, seq: int, post: PostInfo, partners: Iterable[int], posts: dict[int, PostInfo]) -> None:
        """Put post ``seq`` with its matched live posts ``partners`` (merging their clusters); sets
        ``post.cluster`` and applies the campaign rule. No partners: the post stays alone."""
        partners = list(partners)
        if not partners:
            return
        ids = {posts[p].cluster for p in partners}
        loners = [p for p in partners if posts[p].cluster is None]
        ids.discard(None)
        clusters = sorted((self.clusters[i] for i in ids), key=lambda c: (-len(c.members), c.cluster_id))
        if clusters:
            target = clusters[0]
        else:
            target = Cluster(self.next_cluster)
            self.next_cluster += 1
            self.clusters[target.cluster_id] = target
        for other in clusters[1:]:
            self._merge(target, other, posts)
        for p in (*loners, seq):
            self._add_member(target, p, posts[p])
        self._apply_rule(target, posts)

    def _add_member(self, cluster: Cluster, seq: int, post: PostInfo) -> None:
        post.cluster = cluster.cluster_id
        cluster.members.add(seq)
        if post.account is None:
            cluster.without_account += 1
        else:
            cluster.accounts[post.account] += 1
        if post.posted_at is None:
            cluster.without_time += 1
        if cluster.campaign is not None:
            self.campaigns[cluster.campaign].add_post(post.account, post.posted_at)
            self.touched.add(cluster.campaign)

    def _merge(self, target: Cluster, other: Cluster, posts: dict[int, PostInfo]) -> None:
        # posts that join a campaign's history by this merge: the side that had no campaign
        self.live_cluster.pop(other.campaign or "", None)
        if target.campaign is None and other.campaign is not None:
            newcomers, target.campaign = list(target.members), other.campaign
        elif other.campaign is None and target.campaign is not None:
            newcomers = list(other.members)
        else:
            newcomers = []
        if target.campaign is not None and other.campaign not in (None, target.campaign):
            keep, gone = sorted((target.campaign, other.campaign), key=_campaign_number)
            self.campaigns[keep].absorb(self.campaigns[gone])
            target.campaign = keep
            self.merged[gone] = keep
            for old, new in list(self.merged.items()):
                if new == gone:
                    self.merged[old] = keep
            self.touched.discard(gone)
        if target.campaign is not None:
            record = self.campaigns[target.campaign]
            for seq in newcomers:
                record.add_post(posts[seq].account, posts[seq].posted_at)
            self.touched.add(target.campaign)
            self.live_cluster[target.campaign] = target.cluster_id
        for seq in other.members:
            posts[seq].cluster = target.cluster_id
        target.members |= other.members
        target.accounts.update(other.accounts)
        target.without_account += other.without_account
        target.without_time += other.without_time
        del self.clusters[other.cluster_id]

    def _apply_rule(self, cluster: Cluster, posts: dict[int, PostInfo]) -> None:
        known = len(cluster.accounts)
        if cluster.campaign is not None:
            record = self.campaigns[cluster.campaign]
            if record.basis == "posts" and len(record.accounts) >= self.min_accounts:
                record.basis = "accounts"
            return
        if known >= self.min_accounts:
            basis = "accounts"
        elif cluster.without_account and known + cluster.without_account >= self.min_accounts:
            basis = "posts"
        else:
            return
        cid = f"C{self.next_campaign:06d}"
        self.next_campaign += 1
        record = CampaignRecord(cid, basis=basis)
        for seq in cluster.members:
            record.add_post(posts[seq].account, posts[seq].posted_at)
        self.campaigns[cid] = record
        self.live_cluster[cid] = cluster.cluster_id
        cluster.campaign = cid
        self.touched.add(cid)

    # -- leaving ----------------------------------------------------------------------------------------
    def remove(self, seq: int, post: PostInfo) -> None:
        """Take a post that left the window out of its cluster (the campaign's history keeps it)."""
        if post.cluster is None:
            return
        cluster = self.clusters[post.cluster]
        cluster.members.discard(seq)
        if post.account is None:
            cluster.without_account -= 1
        else:
            cluster.accounts[post.account] -= 1
            if cluster.accounts[post.account] <= 0:
                del cluster.accounts[post.account]
        if post.posted_at is None:
            cluster.without_time -= 1
        if not cluster.members:
            del self.clusters[cluster.cluster_id]
            self.live_cluster.pop(cluster.campaign or "", None)

    def live_members(self, campaign_id: str) -> set[int]:
        """The posts of a campaign still in the window."""
        cluster = self.live_cluster.get(campaign_id)
        return set() if cluster is None else self.clusters[cluster].members

    def campaign_of(self, post: PostInfo) -> str | None:
        """The campaign a live post belongs to, if any."""
        return None if post.cluster is None else self.clusters[post.cluster].campaign

    def resolve(self, campaign_id: str) -> str:
        """The campaign an id stands for now (following merges)."""
        record = self.campaigns[campaign_id]
        while record.merged_into is not None:
            record = self.campaigns[record.merged_into]
        return record.campaign_id


def _campaign_number(campaign_id: str) -> int:
    return int(campaign_id[1:])
