"""The automation policy of sensors/automation.py, evaluated with `dg.evaluate_automation_conditions`
on a graph of the project's shape: a shard root, two per-shard steps (one runs a Task), a fan-in
across shards and a report, each reporting a content data version as the project's assets do.
What each tick requests is compared with what a person expects."""

import contextlib
import datetime

import dagster as dg
import polars as pl
from pydantic import BaseModel

from assets.kit.asset_kit import REFRESH_TAG, versioned
from assets.kit.task import Task
from resources.storage import ParquetIOManager
from sensors.automation import apply_policy, automation_sensors

SHARDS = dg.DynamicPartitionsDefinition(name="auto_shards")


class Label(BaseModel):
    label: str


class LabelTask(Task):
    name = "auto_label"
    version = "1"
    response_model = Label

    def messages(self, item):
        return [{"role": "user", "content": str(item)}]

    def offline(self, item):
        return Label(label=str(item))


class LabelTaskV2(LabelTask):
    version = "2"


CONTENT = {}  # shard -> what its landed file holds now (a test rewrites a shard by changing it)


def graph(root, task: type[Task] = LabelTask, report_version: str = "1", release_cron: str | None = None
          ) -> dg.Definitions:
    @dg.asset(partitions_def=SHARDS, group_name="g", code_version="1")
    def raw(context):
        key = context.partition_key
        return versioned(pl.DataFrame({"shard": [key], "content": [CONTENT.get(key, "v1")]}))

    @dg.asset(partitions_def=SHARDS, group_name="g", code_version="1")
    def screen(raw: pl.DataFrame):
        if raw["content"][0] == "broken":
            raise ValueError("a shard this step cannot handle")
        return versioned(raw)

    @dg.asset(partitions_def=SHARDS, group_name="g", code_version=f"1-{task.fingerprint()}")
    def labels(screen: pl.DataFrame):
        return versioned(screen)

    @dg.asset(group_name="g", code_version="1")
    def selection(labels: dict[str, pl.DataFrame]):
        if CONTENT.get("selection") == "broken":
            raise ValueError("the fan-in itself fails")
        return versioned(pl.concat([labels[k] for k in sorted(labels)]))

    @dg.asset(group_name="quality", code_version=report_version)
    def report(selection: pl.DataFrame):
        return versioned(selection)

    @dg.asset(group_name="quality", code_version="1", tags={REFRESH_TAG: "incremental"})
    def index(labels: dict[str, pl.DataFrame]):  # the provenance index's shape: per shard, not pool-wide
        return versioned(pl.concat([labels[k] for k in sorted(labels)]))

    extra = [index] if release_cron else []
    assets, by_kind = apply_policy([raw, screen, labels, selection, report, *extra], release_cron)
    return dg.Definitions(assets=assets, sensors=automation_sensors(by_kind),
                          resources={"io_manager": ParquetIOManager(base_path=str(root))})


def requested(result) -> dict[str, list[str | None]]:
    """asset -> requested partition keys (None for an unpartitioned asset), only the non-empty."""
    out = {}
    for r in result.results:
        subset = r.true_subset
        if subset.size:
            out[r.key.to_user_string()] = sorted(subset.expensively_compute_partition_keys()) \
                if subset.is_partitioned else [None]
    return out


def run(defs, instance, assets, partition_key=None, succeeds=True):
    job = defs.resolve_implicit_global_asset_job_def()
    res = job.execute_in_process(instance=instance, asset_selection=[dg.AssetKey(a) for a in assets],
                                 partition_key=partition_key, raise_on_error=False)
    assert res.success == succeeds


def flows_through(defs, instance, tick, shard):
    """After `shard`'s root ran: its per-shard steps are requested in one run, then the fan-in with
    the report after it in the same evaluation (reports follow data, not a cron). Returns the tick."""
    tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=tick.cursor)
    assert requested(tick) == {"screen": [shard], "labels": [shard]}
    run(defs, instance, ["screen", "labels"], shard)
    tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=tick.cursor)
    assert requested(tick) == {"selection": [None], "report": [None]}
    run(defs, instance, ["selection", "report"])
    return tick


@contextlib.contextmanager
def two_shards_built(root):
    """The graph with s1 and s2 built and evaluated once: (defs, instance, the tick)."""
    CONTENT.clear()
    defs = graph(root)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("auto_shards", ["s1", "s2"])
        build_all(defs, instance, ["s1", "s2"])
        yield defs, instance, dg.evaluate_automation_conditions(defs=defs, instance=instance)
    CONTENT.clear()


