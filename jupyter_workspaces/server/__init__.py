"""The jupyter_server extension: REST API, CSV download and live status events."""
