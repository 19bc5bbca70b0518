"""The webhook server (alerts in): create_app and serve in app.py, one module per route group."""
