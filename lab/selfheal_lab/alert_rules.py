"""selfheal's alert rules for the local stack's Prometheus, in kubernetes-mixin's style.

The expressions are kubernetes-mixin's (kube-prometheus' generated PrometheusRule) where it
has the alert, so what fires locally is what fires on a cluster monitored the usual way;
the OOM alert, which the mixin lacks, is the common community form, and HTTPErrorRateHigh
(the share of 5xx answers an instrumented app counts) is selfheal's own. Only `for` and
the range windows differ from upstream, both parameters: upstream holds for fifteen
minutes and looks back 5m (`window`) or 10m (`long_window`), which is right on a real
cluster, but an alert about a pod that a fix replaced keeps firing until the old pod's
samples leave the window, and the sandbox's pods fail and heal in seconds. A local loop or
a test shortens both so it need not wait minutes.
"""

from __future__ import annotations

import yaml

KSM = 'job="kube-state-metrics"'
CADVISOR = 'job="kubelet", metrics_path="/metrics/cadvisor"'
APPS = 'job="apps"'
THROTTLING_THRESHOLD = 0.25
ERROR_RATIO_THRESHOLD = 0.05


def _rule(
    name: str, expr: str, summary: str, description: str, severity: str = "warning"
) -> dict[str, object]:
    return {
        "alert": name,
        "expr": " ".join(expr.split()),
        "labels": {"severity": severity},
        "annotations": {"summary": summary, "description": description},
    }


def alert_rules(
    hold: str = "15m", interval: str = "", window: str = "5m", long_window: str = "10m"
) -> str:
    """The rules file (YAML): each alert fires once its expression has held for `hold`;
    range selectors look back `window` (upstream 5m) or `long_window` (upstream 10m)."""
    rules = [
        _rule(
            "KubePodCrashLooping",
            f'max_over_time(kube_pod_container_status_waiting_reason{{reason="CrashLoopBackOff", '
            f"{KSM}}}[{window}]) >= 1",
            "Pod is crash looping.",
            "Pod {{ $labels.namespace }}/{{ $labels.pod }} ({{ $labels.container }}) is in "
            'waiting state (reason: "CrashLoopBackOff").',
        ),
        _rule(
            "KubeContainerOOMKilled",
            f"(increase(kube_pod_container_status_restarts_total{{{KSM}}}[{long_window}]) >= 1) "
            f"and ignoring (reason) "
            f'(kube_pod_container_status_last_terminated_reason{{reason="OOMKilled", {KSM}}} '
            f"== 1)",
            "Container was OOMKilled.",
            "Container {{ $labels.container }} in pod {{ $labels.namespace }}/"
            "{{ $labels.pod }} was OOMKilled and restarted.",
        ),
        _rule(
            "KubeDeploymentReplicasMismatch",
            f"(kube_deployment_spec_replicas{{{KSM}}} > "
            f"kube_deployment_status_replicas_available{{{KSM}}}) and "
            f"(changes(kube_deployment_status_replicas_updated{{{KSM}}}[{long_window}]) == 0)",
            "Deployment has not matched the expected number of replicas.",
            "Deployment {{ $labels.namespace }}/{{ $labels.deployment }} has not matched the "
            "expected number of replicas.",
        ),
        _rule(
            "KubeDeploymentRolloutStuck",
            f'kube_deployment_status_condition{{condition="Progressing", status="false", '
            f"{KSM}}} != 0",
            "Deployment rollout is not progressing.",
            "Rollout of deployment {{ $labels.namespace }}/{{ $labels.deployment }} is not "
            "progressing.",
        ),
        _rule(
            "CPUThrottlingHigh",
            f"""sum without (id, metrics_path, name, image, endpoint, job, node) (
                  topk by (namespace, pod, container, instance) (1,
                    increase(container_cpu_cfs_throttled_periods_total{{
                      container!="", {CADVISOR}}}[{window}])))
                / on (namespace, pod, container, instance) group_left
                sum without (id, metrics_path, name, image, endpoint, job, node) (
                  topk by (namespace, pod, container, instance) (1,
                    increase(container_cpu_cfs_periods_total{{{CADVISOR}}}[{window}])))
                > ({THROTTLING_THRESHOLD * 100:g} / 100)""",
            "Processes experience elevated CPU throttling.",
            "{{ $value | humanizePercentage }} throttling of CPU in namespace "
            "{{ $labels.namespace }} for container {{ $labels.container }} in pod "
            "{{ $labels.pod }}.",
            severity="info",
        ),
        _rule(
            "HTTPErrorRateHigh",
            f"""sum by (namespace, pod) (rate(http_requests_total{{code=~"5..", {APPS}}}[{window}]))
                / sum by (namespace, pod) (rate(http_requests_total{{{APPS}}}[{window}]))
                > {ERROR_RATIO_THRESHOLD:g}""",
            "Pod answers too many requests with a server error.",
            "{{ $value | humanizePercentage }} of the requests to pod {{ $labels.namespace }}/"
            "{{ $labels.pod }} are answered with a 5xx status.",
        ),
    ]
    for rule in rules:
        rule["for"] = hold
    group: dict[str, object] = {"name": "selfheal-kubernetes", "rules": rules}
    if interval:
        group["interval"] = interval
    return yaml.safe_dump({"groups": [group]}, sort_keys=False, width=100)
