"""ClusterBook alone: joining, merging (older campaign id kept), the campaign rule, leaving."""

from __future__ import annotations

from pantau.campaigns.clusters import ClusterBook, PostInfo


def _book_with(posts: dict[int, PostInfo], links: list[tuple[int, list[int]]], min_accounts: int = 3):
    book = ClusterBook(min_accounts)
    for seq, partners in links:
        book.join(seq, posts[seq], partners, posts)
    return book


def test_three_accounts_make_a_campaign_two_do_not():
    posts = {i: PostInfo(f"a{i}", float(i)) for i in range(3)}
    book = _book_with(posts, [(0, []), (1, [0])])
    assert posts[0].cluster == posts[1].cluster is not None
    assert book.campaign_of(posts[0]) is None
    book.join(2, posts[2], [1], posts)
    cid = book.campaign_of(posts[2])
    assert cid == "C000001"
    record = book.campaigns[cid]
    assert record.posts_total == 3 and record.accounts == {"a0", "a1", "a2"}
    assert (record.first_seen, record.last_seen) == (0.0, 2.0)


def test_one_account_many_posts_is_no_campaign():
    posts = {i: PostInfo("same", float(i)) for i in range(10)}
    book = _book_with(posts, [(i, list(range(i))) for i in range(10)])
    assert book.campaigns == {}
    assert len(book.clusters) == 1


def test_merging_two_campaigns_keeps_the_older_id():
    posts = {i: PostInfo(f"a{i}", float(i)) for i in range(7)}
    book = _book_with(posts, [(0, []), (1, [0]), (2, [1]), (3, []), (4, [3]), (5, [4])])
    first, second = book.campaign_of(posts[0]), book.campaign_of(posts[3])
    assert (first, second) == ("C000001", "C000002")
    book.reset_batch()
    book.join(6, posts[6], [2, 5], posts)  # a post matching both
    assert {book.campaign_of(posts[i]) for i in range(7)} == {"C000001"}
    assert book.merged == {"C000002": "C000001"}
    assert book.resolve("C000002") == "C000001"
    assert book.campaigns["C000001"].posts_total == 7
    assert len(book.live_members("C000001")) == 7 and book.live_members("C000002") == set()


def test_unknown_accounts_count_by_posts():
    posts = {0: PostInfo(None, 0.0), 1: PostInfo(None, 1.0), 2: PostInfo("a", 2.0)}
    book = _book_with(posts, [(0, []), (1, [0]), (2, [1])])
    record = book.campaigns[book.campaign_of(posts[0])]
    assert record.basis == "posts" and record.without_account == 2


def test_leaving_empties_the_cluster_but_keeps_the_campaign():
    posts = {i: PostInfo(f"a{i}", float(i)) for i in range(3)}
    book = _book_with(posts, [(0, []), (1, [0]), (2, [1])])
    cid = book.campaign_of(posts[0])
    for seq in range(3):
        book.remove(seq, posts[seq])
    assert book.clusters == {} and book.live_members(cid) == set()
    assert book.campaigns[cid].posts_total == 3
