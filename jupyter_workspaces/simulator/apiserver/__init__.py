"""The simulator's Kubernetes API server: generic object storage behind the real wire protocol.

```python
with ApiServer() as api:                      # tls=True for HTTPS (kubectl needs it)
    api.write_kubeconfig(path)                # clients connect with this
    api.store.seed(objects)                   # fast in-process seeding, no quota admission
    api.store.create(obj); api.store.get("pods", "ws-0", "project")
    api.faults.latency(0.2); api.faults.error_rate(0.1, 503); api.faults.drop_watches()
    api.faults.expire_history(); api.faults.outage(refuse=False); api.faults.recover()
    api.requests.count(verb="list", resource="statefulsets")
```

Faults can also be set from outside the process: `POST /simulator/faults` with a JSON object
(`latency`, `error_rate` + `status` + `seed`, `drop_watches`, `expire_history`, `outage`,
`recover`, `clear`), `GET /simulator/faults`, `GET`/`DELETE /simulator/requests`, all with the
same bearer token as the API.

Modules: `store` (create/update/patch/delete rules), `tables` (storage, resourceVersion,
history, watchers), `selectors`, `patch`, `validation`, `defaults`, `quota`, `gc`
(finalizers, graceful deletion, cascades), `subresources` (scale, binding), `http` and
`handlers` (the REST surface), `printing` (Tables for kubectl), `faults`, `server`.
"""

from __future__ import annotations

from jupyter_workspaces.simulator.apiserver.failures import ApiError
from jupyter_workspaces.simulator.apiserver.faults import Faults, RequestCounter
from jupyter_workspaces.simulator.apiserver.server import ApiServer
from jupyter_workspaces.simulator.apiserver.store import Store

__all__ = ["ApiError", "ApiServer", "Faults", "RequestCounter", "Store"]
