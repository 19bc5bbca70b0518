"""Kubernetes: context, patches, rollouts and health on the cluster an alert names."""
