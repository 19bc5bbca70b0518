"""Chaos experiments against selfheal's own stack: each one command, each printing its figures.

    python -m selfheal_lab.experiments worker-kill [--state S ...]
    python -m selfheal_lab.experiments temporal-restart [--down-seconds N]
    python -m selfheal_lab.experiments outage [--standin X ...] [--mode 5xx|hang] [--seconds N]
    python -m selfheal_lab.experiments refusal [--standin X ...]
    python -m selfheal_lab.experiments storm [--alerts N] [--workloads W]

Each starts a private stack (the real processes of `selfheal up`, on free ports, under a
temporary home), so it never disturbs a stack a user runs. Each prints the incidents
started, resolved, escalated and lost, the duplicate pull requests, tickets and Kubernetes
spec changes, and the time to recover, and exits 1 on any loss or duplicate.
"""

from selfheal_lab.experiments.figures import Figures

__all__ = ["Figures"]
