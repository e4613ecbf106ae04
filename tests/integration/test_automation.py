"""The automation policy of sensors/automation.py, evaluated with `dg.evaluate_automation_conditions`
on a graph of the project's shape: a shard root, two per-shard steps (one runs a Task), a fan-in
across shards and a report. What each tick requests is compared with what a person expects."""

import dagster as dg
import polars as pl
from pydantic import BaseModel

from assets.kit.task import Task, task_code_version
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


def graph(root, task: type[Task] = LabelTask, report_version: str = "1") -> dg.Definitions:
    @dg.asset(partitions_def=SHARDS, group_name="g", code_version="1")
    def raw(context) -> pl.DataFrame:
        return pl.DataFrame({"shard": [context.partition_key]})

    @dg.asset(partitions_def=SHARDS, group_name="g", code_version="1")
    def screen(raw: pl.DataFrame) -> pl.DataFrame:
        return raw

    @dg.asset(partitions_def=SHARDS, group_name="g", code_version=task_code_version("1", task))
    def labels(screen: pl.DataFrame) -> pl.DataFrame:
        return screen

    @dg.asset(group_name="g", code_version="1")
    def selection(labels: dict[str, pl.DataFrame]) -> pl.DataFrame:
        return pl.concat(list(labels.values()))

    @dg.asset(group_name="quality", code_version=report_version)
    def report(selection: pl.DataFrame) -> pl.DataFrame:
        return selection

    assets, by_kind = apply_policy([raw, screen, labels, selection, report])
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


def run(defs, instance, assets, partition_key=None):
    job = defs.resolve_implicit_global_asset_job_def()
    res = job.execute_in_process(instance=instance, asset_selection=[dg.AssetKey(a) for a in assets],
                                 partition_key=partition_key)
    assert res.success


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

        # the landing sensor adds s3 and runs its shard root
        instance.add_dynamic_partitions("auto_shards", ["s3"])
        run(defs, instance, ["raw"], "s3")
        tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=tick.cursor)
        # s3 of the per-shard steps, in one run; the fan-in waits for them (missing dependency)
        assert requested(tick) == {"screen": ["s3"], "labels": ["s3"]}
        run(defs, instance, ["screen", "labels"], "s3")
        tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=tick.cursor)
        assert requested(tick) == {"selection": [None]}
        run(defs, instance, ["selection"])
        tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=tick.cursor)
        assert requested(tick) == {}  # the report waits for its daily cron


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
        assert requested(tick) == {"selection": [None]}


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
    from definitions import defs

    graph_ = defs.resolve_asset_graph()
    before = graph_.get(dg.AssetKey("raw_qa")).code_version
    assert before == task_code_version("1", QAGenerationTask)
    for key in ("taxonomy_labels", "video_annotations", "docvqa_predictions", "docvqa_judgments"):
        assert graph_.get(dg.AssetKey(key)).code_version.count("-") >= 1, key
    monkeypatch.setattr(QAGenerationTask, "version", "2")
    assert task_code_version("1", QAGenerationTask) != before
