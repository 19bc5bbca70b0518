"""Fix generation: one module per fix kind (registry.py lists them), the allow-list every
proposal is held to (allow_list.py), and the risk a proposal carries (risk.py)."""
