"""Accounts in the store (issue 15 items 5, 7, 8), on SQLite and PostgreSQL: server-side sessions that
end, a login throttle kept in the database, password rules, and the last active admin."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select

from pantau.queue import sessions, throttle
from pantau.queue.db import make_engine
from pantau.queue.errors import Invalid
from pantau.queue.models import AuditEvent, utcnow
from pantau.queue.passwords import IS_COMMON, IS_USERNAME, TOO_SHORT, common_passwords, password_problem
from pantau.queue.users import LAST_ADMIN, add_user, find_user, set_active, set_password, set_role

# ------------------------------------------------------------------------------------------ sessions


def test_a_session_is_open_until_signed_out(engine: Engine, people: dict[str, int]) -> None:
    token = sessions.start_session(engine, people["rina"], hours=12, client="10.0.0.1")
    other = sessions.start_session(engine, people["rina"], hours=12)
    user = sessions.session_user(engine, token)
    assert user is not None and user.username == "rina"
    assert sessions.open_session_counts(engine) == {people["rina"]: 2}
    assert sessions.end_session(engine, token) == people["rina"]
    assert sessions.session_user(engine, token) is None  # the same token, replayed, is dead
    assert sessions.end_session(engine, token) is None  # ending twice is a no-op
    assert sessions.session_user(engine, other) is not None  # signing out on one device only
    assert sessions.session_user(engine, "made-up-token") is None
    assert sessions.session_user(engine, None) is None


def test_a_session_expires_on_the_server(engine: Engine, people: dict[str, int]) -> None:
    token = sessions.start_session(engine, people["rina"], hours=1)
    assert sessions.session_user(engine, token, now=utcnow() + timedelta(minutes=59)) is not None
    assert sessions.session_user(engine, token, now=utcnow() + timedelta(minutes=61)) is None


@pytest.mark.parametrize(
    "change",
    [
        lambda e: set_password(e, "rina", "sandi-baru-yang-panjang"),
        lambda e: set_role(e, "rina", "lead"),
        lambda e: set_active(e, "rina", False),
    ],
    ids=["password", "role", "deactivate"],
)
def test_account_changes_end_every_session(engine: Engine, people: dict[str, int], change) -> None:
    tokens = [sessions.start_session(engine, people["rina"], hours=12) for _ in range(2)]
    budi = sessions.start_session(engine, people["budi"], hours=12)
    change(engine)
    assert all(sessions.session_user(engine, t) is None for t in tokens)
    assert sessions.session_user(engine, budi) is not None  # nobody else's
    set_active(engine, "rina", True)
    assert all(sessions.session_user(engine, t) is None for t in tokens)  # reactivating revives none


def test_sessions_of_a_deactivated_account_never_count(engine: Engine, people: dict[str, int]) -> None:
    token = sessions.start_session(engine, people["budi"], hours=12)
    set_active(engine, "budi", False)
    set_active(engine, "budi", True)  # `pantau users reactivate`
    assert sessions.session_user(engine, token) is None
    fresh = sessions.start_session(engine, people["budi"], hours=12)
    assert sessions.session_user(engine, fresh) is not None
    assert sessions.revoke_all(engine, people["budi"]) == 1
    assert sessions.session_user(engine, fresh) is None


# ------------------------------------------------------------------------------------------ throttle

POLICY = throttle.ThrottlePolicy(pair_free=3, client_free=10, base_seconds=1, max_seconds=60)


def test_delays_grow_per_username_and_client_and_never_lock_others(
    engine: Engine, people: dict[str, int]
) -> None:
    t0 = utcnow()
    waits = [throttle.record_failure(engine, "rina", "10.0.0.9", policy=POLICY, now=t0) for _ in range(8)]
    assert waits == [0, 0, 0, 1, 2, 4, 8, 16]  # three free tries, then doubling delays
    assert throttle.wait_seconds(engine, "rina", "10.0.0.9", now=t0) == 16
    assert throttle.wait_seconds(engine, "rina", "10.0.0.1", now=t0) == 0  # rina's own machine: free
    assert throttle.wait_seconds(engine, "budi", "10.0.0.9", now=t0) == 0  # 8 < client_free
    assert throttle.wait_seconds(engine, "rina", "10.0.0.9", now=t0 + timedelta(seconds=17)) == 0
    for _ in range(20):
        throttle.record_failure(engine, "rina", "10.0.0.9", policy=POLICY, now=t0)
    assert throttle.wait_seconds(engine, "rina", "10.0.0.9", now=t0) == 60  # capped, never a lock


def test_one_client_guessing_many_usernames_is_slowed(engine: Engine, people: dict[str, int]) -> None:
    t0 = utcnow()
    for i in range(30):
        throttle.record_failure(engine, f"tebak{i}", "203.0.113.5", policy=POLICY, now=t0)
    # Each username was tried once (free), yet the client as a whole waits: 30 - 10 failures doubled.
    assert throttle.wait_seconds(engine, "lain", "203.0.113.5", now=t0) == 60
    assert throttle.wait_seconds(engine, "lain", "203.0.113.6", now=t0) == 0
    [row] = [t for t in throttle.list_throttles(engine, now=t0) if t.username == throttle.ANY_USER]
    assert row.client == "203.0.113.5" and row.failures == 30 and row.wait_seconds == 60


def test_the_throttle_holds_across_workers_and_restarts(
    db_url: str, engine: Engine, people: dict[str, int]
) -> None:
    t0 = utcnow()
    for _ in range(5):
        throttle.record_failure(engine, "rina", "10.0.0.9", policy=POLICY, now=t0)
    restarted = make_engine(db_url)  # another worker, or the same one after a restart
    try:
        assert throttle.wait_seconds(restarted, "rina", "10.0.0.9", now=t0) == 2
        throttle.record_failure(restarted, "rina", "10.0.0.9", policy=POLICY, now=t0)
        assert throttle.wait_seconds(engine, "rina", "10.0.0.9", now=t0) == 4
    finally:
        restarted.dispose()


def test_concurrent_failures_are_all_counted(db_url: str, engine: Engine, people: dict[str, int]) -> None:
    engines = [make_engine(db_url) for _ in range(4)]
    barrier = threading.Barrier(len(engines))
    errors: list[BaseException] = []

    def hammer(eng: Engine) -> None:
        try:
            barrier.wait()
            for _ in range(5):
                throttle.record_failure(eng, "rina", "10.0.0.9", policy=POLICY)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e in engines:
        e.dispose()
    assert errors == []
    rows = {(t.username, t.client): t.failures for t in throttle.list_throttles(engine)}
    assert rows == {("rina", "10.0.0.9"): 20, ("", "10.0.0.9"): 20}


def test_success_forgets_the_pair_and_quiet_time_forgets_all(engine: Engine, people: dict[str, int]) -> None:
    t0 = utcnow()
    for _ in range(4):
        throttle.record_failure(engine, "rina", "10.0.0.9", policy=POLICY, now=t0)
    throttle.record_success(engine, "rina", "10.0.0.9")
    keys = {(t.username, t.failures) for t in throttle.list_throttles(engine)}
    assert keys == {("", 4)}  # the client's own count stays, so a valid account cannot reset it
    later = t0 + timedelta(seconds=POLICY.forget_seconds + 1)
    assert throttle.record_failure(engine, "budi", "10.0.0.9", policy=POLICY, now=later) == 0
    assert {t.failures for t in throttle.list_throttles(engine) if t.username == ""} == {1}


def test_an_admin_clears_the_throttle_and_it_is_audited(engine: Engine, people: dict[str, int]) -> None:
    for name, client in (("rina", "10.0.0.9"), ("rina", "10.0.0.8"), ("budi", "10.0.0.9")):
        throttle.record_failure(engine, name, client, policy=POLICY)
    assert len(throttle.list_throttles(engine)) == 5
    assert throttle.clear_throttle(engine, username="rina", actor_id=people["adi"]) == 2
    assert throttle.clear_throttle(engine, client="10.0.0.9", actor_id=people["adi"]) == 2
    assert throttle.clear_throttle(engine) == 1
    assert throttle.list_throttles(engine) == []
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).where(AuditEvent.event == "throttle_clear")).scalar_one()
    assert n == 3


# ------------------------------------------------------------------------------------------ passwords


def test_password_rules() -> None:
    assert len(common_passwords()) > 19_000
    assert password_problem("pendek-9c") == TOO_SHORT  # 9 characters
    assert password_problem("x" * 9 + "€") is None
    assert password_problem("Password123") == IS_COMMON  # case does not help
    assert password_problem("qwertyuiop") == IS_COMMON
    assert password_problem("bismillah123") == IS_COMMON  # pantau's Indonesian additions
    assert password_problem("Reviewer.Rina", "reviewer.rina") == IS_USERNAME
    assert password_problem("rahasia-123") is None  # the test users' password
    for message in (TOO_SHORT, IS_COMMON, IS_USERNAME):
        assert "Kata sandi" in message and "password" in message  # Indonesian, English alongside


def test_the_store_refuses_weak_passwords(engine: Engine, people: dict[str, int]) -> None:
    with pytest.raises(Invalid, match="minimal 10 karakter"):
        add_user(engine, "wati", "pendek123", "reviewer")
    with pytest.raises(Invalid, match="nama pengguna"):
        add_user(engine, "sandiwara1", "Sandiwara1", "reviewer")
    with pytest.raises(Invalid, match="paling sering dipakai"):
        add_user(engine, "wati", "1234567890", "reviewer")
    with pytest.raises(Invalid, match="paling sering dipakai"):
        set_password(engine, "rina", "iloveyou123")
    assert find_user(engine, "wati") is None


# -------------------------------------------------------------------------------------- last admin


def test_the_last_active_admin_stays_an_admin(engine: Engine, people: dict[str, int]) -> None:
    adi = people["adi"]
    with pytest.raises(Invalid) as refused:
        set_role(engine, "adi", "lead", actor_id=adi)
    assert str(refused.value) == LAST_ADMIN and "admin aktif terakhir" in LAST_ADMIN.lower()
    with pytest.raises(Invalid, match="last active admin"):
        set_active(engine, "adi", False, actor_id=adi)  # not even themselves
    user = find_user(engine, "adi")
    assert user is not None and user.role == "admin" and user.active
    set_role(engine, "lia", "admin", actor_id=adi)
    set_role(engine, "adi", "lead", actor_id=adi)  # now another admin is left
    with pytest.raises(Invalid, match="last active admin"):
        set_active(engine, "lia", False)
    set_role(engine, "adi", "admin")
    set_active(engine, "lia", False)
    set_role(engine, "lia", "reviewer")  # an inactive admin is not one of the active ones


def test_two_admins_demoting_each_other_at_once_leave_one(
    db_url: str, engine: Engine, people: dict[str, int]
) -> None:
    set_role(engine, "lia", "admin")
    engines = [make_engine(db_url) for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def demote(eng: Engine, name: str) -> None:
        barrier.wait()
        try:
            set_role(eng, name, "reviewer")
            outcomes.append("ok")
        except Invalid:
            outcomes.append("refused")

    threads = [
        threading.Thread(target=demote, args=(e, n)) for e, n in zip(engines, ("adi", "lia"), strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e in engines:
        e.dispose()
    assert sorted(outcomes) == ["ok", "refused"]
    admins = [name for name in ("adi", "lia") if find_user(engine, name).role == "admin"]  # type: ignore[union-attr]
    assert len(admins) == 1


def test_a_change_that_changes_nothing_keeps_the_sessions(engine: Engine, people: dict[str, int]) -> None:
    # The admin form sends role and state together; re-saving the same values must not sign anyone out.
    token = sessions.start_session(engine, people["rina"], hours=12)
    set_role(engine, "rina", "reviewer")
    set_active(engine, "rina", True)
    assert sessions.session_user(engine, token) is not None
