"""Mini-ResEmoteNet pipeline: the importable work behind every DVC stage and Prefect flow."""

import os

# Nothing in this project may try the network: analytics and telemetry off before any import.
for _name, _value in {
    "DVC_NO_ANALYTICS": "1",
    "DO_NOT_TRACK": "1",
    "GX_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "ORT_DISABLE_TELEMETRY": "1",
    "MPLBACKEND": "Agg",
}.items():
    os.environ.setdefault(_name, _value)
