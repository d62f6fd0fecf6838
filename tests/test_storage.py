"""Behaviour of the storages behind STORAGE_URL: every implementation must act the same.

The Azure Blob storage runs against Azurite, Microsoft's storage emulator (tests/azurite.py).
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from pathlib import Path

import pytest
from botbuilder.core import ConversationState, StoreItem, TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount, ConversationReference
from pydantic import BaseModel

from storage import (
    AzureBlobStorage,
    ETagConflictError,
    KeyedStorage,
    MemoryStorage,
    SqliteStorage,
    StorageBusyError,
    StorageClosedError,
    create_storage,
)

RACE_TIMEOUT = 60
"""Seconds a race may take before the test fails instead of hanging (generous: machines are busy)."""


def _container() -> str:
    """A fresh container name, so every test starts empty."""
    return f"test-{uuid.uuid4().hex[:20]}"


@pytest.fixture(
    params=[
        pytest.param("memory", id="memory"),
        pytest.param("sqlite", id="sqlite"),
        pytest.param("azure", id="azure"),
    ]
)
async def storage(request: pytest.FixtureRequest, tmp_path: Path):
    store: KeyedStorage
    if request.param == "memory":
        store = MemoryStorage()
    elif request.param == "sqlite":
        store = SqliteStorage(tmp_path / "a" / "b.db")
    else:
        store = AzureBlobStorage(request.getfixturevalue("azurite"), _container())
    yield store
    await store.close()


# -- basics -------------------------------------------------------------------------------------


async def test_a_written_item_reads_back_as_a_dict_with_an_e_tag(storage: KeyedStorage) -> None:
    await storage.write({"k": {"name": "Ada", "count": 3}})
    items = await storage.read(["k"])
    assert set(items) == {"k"}
    assert items["k"]["name"] == "Ada" and items["k"]["count"] == 3
    assert isinstance(items["k"]["e_tag"], str) and items["k"]["e_tag"]


async def test_missing_keys_are_left_out_of_the_result(storage: KeyedStorage) -> None:
    await storage.write({"here": {"x": 1}})
    assert await storage.read(["nope"]) == {}
    assert await storage.read([]) == {}
    assert set(await storage.read(["here", "nope"])) == {"here"}


async def test_reads_return_copies_not_the_stored_item(storage: KeyedStorage) -> None:
    await storage.write({"k": {"list": [1]}})
    first = await storage.read(["k"])
    first["k"]["list"].append(2)
    assert (await storage.read(["k"]))["k"]["list"] == [1]


async def test_delete_removes_items_and_ignores_missing_keys(storage: KeyedStorage) -> None:
    await storage.write({"a": {"v": 1}, "b": {"v": 2}})
    await storage.delete(["a", "never-existed"])
    assert set(await storage.read(["a", "b"])) == {"b"}
    await storage.delete([])


async def test_nested_dicts_and_lists_round_trip(storage: KeyedStorage) -> None:
    value = {"guide": {"step": 2, "answers": [{"q": 1, "a": [True, None, 1.5]}], "empty": {}}}
    await storage.write({"k": dict(value)})
    read = (await storage.read(["k"]))["k"]
    read.pop("e_tag")
    assert read == value


async def test_unicode_keys_and_values_round_trip(storage: KeyedStorage) -> None:
    key = "msteams/conversations/19:kanalen-för-väljare@thread.tacv2/"
    await storage.write({key: {"text": "Slå på tvåstegsverifiering – åäö ÅÄÖ 🗳️"}})
    assert (await storage.read([key]))[key]["text"] == "Slå på tvåstegsverifiering – åäö ÅÄÖ 🗳️"
    assert await storage.keys("msteams/conversations/19:kanalen-för") == [key]


# -- what botbuilder and our own code write ------------------------------------------------------


class _Pending(BaseModel):
    topic: str
    options: list[str]


async def test_objects_are_stored_as_json_and_read_back_as_dicts(storage: KeyedStorage) -> None:
    reference = ConversationReference(
        channel_id="msteams",
        service_url="https://smba.trafficmanager.net/emea/",
        conversation=ConversationAccount(id="a:1xyz", conversation_type="personal"),
        user=ChannelAccount(id="29:1user", name="Åsa"),
    )
    await storage.write(
        {
            "item": StoreItem(counter=1, tags=["a"]),
            "model": _Pending(topic="enable_2fa", options=["facebook", "instagram"]),
            "ref": reference,
        }
    )
    items = await storage.read(["item", "model", "ref"])
    assert items["item"]["counter"] == 1 and items["item"]["tags"] == ["a"]
    assert items["model"]["options"] == ["facebook", "instagram"]
    # msrest models are stored in their wire format, so they deserialize back.
    restored = ConversationReference().deserialize(items["ref"])
    assert restored.conversation.id == "a:1xyz" and restored.user.name == "Åsa"


async def test_a_value_json_cannot_hold_fails_and_writes_nothing(storage: KeyedStorage) -> None:
    with pytest.raises(TypeError):
        await storage.write({"ok": {"v": 1}, "bad": {"v": object.__new__(_Opaque)}})
    with pytest.raises(TypeError):
        await storage.write({"list": [1, 2]})  # type: ignore[dict-item]
    assert await storage.read(["ok", "bad", "list"]) == {}


class _Opaque:
    __slots__ = ()


# -- optimistic concurrency ----------------------------------------------------------------------


async def test_each_write_assigns_a_new_e_tag(storage: KeyedStorage) -> None:
    await storage.write({"k": {"v": 1}})
    first = (await storage.read(["k"]))["k"]["e_tag"]
    await storage.write({"k": {"v": 2}})
    assert (await storage.read(["k"]))["k"]["e_tag"] != first


async def test_a_write_with_the_current_e_tag_wins(storage: KeyedStorage) -> None:
    await storage.write({"k": {"v": 1}})
    item = (await storage.read(["k"]))["k"]
    item["v"] = 2
    await storage.write({"k": item})
    assert (await storage.read(["k"]))["k"]["v"] == 2


async def test_a_stale_e_tag_raises_a_conflict_and_keeps_the_stored_item(
    storage: KeyedStorage,
) -> None:
    await storage.write({"k": {"v": 1}})
    stale = (await storage.read(["k"]))["k"]
    await storage.write({"k": {"v": 2}})
    stale["v"] = 3
    with pytest.raises(ETagConflictError) as raised:
        await storage.write({"k": stale})
    assert isinstance(raised.value, KeyError)  # what botbuilder's MemoryStorage raises
    assert raised.value.key == "k"
    assert (await storage.read(["k"]))["k"]["v"] == 2


async def test_a_conflict_writes_nothing_of_the_batch(storage: KeyedStorage) -> None:
    await storage.write({"k": {"v": 1}})
    stale = (await storage.read(["k"]))["k"]
    await storage.write({"k": {"v": 2}})
    with pytest.raises(ETagConflictError):
        await storage.write({"other": {"v": 1}, "k": stale})
    assert await storage.read(["other"]) == {}


@pytest.mark.parametrize("e_tag", [pytest.param("*", id="star"), pytest.param(None, id="none")])
async def test_star_or_no_e_tag_always_wins(storage: KeyedStorage, e_tag: str | None) -> None:
    await storage.write({"k": {"v": 1}})
    await storage.write({"k": {"v": 2}})
    value: dict[str, object] = {"v": 3}
    if e_tag is not None:
        value["e_tag"] = e_tag
    await storage.write({"k": value})
    assert (await storage.read(["k"]))["k"]["v"] == 3


async def test_an_e_tag_on_a_new_key_is_accepted(storage: KeyedStorage) -> None:
    await storage.write({"k": {"v": 1, "e_tag": "from-a-deleted-item"}})
    assert (await storage.read(["k"]))["k"]["v"] == 1


async def test_an_empty_e_tag_is_an_error(storage: KeyedStorage) -> None:
    with pytest.raises(ValueError):
        await storage.write({"k": {"v": 1, "e_tag": ""}})


async def test_the_written_dict_gets_its_new_e_tag_so_saving_twice_does_not_conflict(
    storage: KeyedStorage,
) -> None:
    await storage.write({"k": {"v": 1}})
    state = (await storage.read(["k"]))["k"]
    await storage.write({"k": state})
    state["v"] = 2
    await storage.write({"k": state})
    stored = (await storage.read(["k"]))["k"]
    assert stored["v"] == 2 and stored["e_tag"] == state["e_tag"]


async def test_concurrent_writers_with_the_same_e_tag_have_exactly_one_winner(
    storage: KeyedStorage,
) -> None:
    for round_ in range(5):
        await storage.write({"k": {"winner": None}})
        e_tag = (await storage.read(["k"]))["k"]["e_tag"]
        results = await asyncio.gather(
            *(storage.write({"k": {"winner": n, "e_tag": e_tag}}) for n in range(10)),
            return_exceptions=True,
        )
        wins = [n for n, r in enumerate(results) if r is None]
        assert len(wins) == 1, f"round {round_}: {results}"
        assert all(isinstance(r, ETagConflictError) for r in results if r is not None)
        assert (await storage.read(["k"]))["k"]["winner"] == wins[0]


async def _race_two_stores_for_one_winner(first, second, rounds: int = 10) -> None:
    """Two stores on the same data, eight writers with one e_tag per round: exactly one wins."""
    for round_ in range(rounds):
        await first.write({"k": {"winner": None}})
        e_tag = (await second.read(["k"]))["k"]["e_tag"]
        writes = [
            store.write({"k": {"winner": f"{name}{n}", "e_tag": e_tag}})
            for n in range(4)
            for name, store in (("first", first), ("second", second))
        ]
        async with asyncio.timeout(RACE_TIMEOUT):
            results = await asyncio.gather(*writes, return_exceptions=True)
        errors = [r for r in results if r is not None]
        assert len(errors) == len(results) - 1, f"round {round_}: {results}"
        assert all(isinstance(e, ETagConflictError) for e in errors)
        assert (await first.read(["k"])) == (await second.read(["k"]))


async def test_two_sqlite_storages_on_one_file_have_exactly_one_winner(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    first, second = SqliteStorage(path), SqliteStorage(path)
    try:
        await _race_two_stores_for_one_winner(first, second)
    finally:
        await first.close()
        await second.close()


async def _race(*operations):
    """Run `operations` at once; their results, exceptions included (a hang fails the test)."""
    async with asyncio.timeout(RACE_TIMEOUT):
        return await asyncio.gather(*operations, return_exceptions=True)


async def test_two_sqlite_storages_opening_a_new_file_at_the_same_moment_both_work(tmp_path: Path) -> None:
    """The bot and `python bot.py announce` starting together on a new database file: switching
    the file to WAL is where SQLite refuses the second opener at once instead of waiting."""
    for round_ in range(30):  # a race: a round hits the moment only now and then
        path = tmp_path / f"new-{round_}.db"
        first, second = SqliteStorage(path), SqliteStorage(path)
        try:
            results = await _race(first.read(["k"]), second.read(["k"]), first.keys(), second.keys())
            assert results == [{}, {}, [], []], f"round {round_}: {results}"
        finally:
            await first.close()
            await second.close()


async def test_opening_a_sqlite_file_while_another_process_writes_it_waits_for_that_write(tmp_path: Path) -> None:
    """The same moment made certain: a file not yet in WAL mode (as a second opener finds it
    while the first switches it), with another connection in the middle of a write."""
    path = tmp_path / "shared.db"
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("CREATE TABLE items (key TEXT PRIMARY KEY, value TEXT, e_tag TEXT, updated_at REAL)")
        other.execute("BEGIN IMMEDIATE")
        other.execute("""INSERT INTO items VALUES ('k', '{"v":1}', 'tag-1', 0)""")
        store = SqliteStorage(path)
        read = asyncio.ensure_future(store.read(["k"]))
        await asyncio.sleep(0.2)
        assert not read.done()  # waiting for the other writer, not failing
        other.execute("COMMIT")
    finally:
        other.close()
    try:
        async with asyncio.timeout(RACE_TIMEOUT):
            assert await read == {"k": {"v": 1, "e_tag": "tag-1"}}
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        await store.close()


async def test_two_sqlite_storages_with_fifty_concurrent_writers_each_serialise(tmp_path: Path) -> None:
    """Stress: 2 storages x 50 concurrent writes on one key, each round on a new file. Every
    compare-and-set loser gets `ETagConflictError`, never SQLite's "database is locked"."""

    def writers(stores, value, e_tag):
        with_tag = {} if e_tag is None else {"e_tag": e_tag}
        return [
            store.write({"k": {"by": f"{side}{n}", "value": value, **with_tag}})
            for n in range(50)
            for side, store in zip("ab", stores, strict=True)
        ]

    for round_ in range(3):
        path = tmp_path / f"stress-{round_}.db"
        stores = SqliteStorage(path), SqliteStorage(path)
        try:
            # Creating the missing key with an e_tag (as the run lock does): the first creator wins.
            results = await _race(*writers(stores, "created", "from-a-deleted-item"))
            assert results.count(None) == 1, f"round {round_}: {results}"
            assert all(isinstance(r, ETagConflictError) for r in results if r is not None), results

            # Compare-and-set with the e_tag both read: exactly one of the 100 wins.
            seen = [(await store.read(["k"]))["k"] for store in stores]
            assert seen[0] == seen[1]
            results = await _race(*writers(stores, "swapped", seen[0]["e_tag"]))
            assert results.count(None) == 1, f"round {round_}: {results}"
            assert all(isinstance(r, ETagConflictError) for r in results if r is not None), results
            after = [(await store.read(["k"]))["k"] for store in stores]
            assert after[0] == after[1] and after[0]["value"] == "swapped"

            # Unconditional writes: all 100 wait their turn and succeed; both storages see the same item.
            results = await _race(*writers(stores, "overwritten", None))
            assert results == [None] * 100, f"round {round_}: {results}"
            final = [(await store.read(["k"]))["k"] for store in stores]
            assert final[0] == final[1] and final[0]["value"] == "overwritten"
        finally:
            for store in stores:
                await store.close()


