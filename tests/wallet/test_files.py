"""wallet.files.write_atomic: the one atomic writer (wallet files, key files, the deployment file, audit bundles)."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from wallet.files import write_atomic


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0o027)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_writes_and_replaces(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    write_atomic(path, b"one")
    write_atomic(path, b"two")
    assert path.read_bytes() == b"two" and _mode(path) == 0o600 and _leftovers(tmp_path) == []


def test_mode_is_exact_or_the_umasks(tmp_path: Path, umask: None) -> None:
    write_atomic(tmp_path / "secret", b"s", mode=0o600)
    write_atomic(tmp_path / "shared", b"s", mode=0o644)  # exact, whatever the umask (0o027 here)
    write_atomic(tmp_path / "plain", b"s", mode=None)  # as open() would: 0o666 & ~umask
    assert [_mode(tmp_path / n) for n in ("secret", "shared", "plain")] == [0o600, 0o644, 0o640]


def test_never_replace_refuses_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "key.json"
    write_atomic(path, b"first", replace=False)
    with pytest.raises(FileExistsError):
        write_atomic(path, b"second", replace=False)
    assert path.read_bytes() == b"first" and _leftovers(tmp_path) == []


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "dir"
    target.mkdir()
    (target / "inside").write_bytes(b"x")
    with pytest.raises(OSError):
        write_atomic(target, b"data")  # os.replace cannot put a file over a non-empty directory
    assert (target / "inside").read_bytes() == b"x" and _leftovers(tmp_path) == []
    with pytest.raises(FileNotFoundError):
        write_atomic(tmp_path / "missing" / "f", b"data")  # the directory must exist
    with pytest.raises(TypeError):
        write_atomic(tmp_path / "f", "text")  # type: ignore[arg-type]
    assert not (tmp_path / "f").exists()


def test_a_symlink_is_replaced_not_followed(tmp_path: Path) -> None:
    victim, link = tmp_path / "victim", tmp_path / "link"
    victim.write_bytes(b"keep")
    link.symlink_to(victim)
    write_atomic(link, b"new")
    assert victim.read_bytes() == b"keep" and not link.is_symlink() and link.read_bytes() == b"new"


def test_concurrent_creators_one_wins(tmp_path: Path) -> None:
    path, results, refused = tmp_path / "once", [], []
    barrier = threading.Barrier(8)

    def create(i: int) -> None:
        barrier.wait()
        try:
            write_atomic(path, f"writer {i}".encode(), replace=False)
            results.append(i)
        except FileExistsError:
            refused.append(i)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 1 and path.read_bytes() == f"writer {results[0]}".encode()
    assert sorted(results + refused) == list(range(8))  # every other writer was refused, none failed otherwise
    assert _leftovers(tmp_path) == []
