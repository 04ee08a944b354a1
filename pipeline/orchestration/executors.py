"""Which Dagster executor runs the report partitions' job, chosen by configuration, not code.

INDICATORS_EXECUTOR names one: `multiprocess` (the default: processes on this machine), `in_process`, or
an executor of a Dagster integration installed beside the project: `k8s` (dagster-k8s, each step a
Kubernetes job), `celery` (dagster-celery), `celery_k8s` (dagster-celery-k8s), `docker` (dagster-docker),
`celery_docker` (dagster-celery-docker). INDICATORS_EXECUTOR_CONFIG is its run config as JSON (the
`execution: config:` block: a job image, a broker, ...). Where each run goes is the run launcher's choice,
set in dagster.yaml (README, "Running on a cluster").
"""

import importlib
import json
import os

import dagster as dg

EXECUTOR_ENV = "INDICATORS_EXECUTOR"
EXECUTOR_CONFIG_ENV = "INDICATORS_EXECUTOR_CONFIG"
EXECUTORS = {
    "multiprocess": "dagster:multiprocess_executor",
    "in_process": "dagster:in_process_executor",
    "k8s": "dagster_k8s:k8s_job_executor",
    "celery": "dagster_celery:celery_executor",
    "celery_k8s": "dagster_celery_k8s:celery_k8s_job_executor",
    "docker": "dagster_docker:docker_executor",
    "celery_docker": "dagster_celery_docker:celery_docker_executor",
}


def report_executor(name: str | None = None) -> dg.ExecutorDefinition:
    """The executor INDICATORS_EXECUTOR names; ValueError saying what is known or what to install."""
    name = (name if name is not None else os.environ.get(EXECUTOR_ENV, "")).strip() or "multiprocess"
    if name not in EXECUTORS:
        raise ValueError(f"{EXECUTOR_ENV}={name} is not one of {', '.join(EXECUTORS)}")
    module, attribute = EXECUTORS[name].split(":")
    try:
        return getattr(importlib.import_module(module), attribute)
    except ImportError as exc:
        package = module.replace("_", "-")
        raise ValueError(f"{EXECUTOR_ENV}={name} needs {package} installed ({exc})") from None


def report_executor_config(text: str | None = None) -> dict | None:
    """INDICATORS_EXECUTOR_CONFIG as the job's default run config (None when unset)."""
    text = os.environ.get(EXECUTOR_CONFIG_ENV, "") if text is None else text
    if not text.strip():
        return None
    try:
        config = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{EXECUTOR_CONFIG_ENV} is not JSON: {exc}") from None
    return {"execution": {"config": config}}
