"""The documented worker route against real components: a standalone `prefect server start`, prefect.yaml
deployed with `prefect deploy`, `prefect worker start`, a `dask scheduler` with two `dask worker`s, and
`monitor serve` beside it all (docs/scheduling.md, docs/scaling.md; issue 16, items 3 and 4)."""

from __future__ import annotations

import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from monitor import config, query
from tests import stories
from tests.pipeline_fixtures import write_config
from tests.real_prefect import BIN, PrefectServer, Processes, clean_env, free_port, wait_until
from tests.world import World

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
POOL = "news-monitor"
YAML_DEPLOYMENT = "news-monitor-poll/poll"
RUN_TIMEOUT = 150.0  # a worker poll, a fresh flow process (imports), the Dask round trip


def deployed(server: PrefectServer, directory: Path) -> dict[str, Any]:
    """prefect.yaml deployed from `directory`, as docs/scheduling.md steps 3 and 4 do it."""
    shutil.copy(ROOT / "prefect.yaml", directory / "prefect.yaml")
    if server.get(f"/work_pools/{POOL}") is None:
        server.prefect("work-pool", "create", POOL, "--type", "process")
    server.prefect("deploy", "--all", cwd=directory)
    found: dict[str, Any] = server.get(f"/deployments/name/{YAML_DEPLOYMENT}")
    return found


def as_deployed(deployment: dict[str, Any]) -> dict[str, Any]:
    """What `prefect deploy` set and nothing else may change (not the times the server updates)."""
    keys = (
        "id",
        "name",
        "entrypoint",
        "parameters",
        "work_pool_name",
        "work_queue_name",
        "paused",
        "tags",
        "concurrency_limit",
        "job_variables",
        "pull_steps",
        "path",
    )
    shape = {k: deployment.get(k) for k in keys}
    shape["schedules"] = [(s["schedule"], s["active"]) for s in deployment["schedules"]]
    shape["concurrency"] = (deployment.get("global_concurrency_limit") or {}).get("limit")
    shape["collision"] = (deployment.get("concurrency_options") or {}).get("collision_strategy")
    return shape


def rows(config_path: Path, sql: str) -> list[dict[str, Any]]:
    columns, found = query.run_sql(config.load(config_path).database, sql)
    return [dict(zip(columns, r, strict=True)) for r in found]


def test_the_prefect_yaml_worker_route_runs_on_a_real_dask_cluster(
    prefect_server: PrefectServer, processes: Processes, world: World, tmp_path: Path
) -> None:
    prefix = f"/{tmp_path.name}"
    feeds = [
        world.publish(f"{prefix}/world.rss", [stories.DISPATCH, stories.FLOOD]),
        world.publish(f"{prefix}/korea.atom", [stories.KURSK, stories.CASUALTIES], atom=True),
    ]
    port = free_port()
    # The cluster as docs/scaling.md starts it; its processes know nothing of Prefect or of news-monitor's
    # directory (a Dask worker imports the flow's module from the installed package)
    dask_env = clean_env(PREFECT_HOME=str(tmp_path / "dask-home"))
    processes.start(
        "scheduler",
        [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        dask_env,
        cwd=Path("/"),
    )
    for n in (1, 2):
        processes.start(
            f"dask-worker-{n}",
            [
                str(BIN / "dask"),
                "worker",
                f"tcp://127.0.0.1:{port}",
                "--nthreads",
                "1",
                "--no-dashboard",
                "--host",
                "127.0.0.1",
            ],
            dask_env,
            cwd=Path("/"),
        )
    config_path = write_config(tmp_path, feeds, extra=f'[scale]\ndask_address = "tcp://127.0.0.1:{port}"\n')
    assert config_path.name == "monitor.toml"  # prefect.yaml's config_path, in the directory deployed from
    deployment = deployed(prefect_server, tmp_path)
    assert deployment["entrypoint"] == "flows.poll:poll_cycle"

    processes.start(
        "worker",
        [str(BIN / "prefect"), "worker", "start", "--pool", POOL],
        prefect_server.env(PREFECT_WORKER_QUERY_SECONDS="1"),
    )
    flow_run = prefect_server.post(f"/deployments/{deployment['id']}/create_flow_run", {})

    def finished() -> dict[str, Any] | None:
        run: dict[str, Any] = prefect_server.get(f"/flow_runs/{flow_run['id']}")
        return run if run["state"]["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") else None

    run = wait_until("finished flow run", finished, RUN_TIMEOUT, processes)
    assert run["state"]["type"] == "COMPLETED", f"{run['state']}\n{processes.logs()}"
    [stored] = rows(config_path, "SELECT status, new_articles, flow_run_id FROM runs")
    assert stored == {"status": "ok", "new_articles": 4, "flow_run_id": flow_run["id"]}
    # the articles were fetched and extracted on the cluster's two workers, the writes stayed in the flow
    task_runs = prefect_server.post("/task_runs/filter", {"flow_runs": {"id": {"any_": [flow_run["id"]]}}})
    names = [t["name"].rsplit("-", 1)[0] for t in task_runs if t["state"]["type"] == "COMPLETED"]
    assert names.count("fetch and extract articles on dask") == 2, names
    assert "fetch and extract articles" not in names and "store articles" in names
    assert "No module named" not in processes.logs()


def test_monitor_serve_leaves_the_prefect_yaml_deployment_alone(
    prefect_server: PrefectServer, processes: Processes, world: World, tmp_path: Path
) -> None:
    feed = world.publish(f"/{tmp_path.name}/world.rss", [stories.DISPATCH])
    config_path = write_config(tmp_path, [feed])
    before = as_deployed(deployed(prefect_server, tmp_path))
    assert before["paused"] is False and before["schedules"]

    monitor = [str(BIN / "monitor"), "-c", str(config_path), "serve", "--no-ui"]
    serving = processes.start("serve", monitor, prefect_server.env())
    served = wait_until(
        "served deployment",
        lambda: prefect_server.get("/deployments/name/news-monitor-poll/serve") or serving.poll() is not None,
        90,
        processes,
    )
    assert serving.poll() is None, processes.log("serve")
    assert served["id"] != before["id"] and served["work_pool_name"] is None
    assert as_deployed(prefect_server.get(f"/deployments/name/{YAML_DEPLOYMENT}")) == before

    # serving under prefect.yaml's name is refused, clearly, and changes nothing
    refused = subprocess.run(
        [*monitor, "--name", "poll"], env=prefect_server.env(), capture_output=True, text=True, timeout=90
    )
    assert refused.returncode == 2, refused.stderr[-3000:]
    assert "error: " in refused.stderr and "news-monitor-poll/poll" in refused.stderr
    assert "did not create" in refused.stderr and "--name" in refused.stderr
    assert "Traceback" not in refused.stderr

    serving.send_signal(signal.SIGTERM)
    assert serving.wait(60) == 0, processes.log("serve")
    # stopping serve pauses its own deployment's schedule, never prefect.yaml's
    assert as_deployed(prefect_server.get(f"/deployments/name/{YAML_DEPLOYMENT}")) == before
