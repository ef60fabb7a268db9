"""The merchant API (`/api/v1/`, docs/api.md), built with django-ninja.

- `instance`: the NinjaAPI (auth, error handlers, routers); `urls`: what `/api/v1/` serves;
- `auth`: Bearer API keys, then `ratelimit` (per key, in Redis);
- `schemas`: typed input and output; `errors`: the one error shape;
- `shipments` and `progress`: the endpoints.
"""
