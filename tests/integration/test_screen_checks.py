import dagster as dg
import polars as pl

from assets.kit.checks import screen_check_results, screen_check_specs


def _screen(rows: pl.DataFrame, n_inputs: int):
    @dg.asset(name="toy_screen", check_specs=screen_check_specs("toy_screen"))
    def toy_screen():
        yield dg.Output(rows)
        yield from screen_check_results(rows, n_inputs)

    @dg.asset(deps=[toy_screen])
    def downstream() -> None:
        return None

    return toy_screen, downstream


def _checks(res):
    return {e.check_name: e.passed for e in res.get_asset_check_evaluations()}


def test_a_sound_screen_passes_and_downstream_runs():
    rows = pl.DataFrame({"record_id": ["a", "b"], "kept": [True, False], "reason": [None, "too_short"]})
    res = dg.materialize(list(_screen(rows, 2)), resources={"io_manager": dg.mem_io_manager})
    assert _checks(res) == {"accounted": True, "unique_ids": True}
    assert res.success


def test_lost_rows_duplicates_and_unexplained_rejections_fail_and_block_downstream():
    rows = pl.DataFrame({"record_id": ["a", "a", "c"], "kept": [True, False, False], "reason": [None, "x", None]})
    res = dg.materialize(list(_screen(rows, 5)), resources={"io_manager": dg.mem_io_manager},
                         raise_on_error=False)
    assert _checks(res) == {"accounted": False, "unique_ids": False}
    evals = {e.check_name: e.metadata for e in res.get_asset_check_evaluations()}
    assert evals["accounted"]["rejected_without_reason"].value == 1
    assert evals["unique_ids"]["duplicates"].value == 1
    assert not res.success
    assert "downstream" not in {e.step_key for e in res.all_events if e.is_step_success}
