"""DataDir.discard_interrupted_writes: only dlt's temp files, only in a pipeline's own folders."""

from __future__ import annotations

from pathlib import Path

from pipelines.datadir import DataDir

TEMP = "2a3c989983d55bbb"  # dlt's `uniq_id(8)`: what `save_atomic` names a file before renaming


def _files(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}


def test_removes_dlt_temp_files_from_the_pipeline_folder_and_its_schemas_only(
    tmp_path: Path,
) -> None:
    data_dir = DataDir(tmp_path).ensure()
    working = data_dir.dlt_dir / "fincome_push"
    kept = [
        "state.json",
        "schemas/fincome_push.schema.json",
        "schemas/2A3C989983D55BBB",  # dlt's names are lower-case hex
        "schemas/2a3c989983d55bb",  # and 16 of them
        f"load/normalized/{TEMP}",  # packages are listed as folders: dlt ignores files there
    ]
    removed = [TEMP, f"schemas/{TEMP}"]
    for name in [*kept, *removed]:
        (working / name).parent.mkdir(parents=True, exist_ok=True)
        (working / name).write_text("{")
    (working / "schemas" / "0123456789abcdef").mkdir()  # a folder of that name is not dlt's

    left = data_dir.discard_interrupted_writes("fincome_push")

    assert sorted(str(path.relative_to(working)) for path in left) == sorted(removed)
    assert _files(working) == set(kept)
    assert (working / "schemas" / "0123456789abcdef").is_dir()


def test_a_pipeline_that_never_ran_has_nothing_to_discard(tmp_path: Path) -> None:
    assert DataDir(tmp_path).discard_interrupted_writes("metronome_extract") == []
