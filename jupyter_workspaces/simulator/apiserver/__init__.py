"""The simulator's Kubernetes API server: generic object storage behind the real wire protocol.

```python
with ApiServer() as api:
    api.write_kubeconfig(path)          # clients connect with this
    api.store.seed(objects)             # fast, in-process seeding
    api.faults.latency(0.2)             # injected faults
    api.requests.count(verb="list", resource="statefulsets")
```
"""

from __future__ import annotations

from jupyter_workspaces.simulator.apiserver.failures import ApiError
from jupyter_workspaces.simulator.apiserver.faults import Faults, RequestCounter
from jupyter_workspaces.simulator.apiserver.server import ApiServer
from jupyter_workspaces.simulator.apiserver.store import Store

__all__ = ["ApiError", "ApiServer", "Faults", "RequestCounter", "Store"]
