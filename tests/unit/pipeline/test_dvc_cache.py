"""A `.dvc` file's record and a lock's outputs, as the stages read them without DVC."""

from __future__ import annotations

import pytest

from driftline.core.errors import DriftlineError
from driftline.pipeline.dvc_cache import dvc_record, lock_outs

RECORD = "outs:\n- md5: 0123456789abcdef0123456789abcdef\n  size: 12\n  path: 2013-01.csv\n"


def test_a_dvc_record_is_read_and_a_missing_or_empty_one_is_empty(tmp_path):
    record = tmp_path / "2013-01.dvc"
    assert dvc_record(record) == {}
    record.write_text(RECORD)
    assert dvc_record(record)["outs"][0]["md5"] == "0123456789abcdef0123456789abcdef"
    record.write_text("")
    assert dvc_record(record) == {}


def test_a_broken_dvc_record_is_refused_naming_the_file(tmp_path):
    record = tmp_path / "2013-01.dvc"
    record.write_text("outs:\n- md5: [unclosed\n")
    with pytest.raises(DriftlineError, match=r"2013-01\.dvc: not valid YAML"):
        dvc_record(record)


def test_lock_outs_are_the_stages_output_hashes_by_path():
    lock = "stages:\n  train:\n    outs:\n    - path: models/model.pkl\n      md5: abc\n"
    assert lock_outs(lock, "train") == {"models/model.pkl": "abc"}
    with pytest.raises(KeyError):
        lock_outs(lock, "evaluate")
    with pytest.raises(KeyError):
        lock_outs("stages: [unclosed\n", "train")