async def test_a_sqlite_writer_waits_for_another_processes_write_lock(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    store = SqliteStorage(path)
    try:
        await store.write({"k": {"v": 1}})
        other = sqlite3.connect(path, isolation_level=None)  # another process, mid-transaction
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("UPDATE items SET value = '{\"v\":2}'")
            write = asyncio.ensure_future(store.write({"k": {"v": 3}}))
            await asyncio.sleep(0.2)
            assert not write.done()  # it cannot get the lock while the other writer holds it
            other.execute("COMMIT")
        finally:
            other.close()
        async with asyncio.timeout(RACE_TIMEOUT):
            await write  # then it goes through
        assert (await store.read(["k"]))["k"]["v"] == 3
    finally:
        await store.close()


async def test_a_sqlite_writer_that_cannot_get_the_lock_in_time_gets_storage_busy_error(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    store = SqliteStorage(path, busy_timeout=0.05)
    try:
        await store.write({"k": {"v": 1}})
        other = sqlite3.connect(path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            with pytest.raises(StorageBusyError, match="locked by another writer") as caught:
                await store.write({"k": {"v": 2}})
            assert isinstance(caught.value, TimeoutError)
            with pytest.raises(StorageBusyError):
                await store.delete(["k"])
            other.execute("ROLLBACK")
        finally:
            other.close()
        assert (await store.read(["k"]))["k"]["v"] == 1  # nothing of the refused writes
        await store.write({"k": {"v": 4}})  # and the storage works again
        assert (await store.read(["k"]))["k"]["v"] == 4
    finally:
        await store.close()


async def test_two_azure_storages_on_one_container_share_items_and_have_exactly_one_winner(
    azurite: str,
) -> None:
    """Two bot instances (or the bot and `python bot.py announce`) on one container."""
    container = _container()
    first, second = AzureBlobStorage(azurite, container), AzureBlobStorage(azurite, container)
    try:
        await first.write({"shared/a": {"by": "first"}})
        assert (await second.read(["shared/a"]))["shared/a"]["by"] == "first"
        assert await second.keys("shared/") == ["shared/a"]
        stale = (await second.read(["shared/a"]))["shared/a"]
        await first.write({"shared/a": {"by": "first again"}})
        with pytest.raises(ETagConflictError):
            await second.write({"shared/a": {**stale, "by": "second"}})
        await second.delete(["shared/a"])
        assert await first.read(["shared/a"]) == {} and await first.keys() == []

        await _race_two_stores_for_one_winner(first, second)
    finally:
        await first.close()
        await second.close()


async def test_concurrent_creators_of_a_missing_key_with_an_e_tag_have_exactly_one_winner(
    azurite: str,
) -> None:
    """A write to a missing key wins whatever its e_tag, but only the first of a race does."""
    first, second = AzureBlobStorage(azurite, container := _container()), AzureBlobStorage(azurite, container)
    try:
        for round_ in range(5):
            key = f"new/{round_}"
            results = await asyncio.gather(
                *(
                    store.write({key: {"n": n, "e_tag": "from-a-deleted-item"}})
                    for n, store in enumerate([first, second] * 3)
                ),
                return_exceptions=True,
            )
            assert [r for r in results if r is None] == [None], f"round {round_}: {results}"
            assert all(isinstance(r, ETagConflictError) for r in results if r is not None)
    finally:
        await first.close()
        await second.close()


# -- keys(prefix) --------------------------------------------------------------------------------


async def test_keys_lists_the_keys_under_a_prefix_sorted(storage: KeyedStorage) -> None:
    await storage.write(
        {
            "registry/conversation/b": {},
            "registry/conversation/a": {},
            "registry/conversations": {},
            "registry/c%nversation/x": {},  # LIKE wildcards must not match
            "registry/c_nversation/y": {},
            "REGISTRY/conversation/upper": {},
            "msteams/conversations/a:1/": {},
        }
    )
    assert await storage.keys("registry/conversation/") == [
        "registry/conversation/a",
        "registry/conversation/b",
    ]
    assert await storage.keys("registry/c%") == ["registry/c%nversation/x"]
    assert await storage.keys("nothing/") == []
    assert len(await storage.keys("")) == 7
    assert await storage.keys() == sorted(await storage.keys(""))


async def test_deleted_keys_are_no_longer_listed(storage: KeyedStorage) -> None:
    await storage.write({"p/1": {}, "p/2": {}})
    await storage.delete(["p/1"])
    assert await storage.keys("p/") == ["p/2"]


AWKWARD_KEYS = [
    "msteams/conversations/19:abc@thread.tacv2;messageid=1/",
    "msteams/users/29:1Ab-Cd_ef~",
    "ends.with.a.dot.",
    "..",
    "/",
    "a//b",
    "back\\slash",
    "100% sure",
    "%41",  # must not become the key "A"
    "A",
    "query?x=1&y=2#frag",
    "tabs\tand\nnewlines",
    "åäö/🗳️",
    "x" * 300,
]


async def test_any_key_round_trips_and_lists_under_its_prefixes_on_azure(azurite: str) -> None:
    store = AzureBlobStorage(azurite, _container())
    try:
        await store.write({key: {"key": key} for key in AWKWARD_KEYS})
        items = await store.read(AWKWARD_KEYS)
        assert {key: item["key"] for key, item in items.items()} == {key: key for key in AWKWARD_KEYS}
        assert await store.keys() == sorted(AWKWARD_KEYS)
        assert await store.keys("msteams/") == sorted(k for k in AWKWARD_KEYS if k.startswith("msteams/"))
        assert await store.keys("%") == ["%41"]
        assert await store.keys("A") == ["A"]
        assert await store.keys("åäö/") == ["åäö/🗳️"]
        await store.delete(AWKWARD_KEYS)
        assert await store.keys() == []
    finally:
        await store.close()


def test_blob_names_keep_key_prefixes_and_make_no_folders_or_trailing_dots() -> None:
    from storage.azure_blob import blob_name, key_of

    for key in AWKWARD_KEYS:
        name = blob_name(key)
        assert key_of(name) == key
        assert "/" not in name and not name.endswith(".") and name.isascii()
        for end in range(len(key)):
            assert name.startswith(blob_name(key[:end]) if end else "")
    assert len({blob_name(key) for key in AWKWARD_KEYS}) == len(AWKWARD_KEYS)
    with pytest.raises(ValueError, match="too long"):
        blob_name("ö" * 200)
    with pytest.raises(ValueError):
        blob_name("")


async def test_azure_reads_writes_and_deletes_many_keys_in_one_call(azurite: str) -> None:
    store = AzureBlobStorage(azurite, _container())
    try:
        keys = [f"registry/conversation/{n:03}" for n in range(120)]
        await store.write({key: {"n": n} for n, key in enumerate(keys)})
        items = await store.read([*keys, "registry/conversation/missing"])
        assert [items[key]["n"] for key in keys] == list(range(120))
        assert await store.keys("registry/") == keys
        await store.delete(keys)
        assert await store.keys() == []
    finally:
        await store.close()


# -- lifecycle -----------------------------------------------------------------------------------


async def test_a_closed_storage_refuses_work_and_closing_twice_is_fine(
    storage: KeyedStorage,
) -> None:
    await storage.write({"k": {}})
    await storage.close()
    await storage.close()
    with pytest.raises(StorageClosedError):
        await storage.read(["k"])


async def test_sqlite_creates_the_file_and_its_directories_on_first_use(tmp_path: Path) -> None:
    path = tmp_path / "data" / "deeper" / "state.db"
    store = SqliteStorage(path)
    assert not path.parent.exists()  # nothing happens at construction
    await store.write({"k": {"v": 1}})
    await store.close()
    assert path.is_file()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_sqlite_items_survive_reopening_the_file(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = SqliteStorage(path)
    await store.write({"k": {"guide": {"step": 3}, "text": "ö"}})
    e_tag = (await store.read(["k"]))["k"]["e_tag"]
    await store.close()

    reopened = SqliteStorage(path)
    try:
        item = (await reopened.read(["k"]))["k"]
        assert item == {"guide": {"step": 3}, "text": "ö", "e_tag": e_tag}
        assert await reopened.keys("k") == ["k"]
    finally:
        await reopened.close()


async def test_conversation_state_survives_a_restart_on_sqlite(tmp_path: Path) -> None:
    """botbuilder's BotState on top of the storage, saved twice in a turn, then reloaded."""
    path = tmp_path / "state.db"
    activity = Activity(
        type="message",
        channel_id="msteams",
        conversation=ConversationAccount(id="a:1conv"),
        from_property=ChannelAccount(id="29:user"),
        recipient=ChannelAccount(id="28:bot"),
    )

    store = SqliteStorage(path)
    state = ConversationState(store)
    context = TurnContext(TestAdapter(), activity)
    await state.load(context)
    accessor = state.create_property("pending")
    await accessor.set(context, {"topic": "enable_2fa"})
    await state.save_changes(context)
    await accessor.set(context, {"topic": "enable_2fa", "asked": True})
    await state.save_changes(context)  # second save in the same turn: no conflict
    await store.close()

    store = SqliteStorage(path)
    try:
        state = ConversationState(store)
        context = TurnContext(TestAdapter(), activity)
        await state.load(context)
        pending = await state.create_property("pending").get(context)
        assert pending == {"topic": "enable_2fa", "asked": True}
    finally:
        await store.close()


def test_azure_does_nothing_at_construction_and_binds_to_no_event_loop(azurite: str) -> None:
    """Built before the server's loop runs (as create_app does), used inside it."""
    from azure.storage.blob.aio import BlobServiceClient

    container = _container()
    store = AzureBlobStorage(azurite, container)  # no running loop here

    async def containers() -> list[str]:
        async with BlobServiceClient.from_connection_string(azurite) as service:
            return [c.name async for c in service.list_containers()]

    assert container not in asyncio.run(containers())  # nothing happens at construction

    async def use() -> dict[str, object]:
        await store.write({"k": {"v": 1}})
        try:
            return await store.read(["k"])
        finally:
            await store.close()

    assert asyncio.run(use())["k"]["v"] == 1
    assert container in asyncio.run(containers())  # created on first use


async def test_azure_conversation_state_survives_a_restart(azurite: str) -> None:
    """botbuilder's BotState on top of the storage, saved twice in a turn, then reloaded."""
    container = _container()
    activity = Activity(
        type="message",
        channel_id="msteams",
        conversation=ConversationAccount(id="a:1conv"),
        from_property=ChannelAccount(id="29:user"),
        recipient=ChannelAccount(id="28:bot"),
    )
    store = AzureBlobStorage(azurite, container)
    state = ConversationState(store)
    context = TurnContext(TestAdapter(), activity)
    await state.load(context)
    accessor = state.create_property("pending")
    await accessor.set(context, {"topic": "enable_2fa"})
    await state.save_changes(context)
    await accessor.set(context, {"topic": "enable_2fa", "asked": True})
    await state.save_changes(context)  # second save in the same turn: no conflict
    await store.close()

    store = AzureBlobStorage(azurite, container)
    try:
        state = ConversationState(store)
        context = TurnContext(TestAdapter(), activity)
        await state.load(context)
        assert await state.create_property("pending").get(context) == {"topic": "enable_2fa", "asked": True}
    finally:
        await store.close()


# -- create_storage ------------------------------------------------------------------------------


def test_create_storage_reads_a_relative_sqlite_url_from_the_working_directory() -> None:
    store = create_storage("sqlite:///data/kanalvakten.db")
    assert isinstance(store, SqliteStorage) and store.path == Path("data/kanalvakten.db")


def test_create_storage_reads_an_absolute_sqlite_url_with_four_slashes() -> None:
    store = create_storage("sqlite:////var/lib/kanalvakten/state.db")
    assert isinstance(store, SqliteStorage)
    assert store.path == Path("/var/lib/kanalvakten/state.db")


def test_create_storage_reads_memory() -> None:
    assert isinstance(create_storage("memory://"), MemoryStorage)


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("", id="empty"),
        pytest.param("postgres://db/x", id="unknown-scheme"),
        pytest.param("sqlite://", id="no-path"),
        pytest.param("sqlite:///", id="empty-path"),
        pytest.param("sqlite:///data/", id="directory"),
        pytest.param("sqlite:///:memory:", id="sqlite-memory"),
        pytest.param("memory://somewhere", id="memory-with-host"),
    ],
)
def test_create_storage_rejects_other_urls_with_a_clear_message(url: str) -> None:
    with pytest.raises(ValueError, match="sqlite:///"):
        create_storage(url)


async def test_create_storage_reads_an_azure_blob_url_with_the_connection_string_from_the_environment(
    azurite: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite)
    container = _container()
    store = create_storage(f"azureblob://{container}")
    assert isinstance(store, AzureBlobStorage) and store.container == container
    assert "AccountKey" not in repr(store)
    try:
        await store.write({"k": {"v": 1}})
        assert (await store.read(["k"]))["k"]["v"] == 1
    finally:
        await store.close()
    other = AzureBlobStorage(azurite, container)
    try:
        assert await other.keys() == ["k"]
    finally:
        await other.close()


def test_create_storage_prefers_a_connection_string_it_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING", raising=False)
    store = create_storage("azureblob://kanalvakten", azure_connection_string="UseDevelopmentStorage=true")
    assert isinstance(store, AzureBlobStorage) and store.container == "kanalvakten"


def test_create_storage_names_the_missing_azure_connection_string(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING", raising=False)
    with pytest.raises(ValueError, match="AZURE_STORAGE_CONNECTION_STRING"):
        create_storage("azureblob://kanalvakten")
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", "  ")
    with pytest.raises(ValueError, match="AZURE_STORAGE_CONNECTION_STRING"):
        create_storage("azureblob://kanalvakten")


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("azureblob://", id="no-container"),
        pytest.param("azureblob://Kanalvakten", id="uppercase"),
        pytest.param("azureblob://kv", id="too-short"),
        pytest.param("azureblob://kv--state", id="double-hyphen"),
        pytest.param("azureblob://kv/state", id="path"),
    ],
)
def test_create_storage_rejects_a_bad_container_name(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", "UseDevelopmentStorage=true")
    with pytest.raises(ValueError, match="azureblob://<container>"):
        create_storage(url)