def build_all(defs, instance, keys):
    for k in keys:
        run(defs, instance, ["raw", "screen", "labels"], k)
    run(defs, instance, ["selection", "report"])


def test_policy_kinds_and_sensors_start_running(tmp_path):
    defs = graph(tmp_path)
    sensors = {s.name: s for s in defs.sensors}
    assert set(sensors) == {"shard_roots_automation", "shards_automation", "fan_ins_automation",
                            "reports_automation"}
    assert all(s.default_status == dg.DefaultSensorStatus.RUNNING for s in sensors.values())


def test_a_new_shard_runs_its_own_partitions_then_the_fan_ins_and_nothing_else(tmp_path):
    defs = graph(tmp_path)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("auto_shards", ["s1", "s2"])
        build_all(defs, instance, ["s1", "s2"])
        tick = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        assert requested(tick) == {}  # everything is up to date

        # the landing sensor adds s3 and runs its shard root; the fan-in waits for s3's steps
        instance.add_dynamic_partitions("auto_shards", ["s3"])
        run(defs, instance, ["raw"], "s3")
        tick = flows_through(defs, instance, tick, "s3")
        tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=tick.cursor)
        assert requested(tick) == {}


def test_a_failed_shard_never_jams_the_fan_ins_and_recovers_once_fixed(tmp_path):
    """A shard whose step failed (or was killed: run monitoring marks it failed) has no output. Its
    fan-ins are not held back by it: the next shard that lands refreshes them over the good shards,
    and when the provider fixes the broken shard it flows through with no manual step."""
    with two_shards_built(tmp_path) as (defs, instance, tick):
        CONTENT["s3"] = "broken"
        instance.add_dynamic_partitions("auto_shards", ["s3"])
        run(defs, instance, ["raw"], "s3")
        tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=tick.cursor)
        assert requested(tick) == {"screen": ["s3"], "labels": ["s3"]}
        run(defs, instance, ["screen", "labels"], "s3", succeeds=False)
        tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=tick.cursor)
        assert requested(tick) == {}  # nothing changed for the fan-in, and the failure is not retried

        instance.add_dynamic_partitions("auto_shards", ["s4"])  # a good shard lands after the broken one
        run(defs, instance, ["raw"], "s4")
        tick = flows_through(defs, instance, tick, "s4")  # s3's failure does not hold the fan-in
        assert pl.read_parquet(tmp_path / "selection.parquet")["shard"].to_list() == ["s1", "s2", "s4"]

        CONTENT["s3"] = "v1"  # fixed in place: the landing sensor re-runs its root
        run(defs, instance, ["raw"], "s3")
        flows_through(defs, instance, tick, "s3")
        assert pl.read_parquet(tmp_path / "selection.parquet")["shard"].to_list() == ["s1", "s2", "s3", "s4"]


def test_a_failed_fan_in_is_still_waited_for_by_what_reads_it(tmp_path):
    """Only shards are not waited for once failed: a report over a fan-in that failed (and so has no
    output) is not requested, where it would fail reading nothing."""
    CONTENT.clear()
    CONTENT["selection"] = "broken"
    defs = graph(tmp_path)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("auto_shards", ["s1"])
        tick = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        run(defs, instance, ["raw", "screen", "labels"], "s1")
        tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=tick.cursor)
        assert requested(tick) == {"selection": [None], "report": [None]}  # in one run, the report after it
        run(defs, instance, ["selection"], succeeds=False)
        tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=tick.cursor)
        assert requested(tick) == {}
    CONTENT.clear()


def test_rerunning_an_unchanged_shard_starts_nothing_downstream(tmp_path):
    with two_shards_built(tmp_path) as (defs, instance, tick):
        assert requested(tick) == {}

        run(defs, instance, ["raw"], "s1")  # the landing sensor re-ran s1: same bytes, same data version
        tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=tick.cursor)
        assert requested(tick) == {}

        CONTENT["s1"] = "v2"  # s1 was rewritten with other rows: it flows through, s2 does not
        run(defs, instance, ["raw"], "s1")
        tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=tick.cursor)
        assert requested(tick) == {"screen": ["s1"], "labels": ["s1"]}


