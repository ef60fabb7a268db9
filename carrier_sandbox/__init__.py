"""The carrier sandbox: a local HTTP server speaking the carriers' real tracking formats.

`history` generates deterministic histories that advance with wall-clock time, `state` holds
what the control API changes, `formats/` renders each carrier's wire format, `app` routes
requests and `server` serves them over HTTP/1.1 keep-alive. Run it with
`python manage.py carrier_sandbox`.
"""
