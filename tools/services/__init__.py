"""The proactive services the server runs in the background (one leader each): the watcher that
investigates new failures (``watch``), the notifications it sends (``notify``) and the SLA
projection (``sla``). The agent's tools are in ``tools.catalog``; these are not tools."""
