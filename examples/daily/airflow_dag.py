"""Airflow DAG running the nightly dongne job (examples/daily/daily.sh).

Two tasks, so that the UI tells a bad input (check fails) from a failed run:

    check  ->  generate

`check` runs `dongne check` alone; `generate` runs daily.sh, which checks again
(cheap) and then generates with --previous, keeps the change report and files
dated copies. Install dongne (and GDAL) on the workers and copy
examples/daily/ to DONGNE_HOME.

Exit codes: 2 = bad input, 3 = output not writable: a retry does not help
them, so retries stay off; fix the input and clear the task. A run killed on
the way leaves last night's files intact, and clearing the task starts again
from them.
"""

from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator

DONGNE_HOME = "/opt/dongne"  # daily.sh and daily.toml
DONGNE_OUT = "/srv/gis/dongne"  # outputs, kept from one night to the next

ENV = {
    "DONGNE_CONFIG": f"{DONGNE_HOME}/daily.toml",
    "DONGNE_OUT": DONGNE_OUT,
    "DONGNE_LOG_FORMAT": "json",
    # The logical date, not the wall clock: a backfill or rerun of a past
    # night files its copies under that night.
    "RUN_DATE": "{{ ds }}",
    "KEEP_DAYS": "90",
    "PATH": "/usr/local/bin:/usr/bin:/bin",
}

with DAG(
    dag_id="dongne_daily",
    description="Hyperlocal neighborhoods, ids carried over from the night before",
    schedule="30 2 * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,  # each night builds on the last output, not on a date
    max_active_runs=1,  # two runs would write the same files
    default_args={
        "owner": "gis",
        "retries": 0,
        "execution_timeout": timedelta(hours=2),
        "email_on_failure": True,
    },
    tags=["gis", "dongne"],
) as dag:
    check = BashOperator(
        task_id="check",
        bash_command=(
            # The output folder must exist for check to test it (first night).
            "mkdir -p \"$DONGNE_OUT\" && "
            "dongne -q check --config \"$DONGNE_CONFIG\" "
            "-o \"$DONGNE_OUT/neighborhoods.gpkg\" "
            "$( [ -f \"$DONGNE_OUT/neighborhoods.gpkg\" ] && "
            "echo --previous \"$DONGNE_OUT/neighborhoods.gpkg\" )"
        ),
        env=ENV,
    )
    generate = BashOperator(
        task_id="generate",
        bash_command=f"bash {DONGNE_HOME}/daily.sh ",  # trailing space: not a Jinja template file
        env=ENV,
    )
    check >> generate
