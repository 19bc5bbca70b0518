"""selfheal's lab: what runs selfheal on one machine with no credentials, apart from the product.

Stand-ins for Kubernetes, GitHub, JIRA and Anthropic (`sandbox/`), the local stack
behind `selfheal up` / `down` (`local_stack.py`), `selfheal demo` (`demo.py`), chaos
experiments against selfheal itself (`experiments/`) and the helpers tests use to wait on
incidents (`watch.py`). The `selfheal` CLI finds the lab's commands (`cli.py`) through the
`selfheal.commands` entry points; the production image installs only the product.
"""
