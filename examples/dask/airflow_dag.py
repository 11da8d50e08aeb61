"""dongne's shards as an Airflow DAG with dynamic task mapping.

One mapped task per shard (`.expand`), each `dongne generate --shard K/N`;
a failed shard is retried alone (the task's `retries`), the others keep
their part files; the merge runs when every shard has succeeded and writes
PostGIS atomically with yesterday's ids carried over.

Copy into the DAGs folder; set the Airflow Variables `dongne_config`,
`dongne_parts` and `dongne_pg` (a libpq string, "PG:dbname=gis host=…").
"""

from __future__ import annotations

import pendulum
from airflow.decorators import dag, task
from airflow.models import Variable

SHARDS = 16


@dag(schedule="0 2 * * *", start_date=pendulum.datetime(2026, 12, 1, tz="UTC"), catchup=False,
     max_active_runs=1, tags=["dongne"])
def dongne_daily():
    @task(retries=2)
    def shard(k: int) -> str:
        import subprocess

        out = f"{Variable.get('dongne_parts')}/part-{k}-of-{SHARDS}.dpart"
        subprocess.run(["dongne", "--log-format", "json", "generate", "--config", Variable.get("dongne_config"),
                        "--shard", f"{k}/{SHARDS}", "--cache", f"{Variable.get('dongne_parts')}/cache",
                        "-o", out], check=True)
        return out

    @task(retries=1)
    def merge(parts: list[str]) -> None:
        import subprocess

        pg = Variable.get("dongne_pg")
        subprocess.run(["dongne", "--log-format", "json", "merge", *parts, "-o", pg, "--table", "nbhd",
                        "--previous", pg, "--changes", f"{Variable.get('dongne_parts')}/changes.json"], check=True)

    merge(shard.expand(k=list(range(1, SHARDS + 1))))


dongne_daily()
