"""One module per integration: the messages its activities take and give, and the
activity specs (name, result type, timeouts, retries) the workflows call them by."""
