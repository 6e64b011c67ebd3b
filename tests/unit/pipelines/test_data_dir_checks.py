"""A data dir that is a file, or that cannot be created or written, is refused before any
work, naming `--data-dir` or BILLING_SYNC_DATA_DIR (whichever chose it) and the reason."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from pipelines.config import ConfigError
from pipelines.datadir import DATA_DIR_ENV, resolve_data_dir, unusable_folder_problem

SYSFS = Path("/sys/kernel")  # a folder no one may create files in, root included


def _file(tmp_path: Path) -> Path:
    path = tmp_path / "a-file"
    path.write_text("not a folder")
    return path


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda tmp: tmp / "new" / "data", None),
        (lambda tmp: tmp, None),
        (_file, "is a file, not a folder"),
        (lambda tmp: _file(tmp) / "data", "cannot create"),
        pytest.param(
            lambda tmp: SYSFS,
            "cannot write in",
            marks=pytest.mark.skipif(not SYSFS.is_dir(), reason="Linux sysfs"),
        ),
    ],
    ids=["created", "existing", "a file", "under a file", "read-only file system"],
)
def test_a_folder_is_usable_only_when_a_file_can_be_written_in_it(
    tmp_path: Path, make: Callable[[Path], Path], problem: str | None
) -> None:
    folder = make(tmp_path)

    found = unusable_folder_problem(folder)

    if problem is None:
        assert found is None
        assert folder.is_dir()
        assert list(folder.iterdir()) == []  # the probe leaves nothing behind
    else:
        assert found is not None
        assert problem in found
        assert str(folder) in found


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in any folder")
def test_a_read_only_folder_is_refused(tmp_path: Path) -> None:
    tmp_path.chmod(0o500)
    try:
        assert "cannot write in" in (unusable_folder_problem(tmp_path) or "")
    finally:
        tmp_path.chmod(0o700)


def test_the_error_names_the_option_the_variable_or_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a_file = _file(tmp_path)
    with pytest.raises(ConfigError) as by_option:
        resolve_data_dir(a_file)
    monkeypatch.setenv(DATA_DIR_ENV, str(a_file))
    with pytest.raises(ConfigError) as by_variable:
        resolve_data_dir()
    monkeypatch.delenv(DATA_DIR_ENV)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").write_text("a file where ./data should be")
    with pytest.raises(ConfigError) as by_default:
        resolve_data_dir()

    assert by_option.value.key == "--data-dir"
    assert by_variable.value.key == DATA_DIR_ENV
    assert by_default.value.key == DATA_DIR_ENV
    assert str(by_default.value).endswith("is a file, not a folder (the default, ./data)")