def test_a_new_task_version_marks_exactly_the_assets_that_run_it(tmp_path):
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("auto_shards", ["s1", "s2"])
        v1 = graph(tmp_path, LabelTask)
        build_all(v1, instance, ["s1", "s2"])
        tick = dg.evaluate_automation_conditions(defs=v1, instance=instance)
        assert requested(tick) == {}

        v2 = graph(tmp_path, LabelTaskV2)
        assert LabelTask.fingerprint() != LabelTaskV2.fingerprint()
        tick = dg.evaluate_automation_conditions(defs=v2, instance=instance, cursor=tick.cursor)
        assert requested(tick) == {"labels": ["s1", "s2"]}  # not raw or screen
        for k in ("s1", "s2"):
            run(v2, instance, ["labels"], k)
        tick = dg.evaluate_automation_conditions(defs=v2, instance=instance, cursor=tick.cursor)
        assert requested(tick) == {}  # the new version wrote the same rows: nothing downstream runs


def test_an_edited_report_reruns_the_report_alone(tmp_path):
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("auto_shards", ["s1"])
        build_all(graph(tmp_path), instance, ["s1"])
        tick = dg.evaluate_automation_conditions(defs=graph(tmp_path), instance=instance)
        tick = dg.evaluate_automation_conditions(defs=graph(tmp_path, report_version="2"), instance=instance,
                                                 cursor=tick.cursor)
        assert requested(tick) == {"report": [None]}


def test_model_backed_assets_carry_their_tasks_in_the_code_version(monkeypatch):
    from assets.docmatix.qa_task import QAGenerationTask
    from assets.kit.asset_kit import code_version
    from definitions import defs

    graph_ = defs.resolve_asset_graph()
    before = graph_.get(dg.AssetKey("raw_qa")).code_version
    assert before == code_version("assets.docmatix.qa_assets", tasks=(QAGenerationTask,))
    monkeypatch.setattr(QAGenerationTask, "version", "2")
    assert code_version("assets.docmatix.qa_assets", tasks=(QAGenerationTask,)) != before


def test_on_a_release_schedule_a_pool_wide_fan_in_refreshes_once_per_tick(tmp_path):
    """With MMFOUNDRY_RELEASE_CRON set, a landed shard runs its own steps and the incremental index
    at once; the fan-in that reads every shard waits for the schedule's next tick and then takes
    every shard that landed since in one run. Its first build does not wait."""
    CONTENT.clear()
    defs = graph(tmp_path, release_cron="0 * * * *")
    at = datetime.datetime(2026, 12, 6, 10, 5, tzinfo=datetime.UTC)

    def tick(cursor, minutes):
        return dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor,
                                                 evaluation_time=at + datetime.timedelta(minutes=minutes))

    with dg.instance_for_test() as instance:
        t = tick(None, 0)
        instance.add_dynamic_partitions("auto_shards", ["s1", "s2"])
        for k in ("s1", "s2"):
            run(defs, instance, ["raw", "screen", "labels"], k)
        t = tick(t.cursor, 1)
        assert requested(t) == {"selection": [None], "report": [None], "index": [None]}  # never built: at once
        run(defs, instance, ["selection", "report", "index"])
        t = tick(t.cursor, 2)
        assert requested(t) == {}

        for minute, shard in ((10, "s3"), (30, "s4")):
            instance.add_dynamic_partitions("auto_shards", [shard])
            run(defs, instance, ["raw"], shard)
            t = tick(t.cursor, minute)
            assert requested(t) == {"screen": [shard], "labels": [shard]}
            run(defs, instance, ["screen", "labels"], shard)
            t = tick(t.cursor, minute + 5)
            assert requested(t) == {"index": [None]}, "a shard started a pool-wide fan-in before the schedule"
            run(defs, instance, ["index"])
        assert pl.read_parquet(tmp_path / "selection.parquet")["shard"].to_list() == ["s1", "s2"]

        t = tick(t.cursor, 56)  # 11:01: the hourly tick has passed
        assert requested(t) == {"selection": [None], "report": [None]}
        run(defs, instance, ["selection", "report"])
        assert pl.read_parquet(tmp_path / "selection.parquet")["shard"].to_list() == ["s1", "s2", "s3", "s4"]
        t = tick(t.cursor, 58)
        assert requested(t) == {}
    CONTENT.clear()
