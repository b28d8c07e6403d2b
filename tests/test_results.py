"""The results-file helpers shared by every long experiment."""

import io
import time

import pytest

from genmodels import results


def test_round_trip_parses_numbers_and_keeps_header(tmp_path):
    rows = [
        {"name": "beta", "value": 0.5, "count": 3, "note": "nan"},
        {"name": "b", "value": 2.0, "count": 0, "note": "x"},
    ]
    header = results.provenance("python -m genmodels.experiments test")
    path = results.write_csv(rows, tmp_path / "r.csv", header)
    back_header, back = results.read_csv(path)
    assert back_header == header and back[0]["count"] == 3 and back[1]["value"] == 2.0
    assert back[0]["name"] == "beta" and back[0]["note"] != back[0]["note"]  # "nan" parses as float NaN
    for key in ("command", "date", "tensorflow", "keras", "numpy", "machine"):
        assert header[key]


def test_bad_rows_and_missing_files_get_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="lacks the fields"):
        results.write_csv([{"a": 1}], tmp_path / "r.csv", {}, fields=["a", "b"])
    with pytest.raises(ValueError, match="spans lines"):
        results.write_csv([{"a": 1}], tmp_path / "r.csv", {"command": "one\ntwo"})
    with pytest.raises(FileNotFoundError, match="make sweeps"):
        results.read_csv(tmp_path / "none.csv", how_to_make="make sweeps")
    with pytest.raises(FileNotFoundError, match="make sweeps"):
        results.find_results("surely-not-there.csv", how_to_make="make sweeps")


def test_progress_bar_counts_and_estimates():
    stream = io.StringIO()
    results.progress_bar(1, 4, time.perf_counter() - 60, "run", stream)
    assert "1/4 runs" in stream.getvalue() and "~ 3.0 min left" in stream.getvalue()
