"""The ``resync`` command as a user runs it (subprocesses, real ports)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live import LiveServer

RESYNC = str(Path(sys.executable).parent / "resync")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def run(args: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("TWS_", "SIM_", "DATABASE_", "REDIS_", "OPENAI_"))
    }
    return subprocess.run(
        [RESYNC, *args],
        env={**clean, "COLUMNS": "200", **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def sim_process() -> Iterator[tuple[int, str]]:
    port = free_port()
    process = subprocess.Popen(
        [RESYNC, "sim", "--host", "127.0.0.1", "--port", str(port), "--jobs", "120", "--seed", "7"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert process.stdout is not None
    banner = "".join(process.stdout.readline() for _ in range(4))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/admin/status", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    yield port, banner
    process.terminate()
    process.wait(timeout=10)


def test_sim_serves_and_prints_where_and_who(sim_process: tuple[int, str]) -> None:
    port, banner = sim_process
    assert f"http://127.0.0.1:{port}/twsd/api/v2/" in banner
    assert "admin/admin (read-write)" in banner and "viewer/viewer (read-only)" in banner
    response = httpx.get(
        f"http://127.0.0.1:{port}/twsd/api/v2/plan/job", params={"limit": 1}, auth=("viewer", "viewer")
    )
    assert response.status_code == 200 and response.json()["count"] == 120


def test_sim_rejects_bad_options() -> None:
    result = run(["sim", "--clock", "sometimes"], {})
    assert result.returncode == 2 and "real or manual" in result.stderr and "Traceback" not in result.stderr
    result = run(["sim", "--port", "99999"], {})
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_validate_config_defaults_ok(tmp_path: Path) -> None:
    result = run(["validate-config"], {"SIM_PORT": str(free_port()), "DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "built-in HWA simulator" in result.stdout and "offline model" in result.stdout
    assert "hashing embedder" in result.stdout or "all-MiniLM-L6-v2" in result.stdout
    assert "Configuration OK" in result.stdout


def test_validate_config_reaches_a_real_engine(sim: LiveServer, tmp_path: Path, pg_url: str) -> None:
    env = {
        "TWS_BASE_URL": sim.url,
        "TWS_USERNAME": "viewer",
        "TWS_PASSWORD": "viewer",
        "DATA_DIR": str(tmp_path),
        "DATABASE_URL": pg_url,  # the embedded server's own start is test_validate_config_defaults_ok's
    }
    result = run(["validate-config"], env)
    assert result.returncode == 0 and "HWA 10.1.0.1" in result.stdout
    result = run(["validate-config"], {**env, "TWS_PASSWORD": "wrong"})
    assert result.returncode == 1 and "Not Authorized" in result.stdout


def test_validate_config_blocking_and_non_blocking_problems(tmp_path: Path) -> None:
    env = {
        "TWS_BASE_URL": f"http://127.0.0.1:{free_port()}",
        "TWS_USERNAME": "u",
        "TWS_MAX_RETRIES": "0",
        "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "DATA_DIR": str(tmp_path),
    }
    result = run(["validate-config"], env)
    assert result.returncode == 1
    assert "cannot reach the scheduler" in result.stdout and "runs without cache" in result.stdout
    assert "blocking problem(s): scheduler" in result.stdout


def test_validate_config_local_embeddings_missing_is_blocking(tmp_path: Path) -> None:
    try:
        import sentence_transformers  # noqa: F401

        pytest.skip("the local-embeddings extra is installed here")
    except ImportError:
        pass
    result = run(["validate-config"], {"SIM_PORT": str(free_port()), "DATA_DIR": str(tmp_path), "EMBEDDINGS": "local"})
    assert result.returncode == 1 and "--extra local-embeddings" in result.stdout


def test_validate_config_invalid_setting_is_a_message(tmp_path: Path) -> None:
    result = run(["validate-config"], {"TWS_BASE_URL": "ftp://mdm", "TWS_READ_TIMEOUT": "-3"})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "TWS_BASE_URL" in result.stderr and "TWS_READ_TIMEOUT" in result.stderr


def test_every_setting_is_checked_before_anything_starts(tmp_path: Path) -> None:
    """Bad PROMPT_VERSION, API_KEYS and KNOWLEDGE_DIR are refused by the settings themselves, so
    validate-config and serve both say which setting (exit 2, no traceback, no secret echoed)."""
    from pydantic import ValidationError

    from server.settings import Settings

    for values, setting in (
        ({"prompt_version": "v9"}, "prompt_version"),
        ({"api_keys": "notahash:admin"}, "api_keys"),
        ({"api_keys": f"{'a' * 64}:root"}, "api_keys"),
        ({"knowledge_dir": tmp_path / "missing"}, "knowledge_dir"),
    ):
        with pytest.raises(ValidationError) as refused:
            Settings(data_dir=tmp_path, **values)
        assert refused.value.errors()[0]["loc"] == (setting,)
    env = {"DATA_DIR": str(tmp_path), "API_KEYS": "notahash:admin", "REDIS_URL": "redis://:Sup3rSecret@h:1/0"}
    for command in (["validate-config"], ["serve", "--port", str(free_port())]):
        result = run(command, {**env, "LOG_LEVEL": "LOUD"})
        assert result.returncode == 2, (command, result.stderr)
        assert "API_KEYS" in result.stderr and "LOG_LEVEL" in result.stderr
        assert "Traceback" not in result.stderr + result.stdout and "Sup3rSecret" not in result.stderr + result.stdout


def test_keys_create_list_revoke(tmp_path: Path, pg_url: str) -> None:
    """``resync keys create`` prints the key alone (id and name on stderr); names are identities (a
    second key gets a name of its own, a taken name is refused); ``list`` and ``revoke ID`` work."""
    env = {"DATA_DIR": str(tmp_path), "DATABASE_URL": pg_url}
    first = run(["keys", "create", "--role", "operator"], env)
    assert first.returncode == 0 and first.stdout.strip().startswith("rsk_") and len(first.stdout.split()) == 1
    second = run(["keys", "create", "--role", "operator", "--name", "night-shift"], env)
    assert second.returncode == 0 and "night-shift" in second.stderr
    taken = run(["keys", "create", "--role", "viewer", "--name", "night-shift"], env)
    assert taken.returncode == 2 and "already named" in taken.stderr
    assert run(["keys", "create", "--role", "root"], env).returncode == 2
    listed = run(["keys", "list"], env).stdout.splitlines()
    assert len(listed) == 2 and listed[0].split("\t")[1].startswith("operator-") and "active" in listed[1]
    key_id = listed[1].split("\t")[0]
    revoked = run(["keys", "revoke", key_id], env)
    assert revoked.returncode == 0 and "night-shift" in revoked.stdout
    assert "revoked" in run(["keys", "list"], env).stdout.splitlines()[1]
    missing = run(["keys", "revoke", "999"], env)
    assert missing.returncode == 1 and "no key with id 999" in missing.stderr
    assert subprocess.run([RESYNC, "serve", "--help"], capture_output=True, text=True).returncode == 0
