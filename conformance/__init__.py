"""RFC 6455 conformance of the project's WebSocket servers, proven by the Autobahn|Testsuite.

``make conformance`` (``python -m conformance``) runs every case of the suite against both echo
endpoints on daphne (through ``server.daphne``) and uvicorn; ``tests/conformance/`` runs a fast
subset in ``make test``. docs/websockets.md ("Conformance") has the results and explains them.

- :mod:`conformance.launchers`: the servers' command lines (the launchers' module names live
  there alone) and their processes.
- :mod:`conformance.wstest`: installing wstest (Python 2 only) into ``.venv-conformance/`` and
  running its fuzzing client.
- :mod:`conformance.report`: reading its ``index.json``.
- :mod:`conformance.runner`: one server's run, and its summary for the terminal.
- :mod:`conformance.summary`: the markdown summary that is committed.
"""
