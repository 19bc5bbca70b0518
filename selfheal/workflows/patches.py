"""Every `workflow.patched` id, oldest first, with what it changed.

A running workflow started before a patch replays the old path (the patch is absent from
its history); one started after takes the new. `tests/replay` holds histories recorded on
both sides of each. An id is never reused or renamed.
"""

from __future__ import annotations

TICKET_REFUSAL = "ticket-refusal-asked-once"
"""A ticket JIRA refused for good is not asked for again at every transition."""

TICKET_CATCH_UP = "ticket-catch-up"
"""An incident that ends without the ticket an outage kept away hands it over."""

ONE_STEP_ANALYSIS = "one-step-analysis"
"""The rules path gathers, diagnoses and proposes in one activity (analyze_workload)."""

WORKLOAD_IDENTITY = "workload-identity"
"""An incident is its workload's (alerts of any name join it), it checks its cluster, and
it never closes what it cannot explain: no fault while the alert fires escalates, all alerts
resolving with nothing changed closes it as resolved by itself, and verification waits for
the alerts that paged to clear."""

PUBLISHED_STATUS = "published-status"
"""Incidents publish their status in the memo (histories before it carry none)."""

IDEMPOTENT_DELIVERIES = "idempotent-deliveries"
"""The workload drops a delivery whose digest arrived moments ago: a sender's retry."""

PROPOSAL_DIGEST = "proposal-digest"
"""A decision naming a proposal (its digest) counts only for that proposal."""

KIND_FROM_ALERT = "kind-from-alert"
"""The context is gathered, and the rollout watched and verified, for the kind the alert
names (a StatefulSet, a CronJob...), not always a Deployment."""

CHAT_DECISIONS = "chat-decisions"
"""With Slack configured, a decision wait posts one message per attempt (Approve / Reject),
updated at every later transition, follow-ups in its thread; and every human wait with
reminders (SELFHEAL_REMINDERS) reminds the timeline, the ticket and that thread before its
deadline."""
SYMPTOM_VERIFIED = "symptom-verified"
"""Verification asks Prometheus (or Alertmanager) whether the conditions of the alerts that
paged have cleared for the workload and stayed clear for the verify window (check_symptom);
one that still holds undoes the fix and escalates, and without either the resolution says
the symptom was not checked."""

METRICS_EVIDENCE = "metrics-evidence"
"""On the model path, with Prometheus configured (the policy's `metrics`), the context
gathered for the investigation carries the workload's metrics (gather_metrics); a failure
to read them is noted and the analysis goes on without."""

SYMPTOM_UNCHECKED_ESCALATES = "symptom-unchecked-escalates"
"""A symptom check that was set up but got no answer (Prometheus down past the wait) sends
the incident to a person with the fix left in place, instead of resolving it: Alertmanager
reports alerts resolved when their Prometheus stops sending, so that is no proof."""

ALERTS_AFTER_CLOSE = "alerts-after-close"
"""An alert that reaches an incident once it has closed (RESOLVED, or closed unattended, and
finishing its last ticket and chat updates) is handed back in its result, and its workload
opens the next incident for a firing one, instead of the closing incident swallowing it."""
