"""SQLite storage, the embedded default (`STORAGE_URL=sqlite:///data/kanalvakten.db`).

Why this shape:
- The stdlib `sqlite3` blocks, so each storage owns one connection on one dedicated thread
  (a single-worker executor); the event loop never waits on disk and the connection is only
  ever touched by the thread that made it. One storage's operations therefore run one at a time.
- Several storages may share the file: the bot and `python bot.py announce send` (two
  processes), or two `SqliteStorage` objects in one process. Their writers serialise on SQLite's
  write lock, each waiting at most `busy_timeout` seconds for it (SQLite's busy handler); an
  operation that could not get the lock in time raises `StorageBusyError`, never SQLite's own
  "database is locked".
- WAL mode lets readers work while a write commits. Switching a new file to WAL is the one step
  where SQLite answers "busy" at once instead of waiting: when two connections open a new file
  together, both read its header, and the one that then cannot get the write lock is refused
  without the busy handler (waiting could deadlock). Opening retries that step (and creating the
  table) with short pauses until `busy_timeout`.
- A write runs as `BEGIN IMMEDIATE` … `COMMIT`: the write lock is taken (with the busy wait)
  before the e_tag is compared, so the comparison and the update happen under the lock; of two
  writers holding the same e_tag exactly one wins and the other gets `ETagConflictError`, and a
  batch is all-or-nothing.
- The file and its parent directory are created on first use, not in `__init__`, so building the
  app does no I/O. The file (and its -wal/-shm companions) is readable by its owner only (0600),
  the directory, when created here, 0700: it holds conversation references and user state.
- Deleted means gone (question texts and hand-offs are personal data, see `helpdesk.retention`):
  `secure_delete` overwrites deleted rows with zeros instead of leaving them in free space, and
  `compact()` checkpoints the WAL and truncates it, because until then the log still holds the
  pages as they were before the delete.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from .base import KeyedStorage, StorageBusyError, StorageClosedError
from .encoding import check_e_tag, decode_item, encode_item, new_e_tag, set_e_tag

__all__ = ["SqliteStorage"]

log = logging.getLogger(__name__)

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    e_tag      TEXT NOT NULL,
    updated_at REAL NOT NULL
)
"""
_READ_CHUNK = 500  # stays below SQLite's limit on bound parameters
_BUSY_CODES = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _is_busy(exc: BaseException) -> bool:
    """SQLite refused because another connection holds a lock ("database is locked")."""
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(exc, sqlite3.OperationalError) and code is not None and code & 0xFF in _BUSY_CODES


def _retry_while_busy(step: Callable[[], T], deadline: float) -> T:
    """Run `step`, and again after a short pause while SQLite refuses it as busy, until `deadline`
    (a `time.monotonic()` value). For the steps where SQLite does not wait on its own."""
    pause = 0.001
    while True:
        try:
            return step()
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


def _prefix_upper_bound(prefix: str) -> str | None:
    """The smallest string greater than every string starting with `prefix` (None: no bound).

    SQLite compares TEXT byte-wise in UTF-8, which orders like code points, so bumping the last
    code point gives a range the primary-key index can serve.
    """
    while prefix:
        bumped = ord(prefix[-1]) + 1
        if 0xD800 <= bumped <= 0xDFFF:  # surrogates cannot be encoded; skip past them
            bumped = 0xE000
        if bumped <= 0x10FFFF:
            return prefix[:-1] + chr(bumped)
        prefix = prefix[:-1]
    return None


def _companions(path: Path) -> list[Path]:
    """The write-ahead log and shared-memory files SQLite keeps next to the database."""
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]


