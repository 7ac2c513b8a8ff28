"""Gunicorn settings for Proeftuin (`gunicorn -c gunicorn.conf.py app:app`, as `make run` does).

- One process with threads by default: slow or half-open clients each hold one thread, not the
  whole server, and Flask-Limiter's `memory://` storage then counts exactly (one process sees every
  request). More processes (`--workers N` or `WEB_CONCURRENCY`) need shared rate-limit storage
  (`REDIS_URL`); production refuses to start without it (`on_starting` below and
  `ProductionConfig.check`).
- No `preload_app`: PyTorch/sentence-transformers hang in forked workers (SECURITY.md #9), and the
  model loads lazily in each worker.
- A thread still waits for as long as a client takes to send its headers; put a buffering reverse
  proxy (nginx, Caddy) in front in production (README, "Production").
"""
from __future__ import annotations

import os

# One OpenMP/BLAS thread per web thread: eight request threads on a few cores already fill them, and
# omp_set_num_threads only binds the thread that calls it. Read by FAISS and numpy when the worker
# imports them (workers inherit the master's environment; no preload).
os.environ.setdefault("OMP_NUM_THREADS", "1")

bind = ["127.0.0.1:8000"]  # gunicorn's own default turns into 0.0.0.0:$PORT when PORT is set
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))  # gunicorn's conventional variable
worker_class = "gthread"
threads = 8
timeout = 60  # heartbeat of the worker's main loop; a busy thread does not trip it
graceful_timeout = 30
keepalive = 5
preload_app = False
accesslog = "-"
errorlog = "-"
# No runtime control socket: nothing needs it, and every instance would share one default path.
control_socket_disable = True


def _publish_process_count(workers: int) -> None:
    """Tell the app (read in `proeftuin.config.web_processes`) how many processes serve it."""
    from proeftuin.config import WEB_PROCESSES_ENV

    os.environ[WEB_PROCESSES_ENV] = str(workers)


def _storage_problem(workers: int) -> tuple[str, str | None]:
    from proeftuin.config import config_from_env, shared_storage_problem

    config = config_from_env()
    return config.ENV_NAME, shared_storage_problem(workers, config.RATELIMIT_STORAGE_URI)


def on_starting(server) -> None:
    """Before any worker starts: publish the real worker count, refuse per-process limits in production."""
    workers = server.cfg.workers
    _publish_process_count(workers)
    env_name, problem = _storage_problem(workers)
    if problem and env_name == "production":
        # Workers would refuse to boot anyway (ProductionConfig.check); stop before forking them.
        raise RuntimeError("refusing to start in production: " + problem)
    if problem:
        server.log.warning("%s: each of the %d workers counts rate limits alone", problem, workers)


def post_worker_init(worker) -> None:
    """A new worker loads the model and the index in the background, before its first search; a
    crash in native code (FAISS, numpy) prints every thread's Python stack to the error log."""
    import faulthandler

    from proeftuin.services.matching import warm_up

    faulthandler.enable(all_threads=True)

    warm_up(worker.wsgi)


def nworkers_changed(server, new_value: int, old_value: int | None) -> None:
    """TTIN/TTOU change the worker count: workers forked from now on read the new count."""
    if old_value is not None:
        _publish_process_count(new_value)
