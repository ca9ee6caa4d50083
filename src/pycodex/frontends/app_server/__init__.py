"""`pycodex app-server`: the JSON-RPC front end for IDEs, SDKs and the TUI.

Layers, bottom up (each one a module, none leaking into the one below):

* :mod:`.jsonrpc` — typed messages and their one-line JSON form (Codex's JSON-RPC 2.0
  without the ``jsonrpc`` field);
* :mod:`.streams` / :mod:`.websocket` / :mod:`.unix_socket` — transports: something that
  reads and writes whole messages (a line on stdio, a text frame on a websocket);
* :mod:`.outbound`, :mod:`.server_requests`, :mod:`.connection` — one connection's bounded
  queues, its reader / processor / writer tasks and its server→client requests;
* :mod:`.dispatcher` — method table, handshake and experimental gating, typed params;
* :mod:`.handlers` — the methods themselves; :mod:`.server` — listening and shutdown.

Nothing here is imported by `pycodex --help`, `--version` or `exec`.
"""