def _create_private(path: Path) -> None:
    """Create the database file readable and writable by its owner only (0600), before SQLite opens
    it (SQLite would create it with the process's umask, usually world-readable); an existing
    file is narrowed to 0600 too. It holds conversation references and user state."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass
    _owner_only(path)


def _owner_only(path: Path) -> None:
    try:
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            os.chmod(path, 0o600)
            log.warning("%s was readable by others (mode %o): now 0600", path.name, mode)
    except FileNotFoundError:
        pass
    except PermissionError:  # another user's file: theirs to fix
        log.warning("%s is readable by others and not ours to change", path.name)


def _rollback(conn: sqlite3.Connection) -> None:
    """End the open transaction, if any, so the connection is usable for the next operation."""
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:  # keep the original error; SQLite rolls back on its own then
            log.warning("SQLite rollback failed", exc_info=True)


class SqliteStorage(KeyedStorage):
    """A `KeyedStorage` in one SQLite table `items(key, value JSON, e_tag, updated_at)`."""

    def __init__(self, path: str | Path, *, busy_timeout: float = 10.0) -> None:
        if busy_timeout < 0:
            raise ValueError("busy_timeout must not be negative")
        self.path = Path(path)
        """Database file; relative paths are relative to the working directory."""
        self._busy_timeout = busy_timeout
        """Seconds an operation waits for another writer's lock before `StorageBusyError`."""
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None
        self._closed = False

    def __repr__(self) -> str:
        return f"SqliteStorage({str(self.path)!r})"

    # -- the worker thread -------------------------------------------------------------------

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed:
            raise StorageClosedError(f"{self!r} is closed")
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-storage")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._call, fn)

    def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        try:
            if self._conn is None:
                self._conn = self._connect()
            return fn(self._conn)
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc):
                raise
            raise StorageBusyError(
                f"{self.path} stayed locked by another writer for more than {self._busy_timeout:g} s"
            ) from exc

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _create_private(self.path)
        deadline = time.monotonic() + self._busy_timeout
        # timeout: SQLite's busy handler waits up to busy_timeout for another connection's lock.
        # isolation_level=None: we issue BEGIN/COMMIT ourselves.
        conn = sqlite3.connect(self.path, timeout=self._busy_timeout, isolation_level=None)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
            # Two connections switching a new file to WAL at once: the loser is refused without
            # the busy wait (see the module docstring), so retry until the deadline.
            mode = _retry_while_busy(lambda: conn.execute("PRAGMA journal_mode = WAL").fetchone()[0], deadline)
            if str(mode).lower() != "wal":
                log.warning(
                    "SQLite storage %s uses journal mode %s, not WAL: readers wait for writers", self.path, mode
                )
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA secure_delete = ON")
            _retry_while_busy(lambda: conn.execute(_SCHEMA), deadline)
        except BaseException:
            conn.close()
            raise
        for companion in _companions(self.path):  # SQLite gives them the database's mode; make sure
            _owner_only(companion)
        log.info("opened SQLite storage %s", self.path)
        return conn

    # -- Storage -----------------------------------------------------------------------------

    async def read(self, keys: list[str]) -> dict[str, Any]:
        keys = list(dict.fromkeys(keys or ()))
        if not keys:
            return {}

        def read_rows(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
            rows: list[tuple[str, str, str]] = []
            for start in range(0, len(keys), _READ_CHUNK):
                chunk = keys[start : start + _READ_CHUNK]
                marks = ",".join("?" * len(chunk))
                rows += conn.execute(f"SELECT key, value, e_tag FROM items WHERE key IN ({marks})", chunk).fetchall()
            return rows

        return {key: decode_item(value, e_tag) for key, value, e_tag in await self._run(read_rows)}

    async def write(self, changes: dict[str, Any]) -> None:
        if changes is None:
            raise ValueError("changes are required when writing")
        if not changes:
            return
        # Encode on the loop thread: the caller's objects are not touched from the worker.
        encoded = [(key, *encode_item(key, value)) for key, value in changes.items()]

        def write_rows(conn: sqlite3.Connection) -> dict[str, str]:
            new_tags: dict[str, str] = {}
            now = time.time()
            conn.execute("BEGIN IMMEDIATE")  # the write lock first (waiting for it), then compare
            try:
                for key, text, e_tag in encoded:
                    row = conn.execute("SELECT e_tag FROM items WHERE key = ?", (key,)).fetchone()
                    check_e_tag(key, e_tag, row[0] if row else None)
                    tag = new_e_tag()
                    conn.execute(
                        "INSERT INTO items (key, value, e_tag, updated_at) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT(key) DO UPDATE SET value = excluded.value, "
                        "e_tag = excluded.e_tag, updated_at = excluded.updated_at",
                        (key, text, tag, now),
                    )
                    new_tags[key] = tag
                conn.execute("COMMIT")
            except BaseException:
                _rollback(conn)
                raise
            return new_tags

        new_tags = await self._run(write_rows)
        for key, tag in new_tags.items():
            set_e_tag(changes[key], tag)
        log.debug("wrote %d item(s)", len(new_tags))

    async def delete(self, keys: list[str]) -> None:
        keys = list(keys or ())
        if not keys:
            return

        def delete_rows(conn: sqlite3.Connection) -> None:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany("DELETE FROM items WHERE key = ?", [(k,) for k in keys])
                conn.execute("COMMIT")
            except BaseException:
                _rollback(conn)
                raise

        await self._run(delete_rows)

    # -- KeyedStorage ------------------------------------------------------------------------

    async def keys(self, prefix: str = "") -> list[str]:
        upper = _prefix_upper_bound(prefix)

        def select_keys(conn: sqlite3.Connection) -> list[str]:
            if upper is None:
                rows = conn.execute("SELECT key FROM items WHERE key >= ? ORDER BY key", (prefix,))
            else:
                rows = conn.execute("SELECT key FROM items WHERE key >= ? AND key < ? ORDER BY key", (prefix, upper))
            return [key for (key,) in rows if key.startswith(prefix)]

        return await self._run(select_keys)

    async def compact(self) -> None:
        """Copy the WAL into the database and truncate it (`PRAGMA wal_checkpoint(TRUNCATE)`).

        Another connection reading at this moment (e.g. `python bot.py announce` beside the
        server) can keep part of the log alive; that is logged, and the next purge tries again."""

        def checkpoint(conn: sqlite3.Connection) -> tuple[int, int, int]:
            busy, pages, done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            return int(busy), int(pages), int(done)

        busy, log_pages, done = await self._run(checkpoint)
        if busy or done < log_pages:
            log.warning("SQLite checkpoint incomplete (%d of %d pages; another connection is busy)", done, log_pages)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        executor, self._executor = self._executor, None
        if executor is None:
            return

        def close_conn() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        await asyncio.get_running_loop().run_in_executor(executor, close_conn)
        executor.shutdown(wait=True)
        log.info("closed SQLite storage %s", self.path)
